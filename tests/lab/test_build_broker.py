"""XL's broker loads alone: RabbitMQ taking 80,000 queues and their messages (past 9 GB)
does not fit beside ovsdb-server and the NSX stand-in on these machines, so the build stops
those two (their state is on disk) while the broker loads and settles, and starts them
again after it.  The other profiles keep every server running."""

from __future__ import annotations

from pathlib import Path

import pytest

from osfsck_lab import build, rpc, services
from osfsck_lab.profiles import PROFILES

RUNNING = {"named": {"program": "named"}, "ovsdb-server": {"program": "ovsdb-server"}, "nsx": {"program": "python"}}


@pytest.fixture
def events(monkeypatch):
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(services, "stop", lambda entry, out: seen.append(("stop", entry["program"])))
    monkeypatch.setattr(services, "start", lambda entry, out, timeout=60: seen.append(("start", entry["program"])))

    def broker(out, c):
        seen.append(("broker", "rabbitmq"))
        return {"rabbitmq": {"program": "beam"}}, ["[rabbitmq]"]

    monkeypatch.setattr(rpc, "start", broker)
    return seen


def test_alone_the_broker_loads_with_ovsdb_and_nsx_stopped(events):
    running = dict(RUNNING)
    lines = build._start_broker(Path("lab"), None, running, alone=True)
    assert events == [
        ("stop", "ovsdb-server"),
        ("stop", "python"),
        ("broker", "rabbitmq"),
        ("start", "ovsdb-server"),
        ("start", "python"),
    ]
    assert lines == ["[rabbitmq]"] and set(running) == {"named", "ovsdb-server", "nsx", "rabbitmq"}


def test_not_alone_nothing_is_stopped(events):
    running = dict(RUNNING)
    build._start_broker(Path("lab"), None, running, alone=False)
    assert events == [("broker", "rabbitmq")] and "rabbitmq" in running


def test_alone_without_ovn_stops_only_what_runs(events):
    # a lab on the real Neutron has no ovsdb-server of its own in `running` under that name
    running = {"nsx": {"program": "python"}}
    build._start_broker(Path("lab"), None, running, alone=True)
    assert events == [("stop", "python"), ("broker", "rabbitmq"), ("start", "python")]


def test_only_xl_loads_its_broker_alone():
    assert {name for name, p in PROFILES.items() if p.broker_alone} == {"XL"}
