"""The state file (first seen, consecutive runs) and the journal's writer lock."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import signal
import stat
import subprocess
import sys

import pytest

from osfsck.engine import state
from osfsck.engine.lock import LockHeld, exclusive
from osfsck.model.finding import Finding, Severity
from osfsck.model.refs import ObjectRef

T1 = dt.datetime(2026, 11, 24, 12, 0)
T2 = T1 + dt.timedelta(hours=1)


def finding(n: int, code: str = "HV102", scope: str = "host:hv1") -> Finding:
    return Finding(code, "x-y", Severity.HIGH, ObjectRef("domain", f"d{n}", scope), "m")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# -- state --------------------------------------------------------------------------------
def test_first_seen_is_kept_and_runs_are_counted(tmp_path):
    path = str(tmp_path / "osfsck" / "state.json")
    a, b = finding(1), finding(2)
    state.record(path, T1, [a], {"HV102": set()})
    seen = state.record(path, T2, [a, b], {"HV102": set()})
    assert seen[a.fingerprint].first_seen == T1 and seen[a.fingerprint].runs == 2
    assert seen[b.fingerprint].first_seen == T2 and seen[b.fingerprint].runs == 1
    assert state.load(path) == seen


def test_an_entry_is_dropped_only_when_its_check_ran_and_decided_its_scope(tmp_path):
    path = str(tmp_path / "state.json")
    a, b, c = finding(1), finding(2, scope="host:hv2"), finding(3, code="NV201", scope="api")
    state.record(path, T1, [a, b, c], {"HV102": set(), "NV201": set()})
    # HV102 ran, found neither; hv2 could not be decided; NV201 did not run (--select HV)
    seen = state.record(path, T2, [], {"HV102": {"host:hv2"}})
    assert set(seen) == {b.fingerprint, c.fingerprint}
    # seen again later: the count starts afresh for a (it was gone), b keeps its first sight
    seen = state.record(path, T2, [a, b], {"HV102": set()})
    assert seen[a.fingerprint].first_seen == T2 and seen[b.fingerprint].first_seen == T1
    assert seen[b.fingerprint].runs == 2


def test_state_files_are_private(tmp_path):
    path = tmp_path / "osfsck" / "state.json"
    state.record(str(path), T1, [finding(1)], {"HV102": set()})
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff binary",
        b"[]",
        b'{"format": "osfsck-state/1"}',
        b'{"format": "osfsck-state/1", "findings": {"x": {"code": 1}}}',
        b'{"format": "osfsck-state/1", "findings": {"x": {"code": "A", "scope": "s", '
        b'"first_seen": 5, "last_seen": "2026-01-01", "runs": 1}}}',
        b"[" * 100000,
    ],
)
def test_a_damaged_state_file_is_one_line_and_kept(tmp_path, content):
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(state.StateError) as e:
        state.record(str(path), T1, [finding(1)], {"HV102": set()})
    assert "damaged" in str(e.value) and "\n" not in str(e.value)
    assert path.read_bytes() == content  # nothing lost


def test_the_default_state_file_is_beside_the_journal():
    assert state.state_path("/var/lib/osfsck/journal.jsonl", None) == "/var/lib/osfsck/state.json"
    assert state.state_path("/var/lib/osfsck/journal.jsonl", "/srv/s.json") == "/srv/s.json"


def _record_many(path: str, start: int) -> None:
    for n in range(start, start + 40):
        state.record(path, T1, [finding(n, code=f"HV{n:03d}")], {f"HV{n:03d}": set()})


def test_two_runs_recording_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "state.json")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_record_many, args=(path, s)) for s in (100, 200)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert len(state.load(path)) == 80


# -- lock ---------------------------------------------------------------------------------
HOLD = """
import sys, time
from osfsck.engine.lock import exclusive
with exclusive(sys.argv[1], "repair-unsafe"):
    print("held", flush=True)
    time.sleep(60)
"""


def _holder(journal: str) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", HOLD, journal], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    journal = str(tmp_path / "osfsck" / "journal.jsonl")
    p = _holder(journal)
    try:
        with pytest.raises(LockHeld) as e:
            with exclusive(journal, "undo"):
                pytest.fail("entered a held lock")
        assert f"pid {p.pid}" in str(e.value) and "repair-unsafe" in str(e.value) and "\n" not in str(e.value)
    finally:
        p.kill()
        p.wait()
    assert mode(journal + ".lock") == 0o600 and mode(tmp_path / "osfsck") == 0o700


def test_the_lock_dies_with_its_holder(tmp_path):
    journal = str(tmp_path / "journal.jsonl")
    p = _holder(journal)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    with exclusive(journal, "repair"):
        pass


def test_the_lock_is_released_on_exit_and_on_error(tmp_path):
    journal = str(tmp_path / "journal.jsonl")
    with exclusive(journal, "repair"):
        pass
    with pytest.raises(RuntimeError):
        with exclusive(journal, "repair"):
            raise RuntimeError("boom")
    with exclusive(journal, "undo"):
        assert json.loads(open(journal + ".lock").read())["command"] == "undo"
    with exclusive(journal, "repair"):
        pass
