"""Where a file osfsck replaces atomically (a report, a snapshot, the state file) is written.

The atomic way -- a temporary file renamed over the path -- is right for a regular file
only.  Renamed over /dev/null (`-o /dev/null`) it leaves a regular file where the device
was, and every later writer to /dev/null appends to it (ssh -F /dev/null then read it as
its configuration); renamed over a symlink it replaces the link, not the file it names."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def rename_target(path: str | os.PathLike[str]) -> Path | None:
    """The regular file to rename a new version over: `path` with its symlinks resolved
    (also when it does not exist yet); None when `path` is something else -- a device, a
    FIFO, /dev/stdout's pipe or terminal -- which is then written in place."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return Path(os.path.realpath(path))
    return Path(os.path.realpath(path)) if stat.S_ISREG(mode) else None


def write_in_place(path: str | os.PathLike[str], data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def write_atomically(path: str | os.PathLike[str], data: bytes, mode: int | None = None) -> None:
    """Replace the file at `path` with `data` so that a reader at any moment (node_exporter's
    textfile collector, a later run) finds the old content or the new, never part of one,
    and a crash leaves no partial file: a temporary file in the same folder (rename is
    atomic only within one filesystem), written to the disk, renamed over the file (over
    the file a symlink names); a device or a pipe, such as /dev/null, is written in place.
    `mode` is the new file's (0600 for what holds tenants' rows); None keeps the file's own,
    or gives what a plain write would under the umask."""
    target = rename_target(path)
    if target is None:
        write_in_place(path, data)
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)  # 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is None:
            mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    umask = os.umask(0)  # the only way to read it
    os.umask(umask)
    return umask
