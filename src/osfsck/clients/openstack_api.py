"""What every OpenStack API client of osfsck shares: a keystoneauth1 session
(clients/keystone.py: Keystone password auth, application credentials, a ready-made
token, or a clouds.yaml cloud; the service's endpoint from the token's catalog unless one
is set), or none (`auth = "none"`: a standalone service without Keystone); errors as one
line that says whether the service answered.  Used by the Networking API (neutron_api.py)
and Placement (placement_api.py).
"""

from __future__ import annotations

from typing import Any, ClassVar

import requests
from keystoneauth1 import exceptions as ksa
from keystoneauth1 import session

from osfsck.clients.http_errors import reason
from osfsck.clients.keystone import answered, keystone_failure, make_session, message, service_endpoint
from osfsck.model.secrets import redact_url

__all__ = ["ApiError", "OpenStackApi", "message"]

# what keystoneauth1 may raise while it reads Keystone's answers: its own errors, and what
# a token or catalog of another shape makes its parsers raise (tests/fuzz feeds those)
_AUTH_FAILURES = (ksa.ClientException, LookupError, TypeError, AttributeError, ValueError, RecursionError)


class ApiError(Exception):
    """A request failed; one line naming what was asked and why.  `answered`: True when
    the service answered with an error (a write it refused was not made), False when the
    request was sent and no answer came back (a write may have been made), None when
    nothing was sent."""

    answered: bool | None = None


class OpenStackApi:
    """Subclasses set `service_type` (the catalog's type), `section` ("[neutron]"), `label`
    ("the Networking API"), `Error` (their ApiError), `microversion` (sent as
    OpenStack-API-Version) and, for a service whose no-auth middleware still wants a
    token, `noauth_token`.  `settings` is the service's config section, an ApiSettings
    read by attribute (clients do not import config).  `http`: the requests.Session the
    requests go through (tests mount their doubles on one)."""

    service_type: ClassVar[str]
    section: ClassVar[str]
    label: ClassVar[str]
    Error: ClassVar[type] = ApiError
    noauth_token: ClassVar[str | None] = None
    microversion: ClassVar[str | None] = None

    def __init__(self, settings, http: requests.Session | None = None):
        self.settings = settings
        self._http = http or requests.Session()
        self._session: session.Session | None = None
        self._auth: Any = None  # keystoneauth1's plugin, passed to every call (keystone.make_session)
        self._endpoint: str | None = None

    def close(self) -> None:
        self._http.close()

    # -- plumbing ---------------------------------------------------------------------
    def _connect(self) -> tuple[session.Session, str]:
        """The session and the service's endpoint, authenticated once per run (keystoneauth1
        renews the token itself: before it expires, and once on a 401)."""
        s = self.settings
        if s.auth == "none" and not s.endpoint:
            raise self.Error(f'{self.section} auth = "none" needs endpoint: {self.label} is not configured')
        if s.auth != "none" and s.keystone_auth() is None:
            raise self.Error(f"{self.section} has no auth_url, token_env or cloud: {self.label} is not configured")
        if self._session is None:
            self._session, self._auth = make_session(s, self.noauth_token, self._http)
        if self._endpoint is None:
            try:
                self._endpoint = service_endpoint(self._session, self._auth, s, self.service_type, self.section)
            except _AUTH_FAILURES as e:
                raise self.Error(keystone_failure(e, s)) from None
        return self._session, self._endpoint

    def _request(self, method: str, path: str, what: str, *, headers=None, json=None, missing_ok=False):
        """The response; None for a 404 when `missing_ok`; else raises `Error` (one line)
        for a transport failure or an HTTP error (`_refusal` words the ones a caller
        expects, such as a conflict).  A 401 is keystoneauth1's to renew the token for,
        once."""
        sess, endpoint = self._connect()
        try:
            r = sess.request(
                endpoint + path,
                method,
                auth=self._auth,
                headers={"Accept": "application/json", **(headers or {})},
                json=json,
                raise_exc=False,
                microversion=self.microversion,
                microversion_service_type=self.service_type if self.microversion else None,
            )
        except ksa.HttpError as e:  # renewing the token after a 401: Keystone said no
            error = self.Error(f"cannot {what}: {keystone_failure(e, self.settings)}")
            error.answered = True
            raise error from None
        except _AUTH_FAILURES as e:
            error = self.Error(f"cannot {what}: {redact_url(endpoint)}: {reason(e)}")
            error.answered = answered(e)
            raise error from None
        if r.status_code == 404 and missing_ok:
            return None
        if r.status_code >= 400:
            error = self.Error(self._refusal(r, what) or f"cannot {what}: HTTP {r.status_code} {message(r)}")
            error.answered = True
            raise error
        return r

    def _refusal(self, r: requests.Response, what: str) -> str | None:
        """The one line for an HTTP error the service uses to mean something (a conflict),
        or None for the generic one."""
        return None

    def _json(self, r: requests.Response, what: str) -> dict:
        try:
            data = r.json()
        except (ValueError, RecursionError):  # RecursionError: arrays nested too deep to decode
            raise self.Error(f"cannot {what}: the answer is not JSON") from None
        if not isinstance(data, dict):
            raise self.Error(f"cannot {what}: the answer is not a JSON object")
        return data
