"""truth.json's "ripening": every near miss whose verdict depends on its age, with the time
it becomes a finding.  A lab built with its `now` in the past is a lab checked that long
after its build: its findings must be exactly its faults and the near misses ripened by the
run's snapshot time, none before and none missing (so the list is complete and each `at`
on the right side of the run)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from osfsck_lab import build, truth
from osfsck_lab.cloud import threshold

MINUTE, HOUR, DAY = dt.timedelta(minutes=1), dt.timedelta(hours=1), dt.timedelta(days=1)


def test_threshold_is_the_checks_default():
    from osfsck.checks.nova.stuck_instance_task import THRESHOLDS
    from osfsck.checks.ovn.missing_ovn_object import MissingOvnObject

    assert threshold("OV102", "min_age") == dt.timedelta(seconds=MissingOvnObject.defaults["min_age"])
    assert threshold("NV301", "thresholds", "rebooting") == dt.timedelta(seconds=THRESHOLDS["rebooting"])
    with pytest.raises(KeyError):
        threshold("XX999", "min_age")


def test_spec_records_each_ripening_once_and_none_is_a_fault():
    now = dt.datetime(2026, 1, 1)
    cloud = build.spec("small", 1, now)
    keys = [(r["code"], r["subject"]) for r in cloud.ripening]
    assert len(keys) == len(set(keys))
    assert not set(keys) & {(t["code"], t["subject"]) for t in cloud.truth}
    # all are near misses now, and every one ripens later
    assert all(r["at"] > now for r in cloud.ripening)


def test_no_ripening_key_ripens_nothing():
    old = {"faults": [{"code": "NV204", "subject": "x"}]}
    assert truth.expected(old, "2030-01-01T00:00:00") == {("NV204", "x")}
    new = {**old, "ripening": [{"code": "OV102", "subject": "p", "at": "2026-01-01T00:10:00"}]}
    assert truth.ripened(new, "2026-01-01T00:09:59.9") == set()
    assert truth.ripened(new, "2026-01-01T00:10:00") == {("OV102", "p")}
    assert truth.ripened(new, "2026-01-01T00:10:00+00:00") == {("OV102", "p")}
    assert truth.ripened(new, "2026-01-01T01:10:00+01:00") == {("OV102", "p")}


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("age", [dt.timedelta(0), 15 * MINUTE, 2 * HOUR, 3 * DAY], ids=str)
def test_an_aged_lab_finds_its_faults_and_what_has_ripened(age):
    # not tmp_path: pytest's folders are closed (0700) to the user the lab's libvirtd runs as
    out = Path(tempfile.mkdtemp(prefix="osfsck-test-"))
    out.chmod(0o755)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - age
    try:
        build.build(out, "small", 1, now=now, hv_mode="testfiles")
        proc = subprocess.run(
            [sys.executable, "-m", "osfsck.cli.main", "-c", str(out / "osfsck.toml"), "check", "-f", "json"],
            capture_output=True,
            text=True,
            cwd=out,
            timeout=600,
        )
        lab = json.loads((out / "truth.json").read_text())
    finally:
        build.stop(out)
        shutil.rmtree(out, ignore_errors=True)
    result = json.loads(proc.stdout)
    found = {(f["code"], f["subject"]["id"]) for f in result["findings"]}
    ripe = truth.ripened(lab, result["taken_at"])
    assert found == truth.faults(lab) | ripe
    everything = {(r["code"], r["subject"]) for r in lab["ripening"]}
    if not age:
        assert not ripe  # checked at once: every near miss is still one
    elif age == 15 * MINUTE:
        assert ripe and ripe != everything  # the ports seconds old, nothing older
    elif age == 3 * DAY:
        assert ripe == everything  # the reservations expired a day later ripen last
