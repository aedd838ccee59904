"""`lab stop` and `lab start` for the lab's servers (BIND, ovsdb-server, the NSX stand-in,
RabbitMQ and the process playing the live services, placement-api): stop ends each one recorded in lab.json, start brings it back on its port with
the state it had (a repair made before the stop is still there).  After a stop nothing of
the lab runs (RabbitMQ's epmd and start script included)."""

import json
import socket
import subprocess

import pytest

from osfsck_lab import build
from osfsck_lab.processes import alive, read_pid
from tests.support.leftovers import leftovers


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab")
    build.build(out, "small", seed=1, hv_mode="testfiles")
    yield out
    build.stop(out)


def test_stop_ends_every_server_and_start_brings_each_back(lab):
    services = json.loads((lab / "lab.json").read_text())["services"]
    servers = {"named", "ovsdb-server", "nsx", "rabbitmq", "rpc-services"}
    assert servers <= set(services) <= servers | {"placement"}  # placement-api: when .venv-placement exists
    pids = {name: read_pid(e["pidfile"]) for name, e in services.items()}
    assert all(pid and alive(pid) for pid in pids.values()) and all(_answers(e["port"]) for e in services.values())

    build.stop(lab)
    assert not any(alive(pid) for pid in pids.values())
    assert not any(_answers(e["port"]) for e in services.values())
    assert leftovers(lab) == []

    build.start(lab)
    assert all(_answers(e["port"]) for e in services.values())
    again = {name: read_pid(e["pidfile"]) for name, e in services.items()}
    assert all(pid and alive(pid) for pid in again.values()) and again != pids


def test_nsx_keeps_its_objects_across_a_restart(lab):
    entry = json.loads((lab / "lab.json").read_text())["services"]["nsx"]
    state = lab / "nsx" / "state.json"
    before = json.loads(state.read_text())
    build.stop(lab)
    build.start(lab)
    assert json.loads(state.read_text()) == before
    out = subprocess.run(
        [
            "curl",
            "-s",
            "--cacert",
            str(lab / "nsx" / "nsx-cert.pem"),
            "-u",
            "admin:" + (lab / "nsx" / "password").read_text().strip(),
            f"https://127.0.0.1:{entry['port']}/policy/api/v1/infra/segments",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert json.loads(out.stdout)["result_count"] == len(before["/policy/api/v1/infra/segments"])
