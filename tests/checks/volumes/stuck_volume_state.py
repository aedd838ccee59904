"""Scenarios of VL103 stuck-volume-state: a volume in a transitional status for too long."""

from osfsck.checks.volumes.stuck_volume_state import StuckVolumeState
from osfsck.model.facts.nova import Cell
from tests.checks.scenario import Case
from tests.support.world import DAY, HOUR, MINUTE, World, volume_uid

CHECK = StuckVolumeState


def detaching_nothing_left():
    # the detach finished everywhere but Cinder never heard: available is the truth
    w = World()
    w.volume(status="detaching", updated_age=2 * HOUR)
    return w.snapshot()


def verify_detaching(out):
    (f,) = out.findings
    assert f.evidence["target_status"] == "available" and f.evidence["volume_service_alive"] is True
    assert "detaching for 2 h" in f.message and "show it available" in f.message


def attaching_done_elsewhere():
    # the attach finished in Nova, libvirt and iSCSI; the volume's status never moved on
    w = World()
    u = w.instance()
    w.attached_volume(u, status="attaching", status_age=HOUR)
    return w.snapshot()


def verify_in_use(out):
    (f,) = out.findings
    assert f.evidence["target_status"] == "in-use"
    assert f.evidence["places"]["domain_hosts"] == ["hv1"] and f.evidence["places"]["session_hosts"] == ["hv1"]


def creating_with_service_down():
    w = World()
    w.cinder_service("cinder2@ceph", seen_age=3 * HOUR)
    w.volume(status="creating", backend="cinder2@ceph", updated_age=5 * HOUR)
    return w.snapshot()


def verify_service_down(out):
    (f,) = out.findings
    assert f.evidence["volume_service_alive"] is False and "cinder2@ceph is down" in f.message
    assert f.evidence["target_status"] == "error"


def deleting_needs_a_person():
    w = World()
    w.volume(status="error_deleting", updated_age=3 * DAY)
    return w.snapshot()


def clean():
    w = World()
    w.attached_volume(w.instance())
    w.volume(status="available")
    w.volume(status="error", updated_age=10 * DAY)  # an error is an end state, not a stuck one
    w.volume(status="deleting", deleted=True, updated_age=10 * DAY)
    return w.snapshot()


def within_threshold():
    w = World()
    w.volume(status="attaching", updated_age=5 * MINUTE)
    w.volume(status="creating", updated_age=40 * MINUTE)
    w.volume(status="uploading", updated_age=3 * HOUR)
    return w.snapshot()


def migrating():
    w = World()
    w.volume(status="maintenance", migration_status="migrating", updated_age=8 * HOUR)
    return w.snapshot()


def shelved_offloaded_reserved():
    w = World()
    u = w.instance(host=None, vm_state="shelved_offloaded")
    vid = w.volume(status="reserved", updated_age=30 * DAY)
    w.bdm(u, vid, attachment_id=w.attachment(vid, u, host=None, status="reserved", updated_age=30 * DAY))
    return w.snapshot()


def reserved_in_an_unread_cell():
    # issue 16: the shelved-offloaded instance and its mapping are in cell2, which was not read
    w = World()
    w.attached_volume(w.instance())
    u = w.instance(host=None, vm_state="shelved_offloaded", cell="cell2")
    vid = w.volume(status="reserved", updated_age=30 * DAY)
    w.bdm(u, vid, attachment_id=w.attachment(vid, u, host=None, status="reserved", updated_age=30 * DAY))
    w.cell_down("cell2")
    return w.snapshot()


def reserved_api_unread():
    # the API database unread: no cell was read at all
    w = World()
    u = w.instance(host=None, vm_state="shelved_offloaded")
    vid = w.volume(status="reserved", updated_age=30 * DAY)
    w.bdm(u, vid, attachment_id=w.attachment(vid, u, host=None, status="reserved", updated_age=30 * DAY))
    w.partial(Cell, "api", "API database: access denied")
    w.cell_down("cell1", "not read: the API database names no cell")
    return w.snapshot()


def detaching_with_a_host_unreachable():
    # still stuck, but what the places imply is not claimed: hv2 may hold its disk
    w = World()
    w.volume(status="detaching", updated_age=2 * HOUR)
    w.host_unreachable("hv2")
    return w.snapshot()


def verify_unread(out):
    (f,) = out.findings
    assert f.evidence["target_status"] is None and f.evidence["places_unread"] == ["host:hv2"]
    assert "Not every other place was read (host:hv2)" in f.message


def long_upload_with_raised_threshold():
    w = World()
    w.volume(status="uploading", updated_age=10 * HOUR)
    return w.snapshot()


def cinder_partial():
    w = World()
    w.volume(status="detaching", updated_age=DAY)
    w.cinder_down()
    return w.snapshot()


CASES = [
    Case(
        "found",
        "detaching, nothing holds it any more",
        detaching_nothing_left,
        [("VL103", volume_uid(1))],
        verify=verify_detaching,
    ),
    Case(
        "found",
        "attaching, but attached everywhere else",
        attaching_done_elsewhere,
        [("VL103", volume_uid(1))],
        verify=verify_in_use,
    ),
    Case(
        "found",
        "creating for hours, its service down",
        creating_with_service_down,
        [("VL103", volume_uid(1))],
        verify=verify_service_down,
    ),
    Case(
        "found",
        "error_deleting for days",
        deleting_needs_a_person,
        [("VL103", volume_uid(1))],
        verify=lambda out: out.findings[0].evidence["target_status"] is None,
    ),
    Case("clean", "end states only", clean),
    Case("near-miss", "transitional, within each threshold", within_threshold),
    Case("near-miss", "volume migration in progress", migrating),
    Case("near-miss", "reserved for a shelved-offloaded instance", shelved_offloaded_reserved),
    Case(
        "near-miss",
        "a long upload under a raised threshold",
        long_upload_with_raised_threshold,
        params={"uploading_after": 12 * HOUR},
    ),
    Case(
        "found",
        "detaching, a host unreachable: no target status",
        detaching_with_a_host_unreachable,
        [("VL103", volume_uid(1))],
        verify=verify_unread,
    ),
    Case("partial", "Cinder unreadable", cinder_partial, ["cinder"]),
    Case("partial", "reserved, the shelved instance's cell unread", reserved_in_an_unread_cell, ["cell:cell2"]),
    Case("partial", "reserved, the API database unread", reserved_api_unread, ["api", "cell:cell1"]),
]
