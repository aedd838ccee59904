"""Scenarios of NV101 missing-domain: a live instance whose host has no domain for it."""

from osfsck.checks.nova.missing_domain import MissingDomain
from osfsck.model.facts.hypervisor import Domain
from osfsck.model.facts.nova import Migration
from osfsck.model.scope import RunScope
from tests.checks.scenario import Case
from tests.support.world import World, uid

CHECK = MissingDomain
LOST = uid(303)


def host_reinstalled():
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.instance(LOST, host="hv2", vm_state="stopped")
    return w.snapshot()


def verify_reinstalled(out):
    (f,) = out.findings
    assert f.subject.scope == "cell:cell1"
    assert "stopped on hv2" in f.message
    assert f.evidence["instance"]["host"] == "hv2"
    assert [r.id for r in f.related] == ["hv2"]


def domain_left_on_the_old_host():
    # a failed migration: Nova moved the instance to hv2, the guest stayed on hv1; that
    # is domain-on-wrong-host's finding (HV103), not this check's
    w = World()
    w.instance(LOST, host="hv2")
    w.migration(LOST, type="migration", status="error", source="hv1", dest="hv2")
    w.domain("hv1", LOST)
    return w.snapshot()


def two_instances_lost():
    # two instances lost with hv2's re-install, one survivor elsewhere
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.instance(LOST, host="hv2")
    w.instance(uid(304), host="hv2", vm_state="paused")
    return w.snapshot()


def only_a_hand_made_copy_elsewhere():
    # the only domain with this uuid is not Nova's (no metadata, another name): HV103 ignores
    # it, so nothing else reports that hv2 lacks the instance's domain
    w = World()
    w.instance(LOST, host="hv2")
    w.domain("hv1", LOST, name="forensics-copy", nova=False, state=5)
    return w.snapshot()


def evacuation_source_still_holds_it():
    # evacuated to hv2, whose domain is gone; hv1 still holds the old guest until its
    # nova-compute restarts and destroys it (_destroy_evacuated_instances).  HV103 allows
    # hv1 (awaiting clean-up), so only this check can say that hv2 has no domain
    w = World()
    w.instance(LOST, host="hv2")
    w.migration(LOST, type="evacuation", status="done", source="hv1", dest="hv2")
    w.domain("hv1", LOST)
    return w.snapshot()


def every_state_that_keeps_a_domain():
    w = World()
    for state in ("active", "paused", "suspended", "stopped", "rescued"):
        w.domain("hv1", w.instance(host="hv1", vm_state=state))
    return w.snapshot()


def clean():
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.domain("hv2", w.instance(host="hv2", vm_state="stopped"), state=5)
    return w.snapshot()


def building():
    w = World()
    w.instance(LOST, host="hv1", vm_state="building", task_state="spawning")
    return w.snapshot()


def building_without_task():
    w = World()
    w.instance(LOST, host="hv1", vm_state="building")
    return w.snapshot()


def shelved_offloaded():
    w = World()
    w.instance(LOST, host=None, vm_state="shelved_offloaded")
    w.instance(host="hv1", vm_state="shelved_offloaded")  # host not yet cleared
    return w.snapshot()


def soft_deleted():
    w = World()
    w.instance(LOST, host="hv1", vm_state="soft-delete")
    return w.snapshot()


def failed_build():
    w = World()
    w.instance(LOST, host="hv1", vm_state="error")
    return w.snapshot()


def task_in_progress():
    # a hard reboot undefines and defines the domain again
    w = World()
    w.instance(LOST, host="hv1", task_state="reboot_started_hard")
    return w.snapshot()


def migration_in_progress():
    # resize waiting for confirmation; the destination domain is not listed yet
    w = World()
    w.instance(LOST, host="hv2", vm_state="resized")
    w.migration(LOST, type="resize", status="finished", source="hv1", dest="hv2")
    w.domain("hv1", LOST, state=5)
    return w.snapshot()


def host_not_covered():
    # an ironic node: the hypervisor source does not look at it
    w = World()
    w.host("bm1", covered=False, hypervisor_type="ironic")
    w.instance(LOST, host="bm1")
    return w.snapshot()


def hidden_copy():
    # cross-cell resize: the hidden copy in the source cell has no domain of its own
    w = World()
    w.instance(LOST, cell="cell2", host="hv3", mapped=True)
    w.domain("hv3", LOST)
    w.instance(LOST, cell="cell1", host="hv1", hidden=True, mapped=False)
    return w.snapshot()


def host_unreachable():
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.instance(LOST, host="hv2")
    w.host_unreachable("hv2")
    return w.snapshot()


def domain_list_cut_short():
    w = World()
    w.instance(LOST, host="hv2")
    w.partial(Domain, "host:hv2", "virsh list: connection to libvirtd lost")
    return w.snapshot()


def libvirt_host_never_read():
    # hv2 runs a QEMU compute node but was skipped ([hypervisors.hosts.hv2] skip): it was
    # not read, which is not the same as an Ironic host that holds no domain at all
    w = World()
    w.host("hv2", covered=False)
    w.instance(LOST, host="hv2")
    return w.snapshot()


def domain_maybe_on_an_unreachable_host():
    # hv2 has no domain for it, but hv3 could not be listed: the guest may run there
    # (domain-on-wrong-host's finding then), so "missing" cannot be said
    w = World()
    w.instance(LOST, host="hv2")
    w.host_unreachable("hv3")
    return w.snapshot()


def migrations_partial():
    w = World()
    w.instance(LOST, host="hv2")
    w.partial(Migration, "cell:cell1", "cell1: SELECT from migrations interrupted")
    return w.snapshot()


def scoped_domain_may_be_elsewhere():
    # --host hv2: no domain of the instance on hv2; hv1, not read, may hold it (then it is
    # domain-on-wrong-host's, not a missing domain)
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.instance(LOST, host="hv2", vm_state="stopped")
    return w.snapshot(RunScope(hosts=("hv2",)))


def scoped_instance_of_another_host():
    # --host hv1: the instance lost with hv2 lies outside the scope
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.instance(LOST, host="hv2", vm_state="stopped")
    return w.snapshot(RunScope(hosts=("hv1",)))


CASES = [
    Case(
        "found",
        "host re-installed: stopped instance has no domain",
        host_reinstalled,
        [("NV101", LOST)],
        verify=verify_reinstalled,
    ),
    Case("found", "host re-installed: two instances lost", two_instances_lost, [("NV101", LOST), ("NV101", uid(304))]),
    Case("found", "only a hand-made copy elsewhere", only_a_hand_made_copy_elsewhere, [("NV101", LOST)]),
    Case(
        "found",
        "evacuated, the destination lost its domain, the source still holds one",
        evacuation_source_still_holds_it,
        [("NV101", LOST)],
    ),
    Case("clean", "running and stopped instances with their domains", clean),
    Case("clean", "every vm_state that keeps a domain has one", every_state_that_keeps_a_domain),
    Case("near-miss", "instance being built", building),
    Case("near-miss", "instance in vm_state building without a task yet", building_without_task),
    Case("near-miss", "shelved-offloaded instances", shelved_offloaded),
    Case("near-miss", "soft-deleted instance", soft_deleted),
    Case("near-miss", "failed build in error", failed_build),
    Case("near-miss", "task in progress (hard reboot)", task_in_progress),
    Case("near-miss", "migration in progress (resize waiting for confirmation)", migration_in_progress),
    Case("near-miss", "host not covered by the hypervisor source", host_not_covered),
    Case("near-miss", "hidden copy of a cross-cell resize", hidden_copy),
    Case("near-miss", "domain left on the old host (domain-on-wrong-host reports it)", domain_left_on_the_old_host),
    Case("partial", "host unreachable", host_unreachable, ["host:hv2"]),
    Case("partial", "domain list cut short", domain_list_cut_short, ["host:hv2"]),
    Case("partial", "a libvirt host Nova lists was never read", libvirt_host_never_read, ["host:hv2"]),
    Case(
        "partial",
        "the domain may be on a host that could not be listed",
        domain_maybe_on_an_unreachable_host,
        ["host:hv3"],
    ),
    Case("partial", "the cell's migrations are partial", migrations_partial, ["cell:cell1"]),
    Case(
        "partial",
        "in --host hv2: its domain may be on a host outside the scope",
        scoped_domain_may_be_elsewhere,
        ["outside-scope"],
    ),
    Case("near-miss", "in --host hv1: another host's instance is not asked about", scoped_instance_of_another_host),
]
