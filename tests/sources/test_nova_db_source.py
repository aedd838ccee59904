"""NovaDatabaseSource on SQLite files built from the real Nova DDL: rows -> facts with the
right values and types, shadow rows as archived, a broken cell as partial."""

import datetime as dt
import json
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from osfsck.config.settings import Database, NovaSettings
from osfsck.model.facts import kind_of
from osfsck.model.facts.nova import (
    ArchivedInstance,
    BlockDeviceMapping,
    Cell,
    ComputeNode,
    ComputeService,
    Instance,
    InstanceMapping,
    InstanceNetwork,
    cell_scope,
)
from osfsck.model.snapshot import ANYWHERE, Snapshot
from osfsck.sources.connection_info import volume_target
from osfsck.sources.host_agent import HostAgentSource
from osfsck.sources.hosts import HOST_LIST_KINDS
from osfsck.sources.libvirt.source import LibvirtSource
from osfsck.sources.nova_db import NovaDatabaseSource, queries
from osfsck_lab import database, schemas
from tests.sources.db_fixture import assert_gives_its_fields, fixture

T0 = dt.datetime(2026, 3, 1, 12, 30, 5)
CELL1 = "11111111-1111-4111-8111-111111111111"
LIVE, GONE, ARCH = ("aaaaaaaa-0000-4000-8000-00000000000%d" % i for i in (1, 2, 3))


@pytest.mark.parametrize("kind, query", [*queries.API_KINDS.items(), *queries.CELL_KINDS.items()])
def test_each_query_returns_the_facts_fields_in_order(kind, query):
    assert_gives_its_fields(kind, query() if kind in queries.API_KINDS else query("cell1"))


def _cloud(tmp_path, release, broken_cell=False):
    urls = database.database_urls(tmp_path, None, "t", ["nova_api", "nova_cell1"])
    database.create(urls["nova_api"], "nova_api", release)
    database.create(urls["nova_cell1"], "nova", release)
    cell_url = urls["nova_cell1"] if not broken_cell else f"sqlite:///{tmp_path}/absent.sqlite"
    database.insert_rows(
        urls["nova_api"],
        "cell_mappings",
        [
            {
                "id": 1,
                "uuid": CELL1,
                "name": "cell1",
                "transport_url": "none:///",
                "database_connection": cell_url,
                "disabled": False,
                "created_at": T0,
            }
        ],
    )
    database.insert_rows(
        urls["nova_api"],
        "instance_mappings",
        [
            {"instance_uuid": u, "cell_id": 1, "project_id": "p", "queued_for_delete": u == GONE, "created_at": T0}
            for u in (LIVE, GONE)
        ],
    )
    row = {
        "host": "hv1",
        "node": "hv1",
        "project_id": "p",
        "vcpus": 1,
        "memory_mb": 64,
        "root_gb": 1,
        "created_at": T0,
        "updated_at": T0,
        "power_state": 1,
        "vm_state": "active",
        "hidden": False,
    }
    database.insert_rows(
        urls["nova_cell1"],
        "instances",
        [
            {**row, "id": 1, "uuid": LIVE, "deleted": 0},
            {**row, "id": 2, "uuid": GONE, "deleted": 2, "vm_state": "deleted", "deleted_at": T0},
        ],
    )
    database.insert_rows(
        urls["nova_cell1"],
        "shadow_instances",
        [{**row, "id": 3, "uuid": ARCH, "deleted": 3, "vm_state": "deleted", "deleted_at": T0}],
    )
    database.insert_rows(
        urls["nova_cell1"],
        "services",
        [
            {
                "host": "hv1",
                "binary": "nova-compute",
                "topic": "compute",
                "report_count": 1,
                "disabled": True,
                "forced_down": False,
                "deleted": 0,
                "created_at": T0,
                "updated_at": T0,
                "last_seen_up": T0,
            }
        ],
    )
    conn = (
        '{"driver_volume_type": "iscsi", "data": {"target_iqn": "iqn.2010-10.org.openstack:volume-v1", '
        '"target_portal": "192.0.2.10:3260", "target_lun": 1, "volume_id": "v1"}}'
    )
    bdm = {
        "instance_uuid": LIVE,
        "created_at": T0,
        "updated_at": T0,
        "deleted": 0,
        "source_type": "volume",
        "destination_type": "volume",
    }
    database.insert_rows(
        urls["nova_cell1"],
        "block_device_mapping",
        [
            {
                **bdm,
                "id": 1,
                "uuid": "b1",
                "volume_id": "v1",
                "attachment_id": "a1",
                "device_name": "/dev/vdb",
                "boot_index": None,
                "connection_info": conn,
            },
            {**bdm, "id": 2, "uuid": "b2", "source_type": "image", "destination_type": "local", "boot_index": 0},
            {**bdm, "id": 3, "uuid": "b3", "volume_id": "v3", "deleted": 3},  # detached: soft-deleted
        ],
    )
    vif = {
        "id": "port-1",
        "address": "fa:16:3e:00:00:01",
        "network": {
            "id": "net-1",
            "label": "private",
            "subnets": [
                {
                    "cidr": "10.0.0.0/24",
                    "ips": [{"address": "10.0.0.5", "type": "fixed", "floating_ips": [{"address": "203.0.113.9"}]}],
                }
            ],
        },
    }
    database.insert_rows(
        urls["nova_cell1"],
        "instance_info_caches",
        [
            {
                "instance_uuid": LIVE,
                "network_info": json.dumps([vif]),
                "deleted": 0,
                "created_at": T0,
                "updated_at": T0,
            },
            {"instance_uuid": GONE, "network_info": json.dumps([vif]), "deleted": 2, "created_at": T0},
        ],
    )
    return NovaDatabaseSource(NovaSettings(api_database=Database(urls["nova_api"])))


def _collect(source):
    snap = Snapshot(taken_at=T0)
    statuses = source.collect(set(source.provides), snap, snap)
    return snap, statuses


@pytest.mark.parametrize("release", schemas.releases())
def test_rows_become_facts_with_types_and_flags_as_stored(tmp_path, release):
    snap, statuses = _collect(_cloud(tmp_path, release))
    assert {s.scope: s.status for s in statuses} == {"api": "ok", cell_scope("cell1"): "ok"}
    [cell] = snap.of(Cell)
    assert (cell.uuid, cell.name, cell.disabled) == (CELL1, "cell1", False)
    inst = {i.uuid: i for i in snap.of(Instance)}
    assert set(inst) == {LIVE, GONE}
    live, gone = inst[LIVE], inst[GONE]
    assert (live.cell, live.id, live.host, live.vm_state, live.power_state) == ("cell1", 1, "hv1", "active", 1)
    assert not live.deleted and not live.hidden
    assert gone.deleted == 2  # Nova's marker, as stored: the row's id
    assert gone.deleted_at == T0 and isinstance(live.created_at, dt.datetime)  # SQLite text parsed
    [arch] = snap.of(ArchivedInstance)
    assert (arch.uuid, arch.host, arch.deleted_at) == (ARCH, "hv1", T0)
    maps = {m.instance_uuid: m for m in snap.of(InstanceMapping)}
    assert maps[LIVE].cell_uuid == CELL1 and not maps[LIVE].queued_for_delete and maps[GONE].queued_for_delete
    [svc] = snap.of(ComputeService)
    assert svc.host == "hv1" and svc.disabled and not svc.forced_down
    [bdm] = snap.of(BlockDeviceMapping)  # live volume rows only
    assert (bdm.instance_uuid, bdm.volume_id, bdm.attachment_id, bdm.device_name) == (LIVE, "v1", "a1", "/dev/vdb")
    assert bdm.iscsi_paths == (("192.0.2.10:3260", "iqn.2010-10.org.openstack:volume-v1", 1),)
    nets = {n.uuid: n for n in snap.of(InstanceNetwork)}
    assert nets[LIVE].port_ids == ("port-1",) and nets[LIVE].addresses == ("10.0.0.5", "203.0.113.9")
    assert nets[GONE].deleted and nets[GONE].port_ids == ()  # a deleted instance's cache is not read
    # re-streaming in small batches gives the same facts
    from osfsck.clients import db

    saved, db.STREAM_BATCH = db.STREAM_BATCH, 1
    try:
        again, _ = _collect(_cloud(tmp_path / "again", release))
    finally:
        db.STREAM_BATCH = saved
    assert sorted(again.of(Instance)) == sorted(snap.of(Instance))


def test_an_unreadable_cell_is_partial_and_adds_nothing(tmp_path):
    snap, statuses = _collect(_cloud(tmp_path, schemas.releases()[0], broken_cell=True))
    by_scope = {s.scope: s for s in statuses}
    assert by_scope["api"].status == "ok"
    assert by_scope[cell_scope("cell1")].status == "partial"
    assert "no such SQLite database file" in by_scope[cell_scope("cell1")].reason
    assert snap.of(Instance) == [] and not snap.is_complete(Instance, cell_scope("cell1"))


def test_a_missing_column_is_one_line_and_partial(tmp_path):
    source = _cloud(tmp_path, schemas.releases()[0])
    cell_url = f"sqlite:///{tmp_path}/db/nova_cell1.sqlite"
    engine = create_engine(cell_url)
    with engine.begin() as conn:  # a schema osfsck does not know
        conn.execute(text("ALTER TABLE shadow_instances RENAME TO shadow_instances_old"))
    engine.dispose()
    snap, statuses = _collect(source)
    status = {s.scope: s for s in statuses}[cell_scope("cell1")]
    assert status.status == "partial" and "shadow_instances" in status.reason
    assert "\n" not in status.reason


@pytest.mark.parametrize(
    "text, expected",
    [
        (None, None),
        ("", None),
        ("not json", None),
        ("[1, 2]", None),
        (
            '{"driver_volume_type": "rbd", "data": {"name": "volumes/volume-v9"}}',
            ("rbd", None, None, None, "volumes/volume-v9", (), ()),
        ),
        ('{"driver_volume_type": "iscsi", "data": {"target_lun": "1"}}', ("iscsi", None, None, None, None, (), ())),
        ('{"driver_volume_type": "iscsi", "data": null}', ("iscsi", None, None, None, None, (), ())),
        # the lists win, as in os-brick; a list without target_luns takes target_lun on every path
        (
            '{"driver_volume_type": "iscsi", "data": {"target_iqn": "iqn.a", "target_iqns": ["iqn.a", "iqn.b"], '
            '"target_portals": ["p1", "p2"], "target_lun": 3}}',
            ("iscsi", "iqn.a", "p1", 3, None, ("iqn.a", "iqn.b"), (("p1", "iqn.a", 3), ("p2", "iqn.b", 3))),
        ),
        # Cinder's flattened shape: no "data"; a LUN that is not a number is unknown
        (
            '{"target_iqn": "iqn.c", "target_portal": "p", "target_lun": "x", "driver_volume_type": "iscsi"}',
            ("iscsi", "iqn.c", "p", None, None, ("iqn.c",), (("p", "iqn.c", None),)),
        ),
        (
            '{"target_iqn": ["not", "text"], "driver_volume_type": "iscsi", "attachment_id": "a"}',
            ("iscsi", None, None, None, None, (), ()),
        ),
        ("{}", (None, None, None, None, None, (), ())),
    ],
)
def test_volume_target_reads_what_it_can(text, expected):
    assert volume_target(text) == expected


@pytest.mark.parametrize("release", schemas.releases())
def test_network_info_caches_as_nova_writes_them(tmp_path, release):
    """The recorded VIF models (fixtures/nova/network_info.json: OVN, OVS with a DHCP agent, a
    port unbound when the cache was refreshed): every VIF's port id, its fixed and floating IPs."""
    source = _cloud(tmp_path, release)
    caches = fixture("nova/network_info.json")["caches"]
    url = f"sqlite:///{tmp_path}/db/nova_cell1.sqlite"
    row = {
        "host": "hv1",
        "node": "hv1",
        "project_id": "p",
        "vcpus": 1,
        "memory_mb": 64,
        "root_gb": 1,
        "created_at": T0,
        "updated_at": T0,
        "power_state": 1,
        "vm_state": "active",
        "hidden": False,
        "deleted": 0,
    }
    uuids = {name: f"bbbbbbbb-0000-4000-8000-00000000000{i}" for i, name in enumerate(caches, 1)}
    database.insert_rows(url, "instances", [{**row, "id": 10 + i, "uuid": u} for i, u in enumerate(uuids.values())])
    database.insert_rows(
        url,
        "instance_info_caches",
        [
            {
                "instance_uuid": uuids[name],
                "network_info": json.dumps(vifs),
                "deleted": 0,
                "created_at": T0,
                "updated_at": T0,
            }
            for name, vifs in caches.items()
        ],
    )
    snap, _ = _collect(source)
    nets = {n.uuid: n for n in snap.of(InstanceNetwork)}
    for name, vifs in caches.items():
        net = nets[uuids[name]]
        assert net.port_ids == tuple(v["id"] for v in vifs)
        assert net.addresses == tuple(
            a
            for v in vifs
            for s in v["network"]["subnets"]
            for ip in s["ips"]
            for a in (ip["address"], *(f["address"] for f in ip["floating_ips"]))
        )
    assert nets[uuids["ovn-two-ports"]].addresses == ("10.2.0.17", "198.18.0.44", "10.3.0.9")


def test_the_host_list_is_handed_over_before_the_instances_are_read(tmp_path):
    """The hypervisor sources wait for Nova's host list only (engine/collect.py)."""
    assert set(NovaDatabaseSource.early_kinds) == set(HOST_LIST_KINDS) == set(HostAgentSource.requires)
    assert set(LibvirtSource.requires) <= set(NovaDatabaseSource.early_kinds)
    source = _cloud(tmp_path, schemas.releases()[0])
    snap, handed = Snapshot(taken_at=T0), []
    source.handed_over = lambda part: handed.append((part, set(snap.facts)))
    statuses = source.collect(set(source.provides), snap, snap)
    [(part, read_by_then)] = handed
    assert kind_of(Instance) not in read_by_then  # handed over before the instances were read
    assert set(part.facts) == {kind_of(k) for k in (Cell, *HOST_LIST_KINDS)}  # and nothing else
    assert [s.host for s in part.of(ComputeService)] == ["hv1"] and [c.name for c in part.of(Cell)] == ["cell1"]
    assert part.is_complete(ComputeNode, cell_scope("cell1")) and part.is_complete(Cell, "api")
    # the run's snapshot holds it once, with the rest; one status per cell
    assert snap.of(ComputeService) == part.of(ComputeService) and snap.of(Instance)
    assert sorted(s.scope for s in statuses) == ["api", cell_scope("cell1")]


def test_the_host_list_without_its_api_database_is_never_handed_over(tmp_path):
    settings = NovaSettings(api_database=Database(f"sqlite:///{tmp_path}/missing/nova_api.sqlite"))
    source, handed = NovaDatabaseSource(settings), []
    source.handed_over = handed.append
    snap = Snapshot(taken_at=T0)
    source.collect(set(source.provides), snap, snap)
    assert handed == []  # the dependents wait for the end, and see it partial everywhere
    assert "no cell could be read" in snap.why_incomplete(ComputeService, ANYWHERE)


def test_the_host_list_reads_cells_side_by_side_into_the_cells_order(tmp_path, monkeypatch):
    """Cells answer their host list in any order; the facts come in the cells' order, a
    cell that fails is partial alone, one that hangs past the backstop is partial with its
    reason, and neither is connected to again for the rest of its rows."""
    source = _cloud(tmp_path, schemas.releases()[0])
    api = source.settings.api_database.url
    cell1 = database.database_urls(tmp_path, None, "t", ["nova_cell1"])["nova_cell1"]
    engine = create_engine(api)
    with engine.begin() as conn:  # four more cells: two on cell1's file, one missing, one slow
        for i, (name, url) in enumerate(
            [("a", cell1), ("b", cell1), ("gone", f"sqlite:///{tmp_path}/no/such.sqlite"), ("slow", cell1)], 2
        ):
            conn.execute(
                text(
                    "INSERT INTO cell_mappings (id, uuid, name, database_connection, transport_url, disabled) "
                    f"VALUES ({i}, '{i:08d}-0000-4000-8000-000000000000', '{name}', '{url}', 'none:///', 0)"
                )
            )
    engine.dispose()
    source.CELL_TIMEOUT = 2.0
    release = threading.Event()
    real, connected = NovaDatabaseSource._collect_cell, []

    def collect_cell(self, c, kinds, sink, scope, ids):
        connected.append((c["name"], ComputeService in kinds))
        if ComputeService in kinds and c["name"] == "slow":
            release.wait(10)  # past the backstop
        elif ComputeService in kinds and c["name"] == "cell1":
            time.sleep(0.3)  # the first cell answers last
        return real(self, c, kinds, sink, scope, ids)

    monkeypatch.setattr(NovaDatabaseSource, "_collect_cell", collect_cell)
    snap = Snapshot(taken_at=T0)
    try:
        statuses = source.collect(set(source.provides), snap, snap)
    finally:
        release.set()
    by_scope = {s.scope: s for s in statuses}
    assert [s.scope for s in statuses] == [cell_scope(n) for n in ("cell1", "a", "b", "gone", "slow")] + ["api"]
    assert [by_scope[cell_scope(n)].status for n in ("cell1", "a", "b")] == ["ok"] * 3
    assert by_scope[cell_scope("gone")].status == "partial" and "no such SQLite" in by_scope[cell_scope("gone")].reason
    assert by_scope[cell_scope("slow")].status == "partial" and "2" in by_scope[cell_scope("slow")].reason
    assert [s.cell for s in snap.of(ComputeService)] == ["cell1", "a", "b"]  # the cells' order
    for cell in ("slow", "gone"):
        assert not snap.is_complete(ComputeService, cell_scope(cell)) and not snap.is_complete(
            Instance, cell_scope(cell)
        )
    # the rest of the rows: of the cells whose host list was read, one after another
    assert [name for name, hosts in connected if not hosts] == ["cell1", "a", "b"]
