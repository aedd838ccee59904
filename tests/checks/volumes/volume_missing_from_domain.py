"""Scenarios of VL201 volume-missing-from-domain: Nova and Cinder say attached, the domain
has no disk with the volume's serial."""

from osfsck.checks.volumes.volume_missing_from_domain import VolumeMissingFromDomain
from osfsck.model.facts.hypervisor import DomainVolume
from tests.checks.scenario import Case
from tests.support.world import MINUTE, World, uid, volume_uid

CHECK = VolumeMissingFromDomain


def disk_missing():
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    w.attached_volume(u, kind="rbd")
    w.attached_volume(u, kind="rbd", disk=False, target_dev="vdc")
    return w.snapshot()


def verify(out):
    (f,) = out.findings
    assert f.subject.scope == "host:hv1" and f.evidence["domain_serials"] == [volume_uid(1)]
    assert "/dev/vdc" in f.message


def clean():
    w = World()
    for host in ("hv1", "hv2"):
        u = w.instance(host=host)
        w.domain(host, u)
        w.attached_volume(u)
        w.attached_volume(u, kind="rbd", target_dev="vdc", boot_index=0)  # boot from volume
    return w.snapshot()


def attach_in_flight():
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    w.attached_volume(u, disk=False, age=MINUTE)
    return w.snapshot()


def shelved_offloaded():
    w = World()
    u = w.instance(host=None, vm_state="shelved_offloaded")
    vid = w.volume(status="reserved")
    w.bdm(u, vid, attachment_id=w.attachment(vid, u, host=None, status="reserved"))
    return w.snapshot()


def cinder_detached_it():
    # Cinder no longer attaches it: that mapping dangles (VL102), the domain is right
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    w.bdm(u, w.volume(status="available"))
    return w.snapshot()


def no_domain_at_all():
    w = World()
    w.attached_volume(w.instance(host="hv1"), disk=False)
    return w.snapshot()


def disks_partial():
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    w.attached_volume(u, disk=False)
    w.partial(DomainVolume, "host:hv1", "hv1: libvirt: XML of instance-00000001 unreadable")
    return w.snapshot()


def cinder_partial():
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    w.attached_volume(u, disk=False)
    w.cinder_down()
    return w.snapshot()


CASES = [
    Case(
        "found",
        "the second volume's disk is not in the domain",
        disk_missing,
        [("VL201", f"{uid(1)}/{volume_uid(2)}")],
        verify=verify,
    ),
    Case("clean", "every attached volume is a disk, boot volume included", clean),
    Case("near-miss", "attach in flight", attach_in_flight),
    Case("near-miss", "shelved-offloaded: no host, no domain", shelved_offloaded),
    Case("near-miss", "Cinder shows the volume available", cinder_detached_it),
    Case("near-miss", "instance without any domain (NV101's)", no_domain_at_all),
    Case("partial", "the host's domain disks unread", disks_partial, ["host:hv1"]),
    Case("partial", "Cinder unreadable", cinder_partial, ["cinder"]),
]
