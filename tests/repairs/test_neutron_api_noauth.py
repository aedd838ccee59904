"""The Networking API client and delete-port with `[neutron] auth = "none"` (a standalone
neutron-server with `auth_strategy = noauth`): no Keystone request, no X-Auth-Token, the
conditional delete unchanged.

The server is a double (tests/support/http_double.py) written to the documented API (GET and DELETE
/v2.0/ports/{id}, `If-Match: revision_number=N` answered 412 when the revision moved on,
errors as {"NeutronError": {...}}); the integration test
tests/integration/test_neutron_server.py runs the same against the real neutron-server.
"""

from __future__ import annotations

import httpx
import pytest

from osfsck.clients.neutron_api import NeutronApi, NeutronApiError
from osfsck.config.settings import NeutronSettings
from osfsck.model.finding import Finding, Severity
from osfsck.model.refs import ObjectRef
from osfsck.repairs.base import RepairError
from osfsck.repairs.neutron.ports import DeletePort
from osfsck_lab.loopback import free_port
from tests.repairs.helpers import apply, context, plan_of
from tests.support.http_double import http

ENDPOINT = "http://127.0.0.1:9696"
PORT = "5b0c7a1e-2f4d-4c8e-9a6b-1d2e3f405162"
GONE = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"


class NoauthNeutron:
    """neutron-server with auth_strategy = noauth: it needs no token, so a client that
    sends one (or asks Keystone for one) is a bug this double reports."""

    def __init__(self):
        self.ports = {
            PORT: {
                "id": PORT,
                "device_id": GONE,
                "device_owner": "compute:nova",
                "revision_number": 3,
                "mac_address": "fa:16:3e:00:00:09",
                "fixed_ips": [{"ip_address": "10.0.0.9"}],
            }
        }
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert str(request.url).startswith(ENDPOINT + "/v2.0/ports/"), request.url
        port = self.ports.get(request.url.path.rsplit("/", 1)[1])
        if port is None:
            return httpx.Response(
                404, json={"NeutronError": {"type": "PortNotFound", "message": "not found", "detail": ""}}
            )
        if request.method == "GET":
            return httpx.Response(200, json={"port": port})
        if (
            request.headers.get("If-Match", f"revision_number={port['revision_number']}")
            != f"revision_number={port['revision_number']}"
        ):
            return httpx.Response(
                412,
                json={
                    "NeutronError": {
                        "type": "RevisionNumberConstraintFailed",
                        "message": "Constrained to 2, but current revision is 3",
                        "detail": "",
                    }
                },
            )
        del self.ports[port["id"]]
        return httpx.Response(204)


def noauth(**kw) -> NeutronSettings:
    return NeutronSettings(endpoint=ENDPOINT, auth="none", **kw)


def test_noauth_sends_no_token_and_never_asks_keystone():
    server = NoauthNeutron()
    # an auth_url left over would make a Keystone client authenticate: noauth must not
    api = NeutronApi(noauth(), http(server.handler))
    assert api.get_port(PORT)["revision_number"] == 3
    with pytest.raises(NeutronApiError, match="changed since it was read"):
        api.delete_port(PORT, revision_number=2)
    assert PORT in server.ports
    assert api.delete_port(PORT, revision_number=3) is True
    assert api.delete_port(PORT) is False and api.get_port(PORT) is None
    api.close()
    assert [r.method for r in server.requests] == ["GET", "DELETE", "DELETE", "DELETE", "GET"]
    assert all("X-Auth-Token" not in r.headers for r in server.requests)
    assert server.requests[1].headers["If-Match"] == "revision_number=2"


def test_a_401_is_an_error_not_a_keystone_retry():
    calls = []

    def refuse(request):
        calls.append(request)
        return httpx.Response(401, json={"error": {"message": "The request you have made requires authentication."}})

    api = NeutronApi(noauth(), http(refuse))
    with pytest.raises(NeutronApiError) as e:
        api.get_port(PORT)
    assert "HTTP 401" in str(e.value) and "\n" not in str(e.value) and len(calls) == 1


def test_noauth_without_endpoint_is_one_line():
    api = NeutronApi(NeutronSettings(auth="none"), http(lambda r: httpx.Response(500)))
    with pytest.raises(NeutronApiError, match='auth = "none" needs endpoint'):
        api.get_port(PORT)


def test_an_unreachable_endpoint_is_one_line():
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    api = NeutronApi(NeutronSettings(endpoint=endpoint, auth="none"))
    with pytest.raises(NeutronApiError) as e:
        api.delete_port(PORT, revision_number=3)
    assert str(e.value) == f"cannot delete port {PORT}: {endpoint}: [Errno 111] Connection refused"
    assert e.value.answered is None  # nothing was sent: the port was not deleted


def orphan_finding() -> Finding:
    port = NoauthNeutron().ports[PORT]
    return Finding(
        "NT101",
        "orphan-port",
        Severity.MEDIUM,
        ObjectRef("port", PORT, "neutron"),
        f"port {PORT} of deleted instance {GONE}",
        evidence={"port": port},
    )


def test_delete_port_runs_with_noauth_settings():
    server = NoauthNeutron()
    settings = noauth()
    ctx = context(neutron=settings)
    ctx.client("neutron-api", lambda: NeutronApi(settings, http(server.handler)))
    repair = DeletePort()
    assert settings.api_configured and DeletePort.unavailable(ctx.settings) is None
    plan = plan_of(repair, orphan_finding())
    repair.ownership(plan, None)
    entry = apply(repair, plan, ctx)
    assert entry["before"]["port"]["revision_number"] == 3 and "10.0.0.9" in entry["result"]
    assert PORT not in server.ports
    with pytest.raises(RepairError, match=f"no port {PORT} any more"):
        repair.before_image(plan, ctx)
    ctx.close()
    assert all("X-Auth-Token" not in r.headers for r in server.requests)


def test_noauth_without_endpoint_leaves_delete_port_unavailable():
    ctx = context(neutron=NeutronSettings(auth="none"))
    assert DeletePort.unavailable(ctx.settings) is not None
