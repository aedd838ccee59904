"""The Networking API client against a test double.

The real neutron-server and Keystone are tested in tests/integration; these tests answer
through a double (tests/support/http_double.py) written to the documented APIs, for the
cases the real ones cannot be made to give: Keystone v3's version document at the
auth_url, `POST /v3/auth/tokens` (201, the token in the X-Subject-Token header, the
catalog in the body's token.catalog, each service with its type and endpoints
{interface, region_id, url}), a token it revokes; the Networking API
v2.0 `GET /v2.0/ports/{id}` ({"port": {...}}, 404 when absent) and `DELETE
/v2.0/ports/{id}` (204), with `If-Match: revision_number=N` answered 412 when the
revision moved on; errors as {"NeutronError": {"type", "message", "detail"}}.
"""

from __future__ import annotations

import json

import httpx
import pytest

from osfsck.clients.keystone import make_session
from osfsck.clients.neutron_api import NeutronApi, NeutronApiError
from osfsck.config.settings import NeutronSettings
from osfsck_lab.loopback import free_port
from tests.support.http_double import discovery, http, keystone_token
from tests.support.timebox import timebox

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
        self.password = "secret"
        self.issued = 0
        self.lifetimes: list[float] = []  # hours, of the next tokens (then an hour each)
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url)
        if url.rstrip("/") == KEYSTONE and request.method == "GET":
            return httpx.Response(200, json=discovery(KEYSTONE))
        if url == f"{KEYSTONE}/auth/tokens" and request.method == "POST":
            auth = json.loads(request.content)["auth"]
            user = auth["identity"]["password"]["user"]
            if user["password"] != self.password or user["domain"]["name"] != "Default":
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
                json=keystone_token(catalog, self.lifetimes.pop(0) if self.lifetimes else 1.0),
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
    return NeutronApi(settings, http(cloud.handler))


def test_password_auth_finds_the_public_endpoint_of_the_region(cloud):
    api = client(cloud, password_settings(region_name="RegionOne"))
    assert api.get_port(PORT)["revision_number"] == 4
    version, auth, get = cloud.requests
    assert (version.method, str(version.url)) == ("GET", KEYSTONE)  # keystoneauth1's version discovery
    body = json.loads(auth.content)["auth"]
    assert body["scope"]["project"] == {"name": "admin", "domain": {"name": "Default"}}
    assert body["identity"]["password"]["user"] == {
        "name": "osfsck",
        "domain": {"name": "Default"},
        "password": "secret",
    }
    assert str(get.url) == f"https://neutron:9696/v2.0/ports/{PORT}" and get.headers["X-Auth-Token"] == "tok-1"
    assert get.headers["User-Agent"].startswith("osfsck/")


def test_system_scope_asks_for_a_system_token(cloud):
    settings = NeutronSettings(auth_url=KEYSTONE, username="osfsck", password="secret", system_scope="all")
    client(cloud, settings).get_port(PORT)
    assert json.loads(cloud.requests[1].content)["auth"]["scope"] == {"system": {"all": True}}


def test_an_application_credential_needs_no_password_or_scope(cloud):
    settings = NeutronSettings(
        auth_url="https://keystone.example:5000",  # the v3 path is added: the plugin is v3-only
        application_credential_id="ac1",
        application_credential_secret="acs",
    )
    seen = []

    def keystone(request):
        seen.append(request)
        if request.url.path == "/v3/auth/tokens":
            catalog = [{"type": "network", "endpoints": [{"interface": "public", "region_id": "R", "url": "http://n"}]}]
            return httpx.Response(201, headers={"X-Subject-Token": "tok-ac"}, json=keystone_token(catalog))
        return httpx.Response(200, json={"port": {"id": PORT}})

    assert NeutronApi(settings, http(keystone)).get_port(PORT) == {"id": PORT}
    body = json.loads(seen[0].content)["auth"]
    assert body["identity"] == {
        "methods": ["application_credential"],
        "application_credential": {"id": "ac1", "secret": "acs"},
    }
    assert "scope" not in body and seen[1].headers["X-Auth-Token"] == "tok-ac"


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


def test_a_revoked_token_is_renewed_once(cloud):
    api = client(cloud, password_settings())
    api.get_port(PORT)
    cloud.tokens.clear()  # Keystone revoked it: the service answers 401, keystoneauth1 asks again
    assert api.get_port(PORT)["id"] == PORT
    assert cloud.issued == 2
    assert [r.headers.get("X-Auth-Token") for r in cloud.requests if "/ports/" in str(r.url)] == [
        "tok-1",
        "tok-1",
        "tok-2",
    ]


def test_a_renewal_keystone_refuses_is_one_line_and_the_write_was_refused(cloud):
    """The token is revoked and the password changed during the run: Neutron's 401, then
    Keystone's, and nothing was deleted (answered: a refusal)."""
    api = client(cloud, password_settings())
    api.get_port(PORT)
    cloud.tokens.clear()
    cloud.password = "rotated"
    with pytest.raises(NeutronApiError) as e:
        api.delete_port(PORT, revision_number=4)
    assert str(e.value) == (
        f"cannot delete port {PORT}: Keystone refused osfsck at {KEYSTONE}: HTTP 401 "
        "The request you have made requires authentication."
    )
    assert e.value.answered is True and PORT in cloud.ports


def test_a_token_about_to_expire_is_renewed_before_it_is_used(cloud):
    """keystoneauth1 takes a new token when the one it holds has less than 2 minutes left,
    so a token that expires within a request is never sent."""
    cloud.lifetimes = [1 / 60]  # the first token lives one minute
    api = client(cloud, password_settings())
    api.get_port(PORT)
    api.get_port(PORT)
    assert cloud.issued == 2
    assert [r.headers.get("X-Auth-Token") for r in cloud.requests if "/ports/" in str(r.url)] == ["tok-2", "tok-2"]


@pytest.mark.parametrize(
    "settings, handler, message",
    [
        (password_settings(region_name="RegionNine"), None, "no public network endpoint in region RegionNine"),
        (
            NeutronSettings(auth_url=KEYSTONE, username="osfsck", password="wrong", project_name="admin"),
            None,
            "Keystone refused osfsck at https://keystone.example:5000/v3: HTTP 401 The request you have made",
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
        (NeutronSettings(), None, "the Networking API is not configured"),
    ],
)
def test_failures_are_one_line(cloud, settings, handler, message):
    api = NeutronApi(settings, http(handler or cloud.handler))
    with pytest.raises(NeutronApiError) as e:
        api.get_port(PORT)
    assert message in str(e.value) and "\n" not in str(e.value)
    assert "secret" not in str(e.value) and "wrong" not in str(e.value)


def test_a_refusal_is_not_asked_again_for_every_repair_of_the_run(cloud):
    api = client(cloud, NeutronSettings(auth_url=KEYSTONE, username="osfsck", password="wrong", project_name="admin"))
    for _ in range(3):
        with pytest.raises(NeutronApiError, match="Keystone refused osfsck"):
            api.get_port(PORT)
    assert [r.method for r in cloud.requests] == ["GET", "POST"]  # the version document, one token request


def test_keystone_unreachable_is_one_line_and_nothing_was_sent():
    url = f"http://127.0.0.1:{free_port()}/v3"
    api = NeutronApi(NeutronSettings(auth_url=url, username="osfsck", password="pw", project_name="admin", timeout=5))
    with pytest.raises(NeutronApiError) as e:
        api.get_port(PORT)
    assert str(e.value) == f"cannot authenticate osfsck to Keystone at {url}: [Errno 111] Connection refused"
    assert e.value.answered is None


def test_tls_verification_is_on_by_default():
    assert NeutronSettings().verify is True
    assert make_session(NeutronSettings(endpoint="https://neutron:9696", token="t"), None, None)[0].verify is True


def test_an_auth_url_that_wants_a_token_is_one_line_not_a_hang():
    """keystoneauth1 asks an auth_url that answers 401 for its versions again with a token,
    through the plugin already waiting for that answer: with the plugin as the session's
    default it waited for its own lock for ever (an auth_url pointed at Placement does it)."""

    def placement(request):
        return httpx.Response(401, json={"error": {"message": "The request you have made requires authentication."}})

    settings = NeutronSettings(auth_url="http://placement:8778", username="osfsck", password="pw", project_name="p")
    with timebox(10):
        with pytest.raises(NeutronApiError) as e:
            NeutronApi(settings, http(placement)).get_port(PORT)
    assert str(e.value) == (
        "http://placement:8778 wants a token before it tells its Keystone version (HTTP 401): is auth_url Keystone's?"
    )
