"""Scenarios of HV110 orphan-instance-dir: an instance folder whose instance is gone."""

from osfsck.checks.hypervisor.orphan_instance_dir import OrphanInstanceDir
from osfsck.model.facts.hypervisor import Domain, InstanceDir
from osfsck.model.finding import Confidence
from tests.checks.scenario import Case
from tests.support.world import DAY, HOUR, INSTANCES_PATH, MINUTE, GiB, World, uid

CHECK = OrphanInstanceDir
GONE = uid(707)
DIR = f"{INSTANCES_PATH}/{GONE}"
NFS = "nfs1:/srv/nova-instances"


def left_after_delete():
    # the pending-delete task gave up after maximum_instance_delete_attempts
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    w.instance_dir("hv1", u)
    w.instance(GONE, host="hv1", deleted=True, deleted_age=3 * DAY)
    w.instance_dir("hv1", GONE, bytes=40 * GiB, age=3 * DAY)
    return w.snapshot()


def verify_left(out):
    (f,) = out.findings
    assert f.subject.scope == "host:hv1"
    assert "40.0 GiB reclaimable" in f.message and "deleted" in f.message
    assert f.reclaim == {"disk_bytes": 40 * GiB}
    assert f.evidence["used_by_domains_on"] == [] and f.evidence["instance_state"] == "deleted"
    assert f.confidence == Confidence.HIGH


def left_after_archive():
    w = World()
    w.archived(GONE, host="hv2", deleted_age=60 * DAY)
    w.instance_dir("hv2", GONE, suffix="_del", age=60 * DAY)
    return w.snapshot()


def unknown_to_nova():
    w = World()
    w.instance_dir("hv1", GONE, age=10 * DAY)
    return w.snapshot()


def verify_unknown(out):
    (f,) = out.findings
    assert "unknown to Nova" in f.message and f.confidence == Confidence.MEDIUM


def still_used_by_a_zombie():
    w = World()
    w.instance(GONE, host="hv1", deleted=True, deleted_age=2 * DAY)
    w.domain("hv1", GONE, state=5)
    w.instance_dir("hv1", GONE)
    return w.snapshot()


def verify_used(out):
    (f,) = out.findings
    assert f.evidence["used_by_domains_on"] == ["hv1"]
    assert "still used by a domain on hv1" in f.message


def shared_storage_seen_from_two_hosts():
    w = World()
    w.instance(GONE, host="hv1", deleted=True, deleted_age=2 * DAY)
    for h in ("hv1", "hv2"):
        w.instance_dir(h, GONE, storage=NFS, inode=4242)
    return w.snapshot()


def verify_shared(out):
    (f,) = out.findings
    assert f.subject.scope == f"storage:{NFS}"
    assert f.evidence["hosts"] == ["hv1", "hv2"]
    assert "on hv1, hv2" in f.message


def clean():
    w = World()
    for h in ("hv1", "hv2"):
        u = w.instance(host=h)
        w.domain(h, u)
        w.instance_dir(h, u)
    return w.snapshot()


def resize_in_progress():
    # a resize to another host keeps <uuid>_resize on the source until confirmation
    w = World()
    u = w.instance(host="hv2", vm_state="resized")
    w.migration(u, type="resize", status="finished", source="hv1", dest="hv2")
    w.domain("hv1", u, state=5)
    w.domain("hv2", u)
    w.instance_dir("hv1", u, suffix="_resize", age=10 * MINUTE)
    w.instance_dir("hv2", u, age=10 * MINUTE)
    return w.snapshot()


def deleted_minutes_ago():
    # Nova's _run_pending_deletes may still be removing it
    w = World()
    w.instance(GONE, host="hv1", deleted=True, deleted_age=5 * MINUTE)
    w.instance_dir("hv1", GONE, suffix="_del", age=2 * DAY)
    return w.snapshot()


def unknown_but_just_written():
    w = World()
    w.instance_dir("hv1", GONE, age=5 * MINUTE)
    return w.snapshot()


def build_being_scheduled():
    w = World()
    w.build_request(GONE, age=30)
    w.instance_dir("hv1", GONE, age=2 * HOUR)
    return w.snapshot()


def mapped_but_not_in_its_cell():
    # an orphan mapping (NV201) is a reason for doubt, not for quarantining disks
    w = World()
    w.mapping(GONE, "cell1")
    w.instance_dir("hv1", GONE, age=2 * DAY)
    return w.snapshot()


def soft_deleted_through_the_api():
    w = World()
    w.instance(GONE, host="hv1", vm_state="soft-delete", updated_age=2 * DAY)
    w.instance_dir("hv1", GONE, age=2 * DAY)
    return w.snapshot()


def instance_cell_down():
    w = World()
    w.host("hv3", cell="cell2")
    u = w.instance(cell="cell2", host="hv3")
    w.instance_dir("hv3", u)
    w.cell_down("cell2")
    return w.snapshot()


def domains_of_the_host_partial():
    # the folder is listed, but whether a domain still uses it is not known
    w = World()
    w.instance(GONE, host="hv1", deleted=True, deleted_age=2 * DAY)
    w.instance_dir("hv1", GONE)
    w.partial(Domain, "host:hv1", "virsh list: connection to libvirtd lost")
    return w.snapshot()


def shared_storage_third_host_unreachable():
    # hv3 may mount the export too and run a guest on the folder
    w = World()
    w.instance(GONE, host="hv1", deleted=True, deleted_age=2 * DAY)
    for h in ("hv1", "hv2"):
        w.instance_dir(h, GONE, storage=NFS, inode=4242)
    w.host_unreachable("hv3")
    return w.snapshot()


def folders_of_a_host_unread():
    # hv2's instance folders could not be listed: an orphan there is not seen
    w = World()
    w.instance_dir("hv1", w.instance(host="hv1"))
    w.host("hv2")
    w.partial(InstanceDir, "host:hv2", "hv2: listing /var/lib/nova/instances timed out")
    return w.snapshot()


CASES = [
    Case("found", "left after delete", left_after_delete, [("HV110", DIR)], verify=verify_left),
    Case("found", "_del folder left after archive", left_after_archive, [("HV110", DIR + "_del")]),
    Case("found", "unknown to Nova: medium confidence", unknown_to_nova, [("HV110", DIR)], verify=verify_unknown),
    Case("found", "still used by a zombie domain", still_used_by_a_zombie, [("HV110", DIR)], verify=verify_used),
    Case(
        "found",
        "shared NFS storage seen from two hosts, reported once",
        shared_storage_seen_from_two_hosts,
        [("HV110", DIR)],
        verify=verify_shared,
    ),
    Case("clean", "folders of live instances", clean),
    Case("near-miss", "_resize folder during a resize", resize_in_progress),
    Case("near-miss", "instance deleted a few minutes ago", deleted_minutes_ago),
    Case("near-miss", "unknown folder modified minutes ago", unknown_but_just_written),
    Case("near-miss", "build request of the uuid", build_being_scheduled),
    Case("near-miss", "uuid mapped but missing from its cell", mapped_but_not_in_its_cell),
    Case("near-miss", "instance soft-deleted through the API", soft_deleted_through_the_api),
    Case("partial", "the instance's cell is down", instance_cell_down, ["cell:cell2"]),
    Case("partial", "domains of the host partial", domains_of_the_host_partial, ["host:hv1"]),
    Case("partial", "shared storage, a third host unreachable", shared_storage_third_host_unreachable, ["host:hv3"]),
    Case("partial", "a host's folders could not be listed", folders_of_a_host_unread, ["host:hv2"]),
]
