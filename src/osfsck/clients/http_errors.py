"""One line for an HTTP client's failure (httpx wraps the cause: a refused socket, a
certificate the CA file does not vouch for), shared by the HTTP clients."""

from __future__ import annotations

import ssl

from osfsck.model.secrets import redact_url


def tls_failure(e: Exception) -> bool:
    """Whether `e`, or anything it was raised from, is a failed TLS verification."""
    seen = e
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def reason(e: Exception) -> str:
    """The innermost cause's message, first line, short, without a URL's password."""
    seen, last = e, str(e)
    while seen is not None:
        if str(seen):
            last = str(seen)
        seen = seen.__cause__ or seen.__context__
    return redact_url((last.strip().splitlines() or [type(e).__name__])[0])[:200]
