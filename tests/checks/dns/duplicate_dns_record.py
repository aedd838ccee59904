"""Scenarios of DN102 duplicate-dns-record: several names, or several PTRs, for one address."""

from osfsck.checks.dns.duplicate_dns_record import DuplicateDnsRecord
from osfsck.model.finding import Confidence
from tests.checks.scenario import Case
from tests.support.world import World, uid
from tests.support.world_neutron import floating_address

CHECK = DuplicateDnsRecord
INSTANCE = uid(1)


def cloud():
    w = World()
    u = w.instance()
    w.hostname(u, "app-1")
    ip = w.address_of(w.instance_port(u))
    w.host_records("app-1", ip)
    return w, ip


def renamed_instance():
    # the hook that writes a record per VM marks each with the instance's uuid in a TXT
    # (external-systems.md §B.3.4): the old name is provably the hook's, for this instance
    w, ip = cloud()
    w.a_record("old-app-1", ip)
    w.txt_record("old-app-1", f"openstack-instance={INSTANCE}")
    return w.snapshot()


def renamed_instance_in_designate():
    # designate-sink's nova_fixed handler made the old name for this instance
    w = World()
    w.zone("example.test.", designate=True)
    u = w.instance()
    w.hostname(u, "app-1")
    ip = w.address_of(w.instance_port(u))
    w.host_records("app-1", ip)
    w.designate_record(w.a_record("old-app-1", ip), resource_id=u)
    return w.snapshot()


def two_ptrs():
    # a PTR the hook wrote for a deleted instance whose address this instance now holds
    w, ip = cloud()
    gone = w.instance(deleted=True)
    w.hostname(gone, "someone-else")
    w.ptr_record(ip, "someone-else")
    return w.snapshot()


def router_port_with_two_names():
    # two deleted instances' names left on the address a router port now holds
    w, _ = cloud()
    ip = w.address_of(w.router_interface(w.router()))
    for name in ("gw-a", "gw-b"):
        w.hostname(w.instance(deleted=True), name)
        w.a_record(name, ip)
    return w.snapshot()


def floating_ip_cloud():
    """An instance with a floating IP, and the FIP's record by the zone's template."""
    w = World()
    w.floating_subnet()
    u = w.instance()
    w.hostname(u, "app-1")
    w.floating_ip(w.instance_port(u))
    fip = floating_address(1)
    w.a_record("app-1", fip)
    return w, fip


def wildcard_on_a_floating_ip():
    # issue 15 #9: an operator's wildcard for the apps behind the instance's floating IP
    w, fip = floating_ip_cloud()
    w.a_record("*.apps.example.test.", fip)
    return w.snapshot()


def operator_alias_on_a_floating_ip():
    # a name no template, port or hook made: the operator's own alias
    w, fip = floating_ip_cloud()
    w.a_record("www", fip)
    return w.snapshot()


def operator_ptr_beside_openstacks():
    w, ip = cloud()
    w.ptr_record(ip, "mail-relay")
    return w.snapshot()


def txt_naming_an_unknown_uuid():
    # a TXT marker only vouches for a record when it names an instance Nova knows
    w, ip = cloud()
    w.a_record("legacy", ip)
    w.txt_record("legacy", "openstack-instance=00000000-0000-0000-0000-00000000dead")
    return w.snapshot()


def verify_medium(out):
    assert {f.confidence for f in out.findings} == {Confidence.MEDIUM}
    assert all("none is known to be its holder's" in f.message for f in out.findings)


def verify_renamed(out):
    (f,) = out.findings
    assert f.confidence == Confidence.HIGH and f.evidence["own"] == ["app-1.example.test."]
    assert f"a TXT record naming instance {INSTANCE}" in f.evidence["made_by"]


def clean():
    return cloud()[0].snapshot()


def two_zones():
    w = World()
    w.zone("example.test.")
    w.zone("cloud.example.test.")
    u = w.instance()
    w.hostname(u, "app-1")
    ip = w.address_of(w.instance_port(u))
    w.host_records("app-1", ip)
    w.a_record("app-1.cloud.example.test.", ip)
    return w.snapshot()


def external_dns_and_template():
    w = World()
    u = w.instance()
    w.hostname(u, "app-1")
    ip = w.address_of(w.instance_port(u, dns_name="www", dns_domain="example.test."))
    w.host_records("app-1", ip)
    w.a_record("www", ip)
    return w.snapshot()


def infrastructure_aliases():
    w, _ = cloud()
    w.a_record("mail", "192.0.2.25")
    w.a_record("smtp", "192.0.2.25")
    return w.snapshot()


def neutron_partial():
    w, ip = cloud()
    w.a_record("old-app-1", ip)
    w.neutron_down()
    return w.snapshot()


CASES = [
    Case(
        "found",
        "a renamed instance's old name",
        renamed_instance,
        [("DN102", "old-app-1.example.test. A 10.0.0.3")],
        verify=verify_renamed,
    ),
    Case(
        "found",
        "two PTRs for one address",
        two_ptrs,
        [("DN102", "3.0.0.10.in-addr.arpa. PTR someone-else.example.test.")],
    ),
    Case(
        "found",
        "two names for a router port, neither known",
        router_port_with_two_names,
        [("DN102", "gw-a.example.test. A 10.0.0.4"), ("DN102", "gw-b.example.test. A 10.0.0.4")],
        verify=verify_medium,
    ),
    Case("clean", "one name and one PTR per address", clean),
    Case("near-miss", "one instance named in two zones by their templates", two_zones),
    Case("near-miss", "Neutron's external-DNS name beside the template's", external_dns_and_template),
    Case("near-miss", "alias names of an infrastructure host", infrastructure_aliases),
    Case(
        "found",
        "a renamed instance's old name, made by designate-sink",
        renamed_instance_in_designate,
        [("DN102", "old-app-1.example.test. A 10.0.0.3")],
    ),
    Case("near-miss", "a wildcard on a floating IP (issue 15 #9)", wildcard_on_a_floating_ip),
    Case("near-miss", "an operator's alias on a floating IP", operator_alias_on_a_floating_ip),
    Case("near-miss", "an operator's PTR beside OpenStack's", operator_ptr_beside_openstacks),
    Case("near-miss", "a TXT marker naming a uuid Nova does not know", txt_naming_an_unknown_uuid),
    Case("partial", "Neutron could not be read", neutron_partial, ["neutron"]),
]
