"""`openstack fsck check|repair --new-only` as `osfsck check --new-only`: only the findings
first seen in this run (the state file's diff), the exit status still the whole run's, and
refused before anything runs where there is nothing to compare (--from).  Through the
plugin's own run (common.run_rows), which commands.py hands to cliff: osc-lib is not in
osfsck's virtualenv, and the `openstack` integration tests run another tree."""

from __future__ import annotations

import pytest

from osfsck.cli import main as cli
from osfsck.osc import common
from tests.osc.test_plugin_parts import parser_for
from tests.report.test_render import diffed


@pytest.fixture
def ran(monkeypatch):
    """run_command gives a run whose v1 is new and v2 persists (exit 4: findings left)."""
    calls = []

    def run_command(args, repair):
        calls.append(repair)
        return diffed()

    monkeypatch.setattr(cli, "run_command", run_command)
    return calls


@pytest.mark.parametrize("command", ["check", "repair"])
def test_new_only_shows_the_new_and_keeps_the_runs_exit_status(ran, command, capsys):
    whole = diffed()
    status, rows = common.run_rows(parser_for(command).parse_args([]), repair=command == "repair")
    assert (status, [r["subject_id"] for r in rows]) == (whole.exit_code(), ["v1", "v2"])
    status, rows = common.run_rows(parser_for(command).parse_args(["--new-only"]), repair=command == "repair")
    assert (status, [(r["subject_id"], r["diff"]) for r in rows]) == (whole.exit_code(), [("v1", "new")])
    assert ran == [command == "repair"] * 2


def test_new_only_groups_only_the_new(ran, capsys):
    _, rows = common.run_rows(parser_for("check").parse_args(["--new-only", "--group-by", "project"]), repair=False)
    assert sum(r["findings"] for r in rows) == 1


def test_new_only_of_a_snapshot_is_refused_before_anything_runs(ran):
    args = parser_for("check").parse_args(["--new-only", "--from", "snap.json"])
    with pytest.raises(cli.UsageError, match="--new-only goes with a live run"):
        common.run_rows(args, repair=False)
    assert ran == []
