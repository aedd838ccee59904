"""Which NB rows are Neutron's and what each stands for (sources/ovn_nb/mapping.py), and the
OVN source's configuration; the source itself is tested against a real ovsdb-server in
tests/integration/test_ovn_nb.py."""

import pytest

from osfsck.config.ovn import OvnSettings
from osfsck.sources.base import NotConfigured
from osfsck.sources.ovn_nb.mapping import to_fact
from osfsck.sources.ovn_nb.source import OvnNorthboundSource

NET = "7a3c1e52-9d0f-4b8e-a1c2-3d4e5f607182"
PORT = "1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90"
SG = "c0ffee00-1234-4abc-8def-0123456789ab"
REV = {"neutron:revision_number": "4"}


@pytest.mark.parametrize(
    ("table", "name", "ext", "type_", "parent", "kind", "nid"),
    [
        ("Logical_Switch", f"neutron-{NET}", REV, "", "", "network", NET),
        ("Logical_Switch_Port", PORT, REV, "", f"neutron-{NET}", "port", PORT),
        ("Logical_Switch_Port", f"provnet-{NET}", {}, "localnet", f"neutron-{NET}", "segment", NET),
        ("Logical_Router", f"neutron-{NET}", REV, "", "", "router", NET),
        ("Logical_Router_Port", f"lrp-{PORT}", REV, "", f"neutron-{NET}", "router-port", PORT),
        ("Port_Group", "pg_" + SG.replace("-", "_"), {"neutron:security_group_id": SG}, "", "", "security-group", SG),
        ("Port_Group", "neutron_pg_drop", {}, "", "", None, None),
        ("ACL", "", {"neutron:security_group_rule_id": PORT}, "", "pg_x", "security-group-rule", PORT),
        ("NAT", "", {"neutron:fip_id": PORT, **REV}, "dnat_and_snat", f"neutron-{NET}", "floating-ip", PORT),
        ("DHCP_Options", "", {"subnet_id": NET, **REV}, "", "", "subnet", NET),
        ("DHCP_Options", "", {"subnet_id": NET, "port_id": PORT}, "", "", "port", PORT),
    ],
)
def test_neutrons_rows_and_what_they_stand_for(table, name, ext, type_, parent, kind, nid):
    f = to_fact(table, "u1", name, ext, type_, parent)
    assert (f.neutron_kind, f.neutron_id, f.marked) == (kind, nid, True)
    assert f.revision == (4 if "neutron:revision_number" in ext else None)


def test_a_port_named_by_uuid_on_neutrons_switch_is_neutrons_by_naming_only():
    f = to_fact("Logical_Switch_Port", "u1", PORT, {}, "", f"neutron-{NET}")
    assert f.neutron_kind == "port" and not f.marked


@pytest.mark.parametrize(
    ("table", "name", "ext", "parent"),
    [
        ("Logical_Switch", "ops-test", {}, ""),
        ("Logical_Switch_Port", PORT, {}, "ops-test"),  # a uuid name on someone else's switch
        ("Logical_Switch_Port", "ovn-lb-vip-1", {}, f"neutron-{NET}"),
        ("ACL", "", {"octavia:lb": "1"}, "pg_x"),
        ("NAT", "", {}, f"neutron-{NET}"),
        ("DHCP_Options", "", {}, ""),
    ],
)
def test_rows_not_neutrons_are_no_fact(table, name, ext, parent):
    assert to_fact(table, "u1", name, ext, "", parent) is None


def test_malformed_revision_is_none():
    assert to_fact("Logical_Switch", "u1", f"neutron-{NET}", {"neutron:revision_number": "x"}).revision is None


def test_without_nb_connection_the_source_is_not_configured():
    with pytest.raises(NotConfigured, match=r"\[ovn\] nb_connection"):
        OvnNorthboundSource(OvnSettings())
    reads = OvnNorthboundSource(OvnSettings(nb_connection="tcp:192.0.2.1:6641")).reads()
    assert "OVN_Northbound at tcp:192.0.2.1:6641" in reads[0] and "Logical_Switch_Port(name, type" in reads[0]
