"""Scenarios of NX101 orphan-nsx-object: an NSX object the Neutron plugin made for a Neutron
object that is gone."""

from osfsck.checks.nsx.orphan_nsx_object import OrphanNsxObject
from osfsck.model.facts.nsx import MANAGER, NETWORK, PORT, ROUTER, SECURITY_GROUP
from osfsck.model.finding import Severity
from tests.checks.scenario import Case
from tests.support.world import MINUTE, World, uid
from tests.support.world_neutron import network_uid, port_uid, router_uid, sg_uid
from tests.support.world_nsx import nsx_uid

CHECK = OrphanNsxObject

GONE_PORT, GONE_NET, GONE_SG = uid(0xDEAD01), uid(0xDEAD02), uid(0xDEAD03)


def cloud(api="policy"):
    """A consistent cloud: a network, an instance's port, a router and a security group,
    each with its NSX objects."""
    w = World()
    net = w.network()
    w.instance_port(w.instance(), network_id=net)
    w.router()
    w.security_group()
    w.nsx_mirror(api=api)
    return w


def leaked_policy_port():
    w = cloud()
    w.nsx_for(PORT, GONE_PORT, network_id=network_uid(1))
    return w.snapshot()


def leaked_policy_network_and_security_group():
    w = cloud()
    w.nsx_for(NETWORK, GONE_NET)
    w.nsx_for(SECURITY_GROUP, GONE_SG)
    return w.snapshot()


def verify_network_and_group(out):
    by_kind = {f.subject.kind: f for f in out.findings}
    assert sorted(by_kind) == ["nsx-group", "nsx-security-policy", "nsx-segment"]
    # the rules go before the group they use: ranked higher
    assert by_kind["nsx-security-policy"].severity == Severity.MEDIUM
    assert by_kind["nsx-group"].severity == Severity.LOW
    seg = by_kind["nsx-segment"]
    assert seg.evidence["nsx_object"]["path"] == f"/infra/segments/{GONE_NET}"
    assert seg.related[0].as_dict() == {"kind": "network", "id": GONE_NET, "scope": "neutron"}
    assert "Neutron network" in seg.message and "no longer has" in seg.message


def leaked_manager_objects():
    w = cloud(api=MANAGER)
    w.nsx_for(ROUTER, uid(0xDEAD04), api=MANAGER)
    w.nsx_for(PORT, GONE_PORT, api=MANAGER, network_id=network_uid(1))  # the secgr-id scope, Manager style
    return w.snapshot()


def verify_manager(out):
    port = next(f for f in out.findings if f.subject.kind == "nsx-logical-port")
    ev = port.evidence["nsx_object"]
    assert ev["api"] == "manager" and ev["neutron_id"] == GONE_PORT and ev["attached"] is True
    assert ev["parent_id"] is not None and port.severity == Severity.MEDIUM


def clean():
    return cloud().snapshot()


def clean_manager():
    return cloud(api=MANAGER).snapshot()


def made_by_hand():
    # operators' own segments, groups and logical switches carry no Neutron tag
    w = cloud()
    w.nsx_by_hand("Segment")
    w.nsx_by_hand("Group")
    w.nsx_by_hand("LogicalSwitch", api=MANAGER)
    return w.snapshot()


def plugin_internal():
    w = cloud()
    w.nsx_internal()
    w.nsx_internal(api=MANAGER)
    return w.snapshot()


def just_created():
    # the plugin made the segment port moments ago; Neutron's row is not committed yet
    w = cloud()
    w.nsx_for(PORT, port_uid(7), network_id=network_uid(1), age=MINUTE)
    return w.snapshot()


def another_deployment():
    # a second cloud on the same manager: [nsx] deployment_* leaves its objects out
    w = cloud()
    w.nsx_for(PORT, GONE_PORT, network_id=network_uid(1), other_deployment=True)
    w.nsx_for(ROUTER, router_uid(9), other_deployment=True)
    return w.snapshot()


def tag_without_id():
    # a damaged or hand-edited snapshot: a Neutron tag's kind without its id (the source
    # never writes one) names no Neutron object that could be gone
    w = cloud()
    w.nsx_object("SegmentPort", uid(0xDEAD05), neutron_kind=PORT, parent_id=network_uid(1))
    return w.snapshot()


def nsx_partial():
    w = cloud()
    w.nsx_for(PORT, GONE_PORT, network_id=network_uid(1))
    w.nsx_down()
    return w.snapshot()


def neutron_partial():
    w = cloud()
    w.nsx_for(PORT, GONE_PORT, network_id=network_uid(1))
    w.neutron_down()
    return w.snapshot()


CASES = [
    Case("found", "a segment port whose Neutron port is gone", leaked_policy_port, [("NX101", GONE_PORT)]),
    Case(
        "found",
        "a segment and a security group's group and policy left behind",
        leaked_policy_network_and_security_group,
        [("NX101", GONE_NET), ("NX101", GONE_SG)],
        verify=verify_network_and_group,
    ),
    Case(
        "found",
        "Manager API: a logical router and a logical port left behind",
        leaked_manager_objects,
        [("NX101", nsx_uid(6)), ("NX101", nsx_uid(7))],
        verify=verify_manager,
    ),
    Case("clean", "every NSX object stands for a Neutron object", clean),
    Case("clean", "Manager API: every object stands for a Neutron object", clean_manager),
    Case("near-miss", "objects made by hand, without Neutron's tags", made_by_hand),
    Case("near-miss", "the plugin's own default section and group", plugin_internal),
    Case("near-miss", "a port the plugin made a minute ago", just_created),
    Case("near-miss", "another deployment's objects on a shared manager", another_deployment),
    Case("near-miss", "a kind without a Neutron id (a hand-edited snapshot)", tag_without_id),
    Case("partial", "the NSX manager could not be read", nsx_partial, ["nsx"]),
    Case("partial", "Neutron's database could not be read", neutron_partial, ["neutron"]),
]

# the ids the World gives: the cloud's security group is sg_uid(1)
assert sg_uid(1) != GONE_SG
