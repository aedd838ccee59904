"""RPC messages with secrets, against the real RabbitMQ broker (started as in
tests/integration/test_rabbitmq.py): the journal keeps no secret value, and undo
republishes only the messages kept whole, saying which it held back and why."""

from __future__ import annotations

import base64
import json

import pytest

from osfsck.checks.rabbitmq.dead_host_queue_backlog import DeadHostQueueBacklog
from osfsck.config.settings import Settings
from osfsck.engine.context import RepairContext
from osfsck.repairs.rabbitmq.queues import DeleteDeadHostQueue
from tests.integration.test_rabbitmq import api, broker, settings, settled, snapshot  # noqa: F401 - fixtures
from tests.repairs.helpers import apply
from tests.test_secrets import FERNET, _nova_cast

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "Adm1nPassw0rd"


def _envelope(msg: dict) -> str:
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(msg)})


def _messages() -> list[dict]:
    """What a dead compute host's queue holds in a real cloud: casts with the caller's
    token, a build with an admin password, one from a periodic task (no token), and a
    body that is not text."""
    build = {
        "method": "build_and_run_instance",
        "_context_auth_token": FERNET,
        "_context_request_id": "req-build",
        "args": {"admin_password": ADMIN_PASSWORD, "instance": {"nova_object.data": {"uuid": "i-2"}}},
    }
    periodic = {
        "method": "refresh_instance_security_rules",
        "_context_auth_token": None,
        "_context_request_id": "req-periodic",
        "args": {},
    }
    return [
        {"payload": _envelope(_nova_cast()), "payload_encoding": "string"},
        {"payload": _envelope(build), "payload_encoding": "string"},
        {"payload": _envelope(periodic), "payload_encoding": "string"},
        {
            "payload": base64.b64encode(b"\x1f\x8b\x08\x00 compressed" + ADMIN_PASSWORD.encode()).decode(),
            "payload_encoding": "base64",
        },
        {
            "payload": json.dumps({"method": "ping"}),
            "payload_encoding": "string",
            "properties": {"headers": {"X-Auth-Token": FERNET}},
        },
    ]


def test_no_secret_reaches_the_journal_and_undo_holds_back_what_lost_one(broker, api):  # noqa: F811
    api.request("PUT", "/api/exchanges/%2F/nova", body={"type": "topic", "durable": False})
    api.declare_queue("/", "compute.hv7", durable=False, auto_delete=False, arguments={})
    api.bind("/", "nova", "compute.hv7", "compute.hv7")
    for m in _messages():
        assert api.publish("/", "compute.hv7", {"properties": {"content_type": "application/json"}, **m})
    settled(broker, {"compute.hv7"})
    snap, _ = snapshot(broker, dead="hv7")
    (f,) = DeadHostQueueBacklog().evaluate(snap).findings
    repair = DeleteDeadHostQueue()
    ctx = RepairContext(Settings(rabbitmq=settings(broker)), snap)
    try:
        plan = repair.plan(f, snap)
        entry = apply(repair, plan, ctx)
        journaled = json.dumps(entry)
        for secret in (
            FERNET,
            ADMIN_PASSWORD,
            "Ch4pS3cret",
            "N3wPass",
            "aGVsbG8=",
            "I2Nsb3VkLWNvbmZpZw==",
            base64.b64encode(b"\x1f\x8b\x08\x00 compressed").decode()[:12],
        ):
            assert secret not in journaled, secret
        assert "5 message(s) kept in the journal, 4 of them without their secrets" in entry["result"]
        assert [bool(m.get("redacted")) for m in entry["before"]["messages"]] == [True, True, False, True, True]

        done = repair.undo(entry, ctx)
    finally:
        ctx.close()
    assert "republished 1 of 5 message(s)" in done
    assert (
        "4 message(s) journaled without their secrets, not republished" in done
        and "#1 rebuild_instance (req-1) without _context_auth_token, new_pass, injected_files, auth_password, "
        "user_data"
        in done
        and "#2 build_and_run_instance (req-build) without _context_auth_token, admin_password" in done
        and "#4 message without payload (not text" in done
        and "#5 ping without X-Auth-Token" in done
    )
    assert any("idle_since" in n for n in done.not_restored)
    back = api.peek("/", "compute.hv7", 10)
    assert [json.loads(json.loads(m["payload"])["oslo.message"])["method"] for m in back] == [
        "refresh_instance_security_rules"
    ]
