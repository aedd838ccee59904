"""The host agent over the real OpenSSH client and a real sshd on loopback (conftest.sshd)."""

import os
import shlex
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from osfsck.clients.hostagent import HostChannel, HostCommandError, HostUnreachable, agent

pytestmark = pytest.mark.integration

U1 = "0f3c5f6e-1b2a-4c3d-8e9f-0a1b2c3d4e5f"
U2 = "11111111-2222-3333-4444-555555555555"
# The interpreter running the tests exists on this "host"; which python3 is first on the
# PATH of an ssh session varies between machines and is not what these tests are about.
PY = shlex.quote(sys.executable)


def channel(sshd, **kw):
    kw.setdefault("python", PY)
    kw.setdefault("timeout", 30)
    return HostChannel(
        "hv-loop",
        "ssh",
        ssh_target=sshd.host,
        ssh_port=sshd.port,
        ssh_user=sshd.user,
        ssh_key=sshd.key,
        ssh_options=sshd.ssh_options,
        **kw,
    )


def make_instance(base, name):
    d = base / name
    d.mkdir(parents=True)
    with open(d / "disk", "wb") as f:
        f.write(os.urandom(65536))
        f.truncate(1 << 30)
    (d / "disk.info").write_text("{}")
    return d


def one_line_unreachable(ch, op="ping"):
    with pytest.raises(HostUnreachable) as exc:
        ch.call(op)
    assert exc.value.host == "hv-loop"
    assert "\n" not in str(exc.value) and "Traceback" not in str(exc.value)
    return exc.value.reason


def test_collect_quarantine_restore_over_ssh(sshd, tmp_path):
    d = make_instance(tmp_path, U1)
    make_instance(tmp_path, U2 + "_resize")
    (tmp_path / "_base").mkdir()
    ch = channel(sshd)

    res = ch.call("collect", instances_path=str(tmp_path))
    assert res == agent.handle({"op": "collect", "args": {"instances_path": str(tmp_path)}})["result"]
    assert [e["name"] for e in res["dirs"]] == [U1, U2 + "_resize"]
    inode = res["dirs"][0]["inode"]

    q = ch.call("quarantine", instances_path=str(tmp_path), name=U1, inode=inode)
    assert not d.exists()
    res = ch.call("collect", instances_path=str(tmp_path))
    assert [e["name"] for e in res["dirs"]] == [U2 + "_resize"]
    assert [(e["name"], e["original"]) for e in res["quarantine"]] == [(q["quarantined"], U1)]

    assert ch.call("restore", instances_path=str(tmp_path), quarantined=q["quarantined"]) == {"restored": U1}
    assert os.lstat(d).st_ino == inode


def test_refusal_over_ssh_is_a_command_error(sshd, tmp_path):
    d = make_instance(tmp_path, U1)
    with pytest.raises(HostCommandError) as exc:
        channel(sshd).call("quarantine", instances_path=str(tmp_path), name=U1, inode=os.lstat(d).st_ino + 1)
    assert exc.value.op == "quarantine" and "changed since" in exc.value.message
    assert d.is_dir()


def test_closed_port_is_unreachable(sshd):
    with socket.socket() as s:  # bound but not listening: connections are refused
        s.bind(("127.0.0.1", 0))
        ch = HostChannel(
            "hv-loop",
            "ssh",
            ssh_target="127.0.0.1",
            ssh_port=s.getsockname()[1],
            ssh_user=sshd.user,
            ssh_key=sshd.key,
            ssh_options=sshd.ssh_options,
            timeout=10,
        )
        reason = one_line_unreachable(ch)
    assert reason.startswith("ssh: connect to host 127.0.0.1 port ")
    assert reason.endswith("Connection refused")


def test_timeout_kills_the_session(sshd):
    # The remote command sleeps before starting python: the call must give up on its own.
    ch = channel(sshd, python=f"sleep 5; {PY}", timeout=1.5)
    start = time.monotonic()
    assert one_line_unreachable(ch) == "timed out after 1.5s"
    assert time.monotonic() - start < 4


def test_missing_python_on_host(sshd):
    assert one_line_unreachable(channel(sshd, python="no-such-python3")) == ("no-such-python3 not found on host")


def test_rejected_key_is_unreachable(sshd, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    ch = HostChannel(
        "hv-loop",
        "ssh",
        ssh_target=sshd.host,
        ssh_port=sshd.port,
        ssh_user=sshd.user,
        ssh_key=tmp_path / "other",
        ssh_options=sshd.ssh_options,
        timeout=10,
    )
    assert "Permission denied" in one_line_unreachable(ch)


def test_parallel_fan_out(sshd):
    # Many hypervisors are collected at once; sshd's MaxStartups must not drop any of them.
    chans = [channel(sshd) for _ in range(12)]
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda c: c.call("ping"), chans))
    assert all(r["hostname"] == socket.gethostname() for r in results)
