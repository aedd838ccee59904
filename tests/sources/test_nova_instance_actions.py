"""Nova's last instance action and event, read only for instances in a task, on the real
Nova schema (SQLite here; the query is plain SQL that MariaDB runs the same)."""

import datetime as dt

from osfsck.model.facts.rpc import InstanceAction
from osfsck.model.snapshot import Snapshot
from osfsck.sources.db_read import read_database
from osfsck.sources.nova_db import queries
from osfsck_lab import database, schemas

T0 = dt.datetime(2026, 3, 1, 12, 0, 0)
BUSY, IDLE, GONE = ("bbbbbbbb-0000-4000-8000-00000000000%d" % i for i in (1, 2, 3))


def test_the_last_action_and_its_last_event_of_instances_in_a_task(tmp_path):
    url = f"sqlite:///{tmp_path}/cell1.sqlite"
    database.create(url, "nova", schemas.releases()[0])
    database.insert_rows(
        url,
        "instances",
        [
            {"id": 1, "uuid": BUSY, "deleted": 0, "task_state": "rebooting", "created_at": T0},
            {"id": 2, "uuid": IDLE, "deleted": 0, "task_state": None, "created_at": T0},
            {"id": 3, "uuid": GONE, "deleted": 3, "task_state": "deleting", "created_at": T0},
        ],
    )
    at = [T0 + dt.timedelta(hours=h) for h in range(6)]
    database.insert_rows(
        url,
        "instance_actions",
        [
            {
                "id": 1,
                "instance_uuid": BUSY,
                "action": "create",
                "request_id": "req-1",
                "start_time": at[0],
                "deleted": 0,
            },
            {
                "id": 2,
                "instance_uuid": BUSY,
                "action": "reboot",
                "request_id": "req-2",
                "start_time": at[2],
                "deleted": 0,
            },
            {
                "id": 3,
                "instance_uuid": IDLE,
                "action": "stop",
                "request_id": "req-3",
                "start_time": at[3],
                "deleted": 0,
            },
            {
                "id": 4,
                "instance_uuid": GONE,
                "action": "delete",
                "request_id": "req-4",
                "start_time": at[3],
                "deleted": 0,
            },
        ],
    )
    database.insert_rows(
        url,
        "instance_actions_events",
        [
            {
                "id": 1,
                "action_id": 1,
                "event": "compute_build_and_run_instance",
                "start_time": at[0],
                "finish_time": at[1],
                "host": "hv1",
                "deleted": 0,
            },
            {
                "id": 2,
                "action_id": 2,
                "event": "compute_reboot_instance",
                "start_time": at[3],
                "finish_time": None,
                "host": "hv1",
                "deleted": 0,
            },
            {
                "id": 3,
                "action_id": 2,
                "event": "compute_reboot_instance_retry",
                "start_time": at[4],
                "finish_time": at[5],
                "host": "hv2",
                "deleted": 0,
            },
        ],
    )
    snap = Snapshot(taken_at=T0)
    status = read_database(
        url, {InstanceAction: queries.instance_actions("cell1")}, snap, "cell:cell1", "nova-db", "cell1", "nova"
    )
    assert status.status == "ok"
    (a,) = snap.of(InstanceAction)
    assert a == InstanceAction(
        "cell1", BUSY, "reboot", "req-2", at[2], None, "compute_reboot_instance_retry", at[5], "hv2"
    )
