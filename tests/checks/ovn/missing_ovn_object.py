"""Scenarios of OV102 missing-ovn-object: a Neutron object without its NB row."""

from osfsck.checks.ovn.missing_ovn_object import MissingOvnObject
from osfsck.model.facts.ovn import LOGICAL_SWITCH, NETWORK, ROUTER_PORT_TABLE, SWITCH_PORT
from tests.checks.scenario import Case
from tests.support.world import World
from tests.support.world_neutron import fip_uid, network_uid, port_uid, router_uid, rule_uid, sg_uid

CHECK = MissingOvnObject


def cloud(w: World):
    """A network with an instance port, a router interface and a floating IP; a group."""
    net = w.network()
    p = w.instance_port(w.instance(), network_id=net, security_groups=(w.security_group(),))
    r = w.router()
    w.router_interface(r, net)  # port 2
    w.floating_ip(p, router_id=r)  # its port 3 has no row in OVN, ever
    return net


def missing_port():
    w = World()
    cloud(w)
    w.ovn(skip=(port_uid(1),))
    return w.snapshot()


def verify_port(out):
    (f,) = out.findings
    assert f.subject.scope == "neutron" and f.evidence["expected_table"] == "Logical_Switch_Port"
    assert f.related[0].scope == "ovn-nb"


def missing_of_each_kind():
    w = World()
    cloud(w)
    w.ovn(skip=(router_uid(1), sg_uid(1), fip_uid(1)))
    return w.snapshot()


def missing_rule():
    w = World()
    cloud(w)
    w.ovn(skip=(rule_uid(2),))
    return w.snapshot()


def missing_router_port():
    w = World()
    cloud(w)
    w.ovn(skip=((ROUTER_PORT_TABLE, port_uid(2)),))  # its switch port is there, its lrp- is not
    return w.snapshot()


def missing_network_with_its_ports():
    # the whole switch is gone: one finding for the network, not one per port
    w = World()
    cloud(w)
    w.ovn(skip=(network_uid(1), port_uid(1), (SWITCH_PORT, port_uid(2))))
    return w.snapshot()


def clean():
    w = World()
    cloud(w)
    w.ovn()
    return w.snapshot()


def created_seconds_ago():
    # a port made for an instance being built: Neutron writes its row in a moment
    w = World()
    cloud(w)
    w.ovn()
    w.instance_port(w.instance(vm_state="building", age=30), network_id=network_uid(1), age=30)
    return w.snapshot()


def floating_ip_port_and_unassociated_fip():
    # floating IP ports never get a switch port; an unassociated floating IP has no NAT row
    w = World()
    cloud(w)
    w.floating_ip()
    w.ovn()
    return w.snapshot()


def hand_made_switch_counts():
    # the switch was re-created by hand without external_ids: a row is there, not missing
    w = World()
    net = cloud(w)
    w.ovn(skip=(net,))
    w.ovn_row(LOGICAL_SWITCH, NETWORK, net, marked=False)
    return w.snapshot()


def nb_partial():
    w = World()
    cloud(w)
    w.ovn_down()
    return w.snapshot()


def neutron_partial():
    w = World()
    cloud(w)
    w.ovn()
    w.neutron_down()
    return w.snapshot()


CASES = [
    Case(
        "found", "an instance port without its switch port", missing_port, [("OV102", port_uid(1))], verify=verify_port
    ),
    Case(
        "found",
        "a router, group and floating IP without their rows; the group's rules go with it",
        missing_of_each_kind,
        [("OV102", router_uid(1)), ("OV102", sg_uid(1)), ("OV102", fip_uid(1))],
    ),
    Case("found", "a rule without its ACL", missing_rule, [("OV102", rule_uid(2))]),
    Case("found", "a router interface without its router port", missing_router_port, [("OV102", port_uid(2))]),
    Case(
        "found",
        "a network without its switch, reported once",
        missing_network_with_its_ports,
        [("OV102", network_uid(1))],
    ),
    Case("clean", "every Neutron object has its row", clean),
    Case("near-miss", "a port created seconds ago", created_seconds_ago),
    Case("near-miss", "floating IP ports and an unassociated floating IP", floating_ip_port_and_unassociated_fip),
    Case("near-miss", "a switch re-created by hand without external_ids", hand_made_switch_counts),
    Case("partial", "the NB dump did not arrive", nb_partial, ["ovn-nb"]),
    Case("partial", "Neutron's database unreadable", neutron_partial, ["neutron"]),
]
