"""One line for an HTTP client's failure (httpx wraps the cause: a refused socket, a
certificate the CA file does not vouch for), shared by the HTTP clients."""

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
