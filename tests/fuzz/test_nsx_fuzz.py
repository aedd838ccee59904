"""NSX Policy and Manager API answers, made from the objects the vmware-nsx plugin writes
and then mutated (types swapped, keys dropped, times out of range, nesting), and paged
badly (cursors that come back, `results` missing, `result_count` that lies, bodies cut or
nested past any decoder): the mapping gives facts or NsxShapeError, the client a whole list
or NsxError, and the NSX source facts or a partial scope with one line.

The manager is played by an httpx MockTransport answering from the generated pages: the
NSX test double (lab/nsx_standin.py) only ever answers well."""

from __future__ import annotations

import datetime as dt
import json

import httpx
from hypothesis import given
from hypothesis import strategies as st

from osfsck.clients.nsx import NsxClient, NsxError
from osfsck.config.nsx import NsxSettings
from osfsck.model.facts.nsx import MANAGER, NEUTRON_TAG_SCOPES, NSX_SCOPE, POLICY, NsxObject
from osfsck.model.snapshot import Snapshot
from osfsck.sources.nsx.mapping import NsxShapeError, to_fact
from osfsck.sources.nsx.source import MANAGER_LISTS, POLICY_LISTS, SEGMENTS, NsxSource
from osfsck_lab.nsx_objects import INTERNAL_TAGS, plugin_tags
from tests.fuzz.mutate import FUZZ, PER_EXAMPLE, json_bytes, mutated_json, outcome
from tests.support.timebox import answers_within

NET, PORT = "0d2e4c1a-1111-4c3a-9d2e-5f1a2b3c4d5e", "5f3c9a2b-2222-4b1e-8a7d-0e9f8d7c6b5a"
TIMES = {"_revision": 2, "_create_time": 1700000000000, "_last_modified_time": 1700000100000}
OBJECTS = [
    {
        "resource_type": "Segment",
        "id": NET,
        "display_name": "net1",
        "path": f"/infra/segments/{NET}",
        "tags": plugin_tags("os-neutron-net-id", NET),
        **TIMES,
    },
    {
        "resource_type": "SegmentPort",
        "id": PORT,
        "display_name": "vm1",
        "attachment": {"id": PORT},
        "path": f"/infra/segments/{NET}/ports/{PORT}",
        "tags": plugin_tags("os-neutron-port-id", PORT),
        **TIMES,
    },
    {"resource_type": "Group", "id": "os_default_group", "tags": INTERNAL_TAGS, **TIMES},
    {
        "resource_type": "LogicalPort",
        "id": "lp-1",
        "logical_switch_id": "ls-1",
        "attachment": {"id": "vif"},
        "tags": plugin_tags("os-neutron-port-id", PORT),
        **TIMES,
    },
    {
        "resource_type": "FirewallSection",
        "id": "fs-1",
        "display_name": "OS Default Section for Neutron Security-Groups",
        "tags": [{"scope": "owner", "tag": "netops"}],
    },
]
KEYS = [
    "id",
    "tags",
    "display_name",
    "path",
    "resource_type",
    "_revision",
    "_create_time",
    "_last_modified_time",
    "attachment",
    "logical_switch_id",
    "scope",
    "tag",
]
DEPLOYMENT = st.sampled_from([None, ("os-cloud", frozenset({"c1"}))])


def _typed(f: NsxObject) -> None:
    assert isinstance(f, NsxObject) and isinstance(f.id, str) and f.id
    assert all(
        v is None or isinstance(v, str) for v in (f.display_name, f.path, f.neutron_id, f.api_version, f.project_id)
    )
    assert f.neutron_kind in (None, *NEUTRON_TAG_SCOPES.values()) and isinstance(f.revision, int)
    assert all(t is None or isinstance(t, dt.datetime) for t in (f.created_at, f.updated_at))


@FUZZ
@given(mutated_json(OBJECTS, KEYS), st.sampled_from([POLICY, MANAGER]), DEPLOYMENT)
@answers_within(PER_EXAMPLE)
def test_an_object(obj, api, deployment):
    try:
        fact = to_fact(api, obj, None, deployment)
    except NsxShapeError as e:
        assert str(e) and "\n" not in str(e)
        outcome("NsxShapeError")
        return
    outcome("facts")
    _typed(fact)


CURSORS = st.sampled_from([None, None, "c1", "c2", "c3", "0000end", "", 7, ["c1"]])
PAGE = st.fixed_dictionaries(
    {"results": st.lists(st.sampled_from(OBJECTS), max_size=3)},
    optional={"cursor": CURSORS, "result_count": st.integers(-1, 12)},
)


@st.composite
def answers(draw):
    """What the manager answers to each request, in order: a status and a body (a page,
    made well and then maybe mutated, or bytes)."""
    pages = draw(st.lists(PAGE, min_size=1, max_size=6))
    out = []
    for page in pages:
        body = draw(
            st.one_of(st.just(json.dumps(page).encode()), json_bytes([page], ["results", "cursor", "result_count"]))
        )
        out.append((draw(st.sampled_from([200, 200, 200, 200, 400, 404, 500])), body))
    return out


def _serve(answers: list, log: list):
    def handler(request: httpx.Request) -> httpx.Response:
        log.append(request.url)
        n = len(log) - 1
        status, body = answers[n] if n < len(answers) else (400, b'{"error_message": "invalid cursor"}')
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    return httpx.MockTransport(handler)


@FUZZ
@given(answers())
@answers_within(PER_EXAMPLE)
def test_paging(answers):
    log: list = []
    with NsxClient(
        "https://nsx.test", "admin", "x", retries=0, sleep=lambda s: None, transport=_serve(answers, log)
    ) as c:
        try:
            got = c.list(SEGMENTS)
        except NsxError as e:
            assert str(e).startswith("NSX https://nsx.test: ") and "\n" not in str(e)
            outcome("NsxError")
            return
    outcome("list")
    assert len(log) <= len(answers)  # paging ended, on a page that said it was the last
    pages = [json.loads(body) for _, body in answers[: len(log)]]
    assert json.dumps(got) == json.dumps([o for p in pages for o in p["results"]])  # NaN != NaN
    counted = pages[0].get("result_count")
    assert not isinstance(counted, int) or isinstance(counted, bool) or len(got) >= counted


@FUZZ
@given(st.sampled_from([POLICY, MANAGER]), st.data())
@answers_within(PER_EXAMPLE)
def test_the_source_reads_a_whole_manager_or_says_why_not(api, data):
    paths = [SEGMENTS, f"{SEGMENTS}/{NET}/ports", *POLICY_LISTS] if api == POLICY else list(MANAGER_LISTS)
    served = {p: data.draw(answers()) for p in paths}
    logs: dict = {p: [] for p in paths}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path not in served:
            return httpx.Response(404, json={"error_message": "not found"})
        return _serve(served[path], logs[path]).handle_request(request)

    settings = NsxSettings(url="https://nsx.test", api=api, username="admin", password="x", insecure=True, retries=0)
    sink = Snapshot(taken_at=dt.datetime(2026, 1, 1))
    (status,) = NsxSource(settings, transport=httpx.MockTransport(handler)).collect({NsxObject}, Snapshot(None), sink)
    assert status.scope == NSX_SCOPE and "\n" not in status.reason
    outcome(status.status)
    if status.status == "ok":
        assert sink.is_complete(NsxObject, NSX_SCOPE)
        for f in sink.of(NsxObject):
            _typed(f)
    else:
        assert status.reason and sink.of(NsxObject) == []
