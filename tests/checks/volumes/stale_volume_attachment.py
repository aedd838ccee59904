"""Scenarios of VL101 stale-volume-attachment: Cinder holds a volume for an instance that no
longer has it."""

from osfsck.checks.volumes.stale_volume_attachment import StaleVolumeAttachment
from osfsck.model.facts.nova import BlockDeviceMapping
from tests.checks.scenario import Case
from tests.support.world import DAY, HOUR, MINUTE, World, attachment_uid, volume_uid

CHECK = StaleVolumeAttachment


def _left_behind(w, instance, **kw):
    """A volume still in-use with a live attachment for `instance`, and nothing else.  The
    attachment is the World's next one: attachment_uid(number of attachments so far + 1)."""
    vid = w.volume(status="in-use", **kw)
    w.attachment(vid, instance, host="hv1", updated_age=3 * DAY)


def deleted_instance():
    w = World()
    w.attached_volume(w.instance(host="hv1"))
    gone = w.instance(host="hv1", deleted=True, deleted_age=3 * DAY)
    _left_behind(w, gone)
    return w.snapshot()


def archived_instance():
    w = World()
    gone = w.archived(host="hv1")
    _left_behind(w, gone)
    return w.snapshot()


def live_without_mapping():
    w = World()
    u = w.instance(host="hv1")
    _left_behind(w, u)
    return w.snapshot()


def in_use_without_attachment():
    w = World()
    w.volume(status="in-use", updated_age=2 * DAY)
    return w.snapshot()


def clean():
    w = World()
    a, b = w.instance(host="hv1"), w.instance(host="hv2")
    w.attached_volume(a)
    w.attached_volume(b, kind="rbd")
    vid = w.attached_volume(a, target_dev="vdc", multiattach=True)[0]
    aid = w.attachment(vid, b, host="hv2")
    w.bdm(b, vid, attachment_id=aid)
    w.volume(status="available")
    w.attachment(w.volume(), w.instance(deleted=True), deleted=True)  # detached long ago
    return w.snapshot()


def detach_in_flight():
    w = World()
    gone = w.instance(deleted=True, deleted_age=2 * MINUTE)
    vid = w.volume(status="detaching", updated_age=MINUTE)
    w.attachment(vid, gone, status="detaching", updated_age=MINUTE)
    return w.snapshot()


def migrating_volume():
    # a volume migration attaches the new volume to the migration host's temporary user
    w = World()
    vid = w.volume(status="in-use", migration_status="migrating")
    w.attachment(vid, w.instance(deleted=True))
    return w.snapshot()


def being_built():
    w = World()
    u = w.build_request(age=30)
    vid = w.volume(status="reserved")
    w.attachment(vid, u, host=None, status="reserved", updated_age=2 * HOUR)
    return w.snapshot()


def shelved_offloaded():
    # Nova keeps the mapping and Cinder a reserved attachment with no host
    w = World()
    u = w.instance(host=None, vm_state="shelved_offloaded")
    vid = w.volume(status="reserved")
    aid = w.attachment(vid, u, host=None, status="reserved")
    w.bdm(u, vid, attachment_id=aid)
    return w.snapshot()


def in_use_volume_still_mapped():
    # Cinder lost the attachment row but the instance really uses the volume: not stale
    w = World()
    u = w.instance()
    vid = w.volume(status="in-use")
    w.bdm(u, vid)
    return w.snapshot()


def cinder_partial():
    w = World()
    gone = w.instance(deleted=True)
    _left_behind(w, gone)
    w.cinder_down()
    return w.snapshot()


def instance_cell_down():
    w = World()
    w.host("hv3", cell="cell2")
    u = w.instance(cell="cell2", host="hv3", mapped=False)
    _left_behind(w, u)
    w.cell_down("cell2")
    return w.snapshot()


def mappings_partial():
    w = World()
    u = w.instance()
    _left_behind(w, u)
    w.partial(BlockDeviceMapping, "cell:cell1", "block_device_mapping: lost connection")
    return w.snapshot()


def verify_deleted(out):
    (f,) = out.findings
    assert "was deleted in cell:cell1" in f.message
    assert f.evidence["volume"]["status"] == "in-use" and f.evidence["instance"]["deleted"] is True
    assert {r.kind for r in f.related} == {"volume", "instance"}


def verify_in_use(out):
    (f,) = out.findings
    assert f.subject.kind == "volume" and "no live attachment" in f.message


CASES = [
    Case(
        "found",
        "attachment of a deleted instance",
        deleted_instance,
        [("VL101", attachment_uid(2))],
        verify=verify_deleted,
    ),
    Case("found", "attachment of an archived instance", archived_instance, [("VL101", attachment_uid(1))]),
    Case(
        "found", "live instance without a mapping for the volume", live_without_mapping, [("VL101", attachment_uid(1))]
    ),
    Case(
        "found",
        "in-use volume without any attachment",
        in_use_without_attachment,
        [("VL101", volume_uid(1))],
        verify=verify_in_use,
    ),
    Case("clean", "attachments match mappings, multi-attach included", clean),
    Case("near-miss", "detach in flight (changed a minute ago)", detach_in_flight),
    Case("near-miss", "volume being migrated", migrating_volume),
    Case("near-miss", "instance still being built", being_built),
    Case("near-miss", "shelved-offloaded instance keeps a reserved attachment", shelved_offloaded),
    Case("near-miss", "in-use volume that a live instance still maps", in_use_volume_still_mapped),
    Case("partial", "Cinder unreadable", cinder_partial, ["cinder"]),
    Case("partial", "the instance's cell is down", instance_cell_down, ["cell:cell2"]),
    Case("partial", "the instance's mappings are partial", mappings_partial, ["cell:cell1"]),
]
