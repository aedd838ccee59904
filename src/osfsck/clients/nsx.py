"""An NSX manager's REST API over HTTPS, for the NSX source and repairs: basic auth, cursor
paging, bounded retries, and errors that are one line.

Paging follows vmware_nsxlib (v3/client.py `url_list`): pass back `cursor` until a page has
none or one starting with "0000".  A list is believed only whole: every page must carry
its `results`, a cursor that comes back again (paging that would never end) and fewer
objects than the first page's `result_count` (the total across all pages, "set only on
first page" in NSX's *ListResult schema) are errors, never a shorter list.  Retries follow what NSX asks of clients: 429 (too many
requests, with Retry-After) and 503 (the manager is busy or its cluster re-forming) are
retried with exponential back-off, as are dropped connections and timeouts; nothing else
is, and a TLS verification failure never is.
"""

from __future__ import annotations

import ssl
import time

import httpx

from osfsck.clients import fast_json
from osfsck.clients.http_errors import reason, tls_failure
from osfsck.model.secrets import redact_url

NULL_CURSOR_PREFIX = "0000"
RETRIED = frozenset({429, 503})
MAX_BACKOFF = 30.0


class NsxError(Exception):
    """One line an operator can act on; `status` is the HTTP status (None: no answer)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class NsxClient:
    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        verify: bool | str = True,
        timeout: float = 30.0,
        retries: int = 4,
        page_size: int = 1000,
        backoff: float = 0.5,
        sleep=time.sleep,
        transport: httpx.BaseTransport | None = None,
    ):
        # shown in messages without a password a URL may carry (https://user:password@host)
        self.url = redact_url(url.rstrip("/"))
        self.page_size = page_size
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._username = username
        tls: bool | ssl.SSLContext
        if isinstance(verify, bool):
            tls = verify
        else:
            # a CA bundle of our own: verify against it alone (a private NSX CA)
            try:
                tls = ssl.create_default_context(cafile=verify)
            except (OSError, ssl.SSLError) as e:
                raise NsxError(f"NSX {self.url}: cannot use the CA file {verify}: {reason(e)}") from None
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            auth=(username, password),
            verify=tls,
            timeout=timeout,
            headers={"Accept": "application/json"},
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- requests -----------------------------------------------------------------------
    def request(self, method: str, path: str, *, params: dict | None = None, body: dict | None = None):
        """The decoded JSON answer (None for an empty body), after retries; NsxError otherwise."""
        where = f"NSX {self.url}: {method} {path}"
        attempt = 0
        while True:
            delay, status = None, None
            try:
                r = self._http.request(method, path, params=params, json=body)
            except httpx.ConnectError as e:
                if tls_failure(e):
                    raise NsxError(
                        f"{where}: TLS verification failed ({reason(e)}); give the manager's CA as [nsx] ca_file"
                    ) from None
                problem = f"unreachable ({reason(e)})"
            except httpx.TimeoutException:
                problem = "timed out"
            except httpx.TransportError as e:
                problem = f"connection failed ({reason(e)})"
            else:
                if r.status_code < 400:
                    return _decode(r, where)
                if r.status_code in (401, 403):
                    raise NsxError(
                        f"{where}: {r.status_code} bad credentials or no permission for user {self._username!r}",
                        r.status_code,
                    )
                if r.status_code not in RETRIED:
                    raise NsxError(f"{where}: {r.status_code} {_message(r)}", r.status_code)
                problem, status = f"{r.status_code} {_message(r)}", r.status_code
                delay = _retry_after(r)
            if attempt >= self.retries:
                raise NsxError(f"{where}: {problem}, after {attempt + 1} attempt(s)", status)
            wait = min(self.backoff * 2**attempt, MAX_BACKOFF)
            self._sleep(min(max(wait, delay or 0.0), MAX_BACKOFF))
            attempt += 1

    def get(self, path: str, params: dict | None = None) -> dict:
        return self.request("GET", path, params=params)

    def put(self, path: str, body: dict) -> dict:
        return self.request("PUT", path, body=body)

    def patch(self, path: str, body: dict) -> dict:
        return self.request("PATCH", path, body=body)

    def post(self, path: str, body: dict) -> dict:
        return self.request("POST", path, body=body)

    def delete(self, path: str, params: dict | None = None) -> None:
        self.request("DELETE", path, params=params)

    def list(self, path: str, params: dict | None = None) -> list[dict]:
        """Every object of a collection, page after page (all or an NsxError)."""
        where = f"NSX {self.url}: GET {path}"
        query = {**(params or {}), "page_size": self.page_size}
        results: list[dict] = []
        counted, cursors = None, set[str]()
        while True:
            page = self.get(path, query)
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise NsxError(f"{where}: not a list result (no results in page {len(cursors) + 1})")
            if not cursors:
                counted = page.get("result_count")
            results.extend(page["results"])
            cursor = page.get("cursor")
            if not cursor or str(cursor).startswith(NULL_CURSOR_PREFIX):
                break
            if not isinstance(cursor, str):
                raise NsxError(f"{where}: a cursor that is not text ({type(cursor).__name__})")
            if cursor in cursors:
                raise NsxError(
                    f"{where}: cursor {cursor[:40]!r} came back after {len(cursors)} pages "
                    "(paging that would never end)"
                )
            cursors.add(cursor)
            query = {**query, "cursor": cursor}
        if isinstance(counted, int) and not isinstance(counted, bool) and len(results) < counted:
            raise NsxError(
                f"{where}: {len(results)} objects listed of the {counted} it counted (objects "
                "deleted while listing, or a page lost): the list is read again next run"
            )
        return results


def _decode(r: httpx.Response, where: str):
    if not r.content:
        return None
    try:
        return fast_json.loads(r.content)
    except (
        ValueError,
        RecursionError,
    ):  # RecursionError: arrays nested too deep to decode
        raise NsxError(
            f"{where}: the answer is not JSON ({r.headers.get('content-type', 'no content type')}, "
            f"{len(r.content)} bytes)",
            r.status_code,
        ) from None


def _message(r: httpx.Response) -> str:
    """NSX's error_message (its errors are JSON), or the reason phrase."""
    try:
        text = str(r.json().get("error_message") or "").strip()
    except (ValueError, AttributeError, RecursionError):
        text = ""
    line = text.splitlines()[0] if text else r.reason_phrase
    return line[:300]


def _retry_after(r: httpx.Response) -> float:
    try:
        return max(0.0, float(r.headers.get("Retry-After", "0")))
    except ValueError:
        return 0.0  # an HTTP date: fall back on our own back-off
