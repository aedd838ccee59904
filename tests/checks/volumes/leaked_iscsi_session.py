"""Scenarios of VL203 leaked-iscsi-session: a session to an OpenStack target nothing on the
host needs."""

from osfsck.checks.volumes.leaked_iscsi_session import LeakedIscsiSession
from osfsck.model.facts.nova import BlockDeviceMapping, Cell
from osfsck.model.finding import Confidence
from osfsck.model.scope import RunScope
from tests.checks.scenario import Case
from tests.support.world import PORTAL, World, iqn_of, volume_uid

CHECK = LeakedIscsiSession
# an array with one target for all its volumes, a LUN each (Pure, ONTAP): its IQN names no volume
ARRAY = "iqn.2010-06.com.purestorage:flasharray.4a8b2c6d1e3f5a7b"


def _gone_volume(w):
    """A volume whose instance was deleted and whose attachment was soft-deleted."""
    gone = w.instance(host="hv1", deleted=True)
    vid = w.volume(deleted=True)
    w.attachment(vid, gone, deleted=True)
    return vid


def detach_half_done():
    w = World()
    w.attached_volume(w.instance(host="hv1"))
    vid = _gone_volume(w)
    w.session("hv1", iqn_of(vid))
    return w.snapshot()


def verify(out):
    (f,) = out.findings
    assert f.confidence == Confidence.HIGH and f.evidence["node_record"] is True
    assert f.evidence["session"]["devices"] and f.evidence["devices_in_use"] == []


def session_without_disks():
    w = World()
    vid = _gone_volume(w)
    w.session("hv2", iqn_of(vid), luns=(), node=False)
    return w.snapshot()


def verify_low(out):
    (f,) = out.findings
    assert f.confidence == Confidence.LOW and "no SCSI disk" in f.message and f.evidence["node_record"] is False


def shared_target_only_a_deleted_attachment_names():
    # only Cinder's soft-deleted attachment (its connection_info flattened) says the target
    # is OpenStack's: the instance is gone and nothing else on hv1 uses the array
    w = World()
    w.attached_volume(w.instance(host="hv1"))
    gone = w.instance(host="hv1", deleted=True)
    vid = w.volume()
    w.attachment(vid, gone, deleted=True, iqn=ARRAY, lun=7)
    w.scan_lun("hv1", ARRAY, 7)
    return w.snapshot()


def shared_target_still_needed():
    # the same leftover LUN, but another volume of the array is attached here: the session
    # is needed (its stale LUN is stale-iscsi-lun's, VL205)
    w = World()
    w.attached_volume(w.instance(host="hv1"), iqn=ARRAY, lun=5)
    gone = w.instance(host="hv1", deleted=True)
    vid = w.volume()
    w.attachment(vid, gone, deleted=True, iqn=ARRAY, lun=7)
    w.scan_lun("hv1", ARRAY, 7)
    return w.snapshot()


def clean():
    w = World()
    u = w.instance(host="hv1")
    w.attached_volume(u)
    w.attached_volume(u, kind="rbd", target_dev="vdc")
    return w.snapshot()


def not_openstacks():
    w = World()
    w.attached_volume(w.instance(host="hv1"))
    w.session("hv1", "iqn.2004-04.com.example:backup-lun")
    return w.snapshot()


def mid_migration():
    w = World()
    u = w.instance(host="hv1", task_state="migrating")
    vid, _, _ = w.attached_volume(u)
    w.migration(u, type="live-migration", status="running", source="hv1", dest="hv2")
    w.session("hv2", iqn_of(vid))
    return w.snapshot()


def multiattach_on_two_hosts():
    w = World()
    a, b = w.instance(host="hv1"), w.instance(host="hv2")
    vid, _, _ = w.attached_volume(a, multiattach=True)
    w.bdm(b, vid, attachment_id=w.attachment(vid, b, host="hv2"))
    w.session("hv2", iqn_of(vid))
    return w.snapshot()


def used_by_a_domain():
    # nothing maps it, but a guest's disk is on it: not leaked (unexpected-volume's)
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    vid = _gone_volume(w)
    w.volume_disk("hv1", u, vid)
    w.session("hv1", iqn_of(vid))
    return w.snapshot()


def cell_partial():
    w = World()
    vid = _gone_volume(w)
    w.session("hv1", iqn_of(vid))
    w.partial(BlockDeviceMapping, "cell:cell1", "block_device_mapping: lost connection")
    return w.snapshot()


def api_unread():
    # the API database could not be read: no cell is known, so a guest of any cell may need
    # the session (issue 16: only the cells the API database named were waited for)
    w = World()
    vid = _gone_volume(w)
    w.session("hv1", iqn_of(vid))
    w.partial(Cell, "api", "API database: access denied")
    return w.snapshot()


def other_cell_unread():
    w = World()
    vid = _gone_volume(w)
    w.session("hv1", iqn_of(vid))
    w.cell_down("cell2")
    return w.snapshot()


def scoped_leak_on_a_host_of_the_cell():
    # --cell cell1: cell2 is not read, yet hv1's guests and moves are all in cell1's
    # database: its leaked session is found
    w = World()
    w.attached_volume(w.instance(host="hv1"))
    vid = _gone_volume(w)
    w.session("hv1", iqn_of(vid))
    w.attached_volume(w.instance(cell="cell2", host="hv3"), host="hv3")
    return w.snapshot(RunScope(cells=("cell1",)))


CASES = [
    Case(
        "found",
        "a deleted instance's session left logged in",
        detach_half_done,
        [("VL203", f"{iqn_of(volume_uid(2))}@{PORTAL}")],
        verify=verify,
    ),
    Case(
        "found",
        "a session without disks (low confidence)",
        session_without_disks,
        [("VL203", f"{iqn_of(volume_uid(1))}@{PORTAL}")],
        verify=verify_low,
    ),
    Case(
        "found",
        "a shared array's session that only a deleted attachment names",
        shared_target_only_a_deleted_attachment_names,
        [("VL203", f"{ARRAY}@{PORTAL}")],
    ),
    Case("clean", "sessions only for attached iSCSI volumes", clean),
    Case("near-miss", "a shared array's session another attached volume needs", shared_target_still_needed),
    Case("near-miss", "a target OpenStack never named", not_openstacks),
    Case("near-miss", "live migration: sessions on both hosts", mid_migration),
    Case("near-miss", "multi-attach volume on two hosts", multiattach_on_two_hosts),
    Case("near-miss", "a domain uses its disk", used_by_a_domain),
    Case("partial", "the mappings of a cell are partial", cell_partial, ["cell:cell1"]),
    Case("partial", "the API database's cell list unread", api_unread, ["api"]),
    Case("partial", "another cell unread", other_cell_unread, ["cell:cell2"]),
    Case(
        "found",
        "in --cell cell1: a leak on its host, another cell not read",
        scoped_leak_on_a_host_of_the_cell,
        [("VL203", f"{iqn_of(volume_uid(2))}@{PORTAL}")],
    ),
]
