"""Scenarios of VL205 stale-iscsi-lun: the SCSI disk of a LUN no volume needs, under a session
to a shared target (one IQN, a LUN per volume) that attached volumes still use."""

import json

from osfsck.checks.volumes.stale_iscsi_lun import StaleIscsiLun
from tests.checks.scenario import Case
from tests.support.world import PORTAL, World, volume_uid

CHECK = StaleIscsiLun
ARRAY = "iqn.2010-06.com.purestorage:flasharray.4a8b2c6d1e3f5a7b"
OTHER_PORTAL = "198.51.100.10:3260"


def _left_behind(w, host="hv1", lun=7):
    """A volume of the array detached from a deleted instance, its disk left on `host`."""
    gone = w.instance(host=host, deleted=True)
    vid = w.volume()
    w.attachment(vid, gone, deleted=True, iqn=ARRAY, lun=lun)
    return w.scan_lun(host, ARRAY, lun)


def lun_left_under_a_needed_session():
    w = World()
    w.attached_volume(w.instance(host="hv1"), iqn=ARRAY, lun=5)
    _left_behind(w)
    return w.snapshot()


def verify(out):
    (f,) = out.findings
    e = f.evidence
    assert (e["host"], e["target_iqn"], e["lun"], e["needed_luns"]) == ("hv1", ARRAY, 7, [5])
    [path] = e["paths"]
    assert path["portal"] == PORTAL and f.message.startswith(f"hv1 keeps LUN 7 of {ARRAY}")
    [named] = e["last_named_by"]
    assert (named["volume_id"], named["attached_host"], named["deleted"]) == (volume_uid(2), "hv1", True)


def two_paths():
    # multipath: the stale LUN has a disk under each portal's session, one finding for both
    w = World()
    u = w.instance(host="hv1")
    for portal in (PORTAL, OTHER_PORTAL):
        w.scan_lun("hv1", ARRAY, 5, portal=portal)
        w.scan_lun("hv1", ARRAY, 7, portal=portal)
    conn = json.dumps(
        {
            "driver_volume_type": "iscsi",
            "data": {"target_iqns": [ARRAY, ARRAY], "target_portals": [PORTAL, OTHER_PORTAL], "target_luns": [5, 5]},
            "serial": "x",
        }
    )
    w.bdm(u, w.volume(status="in-use"), conn=conn)
    return w.snapshot()


def verify_two_paths(out):
    (f,) = out.findings
    assert [p["portal"] for p in f.evidence["paths"]] == [PORTAL, OTHER_PORTAL]


def clean():
    w = World()
    u = w.instance(host="hv1")
    w.attached_volume(u, iqn=ARRAY, lun=5)
    w.attached_volume(u, iqn=ARRAY, lun=6, target_dev="vdc")
    w.attached_volume(u)  # a per-volume target (LVM): its one LUN
    return w.snapshot()


def lun_of_a_migration_in_progress():
    # the destination of a live migration holds the volume's LUN before Nova moves the mapping
    w = World()
    u = w.instance(host="hv1", task_state="migrating")
    w.migration(u, type="live-migration", status="running", source="hv1", dest="hv2")
    w.attached_volume(u, iqn=ARRAY, lun=5)
    w.attached_volume(w.instance(host="hv2"), iqn=ARRAY, lun=9)
    w.scan_lun("hv2", ARRAY, 5)
    return w.snapshot()


def lun_osfsck_cannot_read():
    # one volume of the target gives its LUN as text: the session's LUNs are not judged
    w = World()
    u = w.instance(host="hv1")
    conn = json.dumps(
        {
            "driver_volume_type": "iscsi",
            "data": {"target_iqn": ARRAY, "target_portal": PORTAL, "target_lun": "5"},
            "serial": "x",
        }
    )
    w.bdm(u, w.volume(status="in-use"), conn=conn)
    w.scan_lun("hv1", ARRAY, 5)
    _left_behind(w)
    return w.snapshot()


def evacuated_guest_left_behind():
    # hv1 came back after its instance was evacuated to hv2: the old attachment is deleted,
    # the guest and its multipath disk are still defined here until nova-compute cleans up
    w = World()
    u = w.instance(host="hv2")
    w.migration(u, type="evacuation", status="done", source="hv1", dest="hv2")
    w.attached_volume(w.instance(host="hv1"), iqn=ARRAY, lun=5)
    vid = w.volume(status="in-use")
    w.attachment(vid, u, host="hv1", deleted=True, iqn=ARRAY, lun=7)
    w.attachment(vid, u, host="hv2", iqn=ARRAY, lun=3)
    w.bdm(u, vid, iqn=ARRAY, lun=3)
    w.scan_lun("hv2", ARRAY, 3)
    w.scan_lun("hv1", ARRAY, 7)
    w.domain("hv1", u)
    w.volume_disk("hv1", u, vid, source="/dev/dm-4")
    return w.snapshot()


def whole_session_unneeded():
    # nothing on hv1 needs the array at all: the session is leaked (VL203), not one LUN
    w = World()
    _left_behind(w)
    return w.snapshot()


def cell_unread():
    w = World()
    w.attached_volume(w.instance(host="hv1"), iqn=ARRAY, lun=5)
    _left_behind(w)
    w.cell_down("cell2")  # a guest of cell2 may have come to hv1 with LUN 7
    return w.snapshot()


def api_unread():
    w = World()
    w.attached_volume(w.instance(host="hv1"), iqn=ARRAY, lun=5)
    _left_behind(w)
    from osfsck.model.facts.nova import Cell

    w.partial(Cell, "api", "API database: access denied")
    return w.snapshot()


CASES = [
    Case(
        "found",
        "a detached volume's LUN left under a session others need",
        lun_left_under_a_needed_session,
        [("VL205", f"{ARRAY}/lun-7")],
        verify=verify,
    ),
    Case(
        "found",
        "a stale LUN on two paths is one finding",
        two_paths,
        [("VL205", f"{ARRAY}/lun-7")],
        verify=verify_two_paths,
    ),
    Case("clean", "every LUN of the shared target belongs to an attached volume", clean),
    Case("near-miss", "the destination of a live migration", lun_of_a_migration_in_progress),
    Case("near-miss", "a LUN osfsck cannot read", lun_osfsck_cannot_read),
    Case("near-miss", "an evacuated guest's disk still defined on its old host", evacuated_guest_left_behind),
    Case("near-miss", "the whole session is unneeded (leaked-iscsi-session's)", whole_session_unneeded),
    Case("partial", "a cell unread", cell_unread, ["cell:cell2"]),
    Case("partial", "the API database's cell list unread", api_unread, ["api"]),
]
