"""The Networking API client against a test double.

A real neutron-server (and Keystone) cannot run here, so these tests answer through
httpx.MockTransport, written to the documented APIs: Keystone v3 `POST /v3/auth/tokens`
(201, the token in the X-Subject-Token header, the catalog in the body's token.catalog,
each service with its type and endpoints {interface, region_id, url}); the Networking API
v2.0 `GET /v2.0/ports/{id}` ({"port": {...}}, 404 when absent) and `DELETE
/v2.0/ports/{id}` (204), with `If-Match: revision_number=N` answered 412 when the
revision moved on; errors as {"NeutronError": {"type", "message", "detail"}}.
"""

from __future__ import annotations

import json

import httpx
import pytest

from osfsck.clients.neutron_api import NeutronApi, NeutronApiError
from osfsck.config.settings import NeutronSettings

PORT = "8e7a2d34-1b7c-4a0e-9a55-3c2f4b6d7e81"
KEYSTONE = "https://keystone.example:5000/v3"


class FakeCloud:
    """Keystone and neutron-server, as far as the client uses them."""

    def __init__(self):
        self.ports = {
            PORT: {
                "id": PORT,
                "device_id": "d" * 36,
                "device_owner": "compute:nova",
                "revision_number": 4,
                "fixed_ips": [{"ip_address": "10.0.0.5"}],
            }
        }
        self.tokens = {"tok-1"}
        self.issued = 0
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url)
        if url == f"{KEYSTONE}/auth/tokens" and request.method == "POST":
            auth = json.loads(request.content)["auth"]
            user = auth["identity"]["password"]["user"]
            if user["password"] != "secret" or user["domain"]["name"] != "Default":
                return httpx.Response(
                    401,
                    json={
                        "error": {
                            "code": 401,
                            "title": "Unauthorized",
                            "message": "The request you have made requires authentication.",
                        }
                    },
                )
            self.issued += 1
            token = f"tok-{self.issued}"
            self.tokens.add(token)
            catalog = [
                {"type": "identity", "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": KEYSTONE}]},
                {
                    "type": "network",
                    "endpoints": [
                        {"interface": "internal", "region_id": "RegionOne", "url": "http://neutron-int:9696"},
                        {"interface": "public", "region_id": "RegionTwo", "url": "https://neutron-two:9696/"},
                        {"interface": "public", "region_id": "RegionOne", "url": "https://neutron:9696/"},
                    ],
                },
            ]
            return httpx.Response(
                201,
                headers={"X-Subject-Token": token},
                json={"token": {"catalog": catalog, "project": {"name": "admin"}}},
            )
        if request.headers.get("X-Auth-Token") not in self.tokens:
            return httpx.Response(
                401, json={"error": {"message": "The request you have made requires authentication."}}
            )
        port_id = request.url.path.rsplit("/", 1)[1]
        port = self.ports.get(port_id)
        if port is None:
            return httpx.Response(
                404,
                json={
                    "NeutronError": {
                        "type": "PortNotFound",
                        "detail": "",
                        "message": f"Port {port_id} could not be found.",
                    }
                },
            )
        if request.method == "GET":
            return httpx.Response(200, json={"port": port})
        if request.method == "DELETE":
            want = request.headers.get("If-Match")
            if want and want != f"revision_number={port['revision_number']}":
                return httpx.Response(
                    412,
                    json={
                        "NeutronError": {
                            "type": "RevisionNumberConstraintFailed",
                            "message": "Constrained to 4, but current revision is 5",
                            "detail": "",
                        }
                    },
                )
            del self.ports[port_id]
            return httpx.Response(204)
        return httpx.Response(405)


def password_settings(**kw) -> NeutronSettings:
    return NeutronSettings(auth_url=KEYSTONE, username="osfsck", password="secret", project_name="admin", **kw)


@pytest.fixture
def cloud():
    return FakeCloud()


def client(cloud, settings) -> NeutronApi:
    return NeutronApi(settings, transport=httpx.MockTransport(cloud.handler))


def test_password_auth_finds_the_public_endpoint_of_the_region(cloud):
    api = client(cloud, password_settings(region_name="RegionOne"))
    assert api.get_port(PORT)["revision_number"] == 4
    auth, get = cloud.requests
    assert json.loads(auth.content)["auth"]["scope"]["project"] == {"name": "admin", "domain": {"name": "Default"}}
    assert str(get.url) == f"https://neutron:9696/v2.0/ports/{PORT}" and get.headers["X-Auth-Token"] == "tok-1"


def test_interface_chooses_among_the_catalog_endpoints(cloud):
    api = client(cloud, password_settings(interface="internal"))
    api.get_port(PORT)
    assert str(cloud.requests[-1].url).startswith("http://neutron-int:9696/v2.0/ports/")


def test_conditional_delete_and_a_port_already_gone(cloud):
    api = client(cloud, NeutronSettings(endpoint="https://neutron:9696", token="tok-1"))
    assert api.delete_port(PORT, revision_number=4) is True
    assert cloud.requests[-1].headers["If-Match"] == "revision_number=4"
    assert PORT not in cloud.ports
    assert api.get_port(PORT) is None and api.delete_port(PORT) is False


def test_a_port_changed_since_it_was_read_is_not_deleted(cloud):
    api = client(cloud, NeutronSettings(endpoint="https://neutron:9696", token="tok-1"))
    with pytest.raises(NeutronApiError, match="changed since it was read"):
        api.delete_port(PORT, revision_number=3)
    assert PORT in cloud.ports


def test_an_expired_token_is_renewed_once(cloud):
    api = client(cloud, password_settings())
    api.get_port(PORT)
    cloud.tokens.clear()  # Keystone revoked it
    assert api.get_port(PORT)["id"] == PORT
    assert cloud.issued == 2


@pytest.mark.parametrize(
    "settings, handler, message",
    [
        (password_settings(region_name="RegionNine"), None, "no public network endpoint in region RegionNine"),
        (
            NeutronSettings(auth_url=KEYSTONE, username="osfsck", password="wrong", project_name="admin"),
            None,
            "Keystone refused osfsck at https://keystone.example:5000/v3/auth/tokens: HTTP 401 The request you have made",
        ),
        (NeutronSettings(endpoint="https://neutron:9696", token="stale"), None, "HTTP 401"),
        (
            NeutronSettings(endpoint="https://neutron:9696", token="tok-1"),
            lambda r: httpx.Response(500, text="<html>Internal error</html>"),
            "HTTP 500 Internal Server Error",
        ),
        (
            NeutronSettings(endpoint="https://neutron:9696", token="tok-1"),
            lambda r: httpx.Response(200, text="not json"),
            "the answer is not JSON",
        ),
        (
            NeutronSettings(endpoint="https://neutron:9696", token="tok-1"),
            lambda r: (_ for _ in ()).throw(httpx.ConnectError("[Errno 111] Connection refused")),
            "Connection refused",
        ),
        (NeutronSettings(), None, "the Networking API is not configured"),
    ],
)
def test_failures_are_one_line(cloud, settings, handler, message):
    api = NeutronApi(settings, transport=httpx.MockTransport(handler or cloud.handler))
    with pytest.raises(NeutronApiError) as e:
        api.get_port(PORT)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_tls_verification_is_on_by_default():
    api = NeutronApi(NeutronSettings(endpoint="https://neutron:9696", token="t"))
    assert NeutronSettings().verify is True
    # httpx keeps the verifying SSL context it was given
    assert api._http._transport._pool._ssl_context.verify_mode.name == "CERT_REQUIRED"
    api.close()
