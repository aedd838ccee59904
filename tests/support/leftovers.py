"""What a lab left running: every process that names one of the lab's folders in its
arguments or in any of its environment values (HOME=, RABBITMQ_*=, TMPDIR=...).

The tests' own oracle, independent of how the lab marks and finds its servers: it reads
/proc itself (as root every process's environment is readable, the lab's libvirtd and
QEMU run as another user).  A process that has ended is not counted: a zombie whose every
thread has exited waits only for its parent's wait().  Its own process and its ancestors
(pytest, a shell) are not counted either.
"""

from __future__ import annotations

import os
import re
from pathlib import Path


def _ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    return pids


def _ended(proc: Path) -> bool:
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        return state == "Z" and len(os.listdir(proc / "task")) <= 1
    except (OSError, IndexError):
        return True


def _args_and_env(proc: Path) -> tuple[list[str], list[str]]:
    """Its arguments and environment; those of a live thread when its leader thread has
    exited before the others (its own files then read empty)."""
    for where in [proc] + sorted((proc / "task").iterdir()):
        args = (where / "cmdline").read_bytes()
        if args:
            return (
                args.decode(errors="replace").split("\0"),
                (where / "environ").read_bytes().decode(errors="replace").split("\0"),
            )
    return [], []


def leftovers(*folders) -> list[str]:
    """One line (PID, user id, command) per live process naming one of `folders`."""
    names = [re.compile(re.escape(str(f).rstrip("/")) + r"(?![^/,:\s\"'])") for f in folders]
    skip = _ancestors()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in skip:
            continue
        try:
            args, env = _args_and_env(proc)
            uid = (proc / "status").read_text().split("\nUid:", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        values = args + [e.partition("=")[2] for e in env]
        if any(n.search(v) for n in names for v in values) and not _ended(proc):
            command = " ".join(args).strip() or f"[{(proc / 'comm').read_text().strip()}]"
            found.append(f"{proc.name} uid={uid}: {command[:200]}")
    return found
