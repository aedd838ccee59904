"""The Nova source's facts hold one object per value where Nova's rows repeat one: a
soft-deleted row's marker is its id, equal times are one datetime, an instance's uuid is one
string across the API database and its cell (tools/bench_facts_memory.py: bytes per fact)."""

from __future__ import annotations

import datetime as dt

from osfsck.model.facts.nova import BlockDeviceMapping, Instance, InstanceMapping, InstanceNetwork
from osfsck.sources.stored_rows import as_fact, facts_of
from tests.sources.test_nova_db_source import _cloud, _collect

T = dt.datetime(2026, 1, 1, 12, 0, 0)


def new(value):
    """`value` as a new object, as a driver decodes each column of each row."""
    if isinstance(value, str):
        return value.encode().decode()
    if isinstance(value, int):
        return int(str(value))
    return dt.datetime.fromisoformat(value.isoformat())


def instance_row(n: int, deleted: bool, created=T, updated=T, deleted_at=None) -> tuple:
    return (
        "cell1", new(f"uuid-{n}"), new(n), "hv1", "hv1", "deleted" if deleted else "active", None, 1,
        new(n) if deleted else 0, 0, "p1", 1, 32, 1, new(created), new(updated),
        new(deleted_at) if deleted_at else None,
    )  # fmt: skip


def test_a_soft_deleted_row_holds_its_id_once():
    # oslo.db's soft_delete sets deleted = id: the driver gives two equal ints, kept as one
    shared: dict = {}
    rows = [instance_row(1000, True, deleted_at=T), instance_row(1001, False)]
    assert rows[0][2] is not rows[0][8]
    gone, live = facts_of(Instance, shared)(rows)
    assert (gone.id, gone.deleted) == (1000, 1000) and gone.deleted is gone.id
    assert (live.id, live.deleted) == (1001, 0)
    [net] = facts_of(InstanceNetwork, shared)([("cell1", new("uuid-1000"), new(1000), "vm", "vm", None, None)])
    assert net.deleted == 1000 and net.deleted is gone.id
    assert [gone, live] == [as_fact(Instance)(r) for r in rows]


def test_equal_times_of_a_nova_read_are_one_datetime():
    # Nova's delete saves the instance then soft-deletes it: updated_at and deleted_at are
    # one second at MySQL's precision
    shared: dict = {}
    later = T + dt.timedelta(days=3)
    rows = [instance_row(1000, True, updated=later, deleted_at=later), instance_row(1001, False)]
    a, b = facts_of(Instance, shared)(rows)
    assert a.updated_at == a.deleted_at == later and a.updated_at is a.deleted_at
    assert a.created_at == b.created_at == T and a.created_at is b.created_at
    assert [a, b] == [as_fact(Instance)(r) for r in rows]
    [net] = facts_of(InstanceNetwork, shared)([("cell1", new("uuid-1001"), 0, "vm", "vm", None, new(T))])
    assert net.cache_updated_at is b.created_at


def test_times_that_differ_stay_apart():
    shared: dict = {}
    rows = [instance_row(1000, False, created=T, updated=T + dt.timedelta(seconds=1))]
    [f] = facts_of(Instance, shared)(rows)
    assert (f.created_at, f.updated_at) == (T, T + dt.timedelta(seconds=1))


def test_an_instance_uuid_is_one_string_in_its_mapping_and_its_cell(tmp_path):
    snap, statuses = _collect(_cloud(tmp_path, "2026.2"))
    assert {s.status for s in statuses} == {"ok"}
    mapped = {m.instance_uuid: m for m in snap.of(InstanceMapping)}
    instances = snap.of(Instance)
    assert instances
    for i in instances:
        assert mapped[i.uuid].instance_uuid is i.uuid
    nets = {n.uuid: n for n in snap.of(InstanceNetwork)}
    assert all(nets[i.uuid].uuid is i.uuid for i in instances)


def test_a_mapping_keeps_the_iscsi_paths_of_its_connection_info_not_the_text(tmp_path):
    # ~1.1 KB of JSON a mapping that no check reads: the paths are what they use
    snap, _ = _collect(_cloud(tmp_path, "2026.2"))
    [bdm] = snap.of(BlockDeviceMapping)
    assert "connection_info" not in BlockDeviceMapping._fields
    assert bdm.iscsi_paths == (("192.0.2.10:3260", "iqn.2010-10.org.openstack:volume-v1", 1),)
    assert not any(isinstance(v, str) and v.startswith("{") for v in bdm)
