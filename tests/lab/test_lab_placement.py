"""The lab's Placement, as specified and as written: every live instance with a host holds
its flavor on its compute node's provider (migrations and evacuations as Nova keeps them)
outside the faults, and the PL checks on the written databases find exactly the Placement
faults truth names, nothing for the near misses."""

import datetime as dt

import pytest

from osfsck.checks.placement.allocation_on_wrong_provider import AllocationOnWrongProvider
from osfsck.checks.placement.missing_allocation import MissingAllocation
from osfsck.checks.placement.orphan_allocation import OrphanAllocation
from osfsck.checks.placement.orphan_resource_provider import OrphanResourceProvider
from osfsck.config.load import load_settings
from osfsck.engine import wiring
from osfsck.engine.collect import collect
from osfsck.model.facts.nova import MIGRATION_TERMINAL
from osfsck_lab import build, placement, schemas

NOW = dt.datetime(2026, 11, 24, 12, 0)
CHECKS = (OrphanAllocation, MissingAllocation, AllocationOnWrongProvider, OrphanResourceProvider)


def _cloud(seed: int):
    return build.spec("small", seed, NOW)


@pytest.mark.parametrize("seed", [1, 2])
def test_every_settled_instance_holds_its_flavor_on_its_node(seed):
    c = _cloud(seed)
    st = c.placement
    truth = {t["code"]: t["subject"] for t in c.truth if t["code"].startswith("PL")}
    assert set(truth) == {"PL101", "PL102", "PL103", "PL104"}
    running = {
        m["instance_uuid"]: m for ms in c.migrations.values() for m in ms if m["status"] not in MIGRATION_TERMINAL
    }
    checked = 0
    for cell, rows in c.instances.items():
        for r in rows:
            if r["deleted"] or not r["host"] or r["vm_state"] == "shelved_offloaded" or cell == "cell0":
                assert (
                    r["uuid"] not in st.allocations
                    or r["uuid"] == truth["PL101"]
                    or r["host"] is None
                    or c.now - r["deleted_at"] < dt.timedelta(minutes=30)
                )
                continue
            if r["uuid"] in (truth["PL102"], truth["PL103"]):
                continue
            held = st.allocations[r["uuid"]]
            host = running[r["uuid"]]["dest_compute"] if r["uuid"] in running else r["host"]
            assert (st.nodes[host], "VCPU", r["vcpus"]) in held and (
                st.nodes[host],
                "MEMORY_MB",
                r["memory_mb"],
            ) in held, r["uuid"]
            checked += 1
    assert checked > 30
    for m in running.values():  # the migration holds the source
        assert {rp for rp, _, _ in st.allocations[m["uuid"]]} == {st.nodes[m["source_compute"]]}
        assert st.consumers[m["uuid"]]["kind"] == "MIGRATION"
    assert truth["PL104"] in {p["uuid"] for p in st.providers} and truth["PL102"] not in st.consumers
    assert any(r["host"] is None and r["uuid"] in st.allocations for rows in c.instances.values() for r in rows)


@pytest.mark.parametrize("release", schemas.releases())
def test_checks_on_the_written_databases_find_exactly_the_placement_truth(tmp_path, release):
    c = _cloud(3)
    urls = build._write_databases(c, tmp_path, None, "t", release)
    (tmp_path / "osfsck.toml").write_text(
        f'[nova]\napi_database = "{urls["nova_api"]}"\n\n[placement]\ndatabase = "{urls["placement"]}"\n'
    )
    settings = load_settings(str(tmp_path / "osfsck.toml"))
    kinds = {k for check in CHECKS for k in check.needs}
    snap, statuses = collect(wiring.build_sources(settings, kinds), kinds)
    snap.taken_at = NOW
    assert all(s.status == "ok" for s in statuses), statuses
    found, inconclusive = set(), set()
    for check in CHECKS:
        out = check().evaluate(snap)
        found |= {(f.code, f.subject.id) for f in out.findings}
        inconclusive |= {i.scope for i in out.inconclusive_list}
    assert found == {(t["code"], t["subject"]) for t in c.truth if t["code"].startswith("PL")}
    assert inconclusive == set()
    assert placement.node_uuid(c, c.hosts[0][0]) in {p["uuid"] for p in c.placement.providers}


def test_written_as_nova_and_placement_write_it(tmp_path):
    """Nova's report client speaks microversions below 1.38 and never sends a consumer_type
    (nova/scheduler/client/report.py), so its consumers have none and consumer_types stays
    empty; a move's POST /allocations empties the instance's consumer (Placement deletes
    it) and the destination claim makes it anew; a boot-from-volume root claims no
    DISK_GB; the inventory is the libvirt driver's with nova.conf's defaults; every
    allocation write bumps the provider's and the consumer's generation."""
    import sqlite3

    c = _cloud(1)
    urls = build._write_databases(c, tmp_path, None, "t", schemas.releases()[0])
    db = sqlite3.connect(urls["placement"].removeprefix("sqlite:///"))
    assert db.execute("SELECT COUNT(*) FROM consumer_types").fetchone() == (0,)
    assert db.execute("SELECT COUNT(*) FROM consumers WHERE consumer_type_id IS NOT NULL").fetchone() == (0,)
    inventory = {
        rc: (total, reserved, ratio)
        for rc, total, reserved, ratio in db.execute(
            "SELECT r.name, total, reserved, allocation_ratio FROM inventories i "
            "JOIN resource_classes r ON r.id = i.resource_class_id GROUP BY r.name"
        )
    }
    assert inventory == {"VCPU": (8, 0, 4.0), "MEMORY_MB": (16384, 512, 1.0), "DISK_GB": (500, 0, 1.0)}
    consumers = {
        u: (gen, created) for u, gen, created in db.execute("SELECT uuid, generation, created_at FROM consumers")
    }
    running = [m for ms in c.migrations.values() for m in ms if m["status"] not in MIGRATION_TERMINAL]
    assert running
    for m in running:
        created = m["created_at"].isoformat(sep=" ")
        assert consumers[m["uuid"]] == (1, created) and consumers[m["instance_uuid"]] == (1, created)
    evacuated = [m["instance_uuid"] for ms in c.migrations.values() for m in ms if m["migration_type"] == "evacuation"]
    assert evacuated and all(consumers[u][0] == 2 for u in evacuated)
    bfv = {b["instance_uuid"] for bs in c.bdms.values() for b in bs if b["boot_index"] == 0 and not b["deleted"]}
    held = {u for (u,) in db.execute("SELECT DISTINCT consumer_id FROM allocations")}
    assert bfv & held
    disk = {u for (u,) in db.execute("SELECT consumer_id FROM allocations WHERE resource_class_id = 2")}
    assert not (bfv & disk) and held - bfv <= disk
    gens = dict(db.execute("SELECT uuid, generation FROM resource_providers"))
    per_provider = {}
    for _u, rp in db.execute(
        "SELECT DISTINCT a.consumer_id, p.uuid FROM allocations a "
        "JOIN resource_providers p ON p.id = a.resource_provider_id"
    ):
        per_provider[rp] = per_provider.get(rp, 0) + 1
    assert all(gens[rp] == 1 + n for rp, n in per_provider.items()) and max(gens.values()) > 1
