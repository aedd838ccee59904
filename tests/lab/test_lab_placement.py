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
from osfsck.lab import build, placement, schemas
from osfsck.model.facts.nova import MIGRATION_TERMINAL

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
    running = {m["instance_uuid"]: m for ms in c.migrations.values() for m in ms
               if m["status"] not in MIGRATION_TERMINAL}
    checked = 0
    for cell, rows in c.instances.items():
        for r in rows:
            if r["deleted"] or not r["host"] or r["vm_state"] == "shelved_offloaded" or cell == "cell0":
                assert r["uuid"] not in st.allocations or r["uuid"] == truth["PL101"] or r["host"] is None \
                    or c.now - r["deleted_at"] < dt.timedelta(minutes=30)
                continue
            if r["uuid"] in (truth["PL102"], truth["PL103"]):
                continue
            held = st.allocations[r["uuid"]]
            host = running[r["uuid"]]["dest_compute"] if r["uuid"] in running else r["host"]
            assert (st.nodes[host], "VCPU", r["vcpus"]) in held and (st.nodes[host], "MEMORY_MB", r["memory_mb"]) \
                in held, r["uuid"]
            checked += 1
    assert checked > 30
    for uuid, m in running.items():     # the migration holds the source
        assert {rp for rp, _, _ in st.allocations[m["uuid"]]} == {st.nodes[m["source_compute"]]}
        assert st.consumers[m["uuid"]]["type"] == "MIGRATION"
    assert truth["PL104"] in {p["uuid"] for p in st.providers} and truth["PL102"] not in st.consumers
    assert any(r["host"] is None and r["uuid"] in st.allocations for rows in c.instances.values() for r in rows)


@pytest.mark.parametrize("release", schemas.releases())
def test_checks_on_the_written_databases_find_exactly_the_placement_truth(tmp_path, release):
    c = _cloud(3)
    urls = build._write_databases(c, tmp_path, None, "t", release)
    (tmp_path / "osfsck.toml").write_text(
        f'[nova]\napi_database = "{urls["nova_api"]}"\n\n[placement]\ndatabase = "{urls["placement"]}"\n')
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
