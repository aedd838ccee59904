"""Scenarios of DN102 duplicate-dns-record: several names, or several PTRs, for one address."""

from osfsck.checks.dns.duplicate_dns_record import DuplicateDnsRecord
from osfsck.model.finding import Confidence
from tests.checks.scenario import Case
from tests.support.world import World

CHECK = DuplicateDnsRecord


def cloud():
    w = World()
    u = w.instance()
    w.hostname(u, "app-1")
    ip = w.address_of(w.instance_port(u))
    w.host_records("app-1", ip)
    return w, ip


def renamed_instance():
    w, ip = cloud()
    w.a_record("old-app-1", ip)
    return w.snapshot()


def two_ptrs():
    w, ip = cloud()
    w.ptr_record(ip, "someone-else")
    return w.snapshot()


def router_port_with_two_names():
    w, _ = cloud()
    ip = w.address_of(w.router_interface(w.router()))
    w.a_record("gw-a", ip)
    w.a_record("gw-b", ip)
    return w.snapshot()


def verify_medium(out):
    assert {f.confidence for f in out.findings} == {Confidence.MEDIUM}
    assert all("none is known to be its holder's" in f.message for f in out.findings)


def verify_renamed(out):
    (f,) = out.findings
    assert f.confidence == Confidence.HIGH and f.evidence["own"] == ["app-1.example.test."]


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
    Case("found", "a renamed instance's old name", renamed_instance,
         [("DN102", "old-app-1.example.test. A 10.0.0.3")], verify=verify_renamed),
    Case("found", "two PTRs for one address", two_ptrs,
         [("DN102", "3.0.0.10.in-addr.arpa. PTR someone-else.example.test.")]),
    Case("found", "two names for a router port, neither known", router_port_with_two_names,
         [("DN102", "gw-a.example.test. A 10.0.0.4"), ("DN102", "gw-b.example.test. A 10.0.0.4")],
         verify=verify_medium),
    Case("clean", "one name and one PTR per address", clean),
    Case("near-miss", "one instance named in two zones by their templates", two_zones),
    Case("near-miss", "Neutron's external-DNS name beside the template's", external_dns_and_template),
    Case("near-miss", "alias names of an infrastructure host", infrastructure_aliases),
    Case("partial", "Neutron could not be read", neutron_partial, ["neutron"]),
]
