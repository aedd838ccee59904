"""RabbitMQ management API answers recorded from a real 3.10 broker (tests/sources/fixtures/
rabbitmq), then mutated: queues with fields of other types or missing, items that are not
queues, pages whose page_count, page or counts lie, bodies cut or nested past any decoder.
The mapping gives facts or RabbitShapeError, the client a whole list or RabbitError, and
the source facts or a partial vhost with one line.

The broker is played by an httpx MockTransport answering from the generated pages: a real
broker only ever answers well."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
from hypothesis import given
from hypothesis import strategies as st

from osfsck.clients.rabbitmq import RabbitClient, RabbitError
from osfsck.config.rabbitmq import Broker, RabbitSettings
from osfsck.model.facts.rpc import RabbitQueue
from osfsck.model.snapshot import Snapshot
from osfsck.sources.rabbitmq.mapping import RabbitShapeError, to_fact
from osfsck.sources.rabbitmq.source import RabbitMQSource
from tests.fuzz.mutate import FUZZ, PER_EXAMPLE, json_bytes, mutated_json, outcome
from tests.support.timebox import answers_within

FIXTURES = Path(__file__).parents[1] / "sources" / "fixtures" / "rabbitmq"
PAGES = [json.loads((FIXTURES / f"queues-root-page{n}.json").read_text()) for n in (1, 2, 3)]
QUEUES = [q for p in PAGES for q in p["items"]]
VHOSTS = json.loads((FIXTURES / "vhosts.json").read_text())
KEYS = [
    "name",
    "messages",
    "consumers",
    "durable",
    "auto_delete",
    "exclusive",
    "arguments",
    "x-expires",
    "expires",
    "effective_policy_definition",
    "type",
    "idle_since",
    "items",
    "page",
    "page_count",
    "filtered_count",
]


def _typed(f: RabbitQueue) -> None:
    assert isinstance(f, RabbitQueue) and isinstance(f.name, str)
    assert all(
        v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in (f.messages, f.consumers, f.expires)
    )
    assert all(isinstance(v, bool) for v in (f.durable, f.auto_delete, f.exclusive))
    assert f.expires_from in (None, "argument", "policy") and f.type is None or isinstance(f.type, str)


@FUZZ
@given(mutated_json(QUEUES, KEYS))
@answers_within(PER_EXAMPLE)
def test_a_queue(q):
    try:
        fact = to_fact("r1", "/", q)
    except RabbitShapeError as e:
        assert str(e) and "\n" not in str(e)
        outcome("RabbitShapeError")
        return
    outcome("facts")
    _typed(fact)


@st.composite
def answers(draw):
    """The broker's answer to each page number: a status and a body (a recorded page, maybe
    with its counts lying, maybe mutated)."""
    out = {}
    for n, page in enumerate(PAGES[: draw(st.sampled_from([1, 2, 3, 3, 3]))], 1):
        if draw(st.booleans()):
            page = {
                **page,
                **draw(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "page_count": st.integers(-1, 5),
                            "page": st.integers(0, 4),
                            "filtered_count": st.integers(0, 9),
                        },
                    )
                ),
            }
        body = draw(st.one_of(st.just(json.dumps(page).encode()), json_bytes([page], KEYS)))
        out[n] = (draw(st.sampled_from([200] * 12 + [400, 500])), body)
    return out


def _transport(answers: dict, log: list) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/vhosts":
            return httpx.Response(200, content=answers.get("vhosts", json.dumps(VHOSTS).encode()))
        page = int(request.url.params.get("page", "1"))
        log.append(page)
        status, body = answers.get(page, (400, b'{"error": "bad_request", "reason": "page_out_of_range"}'))
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    return httpx.MockTransport(handler)


@FUZZ
@given(answers())
@answers_within(PER_EXAMPLE)
def test_paging(answers):
    log: list = []
    with RabbitClient(
        "http://rabbit.test:15672", "osfsck", "pw", page_size=2, name="r1", transport=_transport(answers, log)
    ) as c:
        try:
            got = c.queues("/")
        except RabbitError as e:
            assert str(e).startswith("RabbitMQ r1 (http://rabbit.test:15672): ") and "\n" not in str(e)
            outcome("RabbitError")
            return
    outcome("list")
    assert log == list(range(1, len(log) + 1)) and len(log) <= len(answers)  # each page once, in order
    pages = [json.loads(answers[n][1]) for n in log]
    assert json.dumps(got) == json.dumps([q for p in pages for q in p["items"]])  # NaN != NaN
    names = [q["name"] for q in got if isinstance(q, dict) and isinstance(q.get("name"), str)]
    assert len(names) == len(set(names))


@FUZZ
@given(answers(), st.one_of(st.none(), json_bytes([VHOSTS], ["name"])))
@answers_within(PER_EXAMPLE)
def test_the_source_reads_whole_vhosts_or_says_why_not(answers, vhosts):
    if vhosts is not None:
        answers = {**answers, "vhosts": vhosts}
    b = Broker(name="r1", url="http://rabbit.test:15672", username="osfsck", password="pw", page_size=2)
    src = RabbitMQSource(RabbitSettings(brokers=(b,)), transport=_transport(answers, []))
    sink = Snapshot(taken_at=dt.datetime(2026, 1, 1))
    statuses = src.collect({RabbitQueue}, sink, sink)
    assert statuses and all("\n" not in s.reason for s in statuses)
    for s in statuses:
        outcome(s.status)
        assert s.status == "ok" or s.reason
    for f in sink.of(RabbitQueue):
        _typed(f)
        assert sink.is_complete(RabbitQueue, f.scope)
