"""Property: a scoped run (`--cell`, `--host`, `--project`) reports only what lies inside its
scope, never a finding the whole cloud would not give, and never loses one inside silently.

Every scenario case of every check is taken as a whole cloud; each cell, each host and each
project it holds is then taken as a scope, and the case's snapshot narrowed as a run of that
scope reads it (`Snapshot.narrowed`: the cells and hosts outside not read at all, other
projects' quota rows left out).  For each:

- every finding is one the whole cloud gives (scoping is not completeness: what was not
  read never makes a finding);
- every finding lies inside the scope (placed on the whole cloud's facts, which know where
  everything is);
- every finding of the whole cloud that lies inside is reported, or the scoped run says it
  could not decide something (a check that needs data outside the scope says so);
- an empty scope changes nothing.
"""

from __future__ import annotations

import re

import pytest

from osfsck.checks.scoping import INSIDE, Places
from osfsck.engine.judge import judge
from osfsck.model.facts.cinder import CinderAttachment, CinderVolume
from osfsck.model.facts.nova import Cell, Instance
from osfsck.model.scope import RunScope
from osfsck.model.snapshot import Snapshot
from tests.checks.scenario import PARTIAL, scenario_modules


def _cases():
    for modname, mod in scenario_modules().items():
        short = modname.split(".", 2)[2]
        for case in mod.CASES:
            if case.kind != PARTIAL:
                yield pytest.param(mod.CHECK, case, id=f"{short}:{case.kind}:{case.name}")


def _check_classes():
    return [mod.CHECK for mod in scenario_modules().values()]


def scopes_of(snap: Snapshot) -> list[RunScope]:
    """One scope per cell, per host and per project of the snapshot."""
    cells = sorted({c.name for c in snap.of(Cell)})
    hosts = sorted(set(snap.host_cells()) | {s[5:] for _, s in snap.coverage if s.startswith("host:")})
    projects = sorted({i.project_id for i in snap.of(Instance) if i.project_id})
    return (
        [RunScope(cells=(c,)) for c in cells]
        + [RunScope(hosts=(h,)) for h in hosts]
        + [RunScope(projects=(p,)) for p in projects]
    )


@pytest.mark.parametrize(("check_cls", "case"), list(_cases()))
def test_a_scoped_run_reports_inside_only_and_loses_nothing_silently(check_cls, case):
    whole = case.build()
    base = {f.fingerprint: f for f in judge(check_cls(case.params), whole).findings}
    problems = []
    for scope in scopes_of(whole):
        where = scope.describe()
        out = judge(check_cls(case.params), whole.narrowed(scope))
        got = {f.fingerprint: f for f in out.findings}
        places = Places(Snapshot(taken_at=whole.taken_at, facts=whole.facts, coverage=whole.coverage, scope=scope))
        problems += [f"{where}: new finding {got[fp].subject}" for fp in sorted(got.keys() - base.keys())]
        problems += [f"{where}: reported outside {f.subject}" for f in got.values() if places.finding(f) != INSIDE]
        problems += [
            f"{where}: lost silently {f.subject}"
            for fp, f in sorted(base.items())
            if fp not in got and places.finding(f) == INSIDE and not out.undecided
        ]
    assert problems == []


# every seventh case that is not a scoped run already (those are their own baseline)
@pytest.mark.parametrize(("check_cls", "case"), [p for p in _cases() if not p.values[1].build().scope][::7])
def test_an_empty_scope_changes_nothing(check_cls, case):
    whole = case.build()
    plain = judge(check_cls(case.params), whole)
    scoped = judge(check_cls(case.params), whole.narrowed(RunScope()))
    assert [f.fingerprint for f in scoped.findings] == [f.fingerprint for f in plain.findings]
    assert scoped.inconclusive_list == plain.inconclusive_list


# -- a --cell run's part of the shared databases (model/cell_slice.py) -------------------
def crossed_cells() -> Snapshot:
    """Two cells whose shared objects cross: a cell2 instance's port bound to a cell1 host,
    its allocation on a cell1 provider, a cell1 instance mapped to cell2, a volume attached
    to an instance of each cell, a deleted cell2 instance's leftovers on cell1's side, and
    a port, an allocation and an attachment of no instance any cell knows."""
    from tests.support.world import DAY, World

    w = World()
    w.host("hv1", cell="cell1")
    w.host("hv2", cell="cell2")
    a = w.instance(cell="cell1", host="hv1")
    b = w.instance(cell="cell2", host="hv2")
    moved = w.instance(cell="cell1", host="hv1", mapped="cell2")  # a wrong-cell mapping
    gone = w.instance(cell="cell2", host="hv2", deleted=True, deleted_age=2 * DAY)
    nobody = w.new_uuid()
    for u in (a, b, moved):
        w.instance_port(u)
        w.allocate(u, "hv1" if u != b else "hv2")
    w.port(b, host="hv1", age=3 * DAY)  # cell2's instance, bound on cell1's host
    w.port(gone, host="hv1", age=3 * DAY)  # an orphan on cell1's host, of cell2's instance
    w.port(nobody, host="hv2", age=3 * DAY)
    w.allocate(b, "hv1")  # cell2's instance holding cell1's resources too
    w.allocate(gone, "hv1", age=3 * DAY)
    w.allocate(nobody, "hv2", age=3 * DAY)
    shared = w.volume(status="in-use", multiattach=True)
    for u, host in ((a, "hv1"), (b, "hv2")):
        w.bdm(u, shared, attachment_id=w.attachment(shared, u, host=host))
    w.attachment(w.volume(status="in-use"), gone, host="hv1")  # a stale attachment
    return w.snapshot()


@pytest.mark.parametrize("check_cls", [c for c in _check_classes()], ids=lambda c: c.code)
def test_a_cells_part_of_the_shared_databases_decides_inside_as_the_whole_does(check_cls):
    whole = crossed_cells()
    base = {f.fingerprint: f for f in judge(check_cls(), whole).findings}
    for cell in ("cell1", "cell2"):
        scope = RunScope(cells=(cell,))
        part = whole.narrowed(scope)
        assert any(c.part == f"cells:{cell}" for c in part.coverage.values())  # read as a part
        out = judge(check_cls(), part)
        places = Places(Snapshot(taken_at=whole.taken_at, facts=whole.facts, coverage=whole.coverage, scope=scope))
        got = {f.fingerprint: f for f in out.findings}
        assert got.keys() <= base.keys(), f"{cell}: new {[got[k].subject for k in got.keys() - base.keys()]}"
        assert all(places.finding(f) == INSIDE for f in got.values())
        lost = [f.subject for fp, f in base.items() if fp not in got and places.finding(f) == INSIDE]
        assert not lost or check_cls.code in {i.code for i in out.inconclusive_list}, f"{cell}: lost {lost}"


def test_the_crossed_cells_are_read_as_parts():
    """The world above is cut where the module says (model/cell_slice.py)."""
    from osfsck.model.facts.neutron import NeutronPort
    from osfsck.model.facts.nova import InstanceMapping
    from osfsck.model.facts.placement import Allocation

    whole = crossed_cells()
    one = whole.narrowed(RunScope(cells=("cell1",)))
    # beside the hosts' disks and sessions too (crossed_volumes has what they name)
    for kind in (InstanceMapping, NeutronPort, Allocation, CinderAttachment):
        assert 0 < len(one.of(kind)) < len(whole.of(kind)), kind.kind
    assert one.coverage[(CinderAttachment.kind, "cinder")].part == "cells:cell1"
    cell1 = {i.uuid for i in one.of(Instance)}
    # the wrong-cell mapping of cell1's instance is read (the second pass), cell2's own are not
    assert {m.instance_uuid for m in one.of(InstanceMapping)} == cell1
    # cell2's instance's port bound on cell1's host is read with its bindings
    assert {p.device_id for p in one.of(NeutronPort)} > cell1


@pytest.mark.parametrize("world", ["crossed_cells", "crossed_volumes"])
def test_merged_parts_are_one_part_with_each_fact_once(world):
    from osfsck.model.facts.nova import InstanceMapping
    from osfsck.model.snapshot_merge import merge

    whole = globals()[world]()
    parts = [whole.narrowed(RunScope(cells=(c,))) for c in ("cell1", "cell2")]
    both = merge(parts, 60.0)
    joined = whole.narrowed(RunScope(cells=("cell1", "cell2")))
    for kind, facts in joined.facts.items():
        assert sorted(map(repr, both.facts.get(kind, []))) == sorted(map(repr, facts)), kind
    cov = both.coverage[(InstanceMapping.kind, "api")]
    assert cov.part == "cells:cell1,cell2" and cov.complete
    # a whole read, complete, beside a part: the whole one
    assert merge([parts[0], whole], 60.0).coverage[(InstanceMapping.kind, "api")].part == ""


def mapped_across() -> Snapshot:
    """A cell2 instance the API database maps to cell1 (a wrong-cell mapping), holding a
    volume's attachment but no mapping of it, a port bound to its host and an allocation:
    its objects lie in cell1 too (where the mapping says), so cell1's run reads them."""
    from tests.support.world import World

    w = World()
    w.host("hv1", cell="cell1")
    w.host("hv2", cell="cell2")
    w.instance(cell="cell1", host="hv1")
    b = w.instance(cell="cell2", host="hv2", mapped="cell1")
    w.attachment(w.volume(status="in-use"), b, host="hv2")  # stale: no block device mapping
    w.instance_port(b)
    w.allocate(b, "hv2")
    return w.snapshot()


@pytest.mark.parametrize("check_cls", _check_classes(), ids=lambda c: c.code)
def test_what_an_instance_mapped_to_the_cell_holds_is_read_with_the_cell(check_cls):
    """Without it, cell1's run would lose VL101's finding on the attachment silently: it
    lies in cell1 by the mapping, and would not be read at all."""
    whole = mapped_across()
    base = {f.fingerprint: f for f in judge(check_cls(), whole).findings}
    for cell in ("cell1", "cell2"):
        scope = RunScope(cells=(cell,))
        out = judge(check_cls(), whole.narrowed(scope))
        places = Places(Snapshot(taken_at=whole.taken_at, facts=whole.facts, coverage=whole.coverage, scope=scope))
        got = {f.fingerprint for f in out.findings}
        assert got <= base.keys() and all(places.finding(base[fp]) == INSIDE for fp in got)
        lost = [f.subject for fp, f in base.items() if fp not in got and places.finding(f) == INSIDE]
        assert not lost or check_cls.code in {i.code for i in out.inconclusive_list}, f"{cell}: lost {lost}"


# -- Cinder's part beside the hosts' disks and sessions (model/cell_slice.py) ------------
ARRAY = "iqn.2010-06.com.purestorage:flasharray.4a8b2c6d1e3f5a7b"
OTHER_ARRAY = "iqn.2010-06.com.purestorage:flasharray.0f1e2d3c4b5a6978"
THIRD_ARRAY = "iqn.1992-08.com.netapp:sn.4a5b6c7d8e9f"


def crossed_volumes() -> Snapshot:
    """Two cells whose hosts hold each other's volumes: in cell1's run, one case for each
    lookup of Cinder's part beside the hosts, which a part without it would decide wrong.

    - hv1's guest of cell1 has a disk with the serial of a cell2 instance's volume being
      migrated (VL202 near miss: unexpected only if that volume's row is missed);
    - Cinder's attachment of a cell2 instance's volume of the array says hv1, where the
      array's session carries its LUN beside cell1's own (VL205 near miss: stale only if
      that attachment is missed);
    - hv1 keeps a session to the target of a cell2 instance's volume (VL203 in cell1: the
      target is OpenStack's by the volume id in its IQN and by the attachment naming it);
    - hv3 keeps a session to the target of a volume no attachment names any more (VL203:
      OpenStack's by the volume id alone), and one to a second array no mapping of cell1
      names, only a deleted attachment of a cell2 instance (VL203: by that attachment
      alone: the IQN holds no volume id);
    - hv1's own iSCSI (a backup LUN nobody in OpenStack names): never reported;
    - a volume of cell2's instance none of cell1's hosts holds;
    - hv1 keeps a session to a third array that cell2's mappings name (not cell1's), and
      a deleted attachment of no instance named it for hv1's LUN (VL203 in cell1): which
      targets are looked for is decided per host, by its own cell's mappings, so a run
      of both cells reads what each cell's run reads."""
    from tests.support.world import World, iqn_of

    w = World()
    for host, cell in (("hv1", "cell1"), ("hv3", "cell1"), ("hv2", "cell2")):
        w.host(host, cell=cell)
    a = w.instance(cell="cell1", host="hv1")
    b = w.instance(cell="cell2", host="hv2")
    for u, host in ((a, "hv1"), (b, "hv2")):
        w.domain(host, u)
    w.attached_volume(a, iqn=ARRAY, lun=1)
    moving = w.volume(status="in-use", migration_status="migrating")
    w.bdm(b, moving, attachment_id=w.attachment(moving, b, host="hv2"))
    w.volume_disk("hv1", a, moving, kind="rbd", target_dev="vdc")
    held = w.volume(status="in-use")
    w.bdm(b, held, attachment_id=w.attachment(held, b, host="hv1", iqn=ARRAY, lun=2), iqn=ARRAY, lun=2)
    w.scan_lun("hv1", ARRAY, 2)
    theirs, _, _ = w.attached_volume(b, target_dev="vdd")
    w.attached_volume(b, kind="rbd", target_dev="vde")  # cell2's alone
    w.session("hv1", iqn_of(theirs))
    w.session("hv3", iqn_of(w.volume()))
    gone = w.instance(cell="cell2", host="hv2", deleted=True)
    w.attachment(w.volume(), gone, host="hv2", deleted=True, iqn=OTHER_ARRAY, lun=4)
    w.session("hv3", OTHER_ARRAY, luns=(4,))
    w.session("hv1", "iqn.2004-04.com.example:backup-lun", portal="192.0.2.99:3260")
    w.attached_volume(b, iqn=THIRD_ARRAY, lun=3, target_dev="vdf")
    w.session("hv1", THIRD_ARRAY, luns=(5,))
    w.attachment(w.volume(), None, host="hv9", deleted=True, iqn=THIRD_ARRAY, lun=5)
    return w.snapshot()


def _inside(whole: Snapshot, cell: str, findings) -> set[str]:
    scope = RunScope(cells=(cell,))
    places = Places(Snapshot(taken_at=whole.taken_at, facts=whole.facts, coverage=whole.coverage, scope=scope))
    return {f.fingerprint for f in findings if places.finding(f) == INSIDE}


def _volume_checks():
    return [c for c in _check_classes() if c.code.startswith("VL")]


@pytest.mark.parametrize("check_cls", _volume_checks(), ids=lambda c: c.code)
def test_cinders_part_beside_the_hosts_decides_inside_exactly_as_the_whole_does(check_cls):
    whole = crossed_volumes()
    base = judge(check_cls(), whole).findings
    for cell in ("cell1", "cell2"):
        part = whole.narrowed(RunScope(cells=(cell,)))
        assert part.coverage[(CinderVolume.kind, "cinder")].part == f"cells:{cell}"
        got = {f.fingerprint for f in judge(check_cls(), part).findings}
        assert got == _inside(whole, cell, base), cell  # nothing new, nothing lost, nothing undecided


def test_the_crossed_volumes_are_what_each_lookup_is_for():
    from osfsck.checks.volumes.leaked_iscsi_session import LeakedIscsiSession
    from osfsck.model.facts.hypervisor import IscsiSession
    from tests.support.world import iqn_of

    whole = crossed_volumes()
    leaked = {f.subject.id.split("@")[0] for f in judge(LeakedIscsiSession(), whole).findings}
    targets = {s.target_iqn for s in whole.of(IscsiSession) if s.host in ("hv1", "hv3")}
    assert leaked == targets - {ARRAY, "iqn.2004-04.com.example:backup-lun"}
    (alone,) = [
        v.id
        for v in whole.of(CinderVolume)
        if iqn_of(v.id) in leaked and v.id not in {a.volume_id for a in whole.of(CinderAttachment)}
    ]  # found by its id alone
    assert alone and not _UUID_IN.search(OTHER_ARRAY)  # the other array: by the attachment alone
    one = whole.narrowed(RunScope(cells=("cell1",)))
    assert 0 < len(one.of(CinderVolume)) < len(whole.of(CinderVolume))
    assert {a.instance_uuid for a in one.of(CinderAttachment)} > {i.uuid for i in one.of(Instance)}


_UUID_IN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _cut(whole: Snapshot, cell: str, **without) -> Snapshot:
    """Cell `cell`'s run of `whole` with Cinder's part read without some of its lookups."""
    from dataclasses import replace

    from osfsck.model.cell_slice import cell_keys, slice_facts

    part = whole.narrowed(RunScope(cells=(cell,)))
    keys = replace(cell_keys(part.facts, part.coverage, {cell}), **without)
    cut = slice_facts(keys, {k: whole.of(k) for k in (CinderVolume, CinderAttachment)})
    for kind, rows in cut.items():
        part.facts[kind.kind] = rows
    part.memo.clear()
    return part


@pytest.mark.parametrize(
    ("without", "code", "new"),
    [
        ({"serials": frozenset()}, "VL202", True),  # the migrating volume's row missed
        ({"session_hosts": frozenset()}, "VL205", True),  # cell2's attachment on hv1 missed
        ({"targets": frozenset()}, "VL203", False),  # the sessions' targets taken for no one's
    ],
    ids=["disks' serials", "sessions' hosts", "sessions' targets"],
)
def test_each_lookup_of_cinders_part_beside_the_hosts_is_needed(without, code, new):
    (check_cls,) = [c for c in _volume_checks() if c.code == code]
    whole = crossed_volumes()
    inside = _inside(whole, "cell1", judge(check_cls(), whole).findings)
    right = {f.fingerprint for f in judge(check_cls(), whole.narrowed(RunScope(cells=("cell1",)))).findings}
    wrong = {f.fingerprint for f in judge(check_cls(), _cut(whole, "cell1", **without)).findings}
    assert right == inside
    assert wrong - inside if new else inside - wrong, f"{code} decides the same without {without}"


def test_a_target_is_found_by_its_volume_id_where_no_attachment_names_it(monkeypatch):
    """Without the volume ids in the sessions' IQNs, the target of a volume whose
    attachments are gone is taken for no one's: its leaked session lost."""
    from osfsck.checks.volumes.leaked_iscsi_session import LeakedIscsiSession
    from osfsck.model import cell_slice

    whole = crossed_volumes()
    inside = _inside(whole, "cell1", judge(LeakedIscsiSession(), whole).findings)
    monkeypatch.setattr(cell_slice, "_UUID", re.compile(r"(?!)"))
    lost = inside - {
        f.fingerprint for f in judge(LeakedIscsiSession(), whole.narrowed(RunScope(cells=("cell1",)))).findings
    }
    assert len(lost) == 1


# -- the whole-cloud services' parts: OVN, NSX, RabbitMQ; DNS not read -------------------
def crossed_services() -> Snapshot:
    """Two cells whose services' objects cross, with the near misses of each part:

    - a cell2 instance's port whose switch port still names a cell1 instance (its
      `neutron:device_id` stale, its revision behind): no orphan in cell1's run (the LSP
      is not read there), drift in cell2's;
    - a cell1 instance's cached port Neutron lost, its LSP and NSX port left (asked for
      by id: an orphan inside cell1);
    - a cell1 port without its LSP, a cell2 port without its NSX port;
    - a cell1 instance's port on an external network (a floating IP's), and a cell2
      instance's on another (a router's gateway's): no NSX port is expected for them,
      though the floating IP and the gateway are no cell's (one of each network read);
    - each host's compute queue, cell2's host dead with a backlog; a reply queue; and a
      zone whose records name both cells' instances."""
    from osfsck.model.facts.neutron import NeutronPort
    from osfsck.model.facts.nsx import PORT as NSX_PORT
    from osfsck.model.facts.nsx import NsxObject
    from osfsck.model.facts.ovn import OvnNbRow
    from tests.support.world import DAY, World

    w = World()
    w.host("hv1", cell="cell1")
    w.host("hv2", cell="cell2")
    a = w.instance(cell="cell1", host="hv1")
    b = w.instance(cell="cell2", host="hv2")
    c = w.instance(cell="cell1", host="hv1")
    outside = w.network("public")  # the floating IPs' (external: no NSX port is expected on it)
    net = w.network("private")
    pa, pb = w.instance_port(a, network_id=net), w.instance_port(b, network_id=net)
    lost = w.instance_port(c, network_id=net)  # Neutron loses it below: its LSP and NSX port stay
    no_lsp = w.instance_port(a, network_id=net)
    no_nsx = w.instance_port(b, network_id=net)
    router = w.router()
    w.floating_ip(pb, router_id=router)
    public = w.instance_port(c, network_id=outside)
    provider = w.network("provider")
    w.port(router, device_owner="network:router_gateway", host=None, network_id=provider)
    w.instance_port(b, network_id=provider)
    w.ovn(skip=(no_lsp,))
    w.nsx_mirror(skip=(outside, provider))
    w._facts[NsxObject.kind] = [
        o for o in w._facts[NsxObject.kind] if not (o.neutron_kind == NSX_PORT and o.neutron_id == no_nsx)
    ]
    w._facts[NeutronPort.kind] = [p for p in w._facts[NeutronPort.kind] if p.id != lost]
    stale = next(r for r in w._facts[OvnNbRow.kind] if r.name == pb)
    w._facts[OvnNbRow.kind].remove(stale)
    w._facts[OvnNbRow.kind].append(stale._replace(device_id=a, revision=(stale.revision or 3) - 1))
    w.queue("compute.hv1", consumers=1)
    w.queue("compute.hv2", messages=4, consumers=0)
    w.service_down("hv2", cell="cell2", age=2 * DAY)
    w.queue("reply_0123456789abcdef", consumers=0, messages=3)
    w.zone()
    for u in (a, b):
        w.host_records(f"vm-{u}", w.address_of(pa if u == a else pb))
    assert public
    return w.snapshot()


SERVICE_CODES = ("OV", "NX", "MQ", "DN")


@pytest.mark.parametrize(
    "check_cls", [c for c in _check_classes() if c.code.startswith(SERVICE_CODES)], ids=lambda c: c.code
)
def test_the_services_parts_decide_inside_as_the_whole_does(check_cls):
    whole = crossed_services()
    base = {f.fingerprint: f for f in judge(check_cls(), whole).findings}
    for cell in ("cell1", "cell2"):
        scope = RunScope(cells=(cell,))
        part = whole.narrowed(scope)
        out = judge(check_cls(), part)
        places = Places(Snapshot(taken_at=whole.taken_at, facts=whole.facts, coverage=whole.coverage, scope=scope))
        got = {f.fingerprint: f for f in out.findings}
        assert got.keys() <= base.keys(), f"{cell}: new {[got[k].subject for k in got.keys() - base.keys()]}"
        assert all(places.finding(f) == INSIDE for f in got.values())
        lost = [f.subject for fp, f in base.items() if fp not in got and places.finding(f) == INSIDE]
        assert not lost or check_cls.code in {i.code for i in out.inconclusive_list}, f"{cell}: lost {lost}"


def test_the_services_near_misses_in_each_cells_run():
    from osfsck.checks.nsx.missing_nsx_object import MissingNsxObject
    from osfsck.checks.ovn.missing_ovn_object import MissingOvnObject
    from osfsck.checks.ovn.orphan_ovn_object import OrphanOvnObject
    from osfsck.checks.ovn.ovn_revision_drift import OvnRevisionDrift
    from osfsck.checks.rabbitmq.dead_host_queue_backlog import DeadHostQueueBacklog
    from osfsck.checks.rabbitmq.orphan_rpc_queue import OrphanRpcQueue
    from osfsck.model.facts.ovn import SWITCH_PORT, OvnNbRow

    whole = crossed_services()

    def found(check, cell):
        snap = whole.narrowed(RunScope(cells=(cell,))) if cell else whole
        return {(f.subject.kind, f.subject.id) for f in judge(check(), snap).findings}

    rows = {r.uuid: r for r in whole.of(OvnNbRow)}
    orphans = {i for k, i in found(OrphanOvnObject, None) if rows[i].table == SWITCH_PORT}
    assert len(orphans) == 1  # the lost port's LSP
    assert found(OrphanOvnObject, "cell1") >= {("ovn-logical-switch-port", u) for u in orphans}
    assert not found(OrphanOvnObject, "cell2")
    drift = found(OvnRevisionDrift, None)
    assert len(drift) == 1 and found(OvnRevisionDrift, "cell2") == drift  # the LSP of cell2's port
    (stale,) = [rows[i] for _, i in drift]
    # read by name in cell2's run; in cell1's, whose instance it names, read too: its port
    # is not cell1's, so neither an orphan nor in step -- both checks say they cannot tell
    one = whole.narrowed(RunScope(cells=("cell1",)))
    assert stale.uuid in {r.uuid for r in one.of(OvnNbRow)}
    for check in (OrphanOvnObject, OvnRevisionDrift):
        out = judge(check(), one)
        assert ("ovn-logical-switch-port", stale.uuid) not in {(f.subject.kind, f.subject.id) for f in out.findings}
        assert [i for i in out.inconclusive_list if stale.uuid in i.reason], check.code
    missing = found(MissingOvnObject, None)
    assert found(MissingOvnObject, "cell1") | found(MissingOvnObject, "cell2") == missing
    nsx = found(MissingNsxObject, None)
    assert nsx and found(MissingNsxObject, "cell2") == nsx and not found(MissingNsxObject, "cell1")
    assert found(DeadHostQueueBacklog, None) and not found(DeadHostQueueBacklog, "cell1")
    assert found(OrphanRpcQueue, None) and not found(OrphanRpcQueue, "cell1") and not found(OrphanRpcQueue, "cell2")


def test_the_services_are_read_as_parts_and_dns_not_at_all():
    from osfsck.model.facts.dns import DnsRecord
    from osfsck.model.facts.neutron import NeutronPort
    from osfsck.model.facts.nsx import NsxObject
    from osfsck.model.facts.ovn import OvnNbRow
    from osfsck.model.facts.rpc import RabbitQueue

    whole = crossed_services()
    for cell in ("cell1", "cell2"):
        one = whole.narrowed(RunScope(cells=(cell,)))
        for kind in (NeutronPort, OvnNbRow, NsxObject, RabbitQueue):
            assert 0 < len(one.of(kind)) < len(whole.of(kind)), (cell, kind.kind)
            assert {c.part for (k, _), c in one.coverage.items() if k == kind.kind} == {f"cells:{cell}"}
        assert not one.of(DnsRecord)
        zones = [c for (k, _), c in one.coverage.items() if k == DnsRecord.kind]  # forward and reverse
        assert zones and all(not c.complete and "--cell" in c.reason for c in zones)
        assert {q.name for q in one.of(RabbitQueue)} == {"compute.hv1" if cell == "cell1" else "compute.hv2"}
