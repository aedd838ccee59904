"""Scenarios of OV101 orphan-ovn-object: an NB row Neutron owns whose Neutron object is gone."""

from osfsck.checks.ovn.orphan_ovn_object import OrphanOvnObject
from osfsck.model.facts.ovn import (
    ACL,
    DHCP_OPTIONS,
    FLOATING_IP,
    LOGICAL_ROUTER,
    LOGICAL_SWITCH,
    NAT,
    NETWORK,
    PORT,
    PORT_GROUP,
    ROUTER,
    ROUTER_PORT,
    ROUTER_PORT_TABLE,
    RULE,
    SECURITY_GROUP,
    SEGMENT,
    SUBNET,
    SWITCH_PORT,
    port_group_name,
    router_name,
    switch_name,
)
from osfsck.model.finding import Severity
from tests.checks.scenario import Case
from tests.support.world import World
from tests.support.world_neutron import fip_uid, network_uid, port_uid, router_uid, rule_uid, sg_uid
from tests.support.world_ovn import ovn_row_uid

CHECK = OrphanOvnObject
GONE = "0e0e0e0e-0000-4000-8000-00000000dead"
# cloud() makes 11 NB rows (switch, DHCP options, router, 2 switch ports, router port, group,
# 2 ACLs, NAT, neutron_pg_drop): the rows a case adds are ovn_row_uid(NEXT), NEXT + 1, ...
NEXT = 12


def cloud():
    """A small consistent cloud: a network, an instance port, a router with an interface and
    a floating IP, a security group with two rules, all mirrored in the NB database."""
    w = World()
    net = w.network()
    p = w.instance_port(w.instance(), network_id=net, security_groups=(w.security_group(),))
    r = w.router()
    w.router_interface(r, net)
    w.floating_ip(p, router_id=r)
    w.ovn()
    return w, net


def orphan_port():
    w, net = cloud()
    w.ovn_row(SWITCH_PORT, PORT, GONE, parent=switch_name(net), device_owner="compute:nova")
    return w.snapshot()


def verify_port(out):
    (f,) = out.findings
    assert f.severity == Severity.HIGH and f"port {GONE}" in f.message
    assert f.related[0].scope == "neutron" and f.evidence["row"]["parent"] == switch_name(network_uid(1))


def orphan_of_each_kind():
    w, net = cloud()
    w.ovn_row(LOGICAL_ROUTER, ROUTER, router_uid(7))
    w.ovn_row(ROUTER_PORT_TABLE, ROUTER_PORT, port_uid(70), parent=router_name(router_uid(1)))
    w.ovn_row(PORT_GROUP, SECURITY_GROUP, sg_uid(7))
    w.ovn_row(ACL, RULE, rule_uid(70), parent=port_group_name(sg_uid(1)))
    w.ovn_row(NAT, FLOATING_IP, fip_uid(7), parent=router_name(router_uid(1)), type="dnat_and_snat")
    w.ovn_row(DHCP_OPTIONS, SUBNET, GONE)
    return w.snapshot()


def orphan_switch_with_its_ports():
    # the network was deleted but its switch stayed, with its DHCP port and an instance port
    w, _ = cloud()
    gone_net = network_uid(9)
    w.ovn_row(LOGICAL_SWITCH, NETWORK, gone_net)
    w.ovn_row(SWITCH_PORT, PORT, port_uid(90), parent=switch_name(gone_net), device_owner="network:dhcp")
    w.ovn_row(SWITCH_PORT, PORT, port_uid(91), parent=switch_name(gone_net), device_owner="compute:nova")
    return w.snapshot()


def verify_switch(out):
    (f,) = out.findings
    assert len(f.evidence["children"]) == 2 and f.evidence["children_in_use"] == []
    assert "holds 2 more row(s)" in f.message


def orphan_switch_holding_a_live_port():
    # an orphan switch still holding the port of a live network: reported, but the port is in use
    w, net = cloud()
    w.ovn_row(LOGICAL_SWITCH, NETWORK, network_uid(9))
    w.ovn_row(SWITCH_PORT, PORT, port_uid(1), parent=switch_name(network_uid(9)))
    return w.snapshot()


def verify_in_use(out):
    (f,) = out.findings
    assert f.evidence["children_in_use"] == [ovn_row_uid(NEXT + 1)]


def clean():
    w, _ = cloud()
    return w.snapshot()


def hand_made_rows():
    # an operator's switch named like Neutron's, a port of another tool: no neutron:* external_ids
    w, net = cloud()
    w.ovn_row(LOGICAL_SWITCH, NETWORK, network_uid(9), marked=False)
    w.ovn_row(SWITCH_PORT, PORT, GONE, parent=switch_name(net), marked=False)
    return w.snapshot()


def neutrons_own_rows():
    # neutron_pg_drop (w.ovn() adds it) and a provider network's localnet port: not judged
    w, net = cloud()
    w.ovn_row(SWITCH_PORT, SEGMENT, GONE, parent=switch_name(net), type="localnet", revision=None)
    return w.snapshot()


def metadata_port():
    # the metadata port's device_id is ovnmeta-<net>, not an instance: it is a port like any other
    w = World()
    net = w.network()
    w.port(f"ovnmeta-{net}", device_owner="network:distributed", host=None, network_id=net)
    w.ovn()
    return w.snapshot()


def kind_without_id():
    # a damaged or hand-edited snapshot: a row's Neutron kind without its id (the source
    # never writes one) names no Neutron object that could be gone
    w, net = cloud()
    w.ovn_row(SWITCH_PORT, PORT, None, name=GONE, parent=switch_name(net))
    w.ovn_row(PORT_GROUP, SECURITY_GROUP, None, name="pg_by_hand")
    return w.snapshot()


def nb_partial():
    w, net = cloud()
    w.ovn_row(SWITCH_PORT, PORT, GONE, parent=switch_name(net))
    w.ovn_down()
    return w.snapshot()


def neutron_partial():
    w, net = cloud()
    w.ovn_row(SWITCH_PORT, PORT, GONE, parent=switch_name(net))
    w.neutron_down()
    return w.snapshot()


CASES = [
    Case(
        "found",
        "a switch port whose Neutron port is gone",
        orphan_port,
        [("OV101", ovn_row_uid(NEXT))],
        verify=verify_port,
    ),
    Case(
        "found",
        "a router, router port, group, rule, NAT and DHCP options whose objects are gone",
        orphan_of_each_kind,
        [("OV101", ovn_row_uid(n)) for n in range(NEXT, NEXT + 6)],
    ),
    Case(
        "found",
        "an orphan switch is reported with its ports",
        orphan_switch_with_its_ports,
        [("OV101", ovn_row_uid(NEXT))],
        verify=verify_switch,
    ),
    Case(
        "found",
        "an orphan switch holding a port Neutron still has",
        orphan_switch_holding_a_live_port,
        [("OV101", ovn_row_uid(NEXT))],
        verify=verify_in_use,
    ),
    Case("clean", "every row stands for a live Neutron object", clean),
    Case("near-miss", "rows made by hand without Neutron's external_ids", hand_made_rows),
    Case("near-miss", "neutron_pg_drop and a provnet localnet port", neutrons_own_rows),
    Case("near-miss", "a metadata port (ovnmeta-)", metadata_port),
    Case("near-miss", "a kind without a Neutron id (a hand-edited snapshot)", kind_without_id),
    Case("partial", "the NB dump did not arrive", nb_partial, ["ovn-nb"]),
    Case("partial", "Neutron's database unreadable", neutron_partial, ["neutron"]),
]
