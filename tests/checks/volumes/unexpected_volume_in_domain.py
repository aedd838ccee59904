"""Scenarios of VL202 unexpected-volume-in-domain: a domain's volume disk that none of its
instance's mappings names."""

from osfsck.checks.volumes.unexpected_volume_in_domain import UnexpectedVolumeInDomain
from osfsck.model.facts.nova import BlockDeviceMapping
from tests.checks.scenario import Case
from tests.support.world import MINUTE, World, uid, volume_uid

CHECK = UnexpectedVolumeInDomain


def detach_never_reached_libvirt():
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    w.attached_volume(u, kind="rbd")
    w.volume_disk("hv1", u, w.volume(status="available"), kind="rbd", target_dev="vdc")
    return w.snapshot()


def verify(out):
    (f,) = out.findings
    assert "vdc" in f.message and "Cinder shows it available" in f.message
    assert f.evidence["disk"]["target_dev"] == "vdc" and f.evidence["mapped_volumes"] == [volume_uid(1)]


def unknown_serial():
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    w.cinder()
    w.volume_disk("hv1", u, "0badc0de-0000-0000-0000-000000000000")
    return w.snapshot()


def clean():
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    w.attached_volume(u)
    w.attached_volume(u, kind="rbd", target_dev="vdc")
    return w.snapshot()


def swap_in_progress():
    # a volume migration swaps the disk first, then the mapping
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    w.attached_volume(u, age=2 * MINUTE)
    w.volume_disk("hv1", u, w.volume(status="in-use", migration_status="migrating"), target_dev="vdc")
    return w.snapshot()


def hand_made_domain():
    w = World()
    u = w.new_uuid()
    w.domain("hv1", u, name="ops-scratch", nova=False)
    w.volume_disk("hv1", u, "0badc0de-0000-0000-0000-000000000000")
    return w.snapshot()


def zombie_domain():
    w = World()
    u = w.instance(host="hv1", deleted=True)
    w.domain("hv1", u)
    w.volume_disk("hv1", u, w.volume(status="available"))
    return w.snapshot()


def mappings_partial():
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    w.volume_disk("hv1", u, w.volume(status="in-use"))
    w.partial(BlockDeviceMapping, "cell:cell1", "block_device_mapping: lost connection")
    return w.snapshot()


CASES = [
    Case(
        "found",
        "a detached volume still in the domain",
        detach_never_reached_libvirt,
        [("VL202", f"{uid(1)}/{volume_uid(2)}")],
        verify=verify,
    ),
    Case(
        "found",
        "a serial Cinder does not know",
        unknown_serial,
        [("VL202", f"{uid(1)}/0badc0de-0000-0000-0000-000000000000")],
    ),
    Case("clean", "every disk is mapped", clean),
    Case("near-miss", "volume swap in progress", swap_in_progress),
    Case("near-miss", "a domain made by hand", hand_made_domain),
    Case("near-miss", "the domain of a deleted instance (zombie-domain's)", zombie_domain),
    Case("partial", "the cell's mappings are partial", mappings_partial, ["cell:cell1"]),
]
