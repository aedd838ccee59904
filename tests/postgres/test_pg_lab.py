"""`osfsck lab build --db-url postgresql://...`: a whole lab cloud whose every database is
on a real PostgreSQL server (Nova's templated cell URLs included), checked, repaired and
undone by osfsck as operators run it, in processes of their own."""

from __future__ import annotations

import json

import pytest

from tests.integration.test_cli_lab import FRESH_AFTER_UNDO, handed_off, runbook_only
from tests.support.cli import built_lab, found, osfsck, truth
from tests.support.pg import PG_RELEASE

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_lab_on_postgresql_is_checked_repaired_and_undone(postgres_server):
    with built_lab(23, "--release", PG_RELEASE, "--db-url", postgres_server.url) as lab:
        cfg = lab / "osfsck.toml"
        assert "postgresql" in cfg.read_text()
        first = osfsck("check", "--format", "json", config=cfg)
        assert first.returncode == 4 and found(first) == truth(lab), first.stderr
        assert json.loads(first.stdout)["inconclusive"] == []
        # found cases of every database check family (and, as nothing else is found, their
        # clean cases: the lab's consistent objects)
        assert {code[:2] for code, _ in truth(lab)} >= {"NV", "VL", "NT", "PL", "QU"}

        left = runbook_only(lab)
        repair = osfsck("repair", "--unsafe", "--yes", "--grace", "0", "--format", "json", config=cfg)
        assert repair.returncode == 1 | 4, repair.stdout[-2000:] + repair.stderr
        assert found(osfsck("check", "--format", "json", config=cfg)) == left | handed_off(lab)
        journal = json.loads(osfsck("journal", "--format", "json", config=cfg).stdout)
        assert {e["status"] for e in journal} == {"applied"} and len(journal) == len(truth(lab) - left)

        undo = osfsck("undo", "--all", "--yes", config=cfg)
        assert undo.returncode == 0, undo.stdout + undo.stderr
        fresh = {(e["code"], e["target"]["id"]) for e in journal if e["repair"] in FRESH_AFTER_UNDO}
        assert found(osfsck("check", "--format", "json", config=cfg)) == truth(lab) - fresh
