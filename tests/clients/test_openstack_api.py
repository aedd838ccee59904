"""What every OpenStack API client shares (clients/openstack_api.py, keystone.py,
http_errors.py): the one line of an error answer, the JSON of an answer and Keystone's
catalog (as keystoneauth1 reads it), whatever shape they come in: each answer that is not what the API documents is the client's ApiError, one
line.  Each case is the smallest input tests/fuzz/test_api_answers_fuzz.py found to raise
something else, or to hang."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager

import httpx
import pytest
import requests

from osfsck.clients.http_errors import message, reason, tls_failure
from osfsck.clients.neutron_api import NeutronApi, NeutronApiError
from osfsck.clients.placement_api import PlacementApi, PlacementApiError
from osfsck.config.settings import NeutronSettings
from osfsck.engine.repair import _answer_lost
from osfsck.repairs.base import RepairError
from tests.support.http_double import http, keystone_token
from tests.support.timebox import timebox

DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    "body, line",
    [
        ({"errors": [{"code": "placement.undefined_code"}]}, "Conflict [placement.undefined_code]"),  # TypeError before
        ({"errors": [{"detail": 7, "title": ["x"]}]}, "7"),
        ({"NeutronError": {"message": {"text": "x"}}}, "{'text': 'x'}"),
        (DEEP, "Conflict"),  # RecursionError before
    ],
)
def test_the_line_of_any_error_answer(body, line):
    r = requests.Response()
    r.status_code, r.reason = 409, "Conflict"
    r._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    assert message(r) == line


def settings(**kw) -> NeutronSettings:
    base = dict(
        auth_url="https://keystone/v3",
        username="osfsck",
        password="pw",
        project_name="admin",
        region_name="RegionOne",
        verify=False,
        timeout=5.0,
    )
    return NeutronSettings(**{**base, **kw})


def answering(token_body, answer: httpx.Response | None = None):
    def handler(request):
        if request.url.path.endswith("/auth/tokens"):
            return httpx.Response(201, headers={"X-Subject-Token": "tok"}, json=token_body)
        return answer or httpx.Response(404)

    return http(handler)


def token(catalog) -> dict:
    """A token keystoneauth1 can read (expiry, user, scope) around `catalog`, of any shape."""
    body = keystone_token([])
    body["token"]["catalog"] = catalog
    return body


@pytest.mark.parametrize(
    "token",
    [
        {"token": []},  # AttributeError before
        token({"network": "http://n"}),
        token(
            [
                {
                    "type": "network",
                    "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": {"href": "http://n"}}],
                }
            ]
        ),  # AttributeError before
        token([{"type": "network", "endpoints": [{"interface": "public", "region_id": "RegionOne"}]}]),
        token(["network"]),
        token([]),
    ],
)
def test_a_catalog_not_of_keystones_shape_is_one_error(token):
    api = NeutronApi(settings(), answering(token))
    with pytest.raises(NeutronApiError) as e:
        api.get_port("p1")
    assert str(e.value) and "\n" not in str(e.value) and e.value.answered is None


@pytest.mark.parametrize(
    "answer, why",
    [
        (httpx.Response(200, json={"ports": []}), "no port in the answer"),  # KeyError before
        (httpx.Response(200, json={"port": "p1"}), "no port in the answer"),
        (httpx.Response(200, content=DEEP), "not JSON"),  # RecursionError before
    ],
)
def test_a_port_answer_not_of_the_apis_shape_is_one_error(answer, why):
    api = NeutronApi(NeutronSettings(endpoint="http://n:9696", auth="none"), answering({}, answer))
    with pytest.raises(NeutronApiError, match=why):
        api.get_port("p1")


def test_a_placement_answer_nested_past_the_decoder_is_one_error():
    api = PlacementApi(
        NeutronSettings(endpoint="http://p", auth="none"), answering({}, httpx.Response(200, content=DEEP))
    )
    with pytest.raises(PlacementApiError, match="not JSON"):
        api.get_allocations("c1")


def _cycle() -> Exception:
    a, b = OSError("connection reset"), ValueError("")
    a.__context__, b.__context__ = b, a
    return a


@pytest.mark.parametrize("make", [_cycle, lambda: (lambda e: (setattr(e, "__cause__", e), e)[1])(RuntimeError("x"))])
def test_a_cause_chain_with_a_cycle_has_a_reason(make):
    e = make()
    with timebox(5):  # before: both walked the chain for ever
        assert reason(e) in ("connection reset", "x") and tls_failure(e) is False


@contextmanager
def unanswering(hang: bool):
    """A server on loopback that reads one request and then closes the connection, or
    keeps it open without a word: the request was sent, its answer never comes."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    held = []

    def serve():
        conn, _ = listener.accept()
        conn.recv(65536)
        if hang:
            held.append(conn)
        else:
            conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        t.join(5)
        for conn in held:
            conn.close()
        listener.close()


@pytest.mark.parametrize("hang", [False, True], ids=["dropped", "timed out"])
def test_a_write_whose_answer_was_lost_may_have_been_made(hang):
    """A PUT sent and never answered: `answered` is False, which engine/repair.py's
    `_answer_lost` reads (through the RepairError a repair wraps it in) to re-read the
    subject before it says the repair was not made."""
    with unanswering(hang) as endpoint:
        api = PlacementApi(NeutronSettings(endpoint=endpoint, auth="none", timeout=1.0))
        with pytest.raises(PlacementApiError) as e:
            api.put_allocations(
                "c1", {}, consumer_generation=1, project_id="p", user_id="u", consumer_type="INSTANCE", what="free c1"
            )
    assert e.value.answered is False and "\n" not in str(e.value)
    assert str(e.value).startswith(f"cannot free c1: {endpoint}: ")
    try:
        raise RepairError(str(e.value)) from e.value
    except RepairError as wrapped:
        assert _answer_lost(wrapped)


def test_only_a_run_that_calls_an_api_imports_keystoneauth1():
    """keystoneauth1, requests and openstacksdk take ~0.2 s to import: `osfsck checks`, a
    check from a snapshot, any run without an API call must not pay it."""
    code = (
        "import sys; import osfsck.cli.main, osfsck.repairs.placement.common, osfsck.repairs.neutron.ports; "
        "print(sorted(m for m in ('keystoneauth1', 'requests', 'openstack', 'urllib3') if m in sys.modules))"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == "[]", p.stdout + p.stderr
