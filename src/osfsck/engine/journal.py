"""The repair journal: JSON lines, appended and fsynced before anything is written.

Each repair writes an "intent" record (with the before-image) before it acts, then an
"applied" or "failed" record; undo appends an "undone" record.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from pathlib import Path

from osfsck.engine.files import open_private


class JournalError(Exception):
    pass


class Journal:
    def __init__(self, path: str):
        self.path = Path(path)

    def append(self, record: dict) -> None:
        try:
            fd = open_private(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as e:
            raise JournalError(f"cannot write the journal: {e}") from None
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, sort_keys=True, default=str) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def records(self) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError:
                        raise JournalError(f"{self.path}:{n}: damaged journal line") from None
        return out

    def entries(self) -> list[dict]:
        """One entry per repair: its intent merged with its latest status."""
        by_id: dict[str, dict] = {}
        for r in self.records():
            e = by_id.setdefault(r["id"], {})
            e.update(r)
        return sorted(by_id.values(), key=lambda e: e.get("time", ""))


def new_id() -> str:
    now = dt.datetime.now(dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")
