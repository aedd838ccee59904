"""Facts read from Neutron's database.  Neutron deletes rows for real (no soft delete):
a row present is an object Neutron has.  Revision numbers and times come from
`standardattributes`, the row every Neutron resource points to."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from osfsck.model.facts.base import fact_type

NEUTRON_SCOPE = "neutron"

# device_owner prefixes and values Neutron and Nova write (neutron_lib/constants.py)
COMPUTE_OWNER_PREFIX = "compute:"
ROUTER_INTERFACE_OWNERS = frozenset(
    {
        "network:router_interface",
        "network:router_interface_distributed",
        "network:ha_router_replicated_interface",
    }
)
ROUTER_GATEWAY_OWNER = "network:router_gateway"
FLOATINGIP_OWNER = "network:floatingip"
DHCP_OWNER = "network:dhcp"


@fact_type("neutron.network", scope_field="scope")
class NeutronNetwork(NamedTuple):
    scope: str
    id: str
    name: str | None
    project_id: str | None
    revision_number: int
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@fact_type("neutron.subnet", scope_field="scope")
class NeutronSubnet(NamedTuple):
    scope: str
    id: str
    network_id: str
    cidr: str
    ip_version: int
    revision_number: int
    updated_at: dt.datetime | None


@fact_type("neutron.port", scope_field="scope")
class NeutronPort(NamedTuple):
    """A row of `ports` with its standard attributes and its DNS name (`portdnses`)."""

    scope: str
    id: str
    network_id: str
    name: str | None
    mac_address: str
    device_id: str  # the instance uuid for compute:* ports, the router for router ports
    device_owner: str  # "compute:<az>", "network:router_interface", "network:dhcp", ...
    status: str  # ACTIVE, DOWN, BUILD, ERROR
    project_id: str | None
    revision_number: int
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    dns_name: str | None  # portdnses.current_dns_name (Neutron's external DNS)
    dns_domain: str | None  # portdnses.current_dns_domain


@fact_type("neutron.port_binding", scope_field="scope")
class PortBinding(NamedTuple):
    """A row of `ml2_port_bindings`: one per host a port is bound to.  A live migration
    adds an INACTIVE binding on the destination and activates it at the end."""

    scope: str
    port_id: str
    host: str  # "" when unbound
    status: str  # ACTIVE or INACTIVE
    vif_type: str  # "ovs", "unbound", "binding_failed", ...


@fact_type("neutron.ip_allocation", scope_field="scope")
class IpAllocation(NamedTuple):
    scope: str
    port_id: str | None
    ip_address: str
    subnet_id: str
    network_id: str


@fact_type("neutron.floating_ip", scope_field="scope")
class FloatingIp(NamedTuple):
    scope: str
    id: str
    floating_ip_address: str
    floating_network_id: str
    floating_port_id: str
    fixed_port_id: str | None  # set while associated
    fixed_ip_address: str | None
    router_id: str | None
    status: str | None
    project_id: str | None
    revision_number: int
    updated_at: dt.datetime | None


@fact_type("neutron.router", scope_field="scope")
class NeutronRouter(NamedTuple):
    scope: str
    id: str
    name: str | None
    project_id: str | None
    gw_port_id: str | None
    revision_number: int
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@fact_type("neutron.router_port", scope_field="scope")
class RouterPort(NamedTuple):
    """A row of `routerports`: a port plugged into a router (interface or gateway)."""

    scope: str
    router_id: str
    port_id: str
    port_type: str | None  # the port's device_owner at the time


@fact_type("neutron.security_group", scope_field="scope")
class SecurityGroup(NamedTuple):
    scope: str
    id: str
    name: str | None
    project_id: str | None
    revision_number: int
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@fact_type("neutron.security_group_rule", scope_field="scope")
class SecurityGroupRule(NamedTuple):
    scope: str
    id: str
    security_group_id: str
    revision_number: int
    created_at: dt.datetime | None


@fact_type("neutron.port_security_group", scope_field="scope")
class PortSecurityGroup(NamedTuple):
    """A row of `securitygroupportbindings`: a port is a member of a security group."""

    scope: str
    port_id: str
    security_group_id: str
