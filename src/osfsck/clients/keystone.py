"""Keystone through keystoneauth1, the library every OpenStack client uses: a Session whose
auth plugin is the one the settings name (`ApiSettings.keystone_auth`: password, with
Keystone's version found by discovery; an application credential; a ready-made token;
or whatever clouds.yaml names), so token renewal (a new token before the old one expires,
and once more on a 401), scopes (project or system) and the service catalog are
keystoneauth1's.  And the one line for each way it fails, and whether a failed request
was answered (engine/repair.py's lost-answer rule).

keystoneauth1 and requests take ~0.15 s to import: openstack_api.py imports this module
only when a run calls an API."""

from __future__ import annotations

import logging
import ssl
import warnings
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from keystoneauth1 import exceptions as ksa
from keystoneauth1 import loading, session, token_endpoint

from osfsck import __version__
from osfsck.clients.http_errors import chain, message, reason
from osfsck.model.secrets import redact_url

# keystoneauth1 warns when Keystone's version document cannot be read and then tries the
# version in the URL; the error that may follow says it in one line (README: one line on stderr)
# (keystoneauth1 logs as "keystoneauth")
logging.getLogger("keystoneauth.identity.generic.base").setLevel(logging.ERROR)


class Failure(Exception):
    """One line; `answered` as ApiError's (None: nothing reached the service)."""

    def __init__(self, line: str, answered: bool | None = None):
        super().__init__(line)
        self.answered = answered


# what keystoneauth1 may raise while it reads Keystone's answers: its own errors, and what
# a token or catalog of another shape makes its parsers raise (tests/fuzz feeds those)
FAILURES = (ksa.ClientException, LookupError, TypeError, AttributeError, ValueError, RecursionError)


@dataclass(frozen=True)
class Connection:
    session: session.Session
    auth: Any  # the plugin, passed to every call (make_session says why)
    endpoint: str  # the service's URL


def connect(settings, service_type: str, section: str, noauth_token: str | None, http) -> Connection:
    """An authenticated session to the service and its URL, or Failure (one line)."""
    try:
        s, auth = make_session(settings, noauth_token, http)
        return Connection(s, auth, service_endpoint(s, auth, settings, service_type, section))
    except FAILURES as e:
        raise Failure(keystone_failure(e, settings)) from None


def send(c: Connection, settings, method: str, path: str, **kw) -> requests.Response:
    """The service's answer to `method path`, whatever its status, or Failure (one line
    that says whether the service answered).  A 401 is keystoneauth1's to renew the
    token for, once."""
    try:
        return c.session.request(c.endpoint + path, method, auth=c.auth, raise_exc=False, **kw)
    except ksa.HttpError as e:  # renewing the token after a 401: Keystone said no
        raise Failure(keystone_failure(e, settings), answered=True) from None
    except FAILURES as e:
        raise Failure(f"{redact_url(c.endpoint)}: {reason(e)}", answered(e)) from None


def make_session(settings, noauth_token: str | None, http: requests.Session | None) -> tuple[session.Session, Any]:
    """A keystoneauth1 Session for `settings` (an ApiSettings) and the auth plugin to pass
    to each of its calls (None without Keystone: `auth = "none"` sends `noauth_token` as
    the token, or none at all).  `http`: the requests.Session to send through (tests mount
    their doubles on one).

    The plugin is not the session's default, on purpose: when the auth_url answers 401 to
    the unauthenticated version request, keystoneauth1 asks again with the session's
    default plugin, which is the one already waiting for that answer, and waits for its
    own lock for ever.  Without a default the second request fails (MissingAuthPlugin)."""
    auth: Any = None
    keystone = settings.keystone_auth()
    if keystone is not None:
        name, options = keystone
        auth = loading.get_plugin_loader(name).load_from_options(**options)
    elif settings.auth == "none" and noauth_token is not None:
        auth = token_endpoint.Token(settings.endpoint, noauth_token)
    if settings.verify is False:
        # the operator turned verification off on purpose: urllib3 would warn on every request
        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    s = session.Session(
        verify=settings.verify,
        cert=settings.cert,
        timeout=settings.timeout,
        app_name="osfsck",
        app_version=__version__,
        session=http,
    )
    return s, auth


def service_endpoint(s: session.Session, auth, settings, service_type: str, section: str) -> str:
    """The service's URL: `endpoint` when set, else the catalog's.  Authenticates first,
    so that a Keystone failure is told as one (`keystone_failure`)."""
    if settings.auth == "none":
        return settings.endpoint.rstrip("/")
    s.get_auth_headers(auth)  # the token (and its catalog), or keystoneauth1's error
    try:
        url = settings.endpoint or s.get_endpoint(
            auth, service_type=service_type, interface=settings.interface, region_name=settings.region_name
        )
    except ksa.EndpointNotFound:  # EmptyCatalog too
        url = None
    if not url:
        where = f" in region {settings.region_name}" if settings.region_name else ""
        cloud = f" (cloud {settings.cloud})" if settings.cloud else ""
        raise ksa.EndpointNotFound(
            f"Keystone's catalog{cloud} has no {settings.interface} {service_type} endpoint{where}; "
            f"set {section} endpoint"
        )
    return url.rstrip("/")


def keystone_failure(e: Exception, settings) -> str:
    """One line for a failure to authenticate (or to find the endpoint), naming who was
    refused where, never a secret."""
    options: dict[str, Any] = (settings.keystone_auth() or ("", {}))[1]
    at = redact_url(str(options.get("auth_url") or options.get("endpoint") or "?"))
    cloud = f" (cloud {settings.cloud})" if settings.cloud else ""
    if isinstance(e, ksa.EndpointNotFound):
        return str(e)
    if isinstance(e, ksa.MissingAuthPlugin):  # see make_session
        return f"{at}{cloud} wants a token before it tells its Keystone version (HTTP 401): is auth_url Keystone's?"
    who = (
        options.get("username")
        or options.get("user_id")
        or (
            options.get("application_credential_id")
            and f"application credential {options['application_credential_id']}"
        )
        or "the token"
    )
    response = getattr(e, "response", None)
    if isinstance(e, ksa.HttpError) and response is not None:
        return f"Keystone refused {who}{cloud} at {at}: HTTP {e.http_status} {message(response)}"
    if not isinstance(e, ksa.ClientException):  # keystoneauth1's parsers met another shape
        return f"Keystone at {at}{cloud} answered a token osfsck cannot read ({type(e).__name__}: {reason(e)})"
    return f"cannot authenticate {who}{cloud} to Keystone at {at}: {reason(e)}"


def answered(e: BaseException) -> bool | None:
    """Whether the service answered a request that failed: None when nothing was sent (no
    connection, no TLS handshake), False when it was sent and no answer came (a timeout,
    a dropped connection: a write may have been made)."""
    for x in chain(e):
        if isinstance(
            x,
            (
                urllib3.exceptions.NewConnectionError,  # refused, no route, no such name
                urllib3.exceptions.ConnectTimeoutError,
                requests.exceptions.ConnectTimeout,
                requests.exceptions.SSLError,
                ssl.SSLError,
                ksa.SSLError,
                ksa.AuthorizationFailure,
            ),
        ):
            return None
    return False
