"""Scenarios of VL203 leaked-iscsi-session: a session to an OpenStack target nothing on the
host needs."""

from osfsck.checks.volumes.leaked_iscsi_session import LeakedIscsiSession
from osfsck.model.facts.nova import BlockDeviceMapping
from osfsck.model.finding import Confidence
from tests.checks.scenario import Case
from tests.support.world import PORTAL, World, iqn_of, volume_uid

CHECK = LeakedIscsiSession


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


CASES = [
    Case("found", "a deleted instance's session left logged in", detach_half_done,
         [("VL203", f"{iqn_of(volume_uid(2))}@{PORTAL}")], verify=verify),
    Case("found", "a session without disks (low confidence)", session_without_disks,
         [("VL203", f"{iqn_of(volume_uid(1))}@{PORTAL}")], verify=verify_low),
    Case("clean", "sessions only for attached iSCSI volumes", clean),
    Case("near-miss", "a target OpenStack never named", not_openstacks),
    Case("near-miss", "live migration: sessions on both hosts", mid_migration),
    Case("near-miss", "multi-attach volume on two hosts", multiattach_on_two_hosts),
    Case("near-miss", "a domain uses its disk", used_by_a_domain),
    Case("partial", "the mappings of a cell are partial", cell_partial, ["cell:cell1"]),
]
