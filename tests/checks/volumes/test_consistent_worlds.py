"""Property: a cloud whose five places agree gives no volume finding, whatever its shape
(instances on several hosts and cells, iSCSI and RBD volumes, multi-attach, boot from
volume, migrations in progress with sessions on both ends, shelved-offloaded instances);
and removing one place's record of one volume is found by the check for that place, and
by no other volume check."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osfsck.checks.registry import all_checks
from osfsck.model.facts.cinder import CinderAttachment
from osfsck.model.facts.hypervisor import DomainVolume, IscsiSession
from osfsck.model.facts.nova import BlockDeviceMapping
from tests.support.world import World, iqn_of

VOLUME_CHECKS = [c for c in all_checks() if c.code.startswith("VL")]
HOSTS = ("hv1", "hv2", "hv3")


@st.composite
def clouds(draw):
    return draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "host": st.sampled_from(HOSTS),
                    "cell": st.sampled_from(("cell1", "cell2")),
                    "state": st.sampled_from(("active", "active", "stopped", "migrating", "shelved_offloaded")),
                    "volumes": st.lists(st.sampled_from(("iscsi", "rbd")), max_size=3),
                    "boot_from_volume": st.booleans(),
                }
            ),
            min_size=1,
            max_size=6,
        )
    )


def build(spec):
    w = World()
    for cell in ("cell1", "cell2"):
        for h in HOSTS:
            w.host(f"{h}-{cell}", cell=cell)
    attached = []
    for inst in spec:
        host = f"{inst['host']}-{inst['cell']}"
        if inst["state"] == "shelved_offloaded":
            u = w.instance(cell=inst["cell"], host=None, vm_state="shelved_offloaded")
            for kind in inst["volumes"]:
                vid = w.volume(status="reserved")
                w.bdm(u, vid, attachment_id=w.attachment(vid, u, host=None, status="reserved"), kind=kind)
            continue
        migrating = inst["state"] == "migrating"
        u = w.instance(
            cell=inst["cell"],
            host=host,
            vm_state="active" if migrating else inst["state"],
            task_state="migrating" if migrating else None,
        )
        w.domain(host, u, state=5 if inst["state"] == "stopped" else 1)
        other = next(f"{h}-{inst['cell']}" for h in HOSTS if f"{h}-{inst['cell']}" != host)
        if migrating:
            w.migration(u, type="live-migration", status="running", source=host, dest=other)
            w.domain(other, u, state=3)
        kinds = (["rbd"] if inst["boot_from_volume"] else []) + list(inst["volumes"])
        for i, kind in enumerate(kinds):
            root = inst["boot_from_volume"] and i == 0
            vid, aid, buuid = w.attached_volume(
                u, kind=kind, target_dev=f"vd{chr(ord('a') + i)}", boot_index=0 if root else None
            )
            attached.append((u, host, vid, aid, buuid, kind, migrating))
            if migrating:
                w.volume_disk(other, u, vid, kind=kind)
                if kind == "iscsi":
                    w.session(other, iqn_of(vid))
    return w, attached


def findings(snap):
    return {(c.code, f.subject.id) for c in VOLUME_CHECKS for f in c().evaluate(snap).findings}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clouds())
def test_a_consistent_cloud_has_no_volume_finding(spec):
    w, _ = build(spec)
    assert findings(w.snapshot()) == set()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clouds(), st.data())
def test_one_lost_record_is_found_by_its_check_alone(spec, data):
    w, attached = build(spec)
    if not attached:
        return
    u, host, vid, aid, buuid, kind, migrating = data.draw(st.sampled_from(attached))
    snap = w.snapshot()
    lost = data.draw(st.sampled_from(("disk", "attachment", "mapping") + (("session",) if kind == "iscsi" else ())))
    # a migration in progress makes the host-side checks wait: the guest may be on either end
    if lost == "disk":
        _drop(snap, DomainVolume, lambda d: d.host == host and d.domain_uuid == u and d.serial == vid)
        expected = set() if migrating else {("VL201", f"{u}/{vid}")}
    elif lost == "session":
        _drop(snap, IscsiSession, lambda s: s.host == host and s.target_iqn == iqn_of(vid))
        expected = set() if migrating else {("VL204", f"{u}/{vid}")}
    elif lost == "attachment":
        _drop(snap, CinderAttachment, lambda a: a.id == aid)
        expected = {("VL102", buuid)}
    else:
        if migrating:
            return  # the destination's session is then explained by nothing: VL203 too
        _drop(snap, BlockDeviceMapping, lambda b: b.uuid == buuid)
        expected = {("VL101", aid), ("VL202", f"{u}/{vid}")}
    assert findings(snap) == expected


def _drop(snap, kind, which) -> None:
    snap.facts[kind.kind] = [f for f in snap.of(kind) if not which(f)]
