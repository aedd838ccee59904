"""Where a file osfsck replaces atomically (a report, a snapshot, the state file) is written.

The atomic way -- a temporary file renamed over the path -- is right for a regular file
only.  Renamed over /dev/null (`-o /dev/null`) it leaves a regular file where the device
was, and every later writer to /dev/null appends to it (ssh -F /dev/null then read it as
its configuration); renamed over a symlink it replaces the link, not the file it names."""

from __future__ import annotations

import os
import stat
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
