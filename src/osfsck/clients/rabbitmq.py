"""A RabbitMQ broker's management HTTP API, for the RabbitMQ source and repairs: paged queue
lists, the safe delete, and what undo needs (declare, bind, publish, peek).  Errors are one
line.

Facts of the API this relies on (rabbitmq-management, rabbit_mgmt_util.erl; research
external-systems.md B.4.2): paging starts once `page` is given, `page_size` is at most 500,
a page beyond the end is HTTP 400 "page_out_of_range", and a paged answer carries
`page_count`; vhosts and names travel URL-encoded ("/" is %2F); `DELETE
/api/queues/<vhost>/<name>?if-unused=true&if-empty=true` refuses (400) a queue that has a
consumer or a message; `POST .../get` with ackmode ack_requeue_true reads messages and
puts them back.
"""

from __future__ import annotations

import ssl
from urllib.parse import quote

import httpx

from osfsck.clients import fast_json
from osfsck.clients.http_errors import reason, tls_failure
from osfsck.model.secrets import redact_url

MAX_PAGE_SIZE = 500
# what the source reads of each queue (the API's other fields cost the broker time to fill)
QUEUE_COLUMNS = (
    "name",
    "vhost",
    "messages",
    "consumers",
    "durable",
    "auto_delete",
    "exclusive",
    "arguments",
    "type",
    "idle_since",
    "policy",
    "effective_policy_definition",
)


class RabbitError(Exception):
    """One line an operator can act on; `status` is the HTTP status (None: no answer)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def enc(part: str) -> str:
    """A vhost or a queue name as one URL path segment ("/" -> "%2F")."""
    return quote(part, safe="")


class RabbitClient:
    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        verify: bool | str = True,
        timeout: float = 30.0,
        page_size: int = MAX_PAGE_SIZE,
        name: str = "default",
        transport: httpx.BaseTransport | None = None,
    ):
        # shown in messages without a password a URL may carry (https://user:password@host)
        self.url = redact_url(url.rstrip("/"))
        self.name = name
        self.page_size = min(page_size, MAX_PAGE_SIZE)
        self._username = username
        tls: bool | ssl.SSLContext
        if isinstance(verify, bool):
            tls = verify
        else:
            try:
                tls = ssl.create_default_context(cafile=verify)
            except (OSError, ssl.SSLError) as e:
                raise RabbitError(
                    f"RabbitMQ {self.name} ({self.url}): cannot use the CA file {verify}: {reason(e)}"
                ) from None
        try:
            self._http = httpx.Client(
                base_url=url.rstrip("/"),
                auth=(username, password),
                verify=tls,
                timeout=timeout,
                headers={"Accept": "application/json"},
                transport=transport,
            )
        except (ValueError, httpx.InvalidURL) as e:
            raise RabbitError(f"RabbitMQ {self.name}: bad URL {self.url!r}: {reason(e)}") from None

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- requests -----------------------------------------------------------------------
    def request(self, method: str, path: str, *, params: dict | None = None, body=None):
        """The decoded JSON answer (None for an empty body); RabbitError otherwise."""
        where = f"RabbitMQ {self.name} ({self.url}): {method} {path}"
        try:
            r = self._http.request(method, path, params=params, json=body)
        except httpx.ConnectError as e:
            if tls_failure(e):
                raise RabbitError(
                    f"{where}: TLS verification failed ({reason(e)}); give the broker's CA as ca_file"
                ) from None
            raise RabbitError(f"{where}: unreachable ({reason(e)})") from None
        except httpx.TimeoutException:
            raise RabbitError(f"{where}: timed out") from None
        except (httpx.TransportError, httpx.InvalidURL) as e:
            raise RabbitError(f"{where}: connection failed ({reason(e)})") from None
        if r.status_code in (401, 403):
            raise RabbitError(
                f"{where}: {r.status_code} bad credentials or no permission for user {self._username!r}", r.status_code
            )
        if r.status_code >= 400:
            raise RabbitError(f"{where}: {r.status_code} {_message(r)}", r.status_code)
        if not r.content:
            return None
        try:
            return fast_json.loads(r.content)
        except (
            ValueError,
            RecursionError,
        ):  # RecursionError: arrays nested too deep to decode
            raise RabbitError(
                f"{where}: the answer is not JSON ({r.headers.get('content-type', 'no content type')}, "
                f"{len(r.content)} bytes): is this the management API?",
                r.status_code,
            ) from None

    # -- reading ------------------------------------------------------------------------
    def vhosts(self) -> list[str]:
        found = self.request("GET", "/api/vhosts", params={"columns": "name"})
        if not isinstance(found, list) or not all(
            isinstance(v, dict) and isinstance(v.get("name"), str) for v in found
        ):
            raise RabbitError(f"RabbitMQ {self.name} ({self.url}): GET /api/vhosts: not a list of vhosts")
        return sorted(v["name"] for v in found)

    def queues(self, vhost: str, matching: str | None = None) -> list[dict]:
        """Every queue of `vhost` (whose name matches the regular expression `matching`,
        the broker's own filter, `use_regex`), page after page (all of them, or a RabbitError).

        Pages are offsets into the broker's sorted list, so a queue made or deleted between
        two pages shifts the rest: one is then read twice or not at all.  The list is
        believed only when the queues read are exactly as many as the first page counted
        (`filtered_count`), none twice, every page the one asked for."""
        path = f"/api/queues/{enc(vhost)}"
        where = f"RabbitMQ {self.name} ({self.url}): GET {path}"
        items: list = []
        names: set = set()
        counted = None
        page = 1
        while True:
            params = {"page": page, "page_size": self.page_size, "columns": ",".join(QUEUE_COLUMNS)}
            if matching is not None:  # on every page: the broker pages the filtered list
                params |= {"name": matching, "use_regex": "true"}
            answer = self.request("GET", path, params=params)
            if not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
                raise RabbitError(f"{where}: not a paged list of queues")
            count = answer.get("page_count")
            if not isinstance(count, int) or isinstance(count, bool):
                raise RabbitError(f"{where}: page {page} has no page_count")
            if answer.get("page", page) != page:
                raise RabbitError(f"{where}: the broker answered page {str(answer.get('page'))[:20]} for page {page}")
            if page == 1:
                counted = answer.get("filtered_count", answer.get("total_count"))
            for q in answer["items"]:
                name = q.get("name") if isinstance(q, dict) else None
                if not isinstance(name, str):
                    continue  # not a queue: the mapping says so
                if name in names:
                    raise RabbitError(
                        f"{where}: queue {name[:80]!r} listed twice (the list changed while it "
                        "was read): read again next run"
                    )
                names.add(name)
            items.extend(answer["items"])
            if page >= count:
                break
            page += 1
        if isinstance(counted, int) and not isinstance(counted, bool) and len(items) != counted:
            raise RabbitError(
                f"{where}: {len(items)} queues read of the {counted} it counted (the list changed "
                "while it was read, or its paging is broken): read again next run"
            )
        return items

    def queue(self, vhost: str, name: str) -> dict | None:
        """One queue with its statistics, or None when it does not exist."""
        try:
            return self.request("GET", f"/api/queues/{enc(vhost)}/{enc(name)}")
        except RabbitError as e:
            if e.status == 404:
                return None
            raise

    def bindings(self, vhost: str, name: str) -> list[dict]:
        return self.request("GET", f"/api/queues/{enc(vhost)}/{enc(name)}/bindings") or []

    def peek(self, vhost: str, name: str, count: int) -> list[dict]:
        """Up to `count` messages from the head of the queue, put back where they were
        (ack_requeue_true): a before-image.  Payloads come as text, or base64 when binary."""
        if count <= 0:
            return []
        return (
            self.request(
                "POST",
                f"/api/queues/{enc(vhost)}/{enc(name)}/get",
                body={"count": count, "ackmode": "ack_requeue_true", "encoding": "auto"},
            )
            or []
        )

    # -- writing ------------------------------------------------------------------------
    def delete_queue(self, vhost: str, name: str, *, if_unused: bool = True, if_empty: bool = False) -> None:
        params = {}
        if if_unused:
            params["if-unused"] = "true"
        if if_empty:
            params["if-empty"] = "true"
        self.request("DELETE", f"/api/queues/{enc(vhost)}/{enc(name)}", params=params)

    def declare_queue(self, vhost: str, name: str, *, durable: bool, auto_delete: bool, arguments: dict) -> None:
        self.request(
            "PUT",
            f"/api/queues/{enc(vhost)}/{enc(name)}",
            body={"durable": durable, "auto_delete": auto_delete, "arguments": arguments or {}},
        )

    def bind(self, vhost: str, exchange: str, queue: str, routing_key: str, arguments: dict | None = None) -> None:
        self.request(
            "POST",
            f"/api/bindings/{enc(vhost)}/e/{enc(exchange)}/q/{enc(queue)}",
            body={"routing_key": routing_key, "arguments": arguments or {}},
        )

    def publish(self, vhost: str, routing_key: str, message: dict, exchange: str = "amq.default") -> bool:
        """Publish one message as `peek` returned it (properties, payload, payload_encoding);
        True when the broker routed it to a queue."""
        body = {
            "properties": message.get("properties") or {},
            "routing_key": routing_key,
            "payload": message.get("payload", ""),
            "payload_encoding": message.get("payload_encoding", "string"),
        }
        answer = self.request("POST", f"/api/exchanges/{enc(vhost)}/{enc(exchange)}/publish", body=body)
        return bool(answer and answer.get("routed"))


def _message(r: httpx.Response) -> str:
    """The API's `reason` (its errors are JSON), or the reason phrase."""
    try:
        data = r.json()
        text = str(data.get("reason") or data.get("error") or "").strip()
    except (ValueError, AttributeError, RecursionError):
        text = ""
    line = text.splitlines()[0] if text else r.reason_phrase
    return line[:300]
