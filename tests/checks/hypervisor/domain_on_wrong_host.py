"""Scenarios of HV103 domain-on-wrong-host: an instance's only domain is where Nova does not
expect it."""

from osfsck.checks.hypervisor.domain_on_wrong_host import DomainOnWrongHost
from osfsck.model.facts.hypervisor import Domain
from osfsck.model.facts.nova import Instance
from tests.checks.scenario import Case
from tests.support.world import World, uid

CHECK = DomainOnWrongHost
MOVED = uid(505)


def migration_died_half_way():
    # Nova recorded the instance on hv2; the guest never left hv1
    w = World()
    w.instance(MOVED, host="hv2")
    w.migration(MOVED, type="live-migration", status="error", source="hv1", dest="hv2")
    w.domain("hv1", MOVED)
    return w.snapshot()


def verify_half_way(out):
    (f,) = out.findings
    assert f.subject.scope == "host:hv1"
    assert "runs on hv1" in f.message and "records it on hv2" in f.message
    assert f.evidence["expected_hosts"] == ["hv2"]
    assert [r.id for r in f.related] == [MOVED]


def host_edited_by_hand():
    w = World()
    w.instance(MOVED, host="hv3")
    w.domain("hv2", MOVED)
    return w.snapshot()


def shelved_offloaded_with_a_domain():
    w = World()
    w.instance(MOVED, host=None, vm_state="shelved_offloaded")
    w.domain("hv1", MOVED, state=5)
    return w.snapshot()


def verify_no_host(out):
    (f,) = out.findings
    assert "records it on no host" in f.message


def clean():
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.domain("hv2", w.instance(host="hv2"))
    return w.snapshot()


def resize_waiting_for_confirmation():
    w = World()
    w.instance(MOVED, host="hv2", vm_state="resized")
    w.migration(MOVED, type="resize", status="finished", source="hv1", dest="hv2")
    w.domain("hv1", MOVED, state=5)
    w.domain("hv2", MOVED)
    return w.snapshot()


def cold_migration_not_switched_yet():
    # the migration is in progress and its task_state already cleared: both ends are allowed
    w = World()
    w.instance(MOVED, host="hv1", vm_state="stopped")
    w.migration(MOVED, type="migration", status="post-migrating", source="hv1", dest="hv2")
    w.domain("hv2", MOVED, state=5)
    return w.snapshot()


def live_migration_running():
    # the guest already switched to hv2; Nova updates instance.host in post-live-migration
    w = World()
    w.instance(MOVED, host="hv1", task_state="migrating")
    w.migration(MOVED, type="live-migration", status="running", source="hv1", dest="hv2")
    w.domain("hv2", MOVED)
    return w.snapshot()


def evacuation_source_awaiting_cleanup():
    w = World()
    w.instance(MOVED, host="hv2")
    w.migration(MOVED, type="evacuation", status="done", source="hv1", dest="hv2")
    w.domain("hv1", MOVED)
    w.domain("hv2", MOVED)
    return w.snapshot()


def hand_made_domain_elsewhere():
    w = World()
    w.instance(MOVED, host="hv1")
    w.domain("hv1", MOVED)
    w.domain("hv2", uid(506), name="rescue-vm", nova=False)
    return w.snapshot()


def cell_partial():
    w = World()
    w.instance(MOVED, host="hv2")
    w.domain("hv1", MOVED)
    w.partial(Instance, "cell:cell1", "instances: read interrupted")
    return w.snapshot()


def recorded_host_unreachable():
    # hv2 (where Nova records the instance) cannot be listed: hv2 may hold a domain too, in
    # which case this is a duplicate (HV104), not a move; the domain on hv1 alone proves
    # nothing about which host runs the guest
    w = World()
    w.instance(MOVED, host="hv2")
    w.domain("hv1", MOVED)
    w.partial(Domain, "host:hv2", "libvirt: unable to connect to the hypervisor")
    return w.snapshot()


def a_twin_may_be_on_an_unreadable_host():
    # the guest on hv1 may have a twin on hv3, which could not be listed: then it is a
    # duplicate, and recording hv1 on the instance would be wrong
    w = World()
    w.instance(MOVED, host="hv2")
    w.domain("hv1", MOVED)
    w.host_unreachable("hv3")
    return w.snapshot()


def instance_row_unread():
    w = World()
    w.instance(MOVED, host="hv2")
    w.domain("hv1", MOVED)
    w.cell_down("cell1")
    return w.snapshot()


def a_host_could_not_be_listed():
    # a stray guest on hv3 cannot be seen while hv3 is unreachable: the check says so
    w = World()
    w.domain("hv2", w.instance(MOVED, host="hv2"))
    w.host_unreachable("hv3")
    return w.snapshot()


CASES = [
    Case("found", "migration died half-way", migration_died_half_way, [("HV103", MOVED)], verify=verify_half_way),
    Case("found", "host field edited by hand", host_edited_by_hand, [("HV103", MOVED)]),
    Case(
        "found",
        "shelved-offloaded instance still has a domain",
        shelved_offloaded_with_a_domain,
        [("HV103", MOVED)],
        verify=verify_no_host,
    ),
    Case("clean", "each domain on its instance's host", clean),
    Case("near-miss", "resize waiting for confirmation", resize_waiting_for_confirmation),
    Case("near-miss", "cold migration in progress, guest on the destination", cold_migration_not_switched_yet),
    Case("near-miss", "live migration running", live_migration_running),
    Case("near-miss", "evacuation source awaiting cleanup", evacuation_source_awaiting_cleanup),
    Case("near-miss", "hand-made domain on another host", hand_made_domain_elsewhere),
    Case("partial", "the instance's cell is partial", cell_partial, ["cell:cell1"]),
    Case("partial", "the host Nova records could not be listed", recorded_host_unreachable, ["host:hv2"]),
    Case(
        "partial", "a twin may be on a host that could not be listed", a_twin_may_be_on_an_unreadable_host, ["host:hv3"]
    ),
    Case("partial", "its cell could not be read, its guest is seen", instance_row_unread, ["cell:cell1"]),
    Case("partial", "a host could not be listed", a_host_could_not_be_listed, ["host:hv3"]),
]
