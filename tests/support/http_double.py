"""Test doubles of HTTP services for the OpenStack API clients, which send through
keystoneauth1 and requests: `http(handler)` is a requests.Session whose every request is
answered by `handler`, a function of an httpx.Request that returns an httpx.Response
(httpx's in-memory request and response, as the other clients' doubles use).  Nothing
goes on the network; the real services are tested in tests/integration.

`keystone_token` and `DISCOVERY` give the parts of Keystone v3's answers that
keystoneauth1 reads (the version document, a token's expiry, scope and catalog)."""

from __future__ import annotations

import datetime as dt

import httpx
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict


class HandlerAdapter(BaseAdapter):
    def __init__(self, handler):
        super().__init__()
        self.handler = handler

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        answer = self.handler(httpx.Request(request.method, request.url, headers=dict(request.headers), content=body))
        r = requests.Response()
        r.status_code = answer.status_code
        r.headers = CaseInsensitiveDict(answer.headers)
        r._content = answer.content
        r.reason = answer.reason_phrase
        r.url = request.url
        r.request = request
        r.encoding = answer.encoding if answer.headers.get("content-type", "").startswith("text/") else None
        return r

    def close(self):
        pass


def http(handler) -> requests.Session:
    """A requests.Session answered by `handler` for every http and https URL."""
    s = requests.Session()
    adapter = HandlerAdapter(handler)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def discovery(url: str) -> dict:
    """GET on a v3 auth_url: Keystone's version document (as keystone 30 answers it)."""
    return {
        "version": {
            "id": "v3.14",
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": url.rstrip("/") + "/"}],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
        }
    }


def keystone_token(catalog: list, hours: float = 1.0, **scope) -> dict:
    """The body of POST /v3/auth/tokens: a password token with an expiry, a user, the
    scope given (project={...} or system={"all": True}) and `catalog`."""
    now = dt.datetime.now(dt.UTC)
    iso = "%Y-%m-%dT%H:%M:%S.000000Z"
    return {
        "token": {
            "methods": ["password"],
            "user": {"id": "u1", "name": "osfsck", "domain": {"id": "default", "name": "Default"}},
            "issued_at": now.strftime(iso),
            "expires_at": (now + dt.timedelta(hours=hours)).strftime(iso),
            "catalog": catalog,
            **(scope or {"project": {"id": "p1", "name": "admin", "domain": {"id": "default", "name": "Default"}}}),
        }
    }
