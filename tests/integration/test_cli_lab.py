"""The CLI against lab clouds, as separate processes: exact truth for seeds 1-3, the
two-run rule on SQLite and on a real MariaDB, snapshots, undo, and bad input.

Real components: the Nova schemas built by Nova's own migrations, one unprivileged
libvirtd per simulated hypervisor (qemu driver, real guests), MariaDB on loopback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from osfsck_lab.mariadb import MariaDB

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def osfsck(*args: str, config: Path | None = None) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "osfsck.cli.main"] + (["-c", str(config)] if config else []) + list(args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=600)


def truth(lab: Path) -> set[tuple[str, str]]:
    return {(f["code"], f["subject"]) for f in json.loads((lab / "truth.json").read_text())["faults"]}


def found(proc: subprocess.CompletedProcess) -> set[tuple[str, str]]:
    return {(f["code"], f["subject"]["id"]) for f in json.loads(proc.stdout)["findings"]}


# Repairs whose undo cannot put back everything as it was (README, "What undo restores"):
# a Neutron write moves the revision forward and updated_at to now (so OVN re-syncs); NSX
# gives a re-created object a new creation time; Placement sets its own timestamps and
# generations.  The checks give such a fresh change their min_age before judging it again;
# every other undo (the database repairs' above all) restores its rows exactly.
FRESH_AFTER_UNDO = {
    "delete-port-binding",
    "disassociate-floating-ip",
    "delete-nsx-object",
    # Placement gives a re-created consumer or provider a new updated_at
    "delete-orphan-allocations",
    "move-allocation-to-compute-node",
    "delete-orphan-resource-provider",
}


def runbook_only(lab: Path) -> set[tuple[str, str]]:
    """The faults of checks whose every repair is a runbook (a guest's disks), or needs an
    API the lab has not (Neutron's, for an orphan port): a person fixes them, so they
    outlive `repair` by design."""
    from osfsck.checks.registry import all_checks
    from osfsck.config import load_settings
    from osfsck.model.plan import Safety
    from osfsck.repairs.registry import all_repairs

    repairs = {name: cls() for name, cls in all_repairs().items()}
    settings = load_settings(str(lab / "osfsck.toml"))
    manual = {
        c.code
        for c in all_checks()
        if all(repairs[r].safety is Safety.MANUAL or repairs[r].unavailable(settings) for r in c.repairs)
    }
    return {(code, subject) for code, subject in truth(lab) if code in manual}


def handed_off(lab: Path) -> set[tuple[str, str]]:
    """The faults whose repair another service completes after the run (`completed_by`:
    Neutron's OVN maintenance task, which the lab's imitation of Neutron does not run):
    repaired and journaled, yet found again."""
    from osfsck.checks.registry import all_checks
    from osfsck.repairs.registry import all_repairs

    repairs = all_repairs()
    later = {c.code for c in all_checks() if c.repairs and repairs[c.repairs[0]].completed_by}
    return {(code, subject) for code, subject in truth(lab) if code in later} - runbook_only(lab)


@pytest.fixture
def lab_factory():
    # not tmp_path: pytest's folders are closed (0700) to the user the lab's libvirtd runs as
    base = Path(tempfile.mkdtemp(prefix="osfsck-test-"))
    base.chmod(0o755)
    built = []

    def make(seed: int = 1, *extra: str) -> Path:
        out = base / f"lab{seed}"
        p = osfsck("lab", "build", "--out", str(out), "--seed", str(seed), *extra)
        assert p.returncode == 0, p.stderr
        built.append(out)
        return out

    yield make
    for out in built:
        osfsck("lab", "stop", str(out))
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_check_finds_exactly_the_truth(lab_factory, seed):
    lab = lab_factory(seed)
    p = osfsck("check", "--format", "json", config=lab / "osfsck.toml")
    assert p.returncode == 4, p.stderr
    assert found(p) == truth(lab)
    assert json.loads(p.stdout)["inconclusive"] == []
    if seed == 1:  # the same lab, read by one collector per cell (docs/scaling.md)
        per_cell_snapshots_check_as_one_run(lab, Path(tempfile.mkdtemp(prefix="osfsck-test-snaps-")))


def per_cell_snapshots_check_as_one_run(lab: Path, snaps: Path) -> None:
    """`collect --cell` in each cell, then `check --from` all: what a live run of those
    cells finds, nothing counted twice (both collectors read the API database)."""
    cfg = lab / "osfsck.toml"
    paths = []
    for cell in ("cell1", "cell2"):
        paths += ["--from", str(snaps / f"{cell}.json.gz")]
        p = osfsck("collect", "--cell", cell, "-o", paths[-1], config=cfg)
        # written, and partial where a --cell run reads nothing: DNS (a transfer is whole-zone)
        assert p.returncode == 8 and "not read in a --cell run" in p.stderr, p.stderr
    merged = osfsck("check", *paths, "--format", "json", config=cfg)
    live = osfsck("check", "--cell", "cell1", "--cell", "cell2", "--format", "json", config=cfg)
    # both undecided alike where cell0 (not read) would decide: exit 4 | 8
    assert merged.returncode == live.returncode == 12, merged.stderr + live.stderr
    assert found(merged) == found(live) and len(found(live)) > 10
    assert json.loads(merged.stdout)["inconclusive"] == json.loads(live.stdout)["inconclusive"]
    one = osfsck("check", *paths[:2], "--format", "json", config=cfg)
    assert found(one) < found(merged)  # the second cell's faults come from the second snapshot
    shutil.rmtree(snaps, ignore_errors=True)


def test_repair_settles_and_undo_restores(lab_factory, tmp_path):
    lab = lab_factory(1)
    cfg = lab / "osfsck.toml"
    snap = tmp_path / "snap.json.gz"
    assert osfsck("collect", "-o", str(snap), config=cfg).returncode == 0
    offline = osfsck("check", "--from", str(snap), "--format", "json", config=cfg)
    assert found(offline) == truth(lab)
    # the checks of the repairs whose undo is a change of its own, without their min_age
    from osfsck.checks.registry import all_checks

    no_wait = lab / "no-wait.toml"  # beside osfsck.toml: its paths are relative to the lab
    no_wait.write_text(
        cfg.read_text()
        + "".join(f"\n[checks.{c.code}]\nmin_age = 0\n" for c in all_checks() if FRESH_AFTER_UNDO & set(c.repairs))
    )
    before = found(osfsck("check", "--format", "json", config=no_wait))

    left = runbook_only(lab)
    assert left, "the lab has faults only a runbook fixes"
    # --grace 0: the lab's faults were planted a minute ago (a real run waits 30 min after
    # osfsck first sees a finding whose subject records no change time of its own)
    first = osfsck("repair", "--unsafe", "--yes", "--grace", "0", "--format", "json", config=cfg)
    assert first.returncode == 1 | 4, first.stdout[-2000:] + first.stderr
    second = osfsck("check", "--format", "json", config=cfg)
    assert second.returncode == 4, second.stdout
    assert handed_off(lab), "the lab has faults whose repair Neutron completes"
    assert found(second) == left | handed_off(lab)

    journal = json.loads(osfsck("journal", "--format", "json", config=cfg).stdout)
    assert {e["status"] for e in journal} == {"applied"} and len(journal) == len(truth(lab) - left)

    undo = osfsck("undo", "--all", "--yes", config=cfg)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    again = osfsck("check", "--format", "json", config=cfg)
    fresh = {(e["code"], e["target"]["id"]) for e in journal if e["repair"] in FRESH_AFTER_UNDO}
    assert {e["repair"] for e in journal} >= FRESH_AFTER_UNDO
    assert found(again) == truth(lab) - fresh
    # ... and those faults are back too: without their checks' min_age, exactly what was found before
    assert found(osfsck("check", "--format", "json", config=no_wait)) == before >= truth(lab)


def test_safe_repairs_only_without_unsafe(lab_factory):
    lab = lab_factory(2)
    cfg = lab / "osfsck.toml"
    p = osfsck("repair", "--yes", "--grace", "0", "--format", "json", config=cfg)
    result = json.loads(p.stdout)
    applied = {r["repair"] for r in result["repairs"] if r["outcome"] == "applied"}
    assert applied and all(r["safety"] == "safe" for r in result["repairs"] if r["outcome"] == "applied")
    assert p.returncode == 1 | 4  # some repaired, unsafe ones left


def test_two_run_on_mariadb(lab_factory, tmp_path):
    db = MariaDB(tmp_path / "mariadb", ("--innodb-buffer-pool-size=64M",))
    try:
        lab = lab_factory(3, "--db-url", db.url)
        cfg = lab / "osfsck.toml"
        assert (
            "{username}"
            in subprocess.run(  # cells use Nova's templated URLs
                [
                    "mariadb",
                    "-h127.0.0.1",
                    f"-P{db.port}",
                    "-uroot",
                    "-N",
                    "-e",
                    "SELECT database_connection FROM lab3_nova_api.cell_mappings LIMIT 1",
                ],
                capture_output=True,
                text=True,
            ).stdout
        )
        p = osfsck("check", "--format", "json", config=cfg)
        assert p.returncode == 4 and found(p) == truth(lab)
        assert osfsck("repair", "--unsafe", "--yes", "--grace", "0", config=cfg).returncode == 1 | 4
        p = osfsck("check", "--format", "json", config=cfg)
        assert p.returncode == 4 and found(p) == runbook_only(lab) | handed_off(lab)
    finally:
        db.stop()


def test_bad_input_one_line_and_exit_code(tmp_path, lab_factory):
    missing = osfsck("check", config=tmp_path / "nope.toml")
    assert missing.returncode == 16 and missing.stderr.count("\n") == 1 and "does not exist" in missing.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[nova\napi_database = 1")
    p = osfsck("check", config=bad)
    assert p.returncode == 16 and "not valid TOML" in p.stderr and "Traceback" not in p.stderr
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[nova]\napi_databse = 'sqlite:///x'\n")
    p = osfsck("check", config=unknown)
    assert p.returncode == 16 and "unknown key 'api_databse'" in p.stderr
    gone = tmp_path / "gone.toml"
    gone.write_text("[nova]\napi_database = 'mysql+pymysql://nova:s3cret@127.0.0.1:1/nova_api'\n")
    p = osfsck("check", "--select", "NV2", config=gone)
    assert p.returncode == 8, p.stdout + p.stderr
    assert "s3cret" not in p.stdout + p.stderr and "Traceback" not in p.stderr
    assert p.stdout.startswith("INCOMPLETE: 1 source scope(s) not read completely") and "Can't connect" in p.stdout
    assert "No inconsistencies found in what could be read." in p.stdout
    assert p.stderr.count("\n") == 1 and "nova-db api: partial: API database: " in p.stderr
    p = osfsck("check", "--select", "XX999", config=gone)
    assert p.returncode == 16 and "no check matches" in p.stderr
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    p = osfsck("check", "--from", str(junk), config=gone)
    assert p.returncode == 8 and "junk.json: not JSON" in p.stderr
