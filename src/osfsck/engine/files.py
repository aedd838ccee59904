"""osfsck's own files (journal, state, lock, snapshots): 0600, in a folder osfsck makes
0700.  They hold before-images of tenants' rows and domain XML: nobody else's business."""

from __future__ import annotations

import os
from pathlib import Path

from osfsck.model.write_target import write_atomically


class PrivateFileError(OSError):
    """An own file could not be written; the message is one line naming it."""


def private_folder(path: Path) -> None:
    """Make `path`'s folder (0700) if it does not exist; an existing one is left as it is."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise PrivateFileError(f"cannot make the folder {path.parent}: {e.strerror}") from None


def open_private(path: Path, flags: int) -> int:
    """os.open with mode 0600 in a private folder."""
    private_folder(path)
    try:
        return os.open(path, flags | os.O_CREAT, 0o600)
    except OSError as e:
        raise PrivateFileError(f"cannot write {path}: {e.strerror}") from None


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` atomically with `data` (0600), in a private folder: a crash leaves the
    old file or the new (model/write_target.py)."""
    private_folder(path)
    try:
        write_atomically(path, data, 0o600)
    except OSError as e:
        raise PrivateFileError(f"cannot write {path}: {e.strerror}") from None
