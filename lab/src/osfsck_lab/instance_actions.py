"""The instance actions of a lab cloud, as Nova records them.

Every request on a server starts an `instance_actions` row (InstanceAction.action_start:
the API, or the conductor for a create, with the request id, user, project, start_time and
updated_at; finish_time is never set: nothing calls action_finish), and each step a
service takes is an `instance_actions_events` row named after the method with its
service's prefix (wrap_instance_event / EventReporter: "compute__do_build_and_run_instance",
"conductor_live_migrate_instance", "compute_live_migration"), on the host that ran it,
finished with result "Success" (action_event_finish).  instance_destroy leaves them:
deleted instances keep theirs until archived (nova/db/main/api.py).

`history` gives each instance of a cell its create (and delete) and the action of the
move it is in; tasks stuck or in flight are added by lab/rpc.py (`action`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from osfsck_lab.cloud import Cloud

SECOND = dt.timedelta(seconds=1)
CONTROLLER = "ctl-lab"  # where the lab's nova-conductor runs (its RPC server's host)
_MOVE = {
    "live-migration": ("live-migration", "conductor_live_migrate_instance", "compute_live_migration"),
    "resize": ("resize", "conductor_migrate_server", "compute_finish_resize"),
    "evacuation": ("evacuate", "conductor_rebuild_server", "compute_rebuild_instance"),
}
_TERMINAL_OK = frozenset({"finished", "done", "confirmed", "completed", "reverted"})


def event(
    name: str, start: dt.datetime, host: str | None, finish: dt.datetime | None = None, result: str = "Success"
) -> dict:
    return {
        "event": name,
        "start_time": start,
        "finish_time": finish,
        "result": result if finish else None,
        "host": host,
        "created_at": start,
        "updated_at": finish,
        "deleted": 0,
    }


def action(
    c: Cloud, row: dict, name: str, start: dt.datetime, events: list[dict], user: tuple[str, str] | None = None
) -> tuple[dict, list[dict]]:
    """(instance_actions row, its events); its updated_at follows its last event
    (action_event_start and action_event_finish bump it)."""
    user_id, project_id = user or (row["user_id"], row["project_id"])
    last = max((t for e in events for t in (e["start_time"], e["finish_time"]) if t), default=start)
    return (
        {
            "action": name,
            "instance_uuid": row["uuid"],
            "request_id": f"req-{c.uuid()}",
            "user_id": user_id,
            "project_id": project_id,
            "start_time": start,
            "finish_time": None,
            "created_at": start,
            "updated_at": last,
            "deleted": 0,
        },
        events,
    )


def history(c: Cloud, cell: str) -> Iterator[tuple[dict, list[dict]]]:
    """The actions every instance of `cell` has behind it, oldest first per instance (each
    draws its request id from the cloud's random numbers as it is made)."""
    moves = {m["instance_uuid"]: m for m in c.migrations.get(cell, [])}
    for row in c.instance_rows(cell):
        yield _create(c, cell, row)
        m = moves.get(row["uuid"])
        if m is not None:
            yield _move(c, row, m)
        if row["deleted"]:
            yield action(
                c,
                row,
                "delete",
                row["deleted_at"] - 2 * SECOND,
                [event("compute_terminate_instance", row["deleted_at"] - SECOND, row["host"], row["deleted_at"])],
            )


def _create(c: Cloud, cell: str, row: dict) -> tuple[dict, list[dict]]:
    """The conductor starts "create" in the cell (schedule_and_build_instances); the compute's
    build is its event.  A build buried in cell0 got no compute; one still scheduling neither."""
    start = row["created_at"]
    if cell == "cell0" or not row["host"]:
        return action(c, row, "create", start, [])
    building = row["vm_state"] == "building"
    done = None if building else start + 20 * SECOND
    return action(
        c, row, "create", start, [event("compute__do_build_and_run_instance", start + 2 * SECOND, row["host"], done)]
    )


def _move(c: Cloud, row: dict, m: dict) -> tuple[dict, list[dict]]:
    name, conductor, compute = _MOVE[m["migration_type"]]
    start = m["created_at"]
    over = m["status"] in _TERMINAL_OK or m["status"] in ("error", "failed")
    # the live migration itself runs on the source; a resize's finish and a rebuild on the destination
    host = m["source_compute"] if name == "live-migration" else m["dest_compute"]
    events = [
        event(conductor, start, CONTROLLER, start + SECOND),
        event(
            compute,
            start + 2 * SECOND,
            host,
            m["updated_at"] if over else None,
            "Error" if m["status"] in ("error", "failed") else "Success",
        ),
    ]
    return action(c, row, name, start, events, user=(m["user_id"], m["project_id"]))
