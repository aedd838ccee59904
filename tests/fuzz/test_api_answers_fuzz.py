"""Answers of the OpenStack APIs osfsck's repairs call (Keystone v3 tokens and catalogs, the
Networking API, Placement), of their documented shapes and then mutated: error bodies
({"NeutronError": {...}}, {"error": {...}}, {"errors": [{...}]}) with other types or cut
short, catalogs that are not lists, answers nested past any decoder.  Every client call
returns what it documents or raises its client's ApiError, one line; `message` always
gives a line.  And the one-line reason of any exception chain, cycles included.

The services are played by a double (tests/support/http_double.py: neither Keystone nor
neutron-server can answer this badly when asked to); keystoneauth1 reads Keystone's."""

from __future__ import annotations

import httpx
import requests
from hypothesis import given
from hypothesis import strategies as st

from osfsck.clients.http_errors import message, reason, tls_failure
from osfsck.clients.neutron_api import NeutronApi, NeutronApiError
from osfsck.clients.placement_api import PlacementApi, PlacementApiError
from osfsck.config.settings import NeutronSettings
from tests.fuzz.mutate import FUZZ, PER_EXAMPLE, json_bytes, outcome
from tests.support.http_double import http, keystone_token
from tests.support.timebox import answers_within

PORT = "8e7a2d34-1b7c-4a0e-9a55-3c2f4b6d7e81"
ERRORS = [
    {"NeutronError": {"type": "PortNotFound", "message": f"Port {PORT} could not be found.", "detail": ""}},
    {"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}},
    {
        "errors": [
            {
                "status": 409,
                "title": "Conflict",
                "code": "placement.concurrent_update",
                "detail": "There was a conflict when trying to complete your request.\n\n consumer generation "
                "conflict - expected 3 but got 4",
                "request_id": "req-1",
            }
        ]
    },
]
ANSWERS = [
    {"port": {"id": PORT, "device_id": "d" * 36, "revision_number": 4}},
    {
        "allocations": {"rp-1": {"resources": {"VCPU": 2}, "generation": 7}},
        "consumer_generation": 1,
        "project_id": "p",
        "user_id": "u",
        "consumer_type": "INSTANCE",
    },
    {"uuid": "rp-1", "name": "hv1", "generation": 3},
]
CATALOG = [
    keystone_token(
        [
            {
                "type": "network",
                "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": "http://neutron:9696/"}],
            },
            {
                "type": "placement",
                "endpoints": [{"interface": "public", "region": "RegionOne", "url": "http://placement/"}],
            },
        ]
    )
]
KEYS = [
    "NeutronError",
    "error",
    "errors",
    "message",
    "detail",
    "title",
    "code",
    "port",
    "allocations",
    "token",
    "catalog",
    "type",
    "endpoints",
    "interface",
    "url",
    "region_id",
    "expires_at",
    "issued_at",
    "project",
    "user",
    "methods",
]
STATUS = st.sampled_from([200, 201, 204, 400, 401, 404, 409, 412, 500, 503])


def _one_line(e: Exception) -> None:
    assert str(e) and "\n" not in str(e)


@FUZZ
@given(STATUS, json_bytes(ERRORS + ANSWERS, KEYS))
@answers_within(PER_EXAMPLE)
def test_message_of_any_error_body(status, body):
    r = requests.Response()
    r.status_code, r.reason, r._content = status, "Reason", body
    text = message(r)
    assert isinstance(text, str) and "\n" not in text and len(text) <= 200


def _settings(**kw) -> NeutronSettings:
    base = dict(
        username="osfsck", password="pw", project_name="admin", region_name="RegionOne", verify=False, timeout=5.0
    )
    return NeutronSettings(**{**base, **kw})


@st.composite
def service(draw):
    """Keystone (a token and a catalog, maybe mutated) and the service's answers."""
    token = draw(st.one_of(st.just(b'{"token": {"catalog": []}}'), json_bytes(CATALOG, KEYS)))
    # (keystoneauth1 asks for Keystone's version document first: the double answers it as
    # any other request, so discovery fails and keystoneauth1 takes the URL's v3)
    answers = draw(st.lists(st.tuples(STATUS, json_bytes(ERRORS + ANSWERS, KEYS)), min_size=1, max_size=3))
    return token, answers


def _transport(token: bytes, answers: list) -> requests.Session:
    served = iter(answers * 3)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/tokens"):
            return httpx.Response(201, headers={"X-Subject-Token": "tok"}, content=token)
        status, body = next(served, (500, b""))
        return httpx.Response(status, content=body)

    return http(handler)


@FUZZ
@given(service(), st.booleans())
@answers_within(PER_EXAMPLE)
def test_the_networking_api(svc, keystone):
    settings = (
        _settings(auth_url="https://keystone/v3") if keystone else _settings(endpoint="http://n:9696", auth="none")
    )
    api = NeutronApi(settings, _transport(*svc))
    try:
        port = api.get_port(PORT)
        assert port is None or isinstance(port, dict)
        assert isinstance(api.delete_port(PORT, revision_number=4), bool)
    except NeutronApiError as e:
        _one_line(e)
        outcome("NeutronApiError")
        return
    finally:
        api.close()
    outcome("answers")


@FUZZ
@given(service(), st.booleans())
@answers_within(PER_EXAMPLE)
def test_the_placement_api(svc, keystone):
    settings = _settings(auth_url="https://keystone/v3") if keystone else _settings(endpoint="http://p", auth="none")
    api = PlacementApi(settings, _transport(*svc))
    try:
        assert isinstance(api.get_allocations("c-1"), dict)
        provider = api.get_provider("rp-1")
        assert provider is None or isinstance(provider, dict)
        api.put_allocations(
            "c-1",
            {},
            consumer_generation=1,
            project_id="p",
            user_id="u",
            consumer_type="INSTANCE",
            what="delete the allocations of c-1",
        )
    except PlacementApiError as e:
        _one_line(e)
        outcome("PlacementApiError")
        return
    finally:
        api.close()
    outcome("answers")


@st.composite
def chains(draw):
    """An exception with causes and contexts of any messages, sometimes in a cycle."""
    excs = [
        draw(st.sampled_from([OSError, ValueError, httpx.ConnectError, RuntimeError]))(draw(st.text(max_size=30)))
        for _ in range(draw(st.integers(1, 5)))
    ]
    for a, b in zip(excs, excs[1:]):
        setattr(a, draw(st.sampled_from(["__cause__", "__context__"])), b)
    if draw(st.booleans()):
        excs[-1].__context__ = excs[draw(st.integers(0, len(excs) - 1))]
    return excs[0]


@FUZZ
@given(chains())
@answers_within(PER_EXAMPLE)
def test_the_reason_of_any_exception_chain(e):
    line = reason(e)
    assert isinstance(line, str) and "\n" not in line and len(line) <= 200
    assert isinstance(tls_failure(e), bool)
