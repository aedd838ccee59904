"""Scoping, batching and plan files as an operator meets them, on one lab cloud (two cells,
two hosts each), osfsck run as a separate process (the counting test in-process, to see the
drivers' connections): a one-cell run does not open the other cells' databases nor reach
their hosts, reports only inside, and says what it could not decide; a scope naming no cell
is one line; `repair --max-count` leaves the rest for the next run; a reviewed plan file
applies exactly what it holds, an edited one nothing.  The tests run in file order: those
that repair come last."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from tests.sources.test_scoped_sources import Reads
from tests.support.cli import built_lab, journal, osfsck, start_osfsck

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def lab():
    with built_lab(2) as out:
        yield out


def config(lab: Path) -> Path:
    return lab / "osfsck.toml"


def check(lab: Path, *args: str) -> dict:
    p = osfsck("check", "--format", "json", *args, config=config(lab))
    assert p.returncode in (0, 4, 12), p.stderr
    return json.loads(p.stdout)


def where(f: dict) -> str:
    return f["subject"]["scope"]


def test_a_one_cell_run_reads_only_that_cell_and_reports_only_inside(lab):
    whole, cell1 = check(lab), check(lab, "--cell", "cell1")
    assert cell1["scope"] == {"cells": ["cell1"], "hosts": [], "projects": []}
    read = {s["scope"] for s in cell1["sources"] if s["scope"].startswith(("cell:", "host:"))}
    assert read == {"cell:cell1", "host:c1-hv001", "host:c1-hv002"}
    found = {f["fingerprint"] for f in cell1["findings"]}
    assert found and found <= {f["fingerprint"] for f in whole["findings"]}  # nothing not read made a finding
    assert not any(where(f) in ("cell:cell2", "host:c2-hv001", "host:c2-hv002") for f in cell1["findings"])
    # what needs cell2 to be decided is said so, and makes the run INCOMPLETE
    outside = [i for i in cell1["inconclusive"] if i["scope"] == "outside-scope"]
    assert outside and all("cell:cell2" in i["reason"] or "cell:cell0" in i["reason"] for i in outside)
    assert cell1["complete"] is False and cell1["exit_code"] & 8


def test_a_one_cell_run_opens_no_other_cells_database(lab):
    from osfsck.cli.main import main

    counts = {}
    for name, args in (("whole", []), ("cell1", ["--cell", "cell1"])):
        with Reads() as reads, contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            main(["-c", str(config(lab)), "check", "--format", "json", *args])
        counts[name] = reads
    whole, cell1 = counts["whole"], counts["cell1"]
    # a whole run opens each cell's database twice: its host list first, then the rest
    assert whole.connections["nova_cell2"] == 2 and whole.connections["nova_cell0"] == 2
    assert "nova_cell2" not in cell1.connections and "nova_cell0" not in cell1.connections
    assert cell1.selects["nova_cell1"] == whole.selects["nova_cell1"] > 0
    assert sum(cell1.selects.values()) < sum(whole.selects.values())


def test_a_one_host_run_reaches_only_that_host(lab):
    one = check(lab, "--host", "c2-hv00[1]")
    hosts = {s["scope"] for s in one["sources"] if s["scope"].startswith("host:")}
    assert hosts == {"host:c2-hv001"}
    assert not any(where(f).startswith("host:") and where(f) != "host:c2-hv001" for f in one["findings"])


def test_a_scope_naming_nothing_is_one_clear_line(lab):
    for args, says in (
        (
            ("--cell", "cell9"),
            "--cell cell9: no cell of that name or uuid in cell_mappings (cells: cell0, cell1, cell2)",
        ),
        (("--host", "nope-*"), "--host 'nope-*': no compute host Nova lists"),
    ):
        p = osfsck("check", *args, config=config(lab))
        assert p.returncode == 16 and p.stdout == ""
        assert p.stderr.count("\n") == 1 and says in p.stderr


def test_repair_max_count_leaves_the_rest_for_the_next_run(lab):
    many = [f for f in check(lab)["findings"] if f["code"] == "HV110"]
    assert len(many) >= 2
    first = osfsck(
        "repair",
        "--yes",
        "--unsafe",
        "--grace",
        "0",
        "--select",
        "HV110",
        "--max-count",
        "1",
        "--format",
        "json",
        config=config(lab),
    )
    d = json.loads(first.stdout)
    outcomes = sorted(p["outcome"] for p in d["repairs"])
    assert outcomes.count("applied") == 1 and "left" in outcomes and first.returncode == 5
    assert {p["reason"] for p in d["repairs"] if p["outcome"] == "left"} == {"left: batch limit (--max-count 1)"}
    done = {p["target"]["id"] for p in d["repairs"] if p["outcome"] == "applied"}
    second = osfsck(
        "repair",
        "--yes",
        "--unsafe",
        "--grace",
        "0",
        "--select",
        "HV110",
        "--max-count",
        "1",
        "--format",
        "json",
        config=config(lab),
    )
    again = {p["target"]["id"] for p in json.loads(second.stdout)["repairs"] if p["outcome"] == "applied"}
    assert len(again) == 1 and not again & done  # the next one


def test_a_reviewed_plan_applies_exactly_what_it_holds_and_an_edited_one_nothing(lab, tmp_path):
    plan = tmp_path / "plan.json"
    p = osfsck("check", "--plan-out", str(plan), config=config(lab))
    assert p.returncode == 4 and "wrote" in p.stderr
    data = json.loads(plan.read_text())
    safe = [e for e in data["plans"] if e["safety"] == "safe"]
    assert len(safe) >= 2
    chosen = safe[0]
    reviewed = tmp_path / "reviewed.json"
    reviewed.write_text(json.dumps({**data, "plans": [chosen]}))
    # an edit that points the chosen plan at another object: refused whole, nothing written
    edited = tmp_path / "edited.json"
    other = json.loads(json.dumps(chosen))
    other["target"]["id"] = safe[1]["target"]["id"]
    edited.write_text(json.dumps({**data, "plans": [other]}))
    before = journal(lab)
    p = osfsck("repair", "--yes", "--grace", "0", "--plan", str(edited), config=config(lab))
    assert p.returncode == 16 and "edited beyond removing entries" in p.stderr and p.stderr.count("\n") == 1
    assert journal(lab) == before
    # one writer at a time: while another holds the journal's lock, one line and exit 8
    from osfsck.engine.lock import exclusive

    with exclusive(str(lab / "osfsck" / "journal.jsonl"), "repair"):
        p = osfsck("repair", "--yes", "--grace", "0", "--plan", str(reviewed), config=config(lab))
        assert p.returncode == 8 and "another osfsck is writing through" in p.stderr and p.stderr.count("\n") == 1
    # two at once: the plan is applied once
    runs = [
        start_osfsck("repair", "--yes", "--grace", "0", "--plan", str(reviewed), "--format", "json", config=config(lab))
        for _ in range(2)
    ]
    outs = [(r.wait(600), r.stdout.read()) for r in runs]
    # one applies it; the other waited for nothing: the lock was held (8), or it came after
    # and found the finding gone (0, or 4 for others the file does not hold)
    assert sorted(code & 1 for code, _ in outs) == [0, 1], [code for code, _ in outs]
    d = json.loads(next(out for code, out in outs if code & 1))
    applied = [r for r in d["repairs"] if r["outcome"] == "applied"]
    assert [r["fingerprint"] for r in applied] == [chosen["fingerprint"]]
    assert {r["reason"] for r in d["repairs"] if r["outcome"] == "skipped"} <= {"not in the plan file"}
    intents = [e for e in journal(lab)[len(before) :] if e["status"] == "intent"]
    assert [e["fingerprint"] for e in intents] == [chosen["fingerprint"]]
    # the same file again: its finding is gone, nothing applied
    p = osfsck("repair", "--yes", "--grace", "0", "--plan", str(reviewed), config=config(lab))
    assert "its finding is gone" in p.stderr and len(journal(lab)) == len(before) + 2
