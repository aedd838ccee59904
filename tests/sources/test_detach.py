"""Facts hold nothing of the parsed reply they were read from (sources/detach.py): a string
they keep would keep every arena of the reply resident after the reply is dropped."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import pytest

from osfsck.clients import nsx as nsx_client
from osfsck.config.ovn import OvnSettings
from osfsck.model.facts.nsx import NsxObject
from osfsck.model.facts.ovn import OvnNbRow
from osfsck.model.facts.rpc import RabbitQueue
from osfsck.model.snapshot import Snapshot
from osfsck.sources.detach import detached, facts_from
from osfsck.sources.nsx.source import NsxSource
from osfsck.sources.ovn_nb import source as ovn_source
from osfsck.sources.rabbitmq import source as rabbitmq_source
from tests.sources.test_nsx_source import neutron_cloud, nsx, settings  # noqa: F401 (the fixture)
from tests.sources.test_rabbitmq_source import api, source  # noqa: F401 (the fixture)
from tests.support.world_nsx import fill_standin


class Row(NamedTuple):
    name: str
    size: int
    tags: tuple[str, ...]
    note: str | None


def objects_in(tree: Any) -> set[int]:
    """The ids of the strings and integers of a parsed reply."""
    out, stack = set(), [tree]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
        elif (type(o) is str and len(o) > 1) or (type(o) is int and not -5 <= o <= 256):
            out.add(id(o))  # not the interpreter's own single objects (small ints, "", "a")
    return out


def held(facts: list) -> set[int]:
    return objects_in([list(f) for f in facts])


def test_detached_facts_are_equal_and_share_nothing_with_what_they_were_made_from():
    reply = [{"name": "port-" + str(i) * 3, "size": 10**6 + i, "tags": ["a" * 20, "b" * 20]} for i in range(50)]
    facts = [Row(o["name"], o["size"], tuple(o["tags"]), None) for o in reply]
    assert held(facts) & objects_in(reply)  # what a mapping keeps of its reply
    copies = detached(facts)
    assert copies == facts and all(type(f) is Row for f in copies)
    assert not held(copies) & objects_in(reply)


def test_a_string_several_facts_share_stays_one_object():
    tag = "x" * 40
    copies = detached([Row("a", 1, (tag,), tag), Row("b", 2, (tag,), None)])
    assert copies[0].tags[0] is copies[0].note is copies[1].tags[0]
    assert copies[0].note is not tag


def test_facts_from_makes_and_detaches():
    reply = [{"name": "n" * 30, "size": 7}]
    facts = facts_from(reply, lambda o: Row(o["name"], o["size"], (), None))
    assert facts == [Row("n" * 30, 7, (), None)] and not held(facts) & objects_in(reply)


def test_the_ovn_source_keeps_nothing_of_the_select(monkeypatch):
    port = "5b5a6f9e-6d2e-4a1b-9a57-0d6f2c1e7a10"
    net = "0e7c6f2a-2b9e-4f5f-8c3d-1a2b3c4d5e6f"
    tree = {table: [] for table in ovn_source.COLUMNS}
    tree["Logical_Switch"] = [
        {"_uuid": ["uuid", "a" * 8 + "-0000-4000-8000-" + "0" * 12], "name": "neutron-" + net,
         "ports": ["set", [["uuid", "b" * 8 + "-0000-4000-8000-" + "0" * 12]]],
         "external_ids": ["map", [["neutron:revision_number", "3"]]], "other_config": ["map", []]},
    ]  # fmt: skip
    tree["Logical_Switch_Port"] = [
        {"_uuid": ["uuid", "b" * 8 + "-0000-4000-8000-" + "0" * 12], "name": port, "type": "",
         "external_ids": ["map", [["neutron:revision_number", "4"], ["neutron:device_owner", "compute:nova"],
                                  ["neutron:device_id", "c" * 8 + "-0000-4000-8000-" + "0" * 12]]]},
    ]  # fmt: skip
    empty = {"name": "", "type": "", "ports": ["set", []], "acls": ["set", []], "nat": ["set", []]}
    tree["Logical_Switch"][0]["acls"] = ["set", []]
    tree = {
        t: [{c: r.get(c, empty.get(c)) for c in ("_uuid", *cols)} for r in tree[t]]
        for t, cols in ovn_source.COLUMNS.items()
    }
    monkeypatch.setattr(
        ovn_source, "select", lambda settings, schema, columns, take: [take(t, tree[t]) for t in columns]
    )
    sink = Snapshot(taken_at=dt.datetime(2026, 12, 1))
    src = ovn_source.OvnNorthboundSource(OvnSettings(nb_connection="tcp:192.0.2.1:6641"))  # never dialled
    [st] = src.collect({OvnNbRow}, sink, sink)
    facts = sink.of(OvnNbRow)
    assert st.status == "ok" and {f.neutron_id for f in facts} >= {port, net}
    assert not held(facts) & objects_in(tree)


@pytest.mark.parametrize("api_kind", ["policy", "manager"])
def test_the_nsx_source_keeps_nothing_of_its_pages(nsx, monkeypatch, api_kind):  # noqa: F811
    fill_standin(nsx.store, neutron_cloud(), api_kind)
    pages: list = []
    real = nsx_client.NsxClient.list

    def recording(self, path, params=None):
        got = real(self, path, params)
        pages.append(got)
        return got

    monkeypatch.setattr(nsx_client.NsxClient, "list", recording)
    sink = Snapshot(taken_at=dt.datetime(2026, 12, 1))
    [st] = NsxSource(settings(nsx, api_kind)).collect({NsxObject}, Snapshot(taken_at=None), sink)
    facts = sink.of(NsxObject)
    assert st.status == "ok" and facts and pages
    assert not held(facts) & objects_in(pages)


def test_the_rabbitmq_source_keeps_nothing_of_its_pages(api, monkeypatch):  # noqa: F811
    pages: list = []
    real = rabbitmq_source.RabbitClient.queues

    def recording(self, vhost):
        got = real(self, vhost)
        pages.append(got)
        return got

    monkeypatch.setattr(rabbitmq_source.RabbitClient, "queues", recording)
    sink = Snapshot(taken_at=dt.datetime(2026, 12, 1))
    source(api).collect({RabbitQueue}, sink, sink)
    facts = sink.of(RabbitQueue)
    assert facts and pages
    assert not held(facts) & objects_in(pages)
