"""One writer at a time: an OS file lock beside the journal.

`repair`, `undo` and `purge-quarantine` hold it for their whole run; `check` and `collect`
change nothing and never wait for it.  The lock is flock(2) on `<journal>.lock`: the
kernel drops it when the holder dies, however it dies, so a crashed run never leaves a
stale lock behind.  The file also says who holds it, for the one line a second run prints.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from osfsck.engine.files import open_private


class LockHeld(Exception):
    """Another osfsck writes to this journal now; the message names it."""


def lock_path(journal: str) -> Path:
    return Path(journal + ".lock")


@contextmanager
def exclusive(journal: str, command: str) -> Iterator[None]:
    """Hold the journal's writer lock for the duration, or raise LockHeld at once."""
    path = lock_path(journal)
    fd = open_private(path, os.O_RDWR)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(
                f"another osfsck is writing through {journal}: {_holder(fd)}; try again when it has finished"
            ) from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command,
            "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # left empty: nobody holds it
    finally:
        os.close(fd)  # closing drops the lock


def _holder(fd: int) -> str:
    try:
        h = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {h['pid']} on {h['host']} ({h['command']}, since {h['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process whose details are not recorded yet"
