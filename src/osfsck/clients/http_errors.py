"""One line for an HTTP client's failure (httpx and requests wrap the cause: a refused
socket, a certificate the CA file does not vouch for), and for an OpenStack API's error
answer, shared by the HTTP clients."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

from osfsck.model.secrets import redact_url


def chain(e: BaseException) -> Iterator[BaseException]:
    """`e`, then what it was raised from or during, each once (a chain may loop)."""
    seen = set()
    link: BaseException | None = e
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def tls_failure(e: Exception) -> bool:
    """Whether `e`, or anything it was raised from, is a failed TLS verification."""
    return any(isinstance(x, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(x) for x in chain(e))


def reason(e: Exception) -> str:
    """The innermost cause's message, first line, short, without a URL's password."""
    last = str(e)
    for x in chain(e):
        if str(x):
            last = str(x)
    return redact_url((last.strip().splitlines() or [type(e).__name__])[0])[:200]


def message(r) -> str:
    """The error's message: Neutron's {"NeutronError": {"message"}}, Keystone's {"error":
    {"message"}}, Placement's {"errors": [{"detail", "title", "code"}]}, else the reason
    phrase; one line, whatever the body holds.  `r`: a requests.Response (its json() and
    reason)."""
    try:
        data = r.json()
    except (ValueError, RecursionError):
        data = None
    text = None
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            # Placement's detail starts with webob's generic sentence, then a blank line
            detail = str(first.get("detail") or "").split("\n\n", 1)[-1].strip()
            head = detail or str(first.get("title") or "") or r.reason or ""
            text = head + (f" [{first['code']}]" if first.get("code") else "")
        else:
            err = data.get("NeutronError") or data.get("error") or {}
            text = err.get("message") if isinstance(err, dict) else None
    text = text or r.reason or ""
    return " ".join(str(text).split())[:200]
