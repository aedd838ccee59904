"""Scenarios of DN103 dns-ptr-mismatch: a PTR whose target does not point back."""

from osfsck.checks.dns.dns_ptr_mismatch import DnsPtrMismatch
from osfsck.model.finding import Confidence
from tests.checks.scenario import Case
from tests.support.world import World

CHECK = DnsPtrMismatch


def cloud():
    w = World()
    ips = []
    for name in ("app-1", "app-2"):
        u = w.instance()
        w.hostname(u, name)
        ips.append(w.address_of(w.instance_port(u)))
        w.a_record(name, ips[-1])
    return w, ips


def names_another_instance():
    w, (a, b) = cloud()
    w.ptr_record(a, "app-2")
    w.ptr_record(b, "app-2")
    return w.snapshot()


def names_nothing():
    w, (a, b) = cloud()
    w.ptr_record(a, "app-1")
    w.ptr_record(b, "ghost")
    return w.snapshot()


def verify_other(out):
    (f,) = out.findings
    assert "app-2.example.test. resolves to 10.0.0.4" in f.message and f.evidence["target_addresses"] == ["10.0.0.4"]


def clean():
    w, (a, b) = cloud()
    w.ptr_record(a, "app-1")
    w.ptr_record(b, "app-2")
    return w.snapshot()


def target_in_a_zone_not_read():
    w, (a, _) = cloud()
    w.ptr_record(a, "app-1.elsewhere.example.")
    return w.snapshot()


def infrastructure_ptr():
    w, _ = cloud()
    w.ptr_record("192.0.2.53", "nothing-here")
    return w.snapshot()


def no_ptr_at_all():
    w, _ = cloud()
    w.zone("0.0.10.in-addr.arpa.")
    return w.snapshot()


def target_zone_partial():
    w, (a, _) = cloud()
    w.zone("cloud.example.test.")
    w.ptr_record(a, "app-1.cloud.example.test.")
    w.zone_down("cloud.example.test.", "AXFR of cloud.example.test. from 192.0.2.53:53: transfer refused (REFUSED)")
    return w.snapshot()


def neutron_partial():
    w, (a, _) = cloud()
    w.ptr_record(a, "ghost")
    w.neutron_down()
    return w.snapshot()


def names_a_deleted_instance():
    # the PTR the hook wrote for a deleted instance, whose address app-1 now holds
    w, (a, _) = cloud()
    w.hostname(w.instance(deleted=True), "old-1")
    w.ptr_record(a, "old-1")
    return w.snapshot()


def verify_made(out):
    (f,) = out.findings
    assert f.confidence == Confidence.HIGH and f.evidence["made_by"].startswith("the name template")


def verify_unmade(out):
    (f,) = out.findings
    assert f.confidence == Confidence.MEDIUM and f.evidence["made_by"] is None


def target_is_an_alias():
    # www is a CNAME of app-1: the PTR's target resolves to the address
    w, (a, _) = cloud()
    w.cname_record("www", "app-1")
    w.ptr_record(a, "www")
    return w.snapshot()


def target_answered_by_a_wildcard():
    w, (a, _) = cloud()
    w.a_record("*.apps.example.test.", a)
    w.ptr_record(a, "shop.apps.example.test.")
    return w.snapshot()


def target_in_a_delegated_subzone():
    # cloud.example.test. is delegated to Designate's servers and not configured here:
    # example.test.'s transfer does not hold its names
    w, (a, _) = cloud()
    w.record("cloud.example.test.", "NS", "ns1.designate.example.")
    w.ptr_record(a, "app-1.cloud.example.test.")
    return w.snapshot()


def alias_into_a_zone_that_could_not_be_read():
    w, (a, _) = cloud()
    w.zone("cloud.example.test.")
    w.cname_record("www", "app-1.cloud.example.test.")
    w.ptr_record(a, "www")
    w.zone_down("cloud.example.test.", "AXFR of cloud.example.test. from 192.0.2.53:53: timed out")
    return w.snapshot()


CASES = [
    Case(
        "found",
        "the PTR names another instance",
        names_another_instance,
        [("DN103", "3.0.0.10.in-addr.arpa. PTR app-2.example.test.")],
        verify=verify_other,
    ),
    Case(
        "found",
        "the PTR names a host with no address record",
        names_nothing,
        [("DN103", "4.0.0.10.in-addr.arpa. PTR ghost.example.test.")],
    ),
    Case("clean", "forward and reverse agree", clean),
    Case("near-miss", "the target is in a zone osfsck does not transfer", target_in_a_zone_not_read),
    Case("near-miss", "a PTR outside OpenStack's ranges", infrastructure_ptr),
    Case("near-miss", "address records without PTRs", no_ptr_at_all),
    Case("partial", "the target's zone could not be transferred", target_zone_partial, ["dns:cloud.example.test."]),
    Case("partial", "Neutron could not be read", neutron_partial, ["neutron"]),
    Case(
        "found",
        "the PTR names a deleted instance (made by the template: high confidence)",
        names_a_deleted_instance,
        [("DN103", "3.0.0.10.in-addr.arpa. PTR old-1.example.test.")],
        verify=verify_made,
    ),
    Case(
        "found",
        "the PTR names a host no rule of OpenStack's made (medium: never deleted)",
        names_nothing,
        [("DN103", "4.0.0.10.in-addr.arpa. PTR ghost.example.test.")],
        verify=verify_unmade,
    ),
    Case("near-miss", "the target is a CNAME of the address's name", target_is_an_alias),
    Case("near-miss", "the target is answered by a wildcard", target_answered_by_a_wildcard),
    Case("near-miss", "the target is in a delegated subzone osfsck does not transfer", target_in_a_delegated_subzone),
    Case(
        "partial",
        "the target is an alias into a zone that could not be transferred",
        alias_into_a_zone_that_could_not_be_read,
        ["dns:cloud.example.test."],
    ),
]
