"""`osfsck check --from SNAPSHOT` needs no config file: the snapshot holds every fact the
checks judge.  A config given with -c (or found) still sets the checks' settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from osfsck.cli.main import main
from tests.support.world import World

HOUR = 3600


@pytest.fixture
def snapshot(tmp_path, monkeypatch):
    """A snapshot whose one finding is an instance folder 2 h old with no instance anywhere
    (orphan-instance-dir: min_age 1 h by default); no config file anywhere to be found."""
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    w.instance_dir("hv1", u)
    w.instance_dir("hv1", "9d0c0b51-5c09-4b53-9c3e-3a39a3f3c0de", age=2 * HOUR)
    path = tmp_path / "snap.json"
    w.snapshot().write(str(path))
    monkeypatch.chdir(tmp_path)  # no ./osfsck.toml
    monkeypatch.delenv("OSFSCK_CONFIG", raising=False)
    if os.path.exists("/etc/osfsck/osfsck.toml"):
        pytest.skip("this machine has /etc/osfsck/osfsck.toml, a config osfsck would find")
    return path


def codes(capsys) -> list[str]:
    return [f["code"] for f in json.loads(capsys.readouterr().out)["findings"]]


def test_check_from_a_snapshot_without_any_config(snapshot, capsys):
    assert main(["check", "--select", "HV110", "--from", str(snapshot), "--format", "json"]) == 4
    assert codes(capsys) == ["HV110"]


def test_a_given_config_still_sets_the_checks(snapshot, tmp_path, capsys):
    (tmp_path / "osfsck.toml").write_text('[checks.orphan-instance-dir]\nmin_age = "3h"\n')
    assert main(["-c", "osfsck.toml", "check", "--select", "HV110", "--from", str(snapshot), "--format", "json"]) == 0
    assert codes(capsys) == []


def test_a_given_config_is_still_checked(snapshot, tmp_path, capsys):
    (tmp_path / "osfsck.toml").write_text("[checks.orphan-instance-dir]\nmin_agee = 1\n")
    assert main(["-c", "osfsck.toml", "check", "--select", "HV110", "--from", str(snapshot)]) == 16
    assert "min_agee" in capsys.readouterr().err


def test_a_live_check_still_needs_a_config(snapshot, capsys):
    assert main(["check"]) == 16
    assert "no config file" in capsys.readouterr().err


def test_as_a_process(snapshot):
    p = subprocess.run(
        [sys.executable, "-m", "osfsck.cli.main", "check", "--select", "HV110", "--from", str(snapshot)],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "OSFSCK_CONFIG"},
        timeout=120,
    )
    assert p.returncode == 4 and "orphan-instance-dir" in p.stdout, p.stderr


def test_a_saved_snapshot_is_compared_with_nothing(snapshot, tmp_path, capsys):
    # --from neither records nor diffs: the snapshot may be of another time or cloud
    assert main(["check", "--select", "HV110", "--from", str(snapshot), "-f", "json"]) == 4
    doc = json.loads(capsys.readouterr().out)
    assert doc["fixed"] is None and doc["findings"][0]["diff"] is None
    assert main(["check", "--select", "HV110", "--from", str(snapshot), "--new-only"]) == 16
    assert "--new-only goes with a live run" in capsys.readouterr().err


def test_output_files_are_replaced_whole_keeping_their_mode(snapshot, tmp_path, capsys):
    out = tmp_path / "osfsck.prom"
    out.write_text("old\n")
    out.chmod(0o640)
    assert main(["check", "--select", "HV110", "--from", str(snapshot), "-f", "prometheus", "-o", str(out)]) == 4
    assert out.read_text().startswith("# HELP osfsck_complete") and (out.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["osfsck.prom", "snap.json"]  # no temporary file left
