"""The instance action Nova records when an operator resets an instance's state.

`nova reset-state` (the API's admin_actions._reset_state) records an instance action
"resetState" (nova/compute/instance_actions.py RESET_STATE) before it writes the instance,
and finishes it after: InstanceAction.action_start (request_id, user_id and project_id of
the caller, start_time and updated_at the request's time; created_at and deleted=0 by the
model's defaults), then action_finish (finish_time and updated_at now).  `openstack server
event list` shows it, so whoever looks at the instance later sees that it was reset.
osfsck has no Keystone identity: it records "osfsck" as the user and no project.
"""

from __future__ import annotations

import uuid

from osfsck.repairs.conditional_update import now_stored

RESET_STATE = "resetState"


def reset_state_action(instance_uuid: str) -> dict:
    """The instance_actions row to add (see conditional_update's "inserts")."""
    now, request_id = now_stored(), f"req-{uuid.uuid4()}"
    return {
        "table": "instance_actions",
        "key": {"request_id": request_id},
        "row": {
            "action": RESET_STATE,
            "instance_uuid": instance_uuid,
            "request_id": request_id,
            "user_id": "osfsck",
            "project_id": None,
            "start_time": now,
            "finish_time": now,
            "created_at": now,
            "updated_at": now,
            "deleted": 0,
        },
    }
