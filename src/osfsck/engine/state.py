"""The state file: when osfsck first saw each finding, and in how many consecutive runs.

It gives the grace guard an age for findings whose subject records no change time of its
own (a domain no database knows, a DNS record, an OVN row), and `confirm_runs` its count.
Every live run records what it found (check as well as repair: the clock starts when an
operator first looks); a check of a saved snapshot records nothing.  A finding's entry
is dropped only when its check ran and neither found it nor was inconclusive in its scope.

Updates are read-modify-write under a short lock of their own, so a `check` never waits
for a `repair` holding the journal's lock, and two runs never lose each other's entries.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from osfsck.engine.files import open_private, write_private
from osfsck.model.finding import Finding

FORMAT = "osfsck-state/1"


class StateError(Exception):
    """The state file cannot be read or written; one line."""


class Seen(NamedTuple):
    code: str
    scope: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    runs: int  # consecutive runs it was seen in, this one included


def state_path(journal: str, state_file: str | None) -> str:
    """`[repair] state_file`, by default `state.json` beside the journal."""
    return state_file or str(Path(journal).parent / "state.json")


def load(path: str) -> dict[str, Seen]:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise StateError(f"cannot read the state file {path}: {e.strerror}") from None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not an osfsck state file (expected format {FORMAT})")
        return {
            fp: Seen(e["code"], e["scope"], _when(e["first_seen"]), _when(e["last_seen"]), int(e["runs"]))
            for fp, e in data["findings"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise StateError(
            f"the state file {path} is damaged ({_first_line(e)}); move it aside to start counting afresh"
        ) from None


def record(path: str, now: dt.datetime, findings: list[Finding], ran: dict[str, set[str]]) -> dict[str, Seen]:
    """Add this run's findings (taken at `now`) to the state file and return the result.
    `ran` maps each check code that ran to the scopes it could not decide."""
    with _locked(path):
        seen = load(path)
        found = {f.fingerprint: f for f in findings}
        for fp, s in list(seen.items()):
            if fp not in found and s.code in ran and s.scope not in ran[s.code]:
                del seen[fp]
        for fp, f in found.items():
            old = seen.get(fp)
            seen[fp] = Seen(f.code, f.subject.scope, old.first_seen if old else now, now, (old.runs if old else 0) + 1)
        data = {
            "format": FORMAT,
            "findings": {
                fp: {
                    "code": s.code,
                    "scope": s.scope,
                    "first_seen": s.first_seen.isoformat(),
                    "last_seen": s.last_seen.isoformat(),
                    "runs": s.runs,
                }
                for fp, s in sorted(seen.items())
            },
        }
        try:
            write_private(Path(path), json.dumps(data, indent=1).encode())
        except OSError as e:
            raise StateError(str(e)) from None
    return seen


@contextmanager
def _locked(path: str) -> Iterator[None]:
    try:
        fd = open_private(Path(path + ".lock"), os.O_RDWR)
    except OSError as e:
        raise StateError(str(e)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _when(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise TypeError(f"a time must be a string, not {type(value).__name__}")
    return dt.datetime.fromisoformat(value)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
