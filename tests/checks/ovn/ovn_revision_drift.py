"""Scenarios of OV103 ovn-revision-drift: an NB row behind its Neutron object's revision."""

from osfsck.checks.ovn.ovn_revision_drift import OvnRevisionDrift
from tests.checks.scenario import Case
from tests.support.world import World
from tests.support.world_neutron import fip_uid, port_uid
from tests.support.world_ovn import ovn_row_uid

CHECK = OvnRevisionDrift


def cloud(w: World, *, updated_age=3600):
    net = w.network(revision=5)
    p = w.instance_port(w.instance(), network_id=net, revision=7, updated_age=updated_age)
    r = w.router()
    w.floating_ip(p, router_id=r)
    return net, p


# rows w.ovn() makes for cloud(): 1 switch, 2 DHCP options, 3 router, 4 instance port, 5 NAT, 6 drop group


def port_behind():
    w = World()
    _, p = cloud(w)
    w.ovn(revisions={p: 6})
    return w.snapshot()


def verify_port(out):
    (f,) = out.findings
    assert "revision 6" in f.message and "revision 7" in f.message
    assert f.evidence["neutron"]["revision_number"] == 7 and f.related[0].id == port_uid(1)


def several_behind():
    w = World()
    net, _ = cloud(w)
    w.ovn(revisions={net: 1, fip_uid(1): 0})
    return w.snapshot()


def clean():
    w = World()
    cloud(w)
    w.ovn()
    return w.snapshot()


def update_in_flight():
    # the port changed a minute ago: Neutron pushes the row right after its commit
    w = World()
    _, p = cloud(w, updated_age=60)
    w.ovn(revisions={p: 6})
    return w.snapshot()


def row_ahead_or_without_revision():
    # a row ahead of Neutron is Neutron's own bookkeeping's business; port groups carry none
    w = World()
    net, _ = cloud(w)
    w.security_group()
    w.ovn(revisions={net: 9})
    return w.snapshot()


def nb_partial():
    w = World()
    _, p = cloud(w)
    w.ovn(revisions={p: 6})
    w.ovn_down()
    return w.snapshot()


CASES = [
    Case("found", "a switch port one revision behind", port_behind, [("OV103", ovn_row_uid(4))], verify=verify_port),
    Case(
        "found", "a switch and a NAT row behind", several_behind, [("OV103", ovn_row_uid(1)), ("OV103", ovn_row_uid(5))]
    ),
    Case("clean", "every row at Neutron's revision", clean),
    Case("near-miss", "an update a minute ago", update_in_flight),
    Case("near-miss", "a row ahead, and a port group without revision", row_ahead_or_without_revision),
    Case("partial", "the NB dump did not arrive", nb_partial, ["ovn-nb"]),
]
