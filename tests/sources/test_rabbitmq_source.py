"""RabbitMQSource against answers recorded from a real RabbitMQ 3.10 management API
(tests/sources/fixtures/rabbitmq, recorded with page_size=2), replayed by a small HTTP
server on loopback: every page read, one scope per broker and vhost, expiry from the
argument or a policy, and bad input (a page that fails, 401, an unreachable broker, no
such vhost) as a partial scope with one line and no queue of it.  The real broker itself
runs in tests/integration/test_rabbitmq.py."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from osfsck.config.rabbitmq import Broker, RabbitSettings
from osfsck.model.facts.rpc import RabbitQueue
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import NotConfigured
from osfsck.sources.rabbitmq.source import RabbitMQSource

FIXTURES = Path(__file__).parent / "fixtures" / "rabbitmq"
T0 = __import__("datetime").datetime(2026, 11, 25, 2, 30)


def _load(name):
    return json.loads((FIXTURES / name).read_text())


class Replay(BaseHTTPRequestHandler):
    """GET /api/vhosts and the paged /api/queues/<vhost>, as recorded; `fail` maps a request
    path and page to a recorded error answer."""

    fail: dict = {}
    password = "pw"
    seen: list = []

    def do_GET(self):
        import base64

        u = urlsplit(self.path)
        page = parse_qs(u.query).get("page", ["1"])[0]
        self.seen.append((u.path, page))
        auth = self.headers.get("Authorization", "")
        if auth != "Basic " + base64.b64encode(f"osfsck:{self.password}".encode()).decode():
            return self._send(**_load("unauthorized.json"))
        if (u.path, page) in self.fail:
            return self._send(**_load(self.fail[(u.path, page)]))
        if u.path == "/api/vhosts":
            return self._send(200, _load("vhosts.json"))
        files = {
            "/api/queues/%2F": "queues-root-page{}.json",
            "/api/queues/nova_cell1": "queues-nova_cell1-page{}.json",
        }
        if u.path not in files:
            return self._send(**_load("no-vhost.json"))
        name = files[u.path].format(page)
        if not (FIXTURES / name).exists():
            return self._send(**_load("page-out-of-range.json"))
        self._send(200, _load(name))

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    Replay.fail, Replay.seen = {}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def source(url, **kw):
    b = Broker(**{"name": "r1", "url": url, "username": "osfsck", "password": "pw", "page_size": 2, **kw})
    return RabbitMQSource(RabbitSettings(brokers=(b,)))


def collect(src, scopes=None):
    snap = Snapshot(taken_at=T0)
    statuses = src.collect({RabbitQueue}, snap, snap, scopes)
    return snap, statuses


def test_every_page_of_every_vhost_becomes_facts(api):
    snap, statuses = collect(source(api))
    assert [(s.scope, s.status) for s in statuses] == [("rabbitmq:r1//", "ok"), ("rabbitmq:r1/nova_cell1", "ok")]
    q = {f.name: f for f in snap.of(RabbitQueue)}
    assert sorted(q) == [
        "compute.c2-hv1",
        "compute.hv1",
        "compute_fanout_0a1b",
        "conductor",
        "reply_orphan",
        "reply_pol1",
    ]
    assert ("/api/queues/%2F", "3") in Replay.seen and ("/api/queues/%2F", "4") not in Replay.seen
    assert q["reply_orphan"].messages == 3 and q["reply_orphan"].consumers == 0 and q["reply_orphan"].durable
    assert (q["compute_fanout_0a1b"].expires, q["compute_fanout_0a1b"].expires_from) == (1800000, "argument")
    assert (q["reply_pol1"].expires, q["reply_pol1"].expires_from) == (600000, "policy")
    assert q["conductor"].expires is None and q["conductor"].type == "classic"
    assert q["compute.c2-hv1"].scope == "rabbitmq:r1/nova_cell1"
    assert snap.is_complete(RabbitQueue, "rabbitmq:r1//")


def test_configured_vhosts_only(api):
    snap, statuses = collect(source(api, vhosts=("nova_cell1",)))
    assert [s.scope for s in statuses] == ["rabbitmq:r1/nova_cell1"]
    assert ("/api/vhosts", "1") not in Replay.seen


def test_a_failed_page_leaves_the_vhost_partial_and_adds_none_of_it(api):
    Replay.fail = {("/api/queues/%2F", "2"): "page-out-of-range.json"}
    snap, statuses = collect(source(api))
    root = next(s for s in statuses if s.scope == "rabbitmq:r1//")
    assert root.status == "partial" and "400" in root.reason and "\n" not in root.reason
    assert {f.vhost for f in snap.of(RabbitQueue)} == {"nova_cell1"}
    assert not snap.is_complete(RabbitQueue, "rabbitmq:r1//")


def test_bad_credentials_are_one_partial_line(api):
    Replay.password = "other"
    try:
        snap, statuses = collect(source(api))
    finally:
        Replay.password = "pw"
    (s,) = statuses
    assert s.scope == "rabbitmq:r1/*" and s.status == "partial"
    assert "401 bad credentials or no permission for user 'osfsck'" in s.reason and snap.of(RabbitQueue) == []


def test_a_vhost_that_does_not_exist(api):
    snap, statuses = collect(source(api, vhosts=("nope",)))
    (s,) = statuses
    assert s.status == "partial" and "no vhost 'nope' on broker r1" in s.reason


def test_unreachable_and_bad_url():
    (s,) = collect(source("http://127.0.0.1:9"))[1]
    assert s.status == "partial" and "unreachable" in s.reason and "\n" not in s.reason
    (s,) = collect(source("http://[::1"))[1]
    assert s.status == "partial" and "\n" not in s.reason


def test_only_the_scopes_asked_for_on_a_fresh_re_check(api):
    snap, statuses = collect(source(api), scopes={"rabbitmq:r1/nova_cell1", "cell:cell1"})
    assert [s.scope for s in statuses] == ["rabbitmq:r1/nova_cell1"]
    assert collect(source(api), scopes={"cell:cell1"})[1] == []


def test_not_configured_without_a_broker():
    with pytest.raises(NotConfigured):
        RabbitMQSource(RabbitSettings())


def test_a_queue_without_statistics_yet_has_unknown_counts():
    from osfsck.sources.rabbitmq.mapping import to_fact

    f = to_fact(
        "r1",
        "/",
        {
            "name": "reply_new",
            "vhost": "/",
            "durable": False,
            "auto_delete": False,
            "exclusive": False,
            "arguments": {},
            "type": "classic",
        },
    )
    assert (f.messages, f.consumers, f.expires) == (None, None, None)


# -- broken paging and queues, answered by an httpx MockTransport; each found by
#    tests/fuzz/test_rabbitmq_fuzz.py --------------------------------------------------------


def replay(pages: dict):
    """A source whose broker answers GET /api/queues/%2F?page=N with pages[N] (bytes or a
    JSON value), and 400 page_out_of_range past them."""
    import httpx

    def handler(request):
        page = int(request.url.params.get("page", "1"))
        if page not in pages:
            return httpx.Response(400, json=_load("page-out-of-range.json")["body"])
        body = pages[page] if isinstance(pages[page], bytes) else json.dumps(pages[page]).encode()
        return httpx.Response(200, content=body)

    b = Broker(name="r1", url="http://rabbit.test:15672", username="osfsck", password="pw", page_size=2, vhosts=("/",))
    return RabbitMQSource(RabbitSettings(brokers=(b,)), transport=httpx.MockTransport(handler))


ROOT = {n: _load(f"queues-root-page{n}.json") for n in (1, 2, 3)}


def with_(answer: dict, **changes) -> dict:
    return {**answer, **changes}


@pytest.mark.parametrize(
    "pages, why",
    [
        ({1: with_(ROOT[1], page_count=1)}, "2 queues read of the 5 it counted"),  # before: 2 queues, complete
        ({1: {k: v for k, v in ROOT[1].items() if k != "page_count"}}, "no page_count"),  # before: page 1 only
        ({1: ROOT[1], 2: with_(ROOT[2], page=1), 3: ROOT[3]}, "page 1 for page 2"),  # a proxy that drops ?page
        ({1: ROOT[1], 2: with_(ROOT[2], items=ROOT[1]["items"]), 3: ROOT[3]}, "listed twice"),  # before: each twice
        ({1: b"[" * 100_000 + b"]" * 100_000}, "not JSON"),  # before: RecursionError
    ],
)
def test_a_vhost_is_believed_only_whole(pages, why):
    snap, (s,) = collect(replay(pages))
    assert s.status == "partial" and why in s.reason and "\n" not in s.reason
    assert snap.of(RabbitQueue) == []


@pytest.mark.parametrize(
    "item, why",
    [
        ("compute.hv1", "a str, not a queue"),
        ({"vhost": "/", "durable": False, "auto_delete": False, "exclusive": False}, "without a name"),
        ({"name": "q", "durable": "false", "auto_delete": False, "exclusive": False}, "durable"),  # before: durable
        ({"name": "q", "durable": False, "exclusive": False}, "auto_delete"),  # before: False
        ({"name": "q", "durable": False, "auto_delete": False, "exclusive": False, "arguments": []}, "arguments"),
    ],
)
def test_a_queue_not_of_the_api_shape_is_one_error(item, why):
    from osfsck.sources.rabbitmq.mapping import RabbitShapeError, to_fact

    with pytest.raises(RabbitShapeError, match=why) as e:
        to_fact("r1", "/", item)
    assert "\n" not in str(e.value)


def test_a_user_that_sees_no_vhost_is_a_partial_broker():
    # found by tests/fuzz: GET /api/vhosts answering [] gave no status at all, as if the
    # broker had been read and held no queue
    import httpx

    b = Broker(name="r1", url="http://rabbit.test:15672", username="osfsck", password="pw")
    src = RabbitMQSource(
        RabbitSettings(brokers=(b,)), transport=httpx.MockTransport(lambda r: httpx.Response(200, json=[]))
    )
    (s,) = collect(src)[1]
    assert (s.scope, s.status) == ("rabbitmq:r1/*", "partial") and "sees no vhost" in s.reason


def test_a_cell_run_asks_the_broker_for_its_hosts_queues_only():
    """--cell: the broker filters by name (an anchored regular expression of the cells'
    hosts, `use_regex`); what a broker that ignored the filter sent is kept by name."""
    import re

    import httpx

    from osfsck.model.scope import RunScope
    from osfsck.sources.rabbitmq.source import HOSTS_PER_FILTER, host_filters
    from tests.support.world import World

    w = World()
    w.host("c1.hv-1", cell="cell1")  # dots and dashes: matched as themselves
    w.host("c2x.hv-1", cell="cell2")
    for cell, host in (("cell1", "c1.hv-1"), ("cell2", "c2x.hv-1")):
        w.instance(cell=cell, host=host)
    known = w.snapshot().narrowed(RunScope(cells=("cell1",)))
    names = ["compute.c1.hv-1", "compute-alt.c1.hv-1", "compute.c1xhv-1", "compute.c2x.hv-1", "reply_1", "compute"]
    asked = []

    def handler(request):  # two pages of 3
        asked.append(dict(request.url.params))
        page = int(request.url.params["page"])
        items = [
            {"name": n, "durable": False, "auto_delete": False, "exclusive": False, "messages": 0, "consumers": 1}
            for n in names[3 * (page - 1) : 3 * page]
        ]
        return httpx.Response(200, json={"items": items, "page": page, "page_count": 2, "filtered_count": 6})

    b = Broker(name="r1", url="http://rabbit.test:15672", username="osfsck", password="pw", vhosts=("/",), page_size=3)
    src = RabbitMQSource(RabbitSettings(brokers=(b,)), transport=httpx.MockTransport(handler))
    src.within = RunScope(cells=("cell1",))
    snap = Snapshot(taken_at=T0)
    (status,) = src.collect({RabbitQueue}, known, snap)
    assert status.status == "ok" and "cell1's 1 host(s)" in status.reason
    # the filter on every page (the broker pages the filtered list)
    assert [p["page"] for p in asked] == ["1", "2"] and asked[0]["name"] == asked[1]["name"]
    params = asked[0]
    assert params["use_regex"] == "true"
    pattern = re.compile(params["name"])  # PCRE and Python's re agree on this much
    assert [n for n in names if pattern.search(n)] == ["compute.c1.hv-1", "compute-alt.c1.hv-1"]
    # the broker here ignored the filter: kept by name all the same
    assert {q.name for q in snap.of(RabbitQueue)} == {"compute.c1.hv-1", "compute-alt.c1.hv-1"}
    assert snap.coverage[(RabbitQueue.kind, "rabbitmq:r1//")].part == "cells:cell1"
    assert len(host_filters({f"h{i}" for i in range(HOSTS_PER_FILTER + 1)})) == 2
