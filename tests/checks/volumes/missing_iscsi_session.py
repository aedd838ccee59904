"""Scenarios of VL204 missing-iscsi-session: an attached iSCSI volume without a session on
its instance's host."""

import json

from osfsck.checks.volumes.missing_iscsi_session import MissingIscsiSession
from osfsck.model.facts.hypervisor import IscsiSession
from osfsck.model.facts.nova import BlockDeviceMapping
from osfsck.sources.connection_info import iscsi_paths
from tests.checks.scenario import Case
from tests.support.world import MINUTE, PORTAL, World, iqn_of, uid, volume_uid

CHECK = MissingIscsiSession


def session_lost():
    w = World()
    u = w.instance(host="hv1")
    w.attached_volume(u)
    w.attached_volume(u, session=False, target_dev="vdc")
    return w.snapshot()


def verify(out):
    (f,) = out.findings
    assert f.evidence["portal"] == "192.0.2.10:3260" and f.evidence["target_iqns"][0].endswith(volume_uid(2))
    assert {r.kind for r in f.related} == {"instance", "volume-attachment"}


def clean():
    w = World()
    w.attached_volume(w.instance(host="hv1"))
    w.attached_volume(w.instance(host="hv2"))
    return w.snapshot()


def rbd():
    w = World()
    w.attached_volume(w.instance(host="hv1"), kind="rbd")
    return w.snapshot()


def login_in_flight():
    w = World()
    w.attached_volume(w.instance(host="hv1"), session=False, age=MINUTE)
    return w.snapshot()


def shelved_offloaded():
    w = World()
    u = w.instance(host=None, vm_state="shelved_offloaded")
    vid = w.volume(status="reserved")
    w.bdm(u, vid, attachment_id=w.attachment(vid, u, host=None, status="reserved"))
    return w.snapshot()


def migrating():
    w = World()
    u = w.instance(host="hv2", task_state="resize_migrating")
    w.attached_volume(u, session=False)
    w.migration(u, type="resize", status="migrating", source="hv2", dest="hv1")
    return w.snapshot()


def not_a_libvirt_host():
    # a host the iSCSI source does not read (another hypervisor): nothing to judge
    w = World()
    w.host("vmw1", covered=False)
    w.attached_volume(w.instance(host="vmw1"), session=False, disk=False)
    return w.snapshot()


def sessions_partial():
    w = World()
    w.attached_volume(w.instance(host="hv1"), session=False)
    w.partial(IscsiSession, "host:hv1", "hv1: iscsiadm -m session exited with 4")
    return w.snapshot()


ARRAY = "iqn.2010-06.com.purestorage:flasharray.4a8b2c6d1e3f5a7b"


def lun_lost_under_a_shared_session():
    # two volumes of one array: the session is there for LUN 5, LUN 6's disk is gone
    w = World()
    u = w.instance(host="hv1")
    w.attached_volume(u, iqn=ARRAY, lun=5)
    w.attached_volume(u, iqn=ARRAY, lun=6, session=False, target_dev="vdc")
    return w.snapshot()


def verify_lun(out):
    (f,) = out.findings
    assert f.evidence["lun_missing"] is True and f.evidence["luns"] == [6] and f.evidence["sessions"] == [1]
    assert "session to its target carries no LUN 6" in f.message


def multipath_lun_unreadable():
    # a multipath mapping whose second path's LUN is not a number (the source keeps it as
    # None), and no session to either path: the numbers and the unreadable one side by side
    w = World()
    u = w.instance(host="hv1")
    vid, _, _ = w.attached_volume(u, session=False)
    data = {"target_portals": [PORTAL, "192.0.2.11:3260"], "target_iqns": [iqn_of(vid)] * 2, "target_luns": [1, "1"]}
    conn = json.dumps({"driver_volume_type": "iscsi", "data": data, "serial": vid})
    bdms = w._facts[BlockDeviceMapping.kind]
    bdms[-1] = bdms[-1]._replace(iscsi_paths=iscsi_paths(conn))
    return w.snapshot()


def verify_unreadable_lun(out):
    (f,) = out.findings
    assert f.evidence["luns"] == [1, None] and f.evidence["sessions"] == [] and f.evidence["lun_missing"] is False


def shared_session_lists_no_disk():
    # a session whose SCSI scan shows no disk at all cannot tell which LUN it lost
    w = World()
    u = w.instance(host="hv1")
    w.attached_volume(u, iqn=ARRAY, lun=6, session=False)
    w.session("hv1", ARRAY, luns=())
    return w.snapshot()


CASES = [
    Case(
        "found",
        "one of two volumes lost its session",
        session_lost,
        [("VL204", f"{uid(1)}/{volume_uid(2)}")],
        verify=verify,
    ),
    Case(
        "found",
        "a shared target's session without the volume's LUN",
        lun_lost_under_a_shared_session,
        [("VL204", f"{uid(1)}/{volume_uid(2)}")],
        verify=verify_lun,
    ),
    Case(
        "found",
        "a multipath volume with an unreadable LUN, without sessions",
        multipath_lun_unreadable,
        [("VL204", f"{uid(1)}/{volume_uid(1)}")],
        verify=verify_unreadable_lun,
    ),
    Case("clean", "every iSCSI volume has its session", clean),
    Case("near-miss", "a shared target's session that lists no disk", shared_session_lists_no_disk),
    Case("near-miss", "RBD volume: no session expected", rbd),
    Case("near-miss", "login in flight", login_in_flight),
    Case("near-miss", "shelved-offloaded instance", shelved_offloaded),
    Case("near-miss", "resize in progress", migrating),
    Case("near-miss", "host the iSCSI source does not cover", not_a_libvirt_host),
    Case("partial", "the host's sessions unread", sessions_partial, ["host:hv1"]),
]
