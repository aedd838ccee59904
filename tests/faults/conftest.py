"""The fault-injection suite's lab and its judge.

One lab cloud (seed 15, SQLite) serves every module of this package: faults are injected
into it and removed again, and what a scenario's repairs applied is undone, so the next
scenario finds the planted faults in place.  Every scenario is judged by `judge` on the
four promises: the exit code says what happened, nothing is applied in a scope that was
not read completely (or that truth.json does not name), every change in the lab has an
"applied" journal record naming it (and every intent an outcome), and each failed source
gets one line on stderr, with no traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.faults import labstate
from tests.support.cli import built_lab, found, journal, osfsck, truth, variant

SEED = 15


@dataclass
class Lab:
    path: Path
    baseline: dict  # `check --format json` of the lab as built
    truth: set = field(default_factory=set)

    @property
    def config(self) -> Path:
        return self.path / "osfsck.toml"

    @property
    def info(self) -> dict:
        return json.loads((self.path / "lab.json").read_text())

    def finding(self, fingerprint: str) -> dict | None:
        return next((f for f in self.baseline["findings"] if f["fingerprint"] == fingerprint), None)

    def scopes_of(self, code: str) -> set[str]:
        """The subject scopes of the planted faults of `code`."""
        return {f["subject"]["scope"] for f in self.baseline["findings"] if f["code"] == code}

    def variant(self, name: str, *edits: tuple[str, str], append: str = "") -> Path:
        """The lab's config with each (regex, replacement) applied once, and `append` added."""
        text = self.config.read_text()
        for pattern, repl in edits:
            text, n = re.subn(pattern, repl, text, count=1)
            assert n == 1, f"{pattern!r} is not in the lab's config"
        return variant(self.path, name, text + append)


@pytest.fixture(scope="package")
def lab():
    with built_lab(SEED) as out:
        p = osfsck("check", "--format", "json", config=out / "osfsck.toml")
        # the suite judges repairs against truth.json: the lab must be the one it describes
        assert p.returncode == 4 and found(p) == truth(out), p.stderr
        yield Lab(out, json.loads(p.stdout), truth(out))


@dataclass
class Run:
    proc: subprocess.CompletedProcess
    report: dict | None
    records: list[dict]  # the journal records this run appended
    changes: dict[str, set[str]]  # what changed in the lab meanwhile

    @property
    def applied(self) -> list[dict]:
        return self._intents("applied")

    @property
    def written(self) -> list[dict]:
        """The repairs the journal says were, or may have been, made ("uncertain": a write
        whose answer was lost)."""
        return self._intents("applied", "uncertain")

    def _intents(self, *statuses: str) -> list[dict]:
        done = {r["id"] for r in self.records if r["status"] in statuses}
        return [r for r in self.records if r["status"] == "intent" and r["id"] in done]

    @property
    def stderr_lines(self) -> list[str]:
        return self.proc.stderr.splitlines()


def run_under_fault(
    lab: Lab, *args: str, config: Path | None = None, inject=None, db_urls=None, timeout: float = 600
) -> Run:
    """Capture the lab, run `osfsck args` (with `inject`, a context manager, around it),
    capture the lab again."""
    before = labstate.capture(lab.path, db_urls)
    start = len(journal(lab.path))
    if inject is None:
        proc = osfsck(*args, config=config or lab.config, timeout=timeout)
    else:
        with inject:
            proc = osfsck(*args, config=config or lab.config, timeout=timeout)
    after = labstate.capture(lab.path, db_urls)
    try:
        report = json.loads(proc.stdout) if proc.stdout.startswith("{") else None
    except ValueError:
        report = None
    return Run(proc, report, journal(lab.path)[start:], labstate.changes(before, after))


def judge(
    lab: Lab,
    run: Run,
    *,
    exit_code: int | set[int],
    failed: dict[str, str | tuple[str, ...]] | None = None,
    protected: set[str] = frozenset(),
    concerning: set[str] = frozenset(),
) -> None:
    """The four promises, for a run under a fault.

    exit_code: what osfsck must exit with (or the codes it may exit with);
    failed:    {"<source> <scope>": text in its reason}: exactly these sources failed, each
               with one stderr line;
    protected: scopes that were not read completely: nothing may be applied there;
    concerning: ids of objects osfsck could not read (a cell's instances, Cinder's volumes):
               nothing may be applied to one, or to something related to one."""
    p = run.proc
    out = p.stdout[-3000:] + "\n--- stderr:\n" + p.stderr[-3000:]
    codes = {exit_code} if isinstance(exit_code, int) else exit_code
    _tabulate(run, codes)
    assert p.returncode in codes, out
    # (4) one clear line per failed source, and nothing else but warnings; no traceback
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout, out
    assert all(line.startswith("osfsck: ") for line in run.stderr_lines), out
    if failed is not None:
        lines = [line for line in run.stderr_lines if not line.startswith("osfsck: warning: ")]
        assert len(lines) == len(failed), out
        for what, why in failed.items():
            hits = [line for line in lines if line.startswith(f"osfsck: {what}: ")]
            whys = why if isinstance(why, tuple) else (why,)  # any of these words
            assert len(hits) == 1 and any(w in hits[0] for w in whys), (what, why, out)
        if run.report is not None:
            # (1) no "consistent" while something was not read
            assert run.report["complete"] is (not failed), out
            assert {s["name"] + " " + s["scope"] for s in run.report["sources"] if s["status"] != "ok"} == set(failed)
    # (2) zero false repairs
    for intent in run.written:
        f = lab.finding(intent["fingerprint"])
        assert f is not None and (f["code"], f["subject"]["id"]) in lab.truth, ("not a planted fault", intent)
        scopes = {f["subject"]["scope"], intent["target"]["scope"]} | {r["scope"] for r in f.get("related", [])}
        assert not scopes & set(protected), ("applied in a scope not read completely", intent["code"], scopes)
        # what the repair acts on and names: not the evidence it was judged by
        named = mentions(json.dumps([f["subject"], f.get("related"), intent["target"], intent["params"]]), concerning)
        assert not named, ("applied although it concerns what was not read", intent["code"], sorted(named)[:3])
    # (3) zero unjournaled writes: every change is named by an applied (or uncertain)
    # record, every intent has its outcome
    names = labstate.journal_names([r for r in run.records if r["id"] in {i["id"] for i in run.written}])
    unexplained = {k: sorted(v) for k, v in run.changes.items() if not v & names}
    assert not unexplained, ("changed without an applied journal record", unexplained)
    outcomes = {r["id"] for r in run.records if r["status"] in ("applied", "failed", "uncertain")}
    assert {r["id"] for r in run.records if r["status"] == "intent"} <= outcomes, run.records


def _tabulate(run: Run, codes: set[int]) -> None:
    """With OSFSCK_FAULT_TABLE=FILE, one JSON line per judged run: the figures of the
    closing note (fault, repairs applied, lab changes, exit code expected and got)."""
    path = os.environ.get("OSFSCK_FAULT_TABLE")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(
                json.dumps(
                    {
                        "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
                        "expected": sorted(codes),
                        "got": run.proc.returncode,
                        "applied": len(run.applied),
                        "changes": len(run.changes),
                    }
                )
                + "\n"
            )


def exit_for(run: Run, incomplete: bool = True) -> int:
    """The exit code a run must have given what it did: 1 when the journal says it applied
    something, 4 when a finding of its report was left, 8 when a scope was not read."""
    fixed = {i["fingerprint"] for i in run.applied}
    left = run.report is not None and any(f["fingerprint"] not in fixed for f in run.report["findings"])
    return (1 if run.applied else 0) | (4 if left else 0) | (8 if incomplete else 0)


def mentions(text: str, ids: set[str]) -> set[str]:
    """The ids that occur in `text` whole ("10.0.0.1" is not in "10.0.0.12", a volume id is
    in "iqn...:volume-<id>")."""
    return {i for i in ids if re.search(rf"(?<![\w.]){re.escape(i)}(?!\w|\.\d)", text)}


@contextmanager
def after_the_scan(lab, act):
    """Call `act()` once the running osfsck has taken its snapshot and recorded its
    findings (its state file changes), before it re-checks and repairs anything."""
    state = lab.path / "osfsck" / "state.json"
    before = state.stat().st_mtime_ns if state.exists() else 0
    done = threading.Event()
    undo, errors = [], []

    def watch():
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if state.exists() and state.stat().st_mtime_ns != before:
                try:
                    undo.append(act())
                except Exception as e:  # noqa: BLE001 - raised again in the test's thread
                    errors.append(e)
                done.set()
                return
            time.sleep(0.01)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        yield done
    finally:
        t.join(5)
        if errors:
            raise errors[0]
        assert done.is_set(), "osfsck never recorded its findings"
        undo[0]()


def undo_applied(lab: Lab, run: Run) -> None:
    """Put back what a scenario's repairs changed, for the next scenario (an uncertain
    write is the scenario's to put back)."""
    ids = [r["id"] for r in run.applied]
    if ids:
        p = osfsck("undo", *ids, "--yes", config=lab.config)
        assert p.returncode == 0, p.stdout + p.stderr


@pytest.fixture
def scenario(lab):
    """run_under_fault bound to the lab; whatever the runs applied is undone afterwards,
    passed or failed, so the next scenario finds the planted faults."""
    runs: list[Run] = []

    def run(*args, **kwargs) -> Run:
        runs.append(run_under_fault(lab, *args, **kwargs))
        return runs[-1]

    yield run
    for r in reversed(runs):
        undo_applied(lab, r)
