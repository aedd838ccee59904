"""What every OpenStack API client of osfsck shares: Keystone v3 password auth (POST
/v3/auth/tokens, the token in the X-Subject-Token header, the service's endpoint from the
token's catalog), or a ready-made token and endpoint, or none (`auth = "none"`: a
standalone service without Keystone); one token per run, renewed once on a 401; errors
as one line.  Used by the Networking API (neutron_api.py) and Placement (placement_api.py).
"""

from __future__ import annotations

from typing import ClassVar

import httpx

from osfsck.model.secrets import redact_url


class ApiError(Exception):
    """A request failed; one line naming what was asked and why.  `answered`: True when
    the service answered with an error (a write it refused was not made), False when the
    request was sent and no answer came back (a write may have been made), None when
    nothing was sent."""

    answered: bool | None = None


class OpenStackApi:
    """Subclasses set `service_type` (the catalog's type), `section` ("[neutron]"), `label`
    ("the Networking API"), `Error` (their ApiError) and, for a service whose no-auth
    middleware still wants a token, `noauth_token`.  `settings` is the service's config
    section, read by attribute (clients do not import config): endpoint, auth_url,
    username, password, project_name, user/project_domain_name, region_name, interface,
    token, verify, timeout, auth ("keystone" or "none")."""

    service_type: ClassVar[str]
    section: ClassVar[str]
    label: ClassVar[str]
    Error: ClassVar[type] = ApiError
    noauth_token: ClassVar[str | None] = None
    headers: ClassVar[dict] = {}

    def __init__(self, settings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self._http = httpx.Client(
            verify=settings.verify,
            timeout=settings.timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "osfsck", **self.headers},
        )
        self._token = settings.token
        self._endpoint = settings.endpoint
        self._noauth = getattr(settings, "auth", "keystone") == "none"

    def close(self) -> None:
        self._http.close()

    # -- plumbing ---------------------------------------------------------------------
    def _request(self, method: str, path: str, what: str, *, headers=None, json=None, missing_ok=False, retry=True):
        """The response; None for a 404 when `missing_ok`; else raises `Error` (one line)
        for a transport failure or an HTTP error (`_refusal` words the ones a caller
        expects, such as a conflict)."""
        if self._noauth:
            if self._endpoint is None:
                raise self.Error(f'{self.section} auth = "none" needs endpoint: {self.label} is not configured')
        elif self._token is None or self._endpoint is None:
            self._authenticate()
        sent = dict(headers or {})
        token = self.noauth_token if self._noauth else self._token
        if token is not None:
            sent["X-Auth-Token"] = token
        try:
            r = self._http.request(method, self._endpoint + path, headers=sent, json=json)
        except httpx.HTTPError as e:
            error = self.Error(f"cannot {what}: {redact_url(self._endpoint)}: {reason(e)}")
            error.answered = None if isinstance(e, (httpx.ConnectError, httpx.ConnectTimeout)) else False
            raise error from None
        if r.status_code == 401 and retry and self.settings.auth_url and not self._noauth:
            self._token = None  # expired: one new token, then give up
            return self._request(method, path, what, headers=headers, json=json, missing_ok=missing_ok, retry=False)
        if r.status_code == 404 and missing_ok:
            return None
        if r.status_code >= 400:
            error = self.Error(self._refusal(r, what) or f"cannot {what}: HTTP {r.status_code} {message(r)}")
            error.answered = True
            raise error
        return r

    def _refusal(self, r: httpx.Response, what: str) -> str | None:
        """The one line for an HTTP error the service uses to mean something (a conflict),
        or None for the generic one."""
        return None

    def _authenticate(self) -> None:
        s = self.settings
        if not s.auth_url:
            raise self.Error(f"{self.section} has no auth_url or token_env: {self.label} is not configured")
        url = s.auth_url.rstrip("/")
        url = (url if url.endswith("/v3") else url + "/v3") + "/auth/tokens"
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": s.username, "domain": {"name": s.user_domain_name}, "password": s.password}
                    },
                },
                "scope": {"project": {"name": s.project_name, "domain": {"name": s.project_domain_name}}},
            }
        }
        shown = redact_url(url)  # a URL may carry a password: messages never show it
        try:
            r = self._http.post(url, json=body)
        except httpx.HTTPError as e:
            raise self.Error(f"cannot authenticate to Keystone at {shown}: {reason(e)}") from None
        if r.status_code != 201:
            raise self.Error(f"Keystone refused {s.username} at {shown}: HTTP {r.status_code} {message(r)}")
        token = r.headers.get("X-Subject-Token")
        if not token:
            raise self.Error(f"Keystone at {shown} answered without an X-Subject-Token header")
        self._token = token
        if self._endpoint is None:
            self._endpoint = self._catalog_endpoint(self._json(r, "read Keystone's token").get("token", {}))

    def _catalog_endpoint(self, token) -> str:
        """The service's URL from the token's catalog: [{type, endpoints: [{interface,
        region_id (region before Keystone v3.2's rename), url}]}]."""
        s = self.settings
        catalog = token.get("catalog") if isinstance(token, dict) else None
        if not isinstance(catalog, list) or not all(isinstance(service, dict) for service in catalog):
            raise self.Error(f"Keystone's token carries no catalog of services; set {self.section} endpoint")
        for service in catalog:
            endpoints = service.get("endpoints")
            if service.get("type") != self.service_type or not isinstance(endpoints, list):
                continue
            for ep in endpoints:
                if (
                    isinstance(ep, dict)
                    and ep.get("interface") == s.interface
                    and (not s.region_name or s.region_name in (ep.get("region_id"), ep.get("region")))
                ):
                    if not isinstance(ep.get("url"), str) or not ep["url"]:
                        raise self.Error(
                            f"Keystone's catalog names a {s.interface} {self.service_type} endpoint "
                            f"without a url; set {self.section} endpoint"
                        )
                    return ep["url"].rstrip("/")
        where = f" in region {s.region_name}" if s.region_name else ""
        raise self.Error(
            f"Keystone's catalog has no {s.interface} {self.service_type} endpoint{where}; set {self.section} endpoint"
        )

    def _json(self, r: httpx.Response, what: str) -> dict:
        try:
            data = r.json()
        except (ValueError, RecursionError):  # RecursionError: arrays nested too deep to decode
            raise self.Error(f"cannot {what}: the answer is not JSON") from None
        if not isinstance(data, dict):
            raise self.Error(f"cannot {what}: the answer is not a JSON object")
        return data


def message(r: httpx.Response) -> str:
    """The error's message: Neutron's {"NeutronError": {"message"}}, Keystone's {"error":
    {"message"}}, Placement's {"errors": [{"detail", "title", "code"}]}, else the reason
    phrase; one line, whatever the body holds."""
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
            head = detail or str(first.get("title") or "") or r.reason_phrase or ""
            text = head + (f" [{first['code']}]" if first.get("code") else "")
        else:
            err = data.get("NeutronError") or data.get("error") or {}
            text = err.get("message") if isinstance(err, dict) else None
    text = text or r.reason_phrase or ""
    return " ".join(str(text).split())[:200]


def reason(e: httpx.HTTPError) -> str:
    return " ".join(str(e).split()) or type(e).__name__
