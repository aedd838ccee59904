"""The Networking API v2.0 (neutron-server), for what must go through it: a port delete
makes Neutron unplug the port from its host, release its addresses, remove its SDN
objects (OVN, NSX) and tell Nova, which a database write would not.

Authentication is Keystone v3 password auth (POST /v3/auth/tokens, the token in the
X-Subject-Token header, neutron-server's endpoint from the catalog's "network" service)
unless a token and an endpoint are configured, or none at all (`auth = "none"`: a
standalone neutron-server with `auth_strategy = noauth`, which takes no token).  Errors
are one line (NeutronApiError).
"""

from __future__ import annotations

import httpx


class NeutronApiError(Exception):
    """A request failed; one line naming what was asked and why."""


class NeutronApi:
    """`settings` is the `[neutron]` section (config.settings.NeutronSettings: clients do not
    import config, so it is read by attribute): endpoint, auth_url, username, password,
    project_name, user/project_domain_name, region_name, interface, token, verify, timeout,
    auth ("keystone" or "none")."""

    def __init__(self, settings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self._http = httpx.Client(verify=settings.verify, timeout=settings.timeout, transport=transport,
                                  headers={"Accept": "application/json", "User-Agent": "osfsck"})
        self._token = settings.token
        self._endpoint = settings.endpoint
        # noauth: neutron-server trusts every request, so no token is asked for or sent
        self._noauth = getattr(settings, "auth", "keystone") == "none"

    # -- ports ------------------------------------------------------------------------
    def get_port(self, port_id: str) -> dict | None:
        """GET /v2.0/ports/{id}: the port's JSON, or None when Neutron has no such port."""
        r = self._request("GET", f"/v2.0/ports/{port_id}", f"read port {port_id}", missing_ok=True)
        return None if r is None else _json(r, f"read port {port_id}")["port"]

    def delete_port(self, port_id: str, revision_number: int | None = None) -> bool:
        """DELETE /v2.0/ports/{id}; False when it was already gone.  With a revision, the
        delete is conditional (`If-Match: revision_number=N`): Neutron answers 412 when the
        port changed since it was read."""
        headers = {"If-Match": f"revision_number={revision_number}"} if revision_number is not None else {}
        return self._request("DELETE", f"/v2.0/ports/{port_id}", f"delete port {port_id}", headers=headers,
                             missing_ok=True) is not None

    def close(self) -> None:
        self._http.close()

    # -- plumbing ---------------------------------------------------------------------
    def _request(self, method: str, path: str, what: str, *, headers=None, missing_ok=False, retry=True):
        if self._noauth:
            if self._endpoint is None:
                raise NeutronApiError('[neutron] auth = "none" needs endpoint: the Networking API is not configured')
        elif self._token is None or self._endpoint is None:
            self._authenticate()
        sent = {**(headers or {})} if self._noauth else {**(headers or {}), "X-Auth-Token": self._token}
        try:
            r = self._http.request(method, self._endpoint + path, headers=sent)
        except httpx.HTTPError as e:
            raise NeutronApiError(f"cannot {what}: {self._endpoint}: {_reason(e)}") from None
        if r.status_code == 401 and retry and self.settings.auth_url and not self._noauth:
            self._token = None          # expired: one new token, then give up
            return self._request(method, path, what, headers=headers, missing_ok=missing_ok, retry=False)
        if r.status_code == 404 and missing_ok:
            return None
        if r.status_code == 412:
            raise NeutronApiError(f"cannot {what}: it changed since it was read (412 Precondition Failed)")
        if r.status_code >= 400:
            raise NeutronApiError(f"cannot {what}: HTTP {r.status_code} {_message(r)}")
        return r

    def _authenticate(self) -> None:
        s = self.settings
        if not s.auth_url:
            raise NeutronApiError("[neutron] has no auth_url or token_env: the Networking API is not configured")
        url = s.auth_url.rstrip("/")
        url = (url if url.endswith("/v3") else url + "/v3") + "/auth/tokens"
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": s.username, "domain": {"name": s.user_domain_name}, "password": s.password}}},
            "scope": {"project": {"name": s.project_name, "domain": {"name": s.project_domain_name}}}}}
        try:
            r = self._http.post(url, json=body)
        except httpx.HTTPError as e:
            raise NeutronApiError(f"cannot authenticate to Keystone at {url}: {_reason(e)}") from None
        if r.status_code != 201:
            raise NeutronApiError(f"Keystone refused {s.username} at {url}: HTTP {r.status_code} {_message(r)}")
        token = r.headers.get("X-Subject-Token")
        if not token:
            raise NeutronApiError(f"Keystone at {url} answered without an X-Subject-Token header")
        self._token = token
        if self._endpoint is None:
            self._endpoint = self._catalog_endpoint(_json(r, "read Keystone's token").get("token", {}))

    def _catalog_endpoint(self, token: dict) -> str:
        s = self.settings
        for service in token.get("catalog") or ():
            if service.get("type") != "network":
                continue
            for ep in service.get("endpoints") or ():
                if ep.get("interface") == s.interface and (
                        not s.region_name or s.region_name in (ep.get("region_id"), ep.get("region"))):
                    return ep["url"].rstrip("/")
        where = f" in region {s.region_name}" if s.region_name else ""
        raise NeutronApiError(f"Keystone's catalog has no {s.interface} network endpoint{where}; set [neutron] endpoint")


def _json(r: httpx.Response, what: str) -> dict:
    try:
        data = r.json()
    except ValueError:
        raise NeutronApiError(f"cannot {what}: the answer is not JSON") from None
    if not isinstance(data, dict):
        raise NeutronApiError(f"cannot {what}: the answer is not a JSON object")
    return data


def _message(r: httpx.Response) -> str:
    """The error's message: Neutron's {"NeutronError": {"message"}}, Keystone's {"error": {"message"}}."""
    try:
        data = r.json()
        err = data.get("NeutronError") or data.get("error") or {}
        text = err.get("message") if isinstance(err, dict) else None
    except (ValueError, AttributeError):
        text = None
    text = text or r.reason_phrase or ""
    return " ".join(str(text).split())[:200]


def _reason(e: httpx.HTTPError) -> str:
    return " ".join(str(e).split()) or type(e).__name__
