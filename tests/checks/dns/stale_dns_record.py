"""Scenarios of DN101 stale-dns-record: a record for an address nothing holds, or named for
a deleted instance while the address serves another."""

from osfsck.checks.dns.stale_dns_record import StaleDnsRecord
from osfsck.model.facts.nova import InstanceMapping, InstanceNetwork
from osfsck.model.finding import Confidence, Severity
from osfsck.model.scope import RunScope
from tests.checks.scenario import Case
from tests.support.world import World
from tests.support.world_neutron import floating_address

CHECK = StaleDnsRecord


def cloud():
    """A live instance with its port and both records, and the name server's own record."""
    w = World()
    u = w.instance()
    w.hostname(u, "app-1")
    w.host_records("app-1", w.address_of(w.instance_port(u)))
    w.a_record("ns1", "192.0.2.53")
    return w


def nothing_holds_it():
    w = cloud()
    w.host_records("gone-1", "10.0.9.9")
    return w.snapshot()


def address_reused_by_another_tenant():
    w = cloud()
    gone = w.instance(deleted=True)
    w.hostname(gone, "web-1")
    live = w.instance(project_id="project-b")
    w.hostname(live, "shop")
    ip = w.address_of(w.instance_port(live))
    w.host_records("shop", ip)
    w.a_record("web-1", ip)  # the old tenant's name, now the new tenant's address
    return w.snapshot()


def verify_reused(out):
    (f,) = out.findings
    assert f.severity == Severity.HIGH and "was deleted" in f.message
    assert f.evidence["deleted_instance"]["hostname"] == "web-1"
    assert f.evidence["holder"]["kind"] == "port"


def verify_unheld(out):
    assert {f.evidence["address"] for f in out.findings} == {"10.0.9.9"}
    assert all("no port or floating IP holds 10.0.9.9" in f.message for f in out.findings)


def clean():
    w = cloud()
    for name in ("b-1", "b-2"):
        u = w.instance()
        w.hostname(u, name)
        w.host_records(name, w.address_of(w.instance_port(u)))
    w.txt_record("app-1", "openstack-instance=whatever")
    return w.snapshot()


def floating_ip_record():
    w = cloud()
    w.floating_subnet()
    u = w.instance()
    w.floating_ip(w.instance_port(u))
    w.host_records("vm-fip", floating_address(1))  # held by the floating IP, not a port
    return w.snapshot()


def port_just_created():
    w = cloud()
    u = w.instance(age=40, vm_state="building")
    w.hostname(u, "new-1")
    w.host_records("new-1", w.address_of(w.instance_port(u, age=5)))
    return w.snapshot()


def infrastructure_records():
    w = cloud()
    w.host_records("mail", "198.51.100.25")  # outside every Neutron subnet
    w.a_record("www", "192.0.2.80")
    return w.snapshot()


def neutron_external_dns_name():
    # the new holder's port is named (Neutron's dns_name) like the deleted instance was
    w = cloud()
    gone = w.instance(deleted=True)
    w.hostname(gone, "web")
    live = w.instance(project_id="project-b")
    w.hostname(live, "app-2")
    ip = w.address_of(w.instance_port(live, dns_name="web", dns_domain="example.test."))
    w.a_record("web", ip)
    return w.snapshot()


def hostname_reused_by_the_holder():
    w = cloud()
    gone = w.instance(deleted=True)
    w.hostname(gone, "db")
    live = w.instance()
    w.hostname(live, "db")
    w.host_records("db", w.address_of(w.instance_port(live)))
    return w.snapshot()


def neutron_partial():
    w = cloud()
    w.host_records("gone-1", "10.0.9.9")
    w.neutron_down()
    return w.snapshot()


def zone_partial():
    w = cloud()
    w.a_record("gone-1", "10.0.9.9")
    w.zone_down("example.test.")
    return w.snapshot()


def api_partial():
    w = cloud()
    gone = w.instance(deleted=True)
    w.hostname(gone, "web-1")
    live = w.instance(project_id="project-b")
    w.a_record("web-1", w.address_of(w.instance_port(live)))
    w.partial(InstanceMapping, "api", "nova_api: read interrupted")
    return w.snapshot()


def deleted_instance_records_nothing_holds():
    # the hook's records of a deleted instance whose address went back to the pool
    w = cloud()
    w.hostname(w.instance(deleted=True), "gone-2")
    w.host_records("gone-2", "10.0.9.10")
    return w.snapshot()


def verify_made(out):
    assert {f.confidence for f in out.findings} == {Confidence.HIGH}
    assert all(f.evidence["made_by"].startswith("the name template of zone") for f in out.findings)


def verify_unmade(out):
    # stale all the same (the address's next holder gets the name), but no rule of
    # OpenStack's made these: a person decides, the repair never deletes them
    assert {f.confidence for f in out.findings} == {Confidence.MEDIUM}
    assert all(f.evidence["made_by"] is None and "no OpenStack naming rule made it" in f.message for f in out.findings)


def operator_wildcard_on_a_released_floating_ip():
    w = cloud()
    w.floating_subnet()
    w.a_record("*.apps.example.test.", floating_address(7))
    return w.snapshot()


def instance_names_partial():
    # the holder's names could not be read: the record may be its own
    w = cloud()
    gone = w.instance(deleted=True)
    w.hostname(gone, "web-1")
    live = w.instance(project_id="project-b")
    w.a_record("web-1", w.address_of(w.instance_port(live)))
    w.partial(InstanceNetwork, "cell:cell1", "cell1: SELECT from instance_info_caches interrupted")
    return w.snapshot()


def scoped_name_may_be_another_cells():
    # --cell cell1: the record names web-1, a deleted instance of cell2 (a finding for a
    # whole run); on its address, cell1's live instance: inside -- but a --cell run
    # transfers no zone (a transfer is of the whole zone): undecided, never clean
    w = cloud()
    gone = w.instance(cell="cell2", host="hv2", deleted=True)
    w.hostname(gone, "web-1")
    live = w.instance(project_id="project-b")
    w.hostname(live, "shop")
    ip = w.address_of(w.instance_port(live))
    w.host_records("shop", ip)
    w.a_record("web-1", ip)
    return w.snapshot(RunScope(cells=("cell1",)))


CASES = [
    Case(
        "found",
        "nothing holds the address (A and PTR)",
        nothing_holds_it,
        [("DN101", "gone-1.example.test. A 10.0.9.9"), ("DN101", "9.9.0.10.in-addr.arpa. PTR gone-1.example.test.")],
        verify=verify_unheld,
    ),
    Case(
        "found",
        "a deleted instance's name on an address reused by another tenant",
        address_reused_by_another_tenant,
        [("DN101", "web-1.example.test. A 10.0.0.4")],
        verify=verify_reused,
    ),
    Case("clean", "every record's address held by its instance's port", clean),
    Case("near-miss", "a record for a floating IP is held by the floating IP", floating_ip_record),
    Case("near-miss", "a record for a port created seconds ago", port_just_created),
    Case("near-miss", "infrastructure records outside OpenStack's ranges", infrastructure_records),
    Case("near-miss", "the new holder's port has the name in Neutron's external DNS", neutron_external_dns_name),
    Case(
        "near-miss", "a live instance holding the address has the deleted one's hostname", hostname_reused_by_the_holder
    ),
    Case("partial", "Neutron could not be read", neutron_partial, ["neutron"]),
    Case("partial", "the zone's transfer failed", zone_partial, ["dns:example.test."]),
    Case("partial", "the API database is partial: the deleted instance may be live elsewhere", api_partial, ["api"]),
    Case(
        "found",
        "a deleted instance's records on an address nothing holds",
        deleted_instance_records_nothing_holds,
        [("DN101", "gone-2.example.test. A 10.0.9.10"), ("DN101", "10.9.0.10.in-addr.arpa. PTR gone-2.example.test.")],
        verify=verify_made,
    ),
    Case(
        "found",
        "an operator's wildcard on a released floating IP (medium, never deleted)",
        operator_wildcard_on_a_released_floating_ip,
        [("DN101", "*.apps.example.test. A 203.0.113.7")],
        verify=verify_unmade,
    ),
    Case("partial", "instance names partial", instance_names_partial, ["cell:cell1"]),
    Case(
        "partial",
        "in --cell cell1: no zone is transferred (each is whole-cloud): undecided, never clean",
        scoped_name_may_be_another_cells,
        ["dns:*"],
    ),
]
