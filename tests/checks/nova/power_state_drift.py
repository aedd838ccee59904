"""Scenarios of NV102 power-state-drift: Nova's power state against the domain's state."""

from osfsck.checks.nova.power_state_drift import PowerStateDrift
from osfsck.model.facts.hypervisor import Domain
from osfsck.model.facts.nova import Migration
from osfsck.model.finding import Severity
from tests.checks.scenario import Case
from tests.support.world import HOUR, World, uid

CHECK = PowerStateDrift
DRIFT = uid(606)


def running_in_nova_shut_off_in_libvirt():
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.instance(DRIFT, host="hv1", updated_age=3 * HOUR)
    w.domain("hv1", DRIFT, state=5)
    return w.snapshot()


def verify_shut_off(out):
    (f,) = out.findings
    assert f.severity == Severity.LOW
    assert "running in Nova" in f.message and "shut off" in f.message
    assert f.evidence["nova_power_state"] == 1 and f.evidence["observed_power_state"] == 4
    assert f.changed_at == World().ago(3 * HOUR)


def stopped_in_nova_running_in_libvirt():
    w = World()
    w.instance(DRIFT, host="hv2", vm_state="stopped")
    w.domain("hv2", DRIFT, state=1)
    return w.snapshot()


def paused_behind_novas_back():
    w = World()
    w.instance(DRIFT, host="hv1")
    w.domain("hv1", DRIFT, state=3)
    return w.snapshot()


def clean():
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.domain("hv1", w.instance(host="hv1", vm_state="stopped"), state=5)
    w.domain("hv1", w.instance(host="hv1", vm_state="paused"), state=3)
    w.domain("hv1", w.instance(host="hv1", vm_state="suspended"), state=5)  # managed save
    return w.snapshot()


def blocked_counts_as_running():
    # libvirt's "blocked" (waiting on I/O) is running to Nova's libvirt driver
    w = World()
    w.instance(DRIFT, host="hv1")
    w.domain("hv1", DRIFT, state=2)
    return w.snapshot()


def guest_suspended_to_ram():
    # a guest that suspended itself (S3) is pmsuspended to libvirt, suspended to Nova
    w = World()
    w.instance(DRIFT, host="hv1", power_state=7)
    w.domain("hv1", DRIFT, state=7)
    return w.snapshot()


def shutting_down_counts_as_shutdown():
    w = World()
    w.instance(DRIFT, host="hv1", vm_state="stopped")
    w.domain("hv1", DRIFT, state=4)
    return w.snapshot()


def stop_in_progress():
    # the API accepted a stop: the guest is off, Nova will record it when the task ends
    w = World()
    w.instance(DRIFT, host="hv1", task_state="powering-off")
    w.domain("hv1", DRIFT, state=5)
    return w.snapshot()


def resize_waiting_for_confirmation():
    # vm_state resized: the destination guest may be left shut off until confirmation
    w = World()
    w.instance(DRIFT, host="hv2", vm_state="resized")
    w.migration(DRIFT, type="resize", status="finished", source="hv1", dest="hv2")
    w.domain("hv1", DRIFT, state=5)
    w.domain("hv2", DRIFT, state=5)
    return w.snapshot()


def no_domain_on_its_host():
    # that is missing-domain's finding, not drift
    w = World()
    w.instance(DRIFT, host="hv1")
    w.domain("hv2", DRIFT, state=5)
    return w.snapshot()


def host_not_covered():
    w = World()
    w.host("vmw1", covered=False, hypervisor_type="VMware vCenter Server")
    w.instance(DRIFT, host="vmw1")
    return w.snapshot()


def host_unreachable():
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.instance(DRIFT, host="hv2")
    w.host_unreachable("hv2")
    return w.snapshot()


def domain_list_partial():
    w = World()
    w.instance(DRIFT, host="hv1")
    w.domain("hv1", DRIFT, state=5)
    w.partial(Domain, "host:hv1", "virsh list: connection to libvirtd lost")
    return w.snapshot()


def migrations_partial():
    # the resize waiting for confirmation, with the cell's migrations cut short: the shut-off
    # guest may be the one waiting for confirmation
    w = World()
    w.instance(DRIFT, host="hv2", vm_state="resized")
    w.migration(DRIFT, type="resize", status="finished", source="hv1", dest="hv2")
    w.domain("hv2", DRIFT, state=5)
    w.partial(Migration, "cell:cell1", "cell1: SELECT from migrations interrupted")
    return w.snapshot()


def libvirt_host_never_read():
    w = World()
    w.host("hv2", covered=False)
    w.instance(DRIFT, host="hv2", vm_state="stopped")
    return w.snapshot()


CASES = [
    Case(
        "found",
        "running in Nova, shut off in libvirt",
        running_in_nova_shut_off_in_libvirt,
        [("NV102", DRIFT)],
        verify=verify_shut_off,
    ),
    Case("found", "stopped in Nova, running in libvirt", stopped_in_nova_running_in_libvirt, [("NV102", DRIFT)]),
    Case("found", "paused behind Nova's back", paused_behind_novas_back, [("NV102", DRIFT)]),
    Case("clean", "running, stopped, paused and suspended all agree", clean),
    Case("near-miss", "blocked counts as running", blocked_counts_as_running),
    Case("near-miss", "shutting down counts as shutdown", shutting_down_counts_as_shutdown),
    Case("near-miss", "pmsuspended counts as suspended", guest_suspended_to_ram),
    Case("near-miss", "stop in progress", stop_in_progress),
    Case("near-miss", "resize waiting for confirmation", resize_waiting_for_confirmation),
    Case("near-miss", "no domain on its host at all", no_domain_on_its_host),
    Case("near-miss", "host not covered by the hypervisor source", host_not_covered),
    Case("partial", "host unreachable", host_unreachable, ["host:hv2"]),
    Case("partial", "domain list partial, even with the domain seen", domain_list_partial, ["host:hv1"]),
    Case("partial", "the cell's migrations are partial", migrations_partial, ["cell:cell1"]),
    Case("partial", "a libvirt host Nova lists was never read", libvirt_host_never_read, ["host:hv2"]),
]
