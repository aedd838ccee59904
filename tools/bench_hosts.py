#!/usr/bin/env python3
"""Hosts per second for the host-agent sources over a real sshd on loopback.

    .venv/bin/python tools/bench_hosts.py                      # 200 hosts at 8, 32, 64
    .venv/bin/python tools/bench_hosts.py --hosts 300 --concurrency 8,64

A private sshd listens on 127.0.0.1 (a throwaway host and client key in a temporary
folder); every "host" hv-NNNN is a name an ssh_config of the benchmark's own points at it.
Each host has the same instances folder (a few instance folders) and the real iscsiadm
(no sessions: exit 21).  Both host-agent sources collect (instance folders and iSCSI), as
a run selecting every check does, in three ways, at each concurrency:

  * before: each source its own agent call on every host, without multiplexing (how
    osfsck ran until the batch op: two logins and two Python starts per host);
  * after: one `batch` agent call per host for both sources, one connection per host
    (ControlMaster, the master ended at the end of the run);
  * after, MaxStartups default: the same against an sshd left at its default
    MaxStartups 10:30:100, which drops a share of the connections beyond 10 that are
    not yet authenticated (sshd_config(5)): the hosts it drops are counted.

All are the product's own code (HostFolderSource, IscsiSource, HostCalls, HostChannel);
the first two run against an sshd with MaxStartups raised past the concurrency.  Then the
cost of one host's parts, measured one at a time: an ssh login running `true` (TCP, key
exchange, authentication, a session) and the agent's Python start with both ops (run
locally), each as CPU seconds of client and server together.  CPU is counted from the
kernel's accounting of finished children (this process is a child subreaper, so ssh
masters that daemonise are counted too) and of sshd's.  The machine may be shared:
absolute figures move with its load, the ratios less.

A note on the ControlPath: ssh names a control socket by a hash of host name, port and
user (%C), and every host here is 127.0.0.1 on one port, so all would share one master;
the benchmark sets ControlPath=<its folder>/%n (the name as given) so each host has its own
connection as real hypervisors would.  The cost per connection is the same.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import getpass
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from osfsck.clients.hostagent.channel import AGENT_FLAGS, _agent_source
from osfsck.clients.hostagent.multiplex import stop_masters
from osfsck.config.settings import HypervisorSettings
from osfsck.model.snapshot import Snapshot
from osfsck.sources.host_agent import HostCalls
from osfsck.sources.hostfs import HostFolderSource
from osfsck.sources.iscsi.source import IscsiSource

T0 = dt.datetime(2026, 1, 1)
UUIDS = ("3f1b0a6e-9a47-4c62-8d0f-2a1c5e7b9d1%d" % i for i in range(3))
PR_SET_CHILD_SUBREAPER = 36


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sshd:
    """A private sshd on 127.0.0.1 that accepts one throwaway key for this user."""

    def __init__(self, folder: Path, max_startups: str | None, kex: str | None = None):
        self.folder = folder
        folder.mkdir()
        for name in ("hostkey", "clientkey"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True)
        (folder / "authorized_keys").write_text((folder / "clientkey.pub").read_text())
        self.port = free_port()
        cfg = folder / "sshd_config"
        cfg.write_text(
            f"ListenAddress 127.0.0.1\nPort {self.port}\nHostKey {folder / 'hostkey'}\n"
            f"PidFile {folder / 'sshd.pid'}\nAuthorizedKeysFile {folder / 'authorized_keys'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            # VERBOSE: sshd names each connection it drops past MaxStartups only at this level
            "LogLevel VERBOSE\n" + (f"MaxStartups {max_startups}\n" if max_startups else "")
        )
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.log = open(folder / "sshd.log", "wb")
        self.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(cfg)], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit(f"sshd did not start: {(folder / 'sshd.log').read_text()}") from None
                time.sleep(0.05)
        self.ssh_config = folder / "ssh_config"
        self.ssh_config.write_text(
            f"Host hv-*\n  HostName 127.0.0.1\n  Port {self.port}\n  User {getpass.getuser()}\n"
            f"  IdentityFile {folder / 'clientkey'}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n"
            "  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n  BatchMode yes\n"
            + (f"  KexAlgorithms {kex}\n" if kex else "")
        )

    def cpu(self) -> float:
        """CPU seconds of sshd and every session it has reaped (the agents included)."""
        fields = (Path("/proc") / str(self.proc.pid) / "stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime

    def drops(self) -> int:
        """Connections sshd dropped past MaxStartups so far ("drop connection #N ... past MaxStartups")."""
        return (self.folder / "sshd.log").read_text(errors="replace").count("past MaxStartups")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


def reap() -> None:
    """Reap the children this subreaper inherited (daemonised ssh masters, once ended)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def collect(hv: HypervisorSettings, shared: bool, mux_folder: Path | None) -> tuple[int, dict[str, str]]:
    """Both sources over every host: (hosts, {scope not complete: why})."""
    if shared:
        calls = HostCalls(hv)
        sources = [HostFolderSource(hv, calls=calls), IscsiSource(hv, calls=calls)]
    else:
        sources = [HostFolderSource(hv), IscsiSource(hv)]
    bad: dict[str, str] = {}
    for src in sources:
        for s in src.collect(set(src.provides), Snapshot(taken_at=T0), Snapshot(taken_at=T0)):
            if s.status != "ok":
                bad.setdefault(s.scope, s.reason)
    if mux_folder is not None:
        stop_masters(str(mux_folder))  # the benchmark's own ControlPath: see the module's note
    return len(hv.extra_hosts), bad


def why(reason: str) -> str:
    """A failed host's reason, in a word: sshd dropped it, or it timed out."""
    if "timed out" in reason:
        return "timeout"
    if "kex_exchange_identification" in reason or "Connection reset" in reason or "closed by remote" in reason:
        return "dropped"
    return "other"


def measure(sshd: Sshd, hosts: list[str], base: dict, concurrency: int, mode: str, work: Path) -> dict:
    mux_folder = None
    options = ["-F", str(sshd.ssh_config)]
    if mode == "after":
        mux_folder = Path(tempfile.mkdtemp(prefix="mux-", dir=work))
        options += ["-o", f"ControlPath={mux_folder}/%n"]
    hv = HypervisorSettings(
        **base,
        extra_hosts=tuple(hosts),
        concurrency=concurrency,
        ssh_options=tuple(options),
        ssh_multiplex=mode == "after",
    )
    reap()
    drops0 = sshd.drops()
    cpu0, sshd0, t0 = children_cpu(), sshd.cpu(), time.monotonic()
    n, bad = collect(hv, mode == "after", mux_folder)
    seconds = time.monotonic() - t0
    reap()
    client, server = children_cpu() - cpu0, sshd.cpu() - sshd0
    if mux_folder is not None:
        shutil.rmtree(mux_folder, ignore_errors=True)
    kinds = [why(r) for r in bad.values()]
    return {
        "hosts/s": (n - len(bad)) / seconds,  # hosts read completely, per second
        "s": seconds,
        "cpu/host": (client + server) / n,
        "client/host": client / n,
        "failed": ", ".join(f"{kinds.count(k)} {k}" for k in sorted(set(kinds))) or "0",
        "drops": sshd.drops() - drops0,
    }


def parts(sshd: Sshd, base: dict, rounds: int) -> tuple[float, float, float]:
    """CPU seconds of one ssh login running `true` (client and server; the client's part),
    and of one local agent batch call."""
    reap()
    cpu0, sshd0 = children_cpu(), sshd.cpu()
    for i in range(rounds):
        subprocess.run(["ssh", "-F", str(sshd.ssh_config), f"hv-login-{i}", "true"], check=True)
    client = (children_cpu() - cpu0) / rounds
    login = client + (sshd.cpu() - sshd0) / rounds
    import base64
    import json

    request = {
        "op": "batch",
        "args": {"ops": {"collect": {"instances_path": base["instances_path"]}, "iscsi": {}}},
    }
    b64 = base64.b64encode(json.dumps(request).encode()).decode()
    cpu0 = children_cpu()
    for _ in range(rounds):
        subprocess.run([base["python"], *AGENT_FLAGS, "-", b64], input=_agent_source(), capture_output=True, check=True)
    return login, client, (children_cpu() - cpu0) / rounds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hosts", type=int, default=200)
    ap.add_argument("--concurrency", default="8,32,64")
    ap.add_argument("--python", default="/usr/bin/python3", help="the hosts' python (default %(default)s)")
    ap.add_argument("--kex", help="KexAlgorithms for every ssh (default: OpenSSH's own, sntrup761x25519 first)")
    ap.add_argument("--timeout", type=float, default=60.0, help="per host, as [hypervisors] timeout (default 60)")
    args = ap.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    with tempfile.TemporaryDirectory(prefix="bench-hosts-") as tmp:
        work = Path(tmp)
        instances = work / "instances"
        for u in UUIDS:
            (instances / u).mkdir(parents=True)
            (instances / u / "disk").write_bytes(b"\0" * 4096)
        base = {"instances_path": str(instances), "python": args.python, "timeout": args.timeout}
        hosts = [f"hv-{i:04d}" for i in range(args.hosts)]
        cores = os.cpu_count() or 1
        print(f"{args.hosts} hosts over sshd on 127.0.0.1, {cores} cores (shared: absolute figures move with the load)")
        rows = []
        fast = Sshd(work / "sshd", f"{max(levels) * 2}", args.kex)
        try:
            login, login_client, agent = parts(fast, base, 5)
            for c in levels:
                for mode in ("before", "after"):
                    rows.append((c, mode, f"MaxStartups {max(levels) * 2}", measure(fast, hosts, base, c, mode, work)))
        finally:
            fast.close()
        slow = Sshd(work / "sshd-default", None, args.kex)
        try:
            for c in levels:
                rows.append((c, "after", "MaxStartups default", measure(slow, hosts, base, c, "after", work)))
        finally:
            slow.close()
        print(
            f"{'conc':>4}  {'way':<7} {'sshd':<22} {'hosts/s':>8} {'wall s':>7} {'cpu ms/host':>11} "
            f"{'of it ssh client':>16} {'sshd drops':>10}  failed hosts"
        )
        for c, mode, sshd_kind, r in rows:
            print(
                f"{c:>4}  {mode:<7} {sshd_kind:<22} {r['hosts/s']:>8.1f} {r['s']:>7.2f} "
                f"{r['cpu/host'] * 1000:>11.1f} {r['client/host'] * 1000:>16.1f} {r['drops']:>10}  {r['failed']}"
            )
        after = {c: r for c, mode, k, r in rows if mode == "after" and "default" not in k}
        before = {c: r for c, mode, k, r in rows if mode == "before"}
        print(
            "after/before hosts/s: "
            + ", ".join(f"{after[c]['hosts/s'] / before[c]['hosts/s']:.2f} at {c}" for c in levels)
        )
        per_host = min(r["cpu/host"] for r in after.values())
        print(
            f"one host's parts (CPU): ssh login running `true` {login * 1000:.1f} ms "
            f"(of it the ssh client {login_client * 1000:.1f} ms), "
            f"agent batch (Python start, both ops) {agent * 1000:.1f} ms; "
            f"CPU-bound ceiling on {cores} cores: {cores / per_host:.0f} hosts/s after, "
            f"{cores / min(r['cpu/host'] for r in before.values()):.0f} before"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
