"""What every OpenStack API client shares (clients/openstack_api.py, http_errors.py): the
one line of an error answer, the JSON of an answer and Keystone's catalog, whatever shape
they come in: each answer that is not what the API documents is the client's ApiError, one
line.  Each case is the smallest input tests/fuzz/test_api_answers_fuzz.py found to raise
something else, or to hang."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest

from osfsck.clients.http_errors import reason, tls_failure
from osfsck.clients.neutron_api import NeutronApi, NeutronApiError
from osfsck.clients.openstack_api import message
from osfsck.clients.placement_api import PlacementApi, PlacementApiError
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
    r = httpx.Response(409, content=body) if isinstance(body, bytes) else httpx.Response(409, json=body)
    assert message(r) == line


def settings(**kw) -> SimpleNamespace:
    base = dict(
        endpoint=None,
        auth_url="https://keystone/v3",
        username="osfsck",
        password="pw",
        project_name="admin",
        user_domain_name="Default",
        project_domain_name="Default",
        region_name="RegionOne",
        interface="public",
        token=None,
        verify=False,
        timeout=5.0,
        auth="keystone",
    )
    return SimpleNamespace(**{**base, **kw})


def answering(token_body, answer: httpx.Response | None = None) -> httpx.MockTransport:
    def handler(request):
        if request.url.path.endswith("/auth/tokens"):
            return httpx.Response(201, headers={"X-Subject-Token": "tok"}, json=token_body)
        return answer

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    "token",
    [
        {"token": []},  # AttributeError before
        {"token": {"catalog": {"network": "http://n"}}},
        {
            "token": {
                "catalog": [
                    {
                        "type": "network",
                        "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": {"href": "http://n"}}],
                    }
                ]
            }
        },  # AttributeError before
        {"token": {"catalog": [{"type": "network", "endpoints": [{"interface": "public", "region_id": "RegionOne"}]}]}},
        {"token": {"catalog": ["network"]}},
    ],
)
def test_a_catalog_not_of_keystones_shape_is_one_error(token):
    api = NeutronApi(settings(), transport=answering(token))
    with pytest.raises(NeutronApiError, match="catalog") as e:
        api.get_port("p1")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    "answer, why",
    [
        (httpx.Response(200, json={"ports": []}), "no port in the answer"),  # KeyError before
        (httpx.Response(200, json={"port": "p1"}), "no port in the answer"),
        (httpx.Response(200, content=DEEP), "not JSON"),  # RecursionError before
    ],
)
def test_a_port_answer_not_of_the_apis_shape_is_one_error(answer, why):
    api = NeutronApi(settings(endpoint="http://n:9696", auth="none"), transport=answering({}, answer))
    with pytest.raises(NeutronApiError, match=why):
        api.get_port("p1")


def test_a_placement_answer_nested_past_the_decoder_is_one_error():
    api = PlacementApi(
        settings(endpoint="http://p", auth="none"), transport=answering({}, httpx.Response(200, content=DEEP))
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
