"""Faults on the hypervisors, on the lab's real libvirtd daemons, instance folders and
iSCSI stand-ins: a libvirtd killed mid-scan, one that hangs (SIGSTOP), a host that cannot
be reached at all, an iscsiadm that prints garbage, instance folders the agent may not
read.  Each time the host is partial, nothing on it is repaired, the other hosts are."""

from __future__ import annotations

import os
import signal
import stat
from contextlib import contextmanager
from pathlib import Path

import pytest

from osfsck_lab import build
from tests.faults.conftest import exit_for, judge
from tests.faults.proxy import TcpProxy
from tests.support.cli import osfsck

pytestmark = pytest.mark.integration

REPAIR = ("repair", "--unsafe", "--yes", "--grace", "0", "--format", "json")


def repairable_host(lab, code: str) -> str:
    """A host where the lab planted a fault of `code` that a repair would fix."""
    hosts = sorted(
        r["target"]["scope"]
        for r in lab.baseline["repairs"]
        if r["code"] == code and r["outcome"] == "planned" and r["target"]["scope"].startswith("host:")
    )
    assert hosts, f"the lab has no repairable {code} on a host"
    return hosts[0].removeprefix("host:")


def libvirtd_pid(lab, host: str) -> int:
    return int((lab.path / "hv" / host / "libvirtd.pid").read_text().split()[0])


def test_libvirtd_killed_mid_scan(lab, scenario):
    """The host's libvirtd dies (SIGKILL) while osfsck reads its domains: a proxy on the
    host's socket relays the first half of what a whole read takes, then kills the daemon."""
    host = repairable_host(lab, "HV101")
    # the daemon's own socket, where the lab put it (a short folder when the lab's path is long)
    real = lab.info["hosts"][host]["uri"].partition("socket=")[2]
    sock = lab.path / "faults-libvirt.sock"
    cfg = lab.variant(
        "killed.toml", (rf'(\[hypervisors\.hosts\."{host}"\]\nuri = ")[^"]+', rf"\1qemu+unix:///session?socket={sock}")
    )
    with TcpProxy(real, listen_unix=str(sock)) as probe:
        assert osfsck("check", "--select", "HV101", config=cfg).returncode == 4
        whole = max(probe.relayed)
    pid = libvirtd_pid(lab, host)

    @contextmanager
    def killed():
        with TcpProxy(
            real, listen_unix=str(sock), cut_after=whole // 2, on_cut=lambda: os.kill(pid, signal.SIGKILL)
        ) as proxy:
            try:
                yield proxy
            finally:
                assert proxy.cuts >= 1, "the scan never got that far"
                build.start(lab.path)  # the lab's libvirtd again (its guests kept running)

    run = scenario(*REPAIR, "--select", "HV10,NV10", config=cfg, inject=killed())
    judge(lab, run, exit_code=exit_for(run), failed={f"libvirt host:{host}": ""}, protected={f"host:{host}"})
    assert run.applied, "the other hosts' zombies and strays are repaired"


def test_libvirtd_hangs(lab, scenario):
    """A libvirtd that accepts connections and never answers (SIGSTOP): the per-host
    timeout makes the host partial; the run neither waits for it nor repairs on it."""
    host = repairable_host(lab, "HV101")
    pid = libvirtd_pid(lab, host)

    @contextmanager
    def stopped():
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    cfg = lab.variant("hang.toml", (r'timeout = "60s"', 'timeout = "15s"'))
    run = scenario(*REPAIR, "--select", "HV101,HV102,HV103,HV104,NV101,NV102", config=cfg, inject=stopped())
    judge(
        lab,
        run,
        exit_code=exit_for(run),
        failed={f"libvirt host:{host}": "timed out after 15s"},
        protected={f"host:{host}"},
    )


def unreachable(lab, host: str, name: str) -> Path:
    """A config in which neither libvirt nor the host agent can reach `host` (no socket;
    ssh to a name that does not resolve)."""
    return lab.variant(
        name,
        (
            rf'(\[hypervisors\.hosts\."{host}"\]\nuri = ")[^"]+"',
            r'\1qemu+unix:///session?socket=/nonexistent/libvirt-sock"\n'
            r'transport = "ssh"\nssh_target = "unreachable.invalid"',
        ),
    )


def test_unreachable_host(lab, scenario):
    """Every hypervisor source is partial on the host; nothing on it is repaired."""
    host = repairable_host(lab, "VL203")
    run = scenario(*REPAIR, "--select", "HV,NV102,VL2", config=unreachable(lab, host, "unreachable.toml"))
    judge(
        lab,
        run,
        exit_code=exit_for(run),
        protected={f"host:{host}"},
        failed={
            f"libvirt host:{host}": "cannot connect",
            f"hostfs host:{host}": "unreachable.invalid",
            f"iscsi host:{host}": "unreachable.invalid",
        },
    )


def test_a_domain_on_an_unreachable_host_is_not_missing(lab, scenario):
    """An instance Nova records on one host runs on another (domain-on-wrong-host), and that
    other host cannot be read: its domain is not missing, only unseen.  Absence needs
    completeness: the instance must not be set to ERROR."""
    wrong = next(f for f in lab.baseline["findings"] if f["code"] == "HV103")
    host = wrong["subject"]["scope"].removeprefix("host:")  # where its domain really runs
    run = scenario(*REPAIR, "--select", "NV101", config=unreachable(lab, host, "unreachable-nv.toml"))
    judge(
        lab,
        run,
        exit_code=exit_for(run),
        failed={f"libvirt host:{host}": "cannot connect"},
        concerning={wrong["subject"]["id"]},
    )


GARBAGE = {
    "binary": "import os, sys\nsys.stdout.buffer.write(os.urandom(3000))\n",
    # the session tree cut off inside a target (a killed iscsiadm, a full pipe)
    "truncated": "import sys\nt = open({tree!r}).read()\nsys.stdout.write(t[:t.index('Target:', 200) + 60])\n",
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_iscsiadm_prints_garbage(lab, scenario, kind):
    host = repairable_host(lab, "VL203")
    folder = lab.path / "hosts" / host / "iscsi"
    script = folder / f"garbage-{kind}"
    script.write_text("#!/usr/bin/python3\n" + GARBAGE[kind].format(tree=str(folder / "session.txt")))
    script.chmod(0o755)
    cfg = lab.variant(
        f"garbage-{kind}.toml",
        (rf'(\[hypervisors\.hosts\."{host}"\](?:\n[^\[\n]+)*\niscsiadm = ")[^"]+', rf"\1{script}"),
    )
    run = scenario(*REPAIR, "--select", "VL2", config=cfg)
    judge(lab, run, exit_code=exit_for(run), failed={f"iscsi host:{host}": ""}, protected={f"host:{host}"})


@pytest.mark.parametrize("what", ["instances folder", "one instance folder"])
def test_instances_folder_unreadable(lab, scenario, what):
    """The host's instances folder, or one folder in it, has a mode that shuts its owner
    out, and the agent runs without root's power to override modes (its capabilities
    dropped, as an agent run through `sudo -u nova` would be): the host is partial, and no
    orphan folder is quarantined there."""
    host = repairable_host(lab, "HV110")
    base = Path(lab.info["hosts"][host]["instances_path"])
    orphan = next(
        r["params"]["name"]
        for r in lab.baseline["repairs"]
        if r["code"] == "HV110" and r["target"]["scope"] == f"host:{host}" and r["outcome"] == "planned"
    )
    target = base if what == "instances folder" else base / orphan
    mode = stat.S_IMODE(target.stat().st_mode)

    @contextmanager
    def unreadable():
        target.chmod(0)
        try:
            yield
        finally:
            target.chmod(mode)

    cfg = lab.variant(
        f"unreadable-{what.split()[0]}.toml",
        (
            r'transport = "local"',
            'transport = "local"\npython = "setpriv --bounding-set -dac_override,-dac_read_search python3"',
        ),
    )
    run = scenario(
        "repair",
        "--unsafe",
        "--yes",
        "--grace",
        "0",
        "--format",
        "json",
        "--select",
        "HV110",
        config=cfg,
        inject=unreadable(),
    )
    judge(
        lab,
        run,
        exit_code=exit_for(run),
        failed={f"hostfs host:{host}": "Permission denied"},
        protected={f"host:{host}"},
    )
