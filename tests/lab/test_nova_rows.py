"""The lab's Nova rows as Nova writes them (docs/write-paths.md, Nova): the columns the
resource tracker, the API, the conductor and the compute manager set, checked on the
written databases."""

import datetime as dt
import json
import sqlite3

import pytest

from osfsck.model.facts.nova import MIGRATION_TERMINAL
from osfsck_lab import build, nova_rows, schemas

NOW = dt.datetime(2026, 11, 24, 12, 0)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    c = build.spec("small", 1, NOW)
    urls = build._write_databases(c, tmp_path_factory.mktemp("nova"), None, "t", schemas.releases()[0])

    def rows(db: str, sql: str) -> list[dict]:
        with sqlite3.connect(urls[db].removeprefix("sqlite:///")) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(sql)]

    return c, rows


def _cells(c):
    return [cell for cell, _ in c.cells]


def test_claimed_instances_carry_launched_on_and_their_nodes_id(lab):
    """ResourceTracker._set_instance_host_and_node sets host, launched_on, node and compute_id."""
    c, rows = lab
    checked = 0
    for cell in _cells(c):
        nodes = {n["host"]: n for n in rows(f"nova_{cell}", "SELECT * FROM compute_nodes WHERE deleted = 0")}
        assert all(n["mapped"] == 1 and n["host_ip"] for n in nodes.values())
        for i in rows(f"nova_{cell}", "SELECT * FROM instances"):
            if i["host"]:
                assert i["launched_on"] == i["host"] and i["compute_id"] == nodes[i["host"]]["id"], i["uuid"]
                checked += 1
            else:
                assert i["launched_on"] is None and i["compute_id"] is None
    assert checked > 20


def test_deletes_queue_the_mapping_and_soft_delete_sets_deleted_at(lab):
    """The API's _do_delete and _do_soft_delete set queued_for_delete; soft_delete sets
    deleted_at on a row that stays live."""
    c, rows = lab
    state = {i["uuid"]: i for cell in _cells(c) for i in rows(f"nova_{cell}", "SELECT * FROM instances")}
    state.update({i["uuid"]: i for cell in _cells(c) for i in rows(f"nova_{cell}", "SELECT * FROM shadow_instances")})
    mappings = rows("nova_api", "SELECT instance_uuid, queued_for_delete FROM instance_mappings")
    queued = {m["instance_uuid"] for m in mappings if m["queued_for_delete"]}
    gone = {u for u, i in state.items() if i["deleted"] or i["vm_state"] == "soft-delete"}
    assert queued == gone & {m["instance_uuid"] for m in mappings} and queued
    [soft] = [i for i in state.values() if i["vm_state"] == "soft-delete"]
    assert soft["deleted"] == 0 and soft["deleted_at"]


def test_build_requests_hold_versioned_object_primitives(lab):
    """BuildRequest._get_update_primitives: instance, block_device_mappings and tags as
    obj_to_primitive() JSON (Nova cannot load a build request from anything else)."""
    _, rows = lab
    reqs = rows("nova_api", "SELECT * FROM build_requests")
    assert reqs
    for r in reqs:
        inst = json.loads(r["instance"])
        assert (inst["nova_object.name"], inst["nova_object.version"]) == ("Instance", "2.8")
        assert inst["nova_object.data"]["uuid"] == r["instance_uuid"]
        assert json.loads(r["block_device_mappings"])["nova_object.name"] == "BlockDeviceMappingList"
        assert json.loads(r["tags"])["nova_object.data"] == {"objects": []}


@pytest.mark.parametrize("release, version", [("2024.1", 67), ("2026.2", 73)])
def test_services_report_their_release_and_their_heartbeats(release, version):
    c = build.spec("small", 1, NOW)
    [svc, *_] = nova_rows.service_rows(c, "cell1", release)
    assert svc["version"] == version and svc["last_seen_up"] == NOW and svc["report_count"] > 10**6


def test_migrations_as_the_conductor_and_the_destination_claim_write_them(lab):
    """Migration.create (the requester's user and project), the destination's claim
    (dest_compute_id, dest_host), libvirt's progress saves every 5 s while running."""
    c, rows = lab
    for cell in _cells(c):
        nodes = {n["host"]: n["id"] for n in rows(f"nova_{cell}", "SELECT * FROM compute_nodes")}
        instances = {i["uuid"]: i for i in rows(f"nova_{cell}", "SELECT * FROM instances")}
        for m in rows(f"nova_{cell}", "SELECT * FROM migrations"):
            assert m["dest_compute_id"] == nodes[m["dest_compute"]] and m["dest_host"]
            assert m["hidden"] == 0 and m["cross_cell_move"] == 0 and m["user_id"] and m["project_id"]
            if m["migration_type"] == "live-migration" and m["status"] == "running" and m["memory_total"]:
                age = NOW - dt.datetime.fromisoformat(m["updated_at"])
                assert age < dt.timedelta(seconds=10) and instances[m["instance_uuid"]]["progress"]


def test_every_instance_has_its_actions_and_a_task_its_current_one(lab):
    """instance_actions: a create for every instance, a delete for a deleted one, the move's
    action for a migrated one; the last is the task in progress; finish_time never set."""
    c, rows = lab
    for cell in _cells(c):
        actions = rows(f"nova_{cell}", "SELECT * FROM instance_actions ORDER BY id")
        assert all(a["finish_time"] is None for a in actions)
        last = {a["instance_uuid"]: a for a in actions}
        for i in rows(f"nova_{cell}", "SELECT * FROM instances"):
            names = [a["action"] for a in actions if a["instance_uuid"] == i["uuid"]]
            assert names[0] == "create", i["uuid"]
            if i["deleted"]:
                assert "delete" in names
            if i["task_state"] == "migrating":
                assert last[i["uuid"]]["action"] == "live-migration"
                [ev] = rows(
                    f"nova_{cell}",
                    f"SELECT * FROM instance_actions_events WHERE action_id = "
                    f"{last[i['uuid']]['id']} AND event = 'compute_live_migration'",
                )
                assert ev["finish_time"] is None and ev["host"] == i["host"]
    running = [m for ms in c.migrations.values() for m in ms if m["status"] not in MIGRATION_TERMINAL]
    assert running


def test_a_deleted_instance_is_cleaned_only_once_its_folder_is_gone(lab):
    """The libvirt driver sets `cleaned` when it removed the instance's files; a folder left
    behind (the delete ran while the compute was down, or the files' removal failed) keeps
    it 0 so that _run_pending_deletes retries."""
    c, rows = lab
    on_disk = {d.uuid for dirs in c.dirs.values() for d in dirs}
    deleted = [i for cell in _cells(c) for i in rows(f"nova_{cell}", "SELECT * FROM instances WHERE deleted != 0")]
    assert any(i["uuid"] in on_disk for i in deleted) and any(i["uuid"] not in on_disk for i in deleted)
    assert all(i["cleaned"] == int(i["uuid"] not in on_disk) for i in deleted)
