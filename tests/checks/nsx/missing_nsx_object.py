"""Scenarios of NX102 missing-nsx-object: a Neutron network, port, router or security group
without its NSX object."""

from osfsck.checks.nsx.missing_nsx_object import MissingNsxObject
from osfsck.model.facts.nsx import MANAGER, NETWORK, PORT, SECURITY_GROUP
from tests.checks.scenario import Case
from tests.support.world import MINUTE, World
from tests.support.world_neutron import network_uid, port_uid, router_uid, sg_uid

CHECK = MissingNsxObject


def _cloud(w, *, skip=()):
    """Neutron objects and, but for `skip` ((kind, id) pairs), their NSX objects."""
    net = w.network()
    w.instance_port(w.instance(), network_id=net)
    w.router()
    w.security_group()
    return net


def port_without_segment_port():
    w = World()
    net = _cloud(w)
    w.nsx_for(NETWORK, net)
    w.nsx_for("router", router_uid(1))
    w.nsx_for(SECURITY_GROUP, sg_uid(1))
    return w.snapshot()


def security_group_without_its_policy():
    w = World()
    net = _cloud(w)
    w.nsx_for(NETWORK, net)
    w.nsx_for(PORT, port_uid(1), network_id=net)
    w.nsx_for("router", router_uid(1))
    w.nsx_object("Group", neutron_kind=SECURITY_GROUP, neutron_id=sg_uid(1))
    return w.snapshot()


def verify_policy_missing(out):
    (f,) = out.findings
    assert f.evidence["missing"] == ["security policy (firewall section)"] and f.evidence["present"] == ["Group"]
    assert f.subject.kind == "security-group" and f.subject.scope == "neutron"


def manager_network_and_router_missing():
    w = World()
    _cloud(w)
    w.nsx_for(PORT, port_uid(1), api=MANAGER)
    w.nsx_for(SECURITY_GROUP, sg_uid(1), api=MANAGER)
    return w.snapshot()


def clean():
    w = World()
    _cloud(w)
    w.nsx_mirror()
    return w.snapshot()


def clean_manager():
    w = World()
    _cloud(w)
    w.nsx_mirror(api=MANAGER)
    return w.snapshot()


def not_expected():
    # DHCP, router interface and floating IP ports get no segment port from the Policy
    # plugin, and an external network (the floating IP's) no segment at all
    w = World()
    ext = w.network("public")
    net = _cloud(w)
    w.floating_ip(port_uid(1))
    w.port("", device_owner="network:router_gateway", host=None, network_id=ext)
    w.nsx_mirror(skip=(ext,))
    w.port("dhcp", device_owner="network:dhcp", host=None, network_id=net)
    w.router_interface(router_uid(1), net)
    return w.snapshot()


def just_created():
    w = World()
    _cloud(w)
    w.nsx_mirror()
    w.instance_port(w.instance(), network_id=network_uid(1), age=MINUTE)  # being plugged right now
    w.security_group(age=MINUTE)
    return w.snapshot()


def other_deployment_tagged():
    # restricted to one deployment, an object without its tag still answers for the id
    w = World()
    _cloud(w)
    w.nsx_mirror(other_deployment=True)
    return w.snapshot()


def nsx_partial():
    w = World()
    _cloud(w)
    w.nsx_down()
    return w.snapshot()


def neutron_partial():
    w = World()
    w.nsx_mirror()
    w.neutron_down()
    return w.snapshot()


CASES = [
    Case("found", "an instance's port has no segment port", port_without_segment_port, [("NX102", port_uid(1))]),
    Case(
        "found",
        "a security group has its group but no security policy",
        security_group_without_its_policy,
        [("NX102", sg_uid(1))],
        verify=verify_policy_missing,
    ),
    Case(
        "found",
        "Manager API: no logical switch, no logical router",
        manager_network_and_router_missing,
        [("NX102", network_uid(1)), ("NX102", router_uid(1))],
    ),
    Case("clean", "every Neutron object has its NSX objects", clean),
    Case("clean", "Manager API: every Neutron object has its NSX objects", clean_manager),
    Case("near-miss", "DHCP, router interface, floating IP ports and an external network", not_expected),
    Case("near-miss", "a port and a security group created a minute ago", just_created),
    Case("near-miss", "objects of the deployment tag restriction still count as present", other_deployment_tagged),
    Case("partial", "the NSX manager could not be read", nsx_partial, ["nsx"]),
    Case("partial", "Neutron's database could not be read", neutron_partial, ["neutron"]),
]
