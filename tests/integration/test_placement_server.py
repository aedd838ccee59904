"""The Placement repairs against the real placement-api (openstack-placement 16.0.0 from its
own virtualenv, auth_strategy = noauth2) serving a lab cloud's placement database: the
lab's faults are repaired through the API and settle, undo restores the very allocations
and provider, a write at a stale generation is refused (409) and changes nothing, and an
endpoint that does not answer is one line.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from osfsck.clients.placement_api import PlacementApi, PlacementApiError, PlacementConflict
from osfsck.config import load_settings
from osfsck.config.placement import PlacementSettings
from osfsck.engine.context import RepairContext
from osfsck.model.finding import Finding, Severity
from osfsck.model.refs import ObjectRef
from osfsck.repairs.base import RepairError
from osfsck.repairs.placement.allocations import DeleteOrphanAllocations
from osfsck_lab import build, placement_server
from osfsck_lab.loopback import free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(placement_server.available() is None, reason=placement_server.NOT_INSTALLED),
]


def osfsck(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "osfsck.cli.main", "-c", str(config), *args], capture_output=True, text=True, timeout=600
    )


def pl(proc) -> set[tuple[str, str]]:
    return {(f["code"], f["subject"]["id"]) for f in json.loads(proc.stdout)["findings"] if f["code"].startswith("PL")}


@pytest.fixture(scope="module")
def lab():
    base = Path(tempfile.mkdtemp(prefix="osfsck-placement-"))
    base.chmod(0o755)
    out = base / "lab"
    try:
        build.build(out, seed=1, hv_mode="testfiles")
        yield out
    finally:
        if (out / "lab.json").exists():
            build.stop(out)
        shutil.rmtree(base, ignore_errors=True)


def api(lab: Path) -> PlacementApi:
    return PlacementApi(load_settings(str(lab / "osfsck.toml")).placement)


def test_the_lab_serves_its_database_through_placement_api(lab):
    s = load_settings(str(lab / "osfsck.toml")).placement
    assert s.auth == "none" and s.endpoint.startswith("http://127.0.0.1:")
    truth = {t["code"]: t["subject"] for t in json.loads((lab / "truth.json").read_text())["faults"]}
    a = api(lab)
    got = a.get_allocations(truth["PL101"])
    # Nova writes no consumer type: Placement shows such a consumer as "unknown"
    assert got["consumer_type"] == "unknown" and isinstance(got["consumer_generation"], int)
    assert sorted(next(iter(got["allocations"].values()))["resources"]) == ["DISK_GB", "MEMORY_MB", "VCPU"]
    assert a.get_provider(truth["PL104"])["name"].endswith("-retired")
    a.close()


def test_a_stale_consumer_generation_is_refused_and_changes_nothing(lab):
    faulted = {t["subject"] for t in json.loads((lab / "truth.json").read_text())["faults"]}
    with sqlite3.connect(lab / "db" / "placement.sqlite") as db:  # a live instance's consumer, none of truth's
        consumer = next(u for (u,) in db.execute("SELECT uuid FROM consumers ORDER BY id") if u not in faulted)
    settings = load_settings(str(lab / "osfsck.toml"))
    a = api(lab)
    seen = a.get_allocations(consumer)
    repair = DeleteOrphanAllocations()
    finding = Finding(
        code="PL101",
        name="orphan-allocation",
        severity=Severity.MEDIUM,
        subject=ObjectRef("placement-consumer", consumer, "placement"),
        message=consumer,
        evidence={
            "consumer": {"generation": seen["consumer_generation"], "consumer_type": "INSTANCE"},
            "allocations": {},
        },
    )
    plan = repair.plan(finding, None)
    ctx = RepairContext(settings, None)
    try:
        before = repair.before_image(plan, ctx)
        # someone else writes the consumer in between: same allocations, generation + 1
        res = {rp: v["resources"] for rp, v in seen["allocations"].items()}
        a.put_allocations(
            consumer,
            res,
            consumer_generation=seen["consumer_generation"],
            project_id=seen["project_id"],
            user_id=seen["user_id"],
            consumer_type="INSTANCE",
            what="touch it",
        )
        with pytest.raises(RepairError, match=r"409 Conflict.*concurrent_update.*left alone"):
            repair.apply(plan, ctx, before)
    finally:
        ctx.close()
    now = a.get_allocations(consumer)
    assert now["allocations"].keys() == seen["allocations"].keys()
    assert now["consumer_generation"] == seen["consumer_generation"] + 1
    with pytest.raises(PlacementConflict, match="409"):
        a.put_allocations(
            consumer,
            {},
            consumer_generation=seen["consumer_generation"],
            project_id="p",
            user_id="u",
            consumer_type="INSTANCE",
            what="delete at the old generation",
        )
    a.close()


def test_repairs_settle_and_undo_restores_the_same_allocations(lab):
    cfg = lab / "osfsck.toml"
    truth = {
        (t["code"], t["subject"])
        for t in json.loads((lab / "truth.json").read_text())["faults"]
        if t["code"].startswith("PL")
    }
    a = api(lab)
    before = {s: a.get_allocations(s)["allocations"] for c, s in truth if c in ("PL101", "PL103")}
    pl104 = next(s for c, s in truth if c == "PL104")
    inventories = a.provider_part(pl104, "inventories")["inventories"]
    first = osfsck(cfg, "repair", "--unsafe", "--yes", "--grace", "0", "--select", "PL", "--format", "json")
    assert first.returncode == 1, first.stdout[-2000:] + first.stderr
    assert {(r["code"], r["outcome"]) for r in json.loads(first.stdout)["repairs"]} == {
        (c, "applied") for c, _ in truth
    }
    assert pl(osfsck(cfg, "check", "--select", "PL", "--format", "json")) == set()
    assert a.get_provider(pl104) is None
    undo = osfsck(cfg, "undo", "--all", "--yes")
    assert undo.returncode == 0, undo.stdout + undo.stderr
    for s, allocs in before.items():
        assert {rp: v["resources"] for rp, v in a.get_allocations(s)["allocations"].items()} == {
            rp: v["resources"] for rp, v in allocs.items()
        }
    assert a.provider_part(pl104, "inventories")["inventories"] == inventories
    missing = next(s for c, s in truth if c == "PL102")
    assert a.get_allocations(missing)["allocations"] == {}
    a.close()


def test_an_endpoint_that_does_not_answer_is_one_line():
    a = PlacementApi(PlacementSettings(endpoint=f"http://127.0.0.1:{free_port()}", auth="none", timeout=3.0))
    with pytest.raises(PlacementApiError) as e:
        a.get_allocations("00000000-0000-0000-0000-000000000001")
    assert "\n" not in str(e.value) and "cannot read the allocations of consumer" in str(e.value)
    a.close()
