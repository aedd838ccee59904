"""What every OpenStack API client of osfsck shares: a keystoneauth1 session
(clients/keystone.py: Keystone password auth, application credentials, a ready-made
token, or a clouds.yaml cloud; the service's endpoint from the token's catalog unless one
is set), or none (`auth = "none"`: a standalone service without Keystone); errors as one
line that says whether the service answered.  Used by the Networking API (neutron_api.py)
and Placement (placement_api.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from osfsck.clients.http_errors import message

if TYPE_CHECKING:
    import requests

    from osfsck.clients.keystone import Connection


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
        self._http = http
        self._connection: Connection | None = None
        self._refused: str | None = None  # why authentication failed: not asked again this run

    def close(self) -> None:
        if self._connection is not None:
            self._connection.session.session.close()  # keystoneauth1's requests.Session

    # -- plumbing ---------------------------------------------------------------------
    def _connect(self) -> tuple[Any, Connection]:
        """The keystone module and the connection: the session and the service's endpoint,
        authenticated once per run (keystoneauth1 renews the token itself: before it
        expires, and once on a 401)."""
        from osfsck.clients import keystone  # only a run that calls an API pays its import

        s = self.settings
        if s.auth == "none" and not s.endpoint:
            raise self.Error(f'{self.section} auth = "none" needs endpoint: {self.label} is not configured')
        if s.auth != "none" and s.keystone_auth() is None:
            raise self.Error(f"{self.section} has no auth_url, token_env or cloud: {self.label} is not configured")
        if self._refused is not None:
            # a run's repairs share this client: a Keystone that refused (or did not answer
            # within the timeout) is not asked again for each of them
            raise self.Error(self._refused)
        if self._connection is None:
            try:
                self._connection = keystone.connect(s, self.service_type, self.section, self.noauth_token, self._http)
            except keystone.Failure as e:
                self._refused = str(e)
                raise self.Error(self._refused) from None
        return keystone, self._connection

    def _request(self, method: str, path: str, what: str, *, headers=None, json=None, missing_ok=False):
        """The response; None for a 404 when `missing_ok`; else raises `Error` (one line)
        for a transport failure or an HTTP error (`_refusal` words the ones a caller
        expects, such as a conflict)."""
        keystone, connection = self._connect()
        try:
            r = keystone.send(
                connection,
                self.settings,
                method,
                path,
                headers={"Accept": "application/json", **(headers or {})},
                json=json,
                microversion=self.microversion,
                microversion_service_type=self.service_type if self.microversion else None,
            )
        except keystone.Failure as e:
            error = self.Error(f"cannot {what}: {e}")
            error.answered = e.answered
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
