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
    seen = state.record(path, T2, [a, b], {"HV102": set()}).seen
    assert seen[a.fingerprint].first_seen == T1 and seen[a.fingerprint].runs == 2
    assert seen[b.fingerprint].first_seen == T2 and seen[b.fingerprint].runs == 1
    assert state.load(path) == seen


def test_an_entry_is_dropped_only_when_its_check_ran_and_decided_its_scope(tmp_path):
    path = str(tmp_path / "state.json")
    a, b, c = finding(1), finding(2, scope="host:hv2"), finding(3, code="NV201", scope="api")
    state.record(path, T1, [a, b, c], {"HV102": set(), "NV201": set()})
    # HV102 ran, found neither; hv2 could not be decided; NV201 did not run (--select HV)
    seen = state.record(path, T2, [], {"HV102": {"host:hv2"}}).seen
    assert set(seen) == {b.fingerprint, c.fingerprint}
    # seen again later: the count starts afresh for a (it was gone), b keeps its first sight
    seen = state.record(path, T2, [a, b], {"HV102": set()}).seen
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


# -- the run-to-run diff ----------------------------------------------------------------------
def test_record_names_what_it_dropped_as_fixed_with_its_subject(tmp_path):
    path = str(tmp_path / "state.json")
    a, b, c = finding(1), finding(2, scope="host:hv2"), finding(3, code="NV201", scope="api")
    state.record(path, T1, [a, b, c], {"HV102": set(), "NV201": set()})
    # a is gone; hv2 undecided (b neither fixed nor kept as seen); NV201 did not run
    rec = state.record(path, T2, [], {"HV102": {"host:hv2"}})
    assert list(rec.fixed) == [a.fingerprint]
    gone = rec.fixed[a.fingerprint]
    assert (gone.code, gone.scope, gone.kind, gone.id, gone.first_seen) == ("HV102", "host:hv1", "domain", "d1", T1)
    assert set(rec.seen) == {b.fingerprint, c.fingerprint}


def test_a_check_undecided_everywhere_drops_nothing(tmp_path):
    # a check whose inputs were read nowhere is inconclusive at "*": it decided no scope,
    # so what it found before is neither gone nor fixed
    path = str(tmp_path / "state.json")
    a = finding(1)
    state.record(path, T1, [a], {"HV102": set()})
    rec = state.record(path, T2, [], {"HV102": {"*"}})
    assert set(rec.seen) == {a.fingerprint} and not rec.fixed


def test_a_state_file_of_before_the_subjects_were_kept_still_loads(tmp_path):
    path = tmp_path / "state.json"
    entry = {"code": "HV102", "scope": "host:hv1", "first_seen": T1.isoformat(), "last_seen": T1.isoformat(), "runs": 1}
    path.write_text(json.dumps({"format": state.FORMAT, "findings": {"ab": entry}}))
    assert state.load(str(path))["ab"].id == ""
