"""Property: absence needs completeness (DESIGN §3), through the InstanceIndex.

Random clouds of 2-3 cells where some cells could not be read: their facts are missing from
the snapshot, as after a real failed read, and their coverage says so.  The checks that
judge a uuid by its absence from Nova (zombie-domain, unknown-domain, orphan-instance-dir)
must never report a domain or folder of an instance whose rows live only in those cells;
when such an object exists and no mapping vouches for a complete cell, they must say they
could not decide.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osfsck.checks.hypervisor.orphan_instance_dir import OrphanInstanceDir
from osfsck.checks.hypervisor.unknown_domain import UnknownDomain
from osfsck.checks.hypervisor.zombie_domain import ZombieDomain
from osfsck.model.facts.nova import cell_scope
from tests.support.world import DAY, World, uid

ABSENCE_CHECKS = (ZombieDomain, UnknownDomain, OrphanInstanceDir)
FATES = ("live", "soft-delete", "deleted", "archived", "nowhere")
MAPPINGS = ("home", "none", "other")


def _hosts(cell: str) -> list[str]:
    n = cell[len("cell") :]
    return [f"hv{n}a", f"hv{n}b"]


@st.composite
def clouds(draw):
    cells = [f"cell{i}" for i in range(1, draw(st.integers(2, 3)) + 1)]
    down = draw(st.sets(st.sampled_from(cells), min_size=1, max_size=len(cells)))
    all_hosts = [h for c in cells for h in _hosts(c)]
    instances = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "home": st.sampled_from(cells),
                    "fate": st.sampled_from(FATES),
                    "mapping": st.sampled_from(MAPPINGS),
                    "other": st.sampled_from(cells),
                    "domains": st.sets(st.sampled_from(all_hosts), max_size=2),
                    "dirs": st.sets(st.sampled_from(all_hosts), max_size=2),
                    "name_only": st.booleans(),
                }
            ),
            min_size=1,
            max_size=10,
        )
    )
    return cells, sorted(down), instances


def build(cells, down, instances):
    """The world, and the uuids whose rows live only in cells that could not be read."""
    w = World()
    for c in cells:
        for h in _hosts(c):
            w.host(h, cell=c)
    only_in_down = set()
    for n, spec in enumerate(instances, start=1):
        u = uid(5000 + n)
        home, fate = spec["home"], spec["fate"]
        mapped = {"home": home, "none": False, "other": spec["other"]}[spec["mapping"]]
        host = _hosts(home)[0]
        if fate in ("live", "soft-delete", "deleted"):
            w.instance(
                u,
                cell=home,
                host=host,
                mapped=mapped,
                vm_state="soft-delete" if fate == "soft-delete" else None,
                deleted=fate == "deleted",
                deleted_age=2 * DAY,
            )
        elif fate == "archived":
            w.archived(u, cell=home, host=host, mapped=mapped)
        elif mapped:
            w.mapping(u, mapped)
        if fate != "nowhere" and home in down:
            only_in_down.add(u)
        for h in sorted(spec["domains"]):
            w.domain(h, u, nova=not spec["name_only"])
        for h in sorted(spec["dirs"]):
            w.instance_dir(h, u, age=3 * DAY)
    for c in down:
        w.cell_down(c)
    return w, only_in_down


def _uuid_of(finding) -> str:
    return finding.evidence["uuid"] if finding.subject.kind == "instance-dir" else finding.subject.id


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(clouds())
def test_no_finding_about_instances_only_in_unread_cells(cloud):
    cells, down, instances = cloud
    w, hidden_by_the_outage = build(cells, down, instances)
    snap = w.snapshot()
    down_scopes = {cell_scope(c) for c in down}
    mapping_vouches = {
        m.instance_uuid
        for m in snap.facts.get("nova.instance_mapping", [])
        if m.cell_uuid and m.cell_uuid not in {w.cell(c) for c in down}
    }
    for check in ABSENCE_CHECKS:
        out = check().evaluate(snap)
        reported = {_uuid_of(f) for f in out.findings}
        assert reported.isdisjoint(hidden_by_the_outage), (check.code, reported & hidden_by_the_outage)
        scopes = {i.scope for i in out.inconclusive_list}
        assert scopes <= down_scopes, (check.code, scopes - down_scopes)
        looked_at = (
            {d.uuid for d in snap.facts.get("hv.domain", [])}
            if check is not OrphanInstanceDir
            else {d.uuid for d in snap.facts.get("hv.instance_dir", [])}
        )
        undecidable = (looked_at & hidden_by_the_outage) - mapping_vouches
        if undecidable:
            assert scopes, f"{check.code} saw objects of {sorted(undecidable)} and said nothing"


# -- the same rule for hosts, on random clouds ------------------------------------------
# Instances whose guests are where Nova says, on another host, on two hosts, or nowhere,
# with migrations in flight; then some hosts could not be listed (partial, their domains
# gone) or were never read at all.  Whatever the checks that judge domains by host say
# about the damaged snapshot must be what they say about the whole one, or explained.

from osfsck.checks.hypervisor.domain_on_wrong_host import DomainOnWrongHost  # noqa: E402
from osfsck.checks.hypervisor.duplicate_domain import DuplicateDomain  # noqa: E402
from osfsck.checks.nova.missing_domain import MissingDomain  # noqa: E402
from osfsck.checks.nova.power_state_drift import PowerStateDrift  # noqa: E402
from osfsck.model.facts.hypervisor import Domain  # noqa: E402
from tests.checks.scenario import Case  # noqa: E402
from tests.checks.test_partial_sources import NOT_COLLECTED, UNREADABLE, violations  # noqa: E402

HOST_CHECKS = (MissingDomain, DomainOnWrongHost, DuplicateDomain, PowerStateDrift)
HOSTS = ("hv1", "hv2", "hv3", "hv4")


@st.composite
def host_clouds(draw):
    guests = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "host": st.sampled_from(HOSTS),
                    "vm_state": st.sampled_from(("active", "stopped", "resized", "shelved_offloaded")),
                    "domains": st.sets(st.sampled_from(HOSTS), max_size=3),
                    "shut_off": st.booleans(),
                    "migration": st.sampled_from((None, "running", "error", "finished")),
                }
            ),
            min_size=1,
            max_size=6,
        )
    )
    lost = draw(st.sets(st.sampled_from(HOSTS), min_size=1, max_size=2))
    return guests, sorted(lost), draw(st.sampled_from((UNREADABLE, NOT_COLLECTED)))


def build_hosts(guests):
    w = World()
    for h in HOSTS:
        w.host(h)
    for n, g in enumerate(guests, start=1):
        u = uid(7000 + n)
        w.instance(u, host=None if g["vm_state"] == "shelved_offloaded" else g["host"], vm_state=g["vm_state"])
        if g["migration"]:
            other = HOSTS[(HOSTS.index(g["host"]) + 1) % len(HOSTS)]
            w.migration(u, type="resize", status=g["migration"], source=other, dest=g["host"])
        for h in sorted(g["domains"]):
            w.domain(h, u, state=5 if g["shut_off"] else 1)
    return w.snapshot()


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(host_clouds())
def test_hosts_not_read_never_make_a_domain_finding(cloud):
    guests, lost, way = cloud
    snap = build_hosts(guests)
    removed = {key for key in snap.coverage if key[0] == Domain.kind and key[1] in {f"host:{h}" for h in lost}}
    case = Case("clean", "random hosts", lambda: snap)
    for check in HOST_CHECKS:
        assert violations(check, case, snap, removed, way) == []
