"""The Nova database repairs against Nova's real schemas (SQLite and MariaDB), one by one:
each finding comes from its check on a World snapshot; the columns the repair writes are
what Nova's own code path writes for the same change (cited on each repair); undo puts
back every column of every row exactly as it was, timestamps included."""

from __future__ import annotations

import datetime as dt

import pytest

from osfsck.checks.hypervisor.domain_on_wrong_host import DomainOnWrongHost
from osfsck.checks.nova.mapping_wrong_cell import MappingWrongCell
from osfsck.checks.nova.missing_domain import MissingDomain
from osfsck.checks.nova.orphan_instance_mapping import OrphanInstanceMapping
from osfsck.checks.nova.power_state_drift import PowerStateDrift
from osfsck.checks.nova.stale_build_request import StaleBuildRequest
from osfsck.checks.nova.unmapped_instance import UnmappedInstance
from osfsck.repairs.nova_api.mappings import FixMappingCell, MapInstance
from osfsck.repairs.nova_api.rows import DeleteBuildRequest, DeleteInstanceMapping
from osfsck.repairs.nova_cell.instances import MoveInstanceRecord, SetInstanceError, SyncPowerState
from osfsck_lab import database
from tests.repairs.helpers import RELEASE, T0, apply, context, plan_of, rows
from tests.support.world import DAY, HOUR, World

OLD = T0 - dt.timedelta(days=3)


@pytest.fixture
def nova(new_db):
    """An API database with cell1 and cell2 mapped, and their cell databases."""
    api, cells = new_db("nova_api"), {"cell1": new_db("nova_cell1"), "cell2": new_db("nova_cell2")}
    database.create(api, "nova_api", RELEASE)
    for n, (name, url) in enumerate(cells.items(), 1):
        database.create(url, "nova", RELEASE)
        database.insert_rows(
            api,
            "cell_mappings",
            [
                {
                    "id": n,
                    "uuid": f"c{n}",
                    "name": name,
                    "disabled": 0,
                    "transport_url": "none:///",
                    "database_connection": url,
                    "created_at": T0,
                }
            ],
        )
        database.insert_rows(
            url,
            "compute_nodes",
            [
                {
                    "id": 10 * n + i,
                    "uuid": f"cn-{name}-{h}",
                    "host": h,
                    "hypervisor_hostname": h,
                    "vcpus": 8,
                    "memory_mb": 8192,
                    "local_gb": 100,
                    "vcpus_used": 0,
                    "memory_mb_used": 0,
                    "local_gb_used": 0,
                    "hypervisor_type": "QEMU",
                    "hypervisor_version": 1,
                    "cpu_info": "{}",
                    "deleted": 0,
                    "created_at": OLD,
                }
                for i, h in enumerate(("hv1", "hv2"), 1)
            ],
        )
    ctx = context(api_url=api)
    yield api, cells, ctx
    ctx.close()


def _finding(check, w: World):
    snap = w.snapshot()
    (f,) = check.evaluate(snap).findings
    return f, snap


def _instance_row(f, cells, **kw) -> None:
    """The cell's instances row the finding's evidence shows, as Nova stores it."""
    i = f.evidence["instance"]
    database.insert_rows(
        cells[i["cell"]],
        "instances",
        [
            {
                "id": 7,
                "uuid": i["uuid"],
                "deleted": 0,
                "host": i["host"],
                "node": i["host"],
                "compute_id": 11,
                "vm_state": i["vm_state"],
                "task_state": i["task_state"],
                "power_state": i["power_state"],
                "project_id": "project-a",
                "user_id": "user-a",
                "created_at": OLD,
                "launched_at": OLD,
                "updated_at": dt.datetime.fromisoformat(i["updated_at"]),
                **kw,
            }
        ],
    )


def _repaired_instance(nova, check, w: World, repair):
    """The cell1 instance row check's finding shows, repaired: (every instance row before,
    the row after, the journal entry)."""
    _, cells, ctx = nova
    f, snap = _finding(check, w)
    _instance_row(f, cells)
    before = rows(cells["cell1"], "instances")
    entry = apply(repair, plan_of(repair, f, snap), ctx)
    return before, rows(cells["cell1"], "instances")[7], entry


def _undone_exactly(repair, entry, ctx, url, table, before) -> str:
    done = repair.undo(entry, ctx)
    assert rows(url, table) == before
    return done


def test_move_instance_record_writes_what_nova_writes_and_undo_restores_every_column(nova):
    _, cells, ctx = nova
    w = World()
    u = w.instance(host="hv1", updated_age=2 * DAY)
    w.host("hv2")
    w.domain("hv2", u)
    repair = MoveInstanceRecord()
    before, after, entry = _repaired_instance(nova, DomainOnWrongHost(), w, repair)
    # post_live_migration_at_destination: host, node, compute_id of the new node; save() sets updated_at
    assert (after["host"], after["node"], after["compute_id"]) == ("hv2", "hv2", 12)
    assert after["updated_at"] != before[7]["updated_at"]
    assert {k: v for k, v in after.items() if k not in ("host", "node", "compute_id", "updated_at")} == {
        k: v for k, v in before[7].items() if k not in ("host", "node", "compute_id", "updated_at")
    }
    _undone_exactly(repair, entry, ctx, cells["cell1"], "instances", before)


def test_sync_power_state_sets_updated_at_as_instance_save_does_and_undo_restores_it(nova):
    _, cells, ctx = nova
    w = World()
    u = w.instance(host="hv1", vm_state="stopped", updated_age=HOUR)
    w.domain("hv1", u, state=1)
    repair = SyncPowerState()
    before, after, entry = _repaired_instance(nova, PowerStateDrift(), w, repair)
    assert after["power_state"] == 1 and after["updated_at"] != before[7]["updated_at"]
    _undone_exactly(repair, entry, ctx, cells["cell1"], "instances", before)


def test_set_instance_error_is_reset_state_with_its_instance_action(nova):
    _, cells, ctx = nova
    w = World()
    u = w.instance(host="hv1", updated_age=HOUR)
    w.host("hv1")
    repair = SetInstanceError()
    before, after, entry = _repaired_instance(nova, MissingDomain(), w, repair)
    assert (after["vm_state"], after["task_state"]) == ("error", None)
    assert after["updated_at"] != before[7]["updated_at"]
    # admin_actions._reset_state: InstanceAction.action_start then finish, action "resetState"
    (action,) = rows(cells["cell1"], "instance_actions").values()
    assert action["action"] == "resetState" and action["instance_uuid"] == u
    assert action["request_id"].startswith("req-") and action["request_id"] in entry["result"]
    assert action["start_time"] is not None and action["finish_time"] is not None and action["deleted"] == 0
    _undone_exactly(repair, entry, ctx, cells["cell1"], "instances", before)
    assert rows(cells["cell1"], "instance_actions") == {}


def test_fix_mapping_cell_sets_updated_at_as_instance_mapping_save_does(nova):
    api, cells, ctx = nova
    w = World()
    u = w.instance(cell="cell2", host="hv1", mapped="cell1")
    f, snap = _finding(MappingWrongCell(), w)
    database.insert_rows(
        api,
        "instance_mappings",
        [
            {
                "id": 3,
                "instance_uuid": u,
                "cell_id": 1,
                "project_id": "p",
                "user_id": "u",
                "queued_for_delete": 0,
                "created_at": OLD,
                "updated_at": OLD,
            }
        ],
    )
    before = rows(api, "instance_mappings")
    repair = FixMappingCell()
    entry = apply(repair, plan_of(repair, f, snap), ctx)
    after = rows(api, "instance_mappings")[3]
    assert after["cell_id"] == 2 and after["updated_at"] != before[3]["updated_at"]
    _undone_exactly(repair, entry, ctx, api, "instance_mappings", before)


def test_map_instance_creates_the_mapping_nova_manage_creates_and_undo_removes_it(nova):
    api, cells, ctx = nova
    w = World()
    w.instance(host="hv1", mapped=False)
    f, snap = _finding(UnmappedInstance(), w)
    _instance_row(f, cells)
    before = rows(api, "instance_mappings")
    repair = MapInstance()
    entry = apply(repair, plan_of(repair, f, snap), ctx)
    (m,) = rows(api, "instance_mappings").values()
    # InstanceMapping.create: created_at by the model's default, updated_at None, not queued for delete
    assert (m["instance_uuid"], m["cell_id"], m["project_id"], m["user_id"]) == (f.subject.id, 1, "project-a", "user-a")
    assert not m["queued_for_delete"] and m["created_at"] is not None and m["updated_at"] is None
    _undone_exactly(repair, entry, ctx, api, "instance_mappings", before)


@pytest.mark.parametrize("what", ["mapping", "build_request"])
def test_api_row_deletes_put_back_every_column(nova, what):
    api, cells, ctx = nova
    w = World()
    if what == "mapping":
        u = w.archived(host="hv1", mapped=True)
        check, repair, table = OrphanInstanceMapping(), DeleteInstanceMapping(), "instance_mappings"
        database.insert_rows(
            api,
            table,
            [
                {
                    "id": 4,
                    "instance_uuid": u,
                    "cell_id": 1,
                    "project_id": "p",
                    "user_id": "u",
                    "queued_for_delete": 1,
                    "created_at": OLD,
                    "updated_at": OLD + dt.timedelta(hours=1),
                }
            ],
        )
    else:
        u = w.instance(host="hv1")
        w.build_request(u, age=2 * HOUR)
        check, repair, table = StaleBuildRequest(), DeleteBuildRequest(), "build_requests"
        database.insert_rows(
            api,
            table,
            [
                {
                    "id": 5,
                    "instance_uuid": u,
                    "project_id": "p",
                    "created_at": OLD,
                    "updated_at": None,
                    "instance": '{"nova_object.name": "Instance"}',
                    "block_device_mappings": "[]",
                    "tags": None,
                }
            ],
        )
    f, snap = _finding(check, w)
    before = rows(api, table)
    entry = apply(repair, plan_of(repair, f, snap), ctx)
    assert rows(api, table) == {}
    _undone_exactly(repair, entry, ctx, api, table, before)
