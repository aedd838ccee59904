"""One agent call and one SSH connection per host, over the real OpenSSH client and a real
sshd on loopback (conftest.sshd); and no ssh process or socket left behind by a host that
refuses, a master that hangs, or a run that is killed.

Two "hosts" are two names of this machine, "127.0.0.1" and "localhost" (IPv4 only): ssh
names a control socket by a hash of the host name, port and user (%C), so each gets a
connection of its own, as two hypervisors would.  (Two spellings of one address would not
do: ssh writes a numeric address in its canonical form before hashing it.)  sshd logs one "Accepted publickey" line
per connection it authenticates; the tests count them."""

import datetime as dt
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from osfsck.clients.hostagent import HostChannel, HostUnreachable
from osfsck.clients.hostagent.multiplex import ControlDir, masters
from osfsck.config.settings import HostOverride, HypervisorSettings
from osfsck.model.facts.hypervisor import host_scope
from osfsck.model.snapshot import Snapshot
from osfsck.sources.host_agent import HostCalls
from osfsck.sources.hostfs import HostFolderSource
from osfsck.sources.iscsi.source import IscsiSource

pytestmark = pytest.mark.integration

PY = shlex.quote(sys.executable)
T0 = dt.datetime(2026, 1, 1)
TARGETS = {"hv1": "127.0.0.1", "hv2": "localhost"}
IPV4 = ("-o", "AddressFamily=inet")  # where localhost is ::1 too, sshd listens on 127.0.0.1 only


def accepted(sshd) -> int:
    return (sshd.key.parent / "sshd.log").read_text().count("Accepted publickey")


def settings(sshd, tmp_path, **kw) -> HypervisorSettings:
    kw.setdefault("python", PY)
    kw.setdefault("timeout", 30)
    kw.setdefault("ssh_port", sshd.port)
    return HypervisorSettings(
        extra_hosts=tuple(TARGETS),
        hosts={h: HostOverride(ssh_target=t) for h, t in TARGETS.items()},
        instances_path=str(tmp_path),
        ssh_user=sshd.user,
        ssh_key=str(sshd.key),
        ssh_options=(*sshd.ssh_options, *IPV4),
        **kw,
    )


def run(sources) -> dict:
    sink, statuses = Snapshot(taken_at=T0), []
    for src in sources:
        statuses += src.collect(set(src.provides), Snapshot(taken_at=T0), sink)
    return {(s.source, s.scope): s for s in statuses}


def channel(sshd, target="127.0.0.1", **kw) -> HostChannel:
    kw.setdefault("python", PY)
    kw.setdefault("timeout", 30)
    return HostChannel(
        "hv1",
        "ssh",
        ssh_target=target,
        ssh_port=sshd.port,
        ssh_user=sshd.user,
        ssh_key=sshd.key,
        ssh_options=(*sshd.ssh_options, *IPV4),
        **kw,
    )


def gone(path: str, timeout: float = 5.0) -> bool:
    """No process of ours names `path` any more (within `timeout`)."""
    deadline = time.monotonic() + timeout
    while masters(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not masters(path)


def test_one_connection_per_host_for_both_sources(sshd, tmp_path):
    hv = settings(sshd, tmp_path)
    calls = HostCalls(hv)
    sources = [HostFolderSource(hv, calls=calls), IscsiSource(hv, calls=calls)]
    folder = calls.control._folder()
    before = accepted(sshd)
    st = run(sources[:1])
    assert accepted(sshd) - before == 2  # the folders and iSCSI of both hosts: one login each
    assert len(masters(folder)) == 2  # a master per host, waiting ControlPersist seconds
    # a later ssh to a host rides its master: no new connection
    assert channel(sshd, TARGETS["hv2"], control=calls.control).call("ping")["python"]
    st |= run(sources[1:])
    assert accepted(sshd) - before == 2
    assert {s.status for s in st.values()} == {"ok"}, st
    assert set(st) == {(n, host_scope(h)) for n in ("hostfs", "iscsi") for h in TARGETS}
    # the last source is done: the masters are ended and the folder is removed
    assert gone(folder)
    assert not os.path.exists(folder)


def test_the_old_way_took_two_connections_per_host(sshd, tmp_path):
    hv = settings(sshd, tmp_path, ssh_multiplex=False)
    before = accepted(sshd)
    st = run([HostFolderSource(hv), IscsiSource(hv)])  # each its own HostCalls
    assert {s.status for s in st.values()} == {"ok"}
    assert accepted(sshd) - before == 4


def test_a_host_that_refuses_leaves_nothing_behind(sshd, tmp_path):
    hv = settings(sshd, tmp_path, ssh_port=1)  # nothing listens on port 1
    calls = HostCalls(hv)
    sources = [HostFolderSource(hv, calls=calls), IscsiSource(hv, calls=calls)]
    folder = calls.control._folder()
    st = run(sources)
    assert {s.status for s in st.values()} == {"partial"}
    assert "Connection refused" in st["iscsi", host_scope("hv1")].reason
    assert not masters(folder)
    assert not os.path.exists(folder)


def test_a_hung_master_times_the_call_out_and_is_ended(sshd):
    control = ControlDir(persist=30)
    folder = control._folder()
    assert channel(sshd, control=control).call("ping")
    (master,) = masters(folder)
    os.kill(master, signal.SIGSTOP)  # a master that never answers again
    try:
        with pytest.raises(HostUnreachable, match="timed out"):
            channel(sshd, control=control, timeout=2).call("ping")
    finally:
        control.close()
    assert gone(folder)  # SIGKILL ends a stopped process
    assert not os.path.exists(folder)


def test_a_killed_run_leaves_no_ssh_after_control_persist(sshd, tmp_path):
    """SIGKILL gives osfsck no chance to clean up: the masters end on their own after
    ControlPersist seconds and remove their sockets (the empty folder stays)."""
    script = textwrap.dedent(f"""
        import os, signal, sys
        from osfsck.clients.hostagent import HostChannel
        from osfsck.clients.hostagent.multiplex import ControlDir
        control = ControlDir(persist=5)
        HostChannel("hv1", "ssh", ssh_target="127.0.0.1", ssh_port={sshd.port}, ssh_user={sshd.user!r},
                    ssh_key={str(sshd.key)!r}, ssh_options={sshd.ssh_options!r}, python={PY!r},
                    control=control).call("ping")
        print(control.path, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    folder = proc.stdout.strip()
    assert len(masters(folder)) == 1  # outlives the run ...
    assert os.listdir(folder)
    assert gone(folder, timeout=20)  # ... by ControlPersist seconds at most (and a loaded machine)
    assert os.listdir(folder) == []  # and removed its socket
    os.rmdir(folder)
