"""The state file: when osfsck first saw each finding, and in how many consecutive runs.

It gives the grace guard an age for findings whose subject records no change time of its
own (a domain no database knows, a DNS record, an OVN row), and `confirm_runs` its count.
Every live run records what it found (check as well as repair: the clock starts when an
operator first looks); a check of a saved snapshot records nothing.  A finding's entry
is dropped only when its check ran and neither found it nor was inconclusive in its scope
(nor anywhere, "*"): that is what the run-to-run diff calls fixed.

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
from osfsck.model.snapshot import ANYWHERE

FORMAT = "osfsck-state/1"


class StateError(Exception):
    """The state file cannot be read or written; one line."""


class Seen(NamedTuple):
    code: str
    scope: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    runs: int  # consecutive runs it was seen in, this one included
    # the subject and check, to name a finding once it is fixed (absent in older files)
    kind: str = ""
    id: str = ""
    name: str = ""


class Recorded(NamedTuple):
    seen: dict[str, Seen]  # the state file after this run
    fixed: dict[str, Seen]  # entries this run dropped: their check decided their scope and did not find them


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
            fp: Seen(
                e["code"],
                e["scope"],
                _when(e["first_seen"]),
                _when(e["last_seen"]),
                int(e["runs"]),
                str(e.get("kind", "")),
                str(e.get("id", "")),
                str(e.get("name", "")),
            )
            for fp, e in data["findings"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise StateError(
            f"the state file {path} is damaged ({_first_line(e)}); move it aside to start counting afresh"
        ) from None


def record(path: str, now: dt.datetime, findings: list[Finding], ran: dict[str, set[str]]) -> Recorded:
    """Add this run's findings (taken at `now`) to the state file and return the result
    and what it dropped.  `ran` maps each check code that ran to the scopes it could not
    decide."""
    with _locked(path):
        seen = load(path)
        found = {f.fingerprint: f for f in findings}
        fixed = {
            fp: s
            for fp, s in seen.items()
            if fp not in found and s.code in ran and s.scope not in ran[s.code] and ANYWHERE not in ran[s.code]
        }
        for fp in fixed:
            del seen[fp]
        for fp, f in found.items():
            old = seen.get(fp)
            first, runs = (old.first_seen, old.runs + 1) if old else (now, 1)
            seen[fp] = Seen(f.code, f.subject.scope, first, now, runs, f.subject.kind, f.subject.id, f.name)
        data = {
            "format": FORMAT,
            "findings": {
                fp: {
                    "code": s.code,
                    "scope": s.scope,
                    "first_seen": s.first_seen.isoformat(),
                    "last_seen": s.last_seen.isoformat(),
                    "runs": s.runs,
                    "kind": s.kind,
                    "id": s.id,
                    "name": s.name,
                }
                for fp, s in sorted(seen.items())
            },
        }
        try:
            write_private(Path(path), json.dumps(data, indent=1).encode())
        except OSError as e:
            raise StateError(str(e)) from None
    return Recorded(seen, fixed)


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
