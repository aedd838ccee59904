"""The repair journal: JSON lines, appended and fsynced before anything is written.

Each repair writes an "intent" record (with the before-image) before it acts, then an
"applied" or "failed" record, or "uncertain" when the write failed in a way that may have
made it (the answer lost, the subject no longer as the before-image has it); a repair
whose verification found it unsettled gets "unsettled" too; undo appends an "undone" record.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from osfsck.engine.files import open_private

log = logging.getLogger(__name__)


class JournalError(Exception):
    pass


class Journal:
    def __init__(self, path: str):
        self.path = Path(path)
        self.torn = False  # records() found the last line cut off

    def append(self, record: dict[str, Any]) -> None:
        try:
            fd = open_private(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as e:
            raise JournalError(f"cannot write the journal: {e}") from None
        data = memoryview((json.dumps(record, sort_keys=True, default=str) + "\n").encode())
        try:
            end = os.lseek(fd, 0, os.SEEK_END)
            keep = self._complete_end(end)
            if keep < end:
                if self._whole(keep, end):  # a person's last line, without its newline
                    os.write(fd, b"\n")
                    end += 1
                else:  # a record torn by a killed run: never acted on (see _complete_end)
                    os.ftruncate(fd, keep)
                    end = keep
            try:
                while data:
                    data = data[os.write(fd, data) :]
                os.fsync(fd)
            except OSError as e:
                # a full disk may take part of the record: cut it off again, or every later
                # reading of the journal (`journal`, `undo`) stops at a damaged line
                try:
                    os.ftruncate(fd, end)
                except OSError:
                    pass  # not a regular file (/dev/full): nothing of it was kept
                raise JournalError(f"cannot write the journal {self.path}: {e.strerror}") from None
        finally:
            os.close(fd)

    def _complete_end(self, end: int) -> int:
        """Where the journal's last whole line ends: `end`, unless a run was killed while
        writing a record (no newline at the end of the file), then where that record
        starts.  A torn record was never acted on: a repair acts only once its intent is
        written whole and fsynced, and a torn outcome leaves its intent without one."""
        if end == 0:
            return 0
        with open(self.path, "rb") as f:
            pos = end
            while pos > 0:
                start = max(0, pos - 65536)
                f.seek(start)
                chunk = f.read(pos - start)
                if pos == end and chunk.endswith(b"\n"):
                    return end
                cut = chunk.rfind(b"\n")
                if cut >= 0:
                    return start + cut + 1
                pos = start
        return 0

    def _whole(self, start: int, end: int) -> bool:
        with open(self.path, "rb") as f:
            f.seek(start)
            try:
                return self._record(0, f.read(end - start)) is not None
            except JournalError:
                return False

    def records(self) -> list[dict[str, Any]]:
        """Every record, each checked to be what `entries` and `undo` rely on: a JSON object
        with a non-empty string `id`, and strings where they read strings.  A journal that
        is not one (binary data, an array, a line without id) is one JournalError that
        names the file and line, never a TypeError.  A last line cut off by a killed run
        (no newline, not a whole record) is left out and `torn` set: the next append
        removes it."""
        self.torn = False
        try:
            with open(self.path, "rb") as f:
                lines = f.readlines()
            out = []
            for n, line in enumerate(lines, 1):
                try:
                    record = self._record(n, line)
                except JournalError:
                    if n == len(lines) and not line.endswith(b"\n"):
                        self.torn = True
                        log.warning(
                            "%s:%d: the last line is cut off (a run was stopped while writing it): left out; "
                            "the next repair or undo removes it",
                            self.path,
                            n,
                        )
                        continue
                    raise
                if record is not None:
                    out.append(record)
            return out
        except FileNotFoundError:
            return []
        except IsADirectoryError:
            raise JournalError(f"the journal {self.path} is a directory, not a file") from None
        except OSError as e:
            raise JournalError(f"cannot read the journal {self.path}: {e.strerror}") from None

    def _record(self, n: int, line: bytes) -> dict[str, Any] | None:
        where = f"{self.path}:{n}"
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise JournalError(
                f"{where}: damaged journal line: not UTF-8 text (byte 0x{line[e.start]:02x} at column {e.start + 1})"
            ) from None
        if not text.strip():
            return None
        try:
            record = json.loads(text)
        except RecursionError:
            raise JournalError(f"{where}: damaged journal line: JSON nested too deeply") from None
        except ValueError as e:  # JSONDecodeError, and integers of more than 4300 digits
            raise JournalError(f"{where}: damaged journal line ({' '.join(str(e).split())[:120]})") from None
        if not isinstance(record, dict):
            raise JournalError(f"{where}: damaged journal line: not a JSON object but {type(record).__name__}")
        if not isinstance(record.get("id"), str) or not record["id"]:
            raise JournalError(f"{where}: damaged journal line: its id is missing or not a string")
        for key in _TEXT_KEYS:
            if key in record and not isinstance(record[key], str):
                raise JournalError(f"{where}: damaged journal line: its {key} is not a string")
        if "target" in record and not isinstance(record["target"], dict):
            raise JournalError(f"{where}: damaged journal line: its target is not an object")
        return record

    def entries(self) -> list[dict[str, Any]]:
        """One entry per repair: its intent merged with its latest status."""
        by_id: dict[str, dict[str, Any]] = {}
        for r in self.records():
            e = by_id.setdefault(r["id"], {})
            e.update(r)
        return sorted(by_id.values(), key=lambda e: e.get("time") or "")


# what `osfsck journal` prints and `undo` looks repairs up by
_TEXT_KEYS = ("time", "status", "code", "check", "repair", "action", "safety", "fingerprint")


def new_id() -> str:
    now = dt.datetime.now(dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")
