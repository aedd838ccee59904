"""A scoped run end to end in the engine, on saved snapshots (`check --from SNAP --cell X`
narrows a whole snapshot as a live run of that scope reads): only findings inside, what
needs data outside said so, the scope in the result's snapshot; a scope naming no cell is
one configuration error; the state file forgets nothing a scoped run did not look at;
no repair touches a scope the run did not read."""

from __future__ import annotations

import pytest

from osfsck.config.settings import ConfigError, RepairSettings, Settings
from osfsck.engine import guards, state
from osfsck.engine.options import RunOptions
from osfsck.engine.run import _record, run
from osfsck.model.finding import Finding, Severity
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.refs import ObjectRef
from osfsck.model.scope import OUTSIDE_SCOPE, RunScope
from osfsck.model.snapshot import Snapshot
from tests.support.world import DAY, World


def two_cells(tmp_path) -> tuple[str, dict]:
    """A zombie on each cell's host (cell1: hv1, cell2: hv2), and on hv1 a domain whose
    instance is deleted in cell2 (a zombie only cell2 can tell): saved to a file."""
    w = World()
    ids = {}
    for cell, host in (("cell1", "hv1"), ("cell2", "hv2")):
        w.host(host, cell=cell)
        w.domain(host, w.instance(cell=cell, host=host))
        ids[cell] = w.instance(cell=cell, host=host, deleted=True, deleted_age=2 * DAY)
        w.domain(host, ids[cell])
    ids["across"] = w.instance(cell="cell2", host="hv2", deleted=True, deleted_age=2 * DAY)
    w.domain("hv1", ids["across"])
    path = str(tmp_path / "snap.json")
    w.snapshot().write(path)
    return path, ids


def settings(tmp_path) -> Settings:
    return Settings(repair=RepairSettings(journal=str(tmp_path / "osfsck" / "journal.jsonl")))


def check(tmp_path, path, scope=None):
    opts = RunOptions(select=["HV101"], from_snapshots=(path,), scope=scope)
    return run(settings(tmp_path), opts)


def test_a_saved_snapshot_checked_for_one_cell(tmp_path):
    path, ids = two_cells(tmp_path)
    whole = check(tmp_path, path)
    assert {f.subject.id for f in whole.findings} == {ids["cell1"], ids["cell2"], ids["across"]}
    cell1 = check(tmp_path, path, RunScope(cells=("cell1",)))
    assert [f.subject.id for f in cell1.findings] == [ids["cell1"]]
    # the domain on hv1 whose instance is cell2's: undecided, and said so
    [undecided] = cell1.inconclusive
    assert undecided.scope == OUTSIDE_SCOPE and "cell:cell2" in undecided.reason
    assert cell1.exit_code() == 4 | 8
    cell2 = check(tmp_path, path, RunScope(cells=("cell2",)))
    assert [f.subject.id for f in cell2.findings] == [ids["cell2"]] and cell2.inconclusive == []
    by_host = check(tmp_path, path, RunScope(hosts=("hv1",)))  # every cell read: decided
    assert {f.subject.id for f in by_host.findings} == {ids["cell1"], ids["across"]}
    assert by_host.inconclusive == []


def test_a_cell_the_snapshot_does_not_hold_is_a_configuration_error(tmp_path):
    path, _ = two_cells(tmp_path)
    with pytest.raises(ConfigError, match=r"--cell cell9: no cell of that name or uuid in the snapshot"):
        check(tmp_path, path, RunScope(cells=("cell9",)))


def test_a_snapshot_of_some_projects_is_not_checked_for_others(tmp_path):
    path, _ = two_cells(tmp_path)
    snap = Snapshot.read(path).narrowed(RunScope(projects=("project-a",)))
    snap.write(path)
    with pytest.raises(ConfigError, match=r"--project project-b: the snapshot was collected for --project project-a"):
        check(tmp_path, path, RunScope(projects=("project-b",)))
    assert check(tmp_path, path, RunScope(cells=("cell1",))).findings  # narrowed further: fine


def test_a_scoped_run_forgets_no_finding(tmp_path):
    """The state file keeps what a scoped run did not see (it may lie outside); recorded as
    a whole run, the same result would drop the two findings it did not see."""
    path, ids = two_cells(tmp_path)
    live = RunOptions(select=["HV101"])
    statefile = str(tmp_path / "osfsck" / "state.json")
    _record(settings(tmp_path), live, check(tmp_path, path), scoped=False)
    everything = set(state.load(statefile))
    assert len(everything) == 3
    cell1 = check(tmp_path, path, RunScope(cells=("cell1",)))
    _record(settings(tmp_path), live, cell1, scoped=True)
    assert set(state.load(statefile)) == everything
    _record(settings(tmp_path), live, cell1, scoped=False)
    assert set(state.load(statefile)) == {f.fingerprint for f in cell1.findings}


def test_the_completeness_guard_refuses_a_plan_that_touches_outside_the_scope():
    snap = Snapshot(taken_at=World().taken_at, scope=RunScope(cells=("cell1",)))  # a run of cell1
    inside = Finding("ZZ901", "x-y", Severity.LOW, ObjectRef("instance", "u1", "cell:cell1"), "m")
    plan = RepairPlan("fix-it", Safety.SAFE, inside, inside.subject, "fix", touches=("cell:cell2",))
    why = guards.completeness(inside, plan, snap, (), set())
    assert why == "cell:cell2 lies outside the run's scope (--cell cell1): not repaired in this run"
    plan = RepairPlan("fix-it", Safety.SAFE, inside, inside.subject, "fix")
    assert guards.completeness(inside, plan, snap, (), set()) is None
