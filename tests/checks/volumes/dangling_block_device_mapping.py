"""Scenarios of VL102 dangling-block-device-mapping: a live instance's mapping for a volume
Cinder no longer attaches to it."""

from osfsck.checks.volumes.dangling_block_device_mapping import DanglingBlockDeviceMapping
from osfsck.model.finding import Severity
from tests.checks.scenario import Case
from tests.support.world import DAY, MINUTE, World, bdm_uid

CHECK = DanglingBlockDeviceMapping


def volume_deleted():
    w = World()
    u = w.instance()
    w.attached_volume(u)
    vid = w.volume(deleted=True)
    w.bdm(u, vid, attachment_id=w.attachment(vid, u, deleted=True), kind="rbd", device="/dev/vdc")
    return w.snapshot()


def attachment_gone():
    w = World()
    u = w.instance()
    vid = w.volume(status="available")
    w.bdm(u, vid, attachment_id="0e0e0e0e-0000-0000-0000-000000000000")
    return w.snapshot()


def unknown_to_cinder_as_root():
    w = World()
    u = w.instance()
    w.cinder()
    w.bdm(u, "feedface-0000-0000-0000-000000000000", boot_index=0, source_type="image")
    return w.snapshot()


def old_style_available():
    # a mapping from before attachment ids: Cinder shows the volume available
    w = World()
    u = w.instance()
    w.bdm(u, w.volume(status="available"))
    return w.snapshot()


def attachment_of_another_instance():
    w = World()
    a, b = w.instance(), w.instance()
    vid, aid, _ = w.attached_volume(a)
    w.bdm(b, vid, attachment_id=aid)
    return w.snapshot()


def verify_root(out):
    (f,) = out.findings
    assert f.severity == Severity.HIGH and "its boot volume" in f.message
    assert "Cinder has no such volume" in f.message and f.evidence["volume"] is None


def verify_deleted(out):
    (f,) = out.findings
    assert f.subject.scope == "cell:cell1" and "Cinder has deleted it" in f.message
    assert f.evidence["block_device_mapping"]["device_name"] == "/dev/vdc"


def clean():
    w = World()
    for host in ("hv1", "hv2"):
        u = w.instance(host=host)
        w.attached_volume(u)
        w.attached_volume(u, kind="rbd", target_dev="vdc")
    w.bdm(w.instance(), w.volume(status="in-use"))  # old style, still in use
    return w.snapshot()


def attach_in_flight():
    w = World()
    u = w.instance()
    w.bdm(u, w.volume(status="available"), age=MINUTE)
    return w.snapshot()


def volume_migrating():
    w = World()
    u = w.instance()
    vid = w.volume(status="in-use", migration_status="migrating")
    w.bdm(u, vid, attachment_id="0e0e0e0e-0000-0000-0000-000000000000")
    return w.snapshot()


def shelved_offloaded():
    w = World()
    u = w.instance(host=None, vm_state="shelved_offloaded")
    vid = w.volume(status="reserved")
    w.bdm(u, vid, attachment_id=w.attachment(vid, u, host=None, status="reserved"))
    return w.snapshot()


def deleted_instance_mapping():
    # a mapping left on a deleted instance is not this check's subject
    w = World()
    u = w.instance(deleted=True)
    w.bdm(u, w.volume(deleted=True))
    return w.snapshot()


def building():
    w = World()
    u = w.instance(vm_state="building", task_state="block_device_mapping", age=DAY)
    w.bdm(u, w.volume(status="creating"))
    return w.snapshot()


def cinder_partial():
    w = World()
    u = w.instance()
    w.bdm(u, w.volume(deleted=True))
    w.cinder_down()
    return w.snapshot()


CASES = [
    Case("found", "Cinder deleted the volume", volume_deleted, [("VL102", bdm_uid(2))], verify=verify_deleted),
    Case("found", "the attachment the mapping names is gone", attachment_gone, [("VL102", bdm_uid(1))]),
    Case(
        "found", "boot volume unknown to Cinder", unknown_to_cinder_as_root, [("VL102", bdm_uid(1))], verify=verify_root
    ),
    Case("found", "pre-Queens mapping, volume available", old_style_available, [("VL102", bdm_uid(1))]),
    Case("found", "attachment belongs to another instance", attachment_of_another_instance, [("VL102", bdm_uid(2))]),
    Case("clean", "every mapping matches Cinder", clean),
    Case("near-miss", "attach in flight", attach_in_flight),
    Case("near-miss", "volume being migrated", volume_migrating),
    Case("near-miss", "shelved-offloaded instance with a reserved attachment", shelved_offloaded),
    Case("near-miss", "mapping of a deleted instance", deleted_instance_mapping),
    Case("near-miss", "instance still building", building),
    Case("partial", "Cinder unreadable", cinder_partial, ["cinder"]),
]
