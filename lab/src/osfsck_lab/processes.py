"""The lab's server processes: how each is marked as the lab's, found again, and stopped.

Every server the lab starts gets OSFSCK_LAB_SERVER=<its folder> in its environment, which
its children inherit and a daemon keeps when it forks away (libvirtd --daemon, RabbitMQ's
epmd).  `lab stop` finds the lab's servers by it even when no PID was recorded: a build that
failed or was interrupted before lab.json named them, a pidfile not written yet.  QEMU is
the exception (libvirt gives a guest a fresh environment): a host's guests are found by its
libvirtd's configuration folder in their arguments (lab/hypervisors.py).

A process is signalled only while it still is the one found: its PID and its start time
(field 22 of /proc/PID/stat) name one process for good, as PIDs are reused.  A stop waits
until the process has really ended, SIGKILLs it after a grace period, and reports (one line
each) what is still there a bounded time after that.
"""

from __future__ import annotations

import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

MARKER = "OSFSCK_LAB_SERVER"
STOP_GRACE = 5.0  # SIGTERM to SIGKILL
KILL_WAIT = 10.0  # SIGKILL to "could not stop": the kernel may take a while under load


@dataclass(frozen=True)
class Proc:
    pid: int
    start: str  # clock ticks after boot: with the PID, one process for good
    what: str  # its program, for the report


def marker_env(folder) -> dict[str, str]:
    """The environment entry that marks a server started for `folder` as the lab's."""
    return {MARKER: str(Path(folder).resolve())}


def read_pid(path) -> int | None:
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat from the state on (field 3 is [0]), or None when there is no PID."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    """Whether the process has not ended.  A zombie has ended (only its parent's wait() is
    missing) unless threads of it still run: when the main thread exits first, ps shows the
    process <defunct> while its other threads go on (proc(5): /proc/PID/task)."""
    fields = _stat(pid)
    if fields is None:
        return False
    if fields[0] != "Z":
        return True
    try:
        return len(os.listdir(f"/proc/{pid}/task")) > 1
    except OSError:
        return False


def _read(pid: int, name: str) -> list[str]:
    """/proc/PID/<name> (cmdline, environ) split at NULs; a live thread's when the main
    thread has exited first (the process's own file then reads empty)."""
    try:
        data = Path(f"/proc/{pid}/{name}").read_bytes()
        for tid in [] if data else sorted(os.listdir(f"/proc/{pid}/task")):
            data = Path(f"/proc/{pid}/task/{tid}/{name}").read_bytes()
            if data:
                break
    except OSError:
        return []
    return data.decode(errors="replace").split("\0") if data else []


def _args(pid: int) -> list[str]:
    args = _read(pid, "cmdline")
    if len([a for a in args if a]) == 1 and " " in args[0]:
        # setproctitle (imported by ML2/OVN's neutron-server) rewrites the command line as
        # one string: its words are the arguments
        return args[0].split()
    return args


def _names(text: str, path: str) -> bool:
    """Whether `text` names `path` itself or something below it (not /lab10 for /lab1)."""
    return re.search(re.escape(path.rstrip("/")) + r"(?![^/,:\s\"'])", text) is not None


def identify(pid: int | None, program: str, marker: str) -> Proc | None:
    """The process `pid` if it runs `program` with `marker` (a path) in an argument."""
    if pid is None or pid in _lineage():
        return None
    args = _args(pid)
    if not args or not os.path.basename(args[0]).startswith(program):
        return None
    return current(pid) if any(_names(a, marker) for a in args[1:]) else None


def current(pid: int) -> Proc | None:
    """The process that has the PID `pid` now."""
    fields = _stat(pid)
    args = _args(pid)
    return Proc(pid, fields[19], os.path.basename(args[0]) if args and args[0] else "?") if fields else None


def _lineage() -> set[int]:
    """Our PID and our ancestors': never a lab server's, whatever names them."""
    found, pid = set(), os.getpid()
    while pid > 1 and pid not in found:
        found.add(pid)
        fields = _stat(pid)
        pid = int(fields[1]) if fields else 0
    return found


def _others() -> list[int]:
    skip = _lineage()
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in skip]


def find(program: str, marker: str) -> list[Proc]:
    """Every process that runs `program` with `marker` (a path) in an argument."""
    return [p for p in map(lambda pid: identify(pid, program, marker), _others()) if p]


def marked(folder) -> list[Proc]:
    """Every process marked as a server of the lab in `folder` or in a folder below it
    (as root every process's environment is readable; otherwise only our own user's,
    which then are the ones the lab starts)."""
    folder = str(Path(folder).resolve())
    found = []
    for pid in _others():
        values = [e.split("=", 1)[1] for e in _read(pid, "environ") if e.startswith(MARKER + "=")]
        proc = current(pid) if any(_names(v, folder) for v in values) else None
        if proc is not None:
            found.append(proc)
    return found


def _same(p: Proc) -> bool:
    fields = _stat(p.pid)
    return fields is not None and fields[19] == p.start


def _signal(pid: int, sig: int) -> None:
    os.kill(pid, sig)


def stop(procs: list[Proc], grace: float | None = None, kill_wait: float | None = None) -> list[str]:
    """SIGTERM each at once, SIGKILL those left after `grace` seconds (STOP_GRACE), and wait
    until every one has ended; returns one line for each still there `kill_wait` seconds
    (KILL_WAIT) later."""
    grace = STOP_GRACE if grace is None else grace
    kill_wait = KILL_WAIT if kill_wait is None else kill_wait
    left = list(procs)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, kill_wait)):
        left = [p for p in left if _same(p) and alive(p.pid)]
        for p in left:
            try:
                _signal(p.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass  # ended meanwhile; or not ours to signal, and then reported
        deadline = time.monotonic() + wait
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = [p for p in left if _same(p) and alive(p.pid)]
    return [f"{p.what} (PID {p.pid}) still runs {kill_wait:g} s after SIGKILL" for p in left]


def stopped(procs: list[Proc], grace: float | None = None) -> None:
    """`stop`, with a LabError of one line per process that would not end."""
    lines = stop(list(dict.fromkeys(procs)), grace)
    if lines:
        from osfsck_lab.hypervisors import LabError

        raise LabError("\n".join(lines))


def terminate(pid: int | None, program: str, marker: str, grace: float | None = None) -> None:
    """Stop the process `pid` if it still runs `program` with `marker` in an argument."""
    stopped([p for p in [identify(pid, program, marker)] if p], grace)
