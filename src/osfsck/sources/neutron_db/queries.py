"""One SELECT per Neutron fact kind, the fact's fields in order (see nova_db/queries.py).
Revision numbers and times are joined from `standardattributes`."""

from __future__ import annotations

from sqlalchemy import BigInteger, DateTime, Integer, String, column, func, literal, select, table

from osfsck.clients.db import FLAG
from osfsck.clients.quota_counts import neutron_counted
from osfsck.model.cell_slice import EXTERNAL_OWNERS, CellKeys
from osfsck.model.facts.neutron import (
    NEUTRON_SCOPE,
    FloatingIp,
    IpAllocation,
    NeutronNetwork,
    NeutronPort,
    NeutronRouter,
    NeutronSubnet,
    PortBinding,
    PortSecurityGroup,
    RouterPort,
    SecurityGroup,
    SecurityGroupRule,
)
from osfsck.model.facts.quota import NeutronCounted, NeutronQuotaUsage, NeutronReservation
from osfsck.sources.db_read import Statements, batched

standardattributes = table(
    "standardattributes",
    column("id", BigInteger),
    column("revision_number", BigInteger),
    column("created_at", DateTime),
    column("updated_at", DateTime),
)
networks = table(
    "networks",
    column("id", String),
    column("name", String),
    column("project_id", String),
    column("standard_attr_id", BigInteger),
)
subnets = table(
    "subnets",
    column("id", String),
    column("network_id", String),
    column("cidr", String),
    column("ip_version", Integer),
    column("standard_attr_id", BigInteger),
)
ports = table(
    "ports",
    column("id", String),
    column("network_id", String),
    column("name", String),
    column("mac_address", String),
    column("device_id", String),
    column("device_owner", String),
    column("status", String),
    column("project_id", String),
    column("standard_attr_id", BigInteger),
)
portdnses = table(
    "portdnses", column("port_id", String), column("current_dns_name", String), column("current_dns_domain", String)
)
ml2_port_bindings = table(
    "ml2_port_bindings",
    column("port_id", String),
    column("host", String),
    column("status", String),
    column("vif_type", String),
)
ipallocations = table(
    "ipallocations",
    column("port_id", String),
    column("ip_address", String),
    column("subnet_id", String),
    column("network_id", String),
)
floatingips = table(
    "floatingips",
    column("id", String),
    column("floating_ip_address", String),
    column("floating_network_id", String),
    column("floating_port_id", String),
    column("fixed_port_id", String),
    column("fixed_ip_address", String),
    column("router_id", String),
    column("status", String),
    column("project_id", String),
    column("standard_attr_id", BigInteger),
)
routers = table(
    "routers",
    column("id", String),
    column("name", String),
    column("project_id", String),
    column("gw_port_id", String),
    column("standard_attr_id", BigInteger),
)
routerports = table("routerports", column("router_id", String), column("port_id", String), column("port_type", String))
securitygroups = table(
    "securitygroups",
    column("id", String),
    column("name", String),
    column("project_id", String),
    column("standard_attr_id", BigInteger),
)
securitygrouprules = table(
    "securitygrouprules",
    column("id", String),
    column("security_group_id", String),
    column("standard_attr_id", BigInteger),
)
securitygroupportbindings = table(
    "securitygroupportbindings", column("port_id", String), column("security_group_id", String)
)
quotausages = table(
    "quotausages",
    column("project_id", String),
    column("resource", String),
    column("in_use", Integer),
    column("reserved", Integer),
    column("dirty", FLAG),
)
reservations = table("reservations", column("id", String), column("project_id", String), column("expiration", DateTime))

_sa = standardattributes


def _with_attrs(t):
    return t.join(_sa, t.c.standard_attr_id == _sa.c.id)


def neutron_networks():
    n = networks
    return select(
        literal(NEUTRON_SCOPE),
        n.c.id,
        n.c.name,
        n.c.project_id,
        _sa.c.revision_number,
        _sa.c.created_at,
        _sa.c.updated_at,
    ).select_from(_with_attrs(n))


def neutron_subnets():
    s = subnets
    return select(
        literal(NEUTRON_SCOPE),
        s.c.id,
        s.c.network_id,
        s.c.cidr,
        s.c.ip_version,
        _sa.c.revision_number,
        _sa.c.updated_at,
    ).select_from(_with_attrs(s))


def neutron_ports():
    p, d = ports, portdnses
    return select(
        literal(NEUTRON_SCOPE),
        p.c.id,
        p.c.network_id,
        p.c.name,
        p.c.mac_address,
        p.c.device_id,
        p.c.device_owner,
        p.c.status,
        p.c.project_id,
        _sa.c.revision_number,
        _sa.c.created_at,
        _sa.c.updated_at,
        d.c.current_dns_name,
        d.c.current_dns_domain,
    ).select_from(_with_attrs(p).outerjoin(d, d.c.port_id == p.c.id))


def port_bindings():
    b = ml2_port_bindings
    return select(literal(NEUTRON_SCOPE), b.c.port_id, b.c.host, b.c.status, b.c.vif_type)


def ip_allocations():
    a = ipallocations
    return select(literal(NEUTRON_SCOPE), a.c.port_id, a.c.ip_address, a.c.subnet_id, a.c.network_id)


def floating_ips():
    f = floatingips
    return select(
        literal(NEUTRON_SCOPE),
        f.c.id,
        f.c.floating_ip_address,
        f.c.floating_network_id,
        f.c.floating_port_id,
        f.c.fixed_port_id,
        f.c.fixed_ip_address,
        f.c.router_id,
        f.c.status,
        f.c.project_id,
        _sa.c.revision_number,
        _sa.c.updated_at,
    ).select_from(_with_attrs(f))


def neutron_routers():
    r = routers
    return select(
        literal(NEUTRON_SCOPE),
        r.c.id,
        r.c.name,
        r.c.project_id,
        r.c.gw_port_id,
        _sa.c.revision_number,
        _sa.c.created_at,
        _sa.c.updated_at,
    ).select_from(_with_attrs(r))


def router_ports():
    r = routerports
    return select(literal(NEUTRON_SCOPE), r.c.router_id, r.c.port_id, r.c.port_type)


def security_groups():
    g = securitygroups
    return select(
        literal(NEUTRON_SCOPE),
        g.c.id,
        g.c.name,
        g.c.project_id,
        _sa.c.revision_number,
        _sa.c.created_at,
        _sa.c.updated_at,
    ).select_from(_with_attrs(g))


def security_group_rules():
    r = securitygrouprules
    return select(
        literal(NEUTRON_SCOPE), r.c.id, r.c.security_group_id, _sa.c.revision_number, _sa.c.created_at
    ).select_from(_with_attrs(r))


def port_security_groups():
    b = securitygroupportbindings
    return select(literal(NEUTRON_SCOPE), b.c.port_id, b.c.security_group_id)


def quota_usages():
    u = quotausages
    return select(literal(NEUTRON_SCOPE), u.c.project_id, u.c.resource, u.c.in_use, u.c.reserved, u.c.dirty)


def quota_reservations():
    r = reservations
    return select(literal(NEUTRON_SCOPE), r.c.id, r.c.project_id, r.c.expiration)


KINDS = {
    NeutronNetwork: neutron_networks,
    NeutronSubnet: neutron_subnets,
    NeutronPort: neutron_ports,
    PortBinding: port_bindings,
    IpAllocation: ip_allocations,
    FloatingIp: floating_ips,
    NeutronRouter: neutron_routers,
    RouterPort: router_ports,
    SecurityGroup: security_groups,
    SecurityGroupRule: security_group_rules,
    PortSecurityGroup: port_security_groups,
    NeutronQuotaUsage: quota_usages,
    NeutronReservation: quota_reservations,
    NeutronCounted: neutron_counted,
}


def cells_part(keys: CellKeys, kinds) -> dict:
    """The SELECTs of the port kinds for a run of `keys.cells` (model/cell_slice.py): the
    ports of their instances, of their network caches, (when bindings are read) bound to
    their hosts, and one router gateway or floating IP port per network (the lowest id:
    which networks are external); then the bindings, addresses, floating IPs and groups
    of those ports.  Nothing when the ports themselves are not read (the kinds are then
    read whole)."""
    if NeutronPort not in kinds:
        return {}
    p, b, e = ports, ml2_port_bindings, ports.alias("external")
    first = [neutron_ports().where(p.c.device_id.in_(uuids)) for uuids in batched(keys.instances)]
    first += [neutron_ports().where(p.c.id.in_(ids)) for ids in batched(keys.ports)]
    marks = select(func.min(e.c.id)).where(e.c.device_owner.in_(sorted(EXTERNAL_OWNERS))).group_by(e.c.network_id)
    first.append(neutron_ports().where(p.c.id.in_(marks)))
    if PortBinding in kinds:
        bound = [select(b.c.port_id).where(b.c.host.in_(hosts)) for hosts in batched(keys.hosts)]
        first += [neutron_ports().where(p.c.id.in_(q)) for q in bound]

    def of_ports(query, col) -> Statements:
        return lambda got: [query().where(col.in_(ids)) for ids in batched({x.id for x in got[NeutronPort]})]

    dependent = {
        PortBinding: of_ports(port_bindings, b.c.port_id),
        IpAllocation: of_ports(ip_allocations, ipallocations.c.port_id),
        FloatingIp: of_ports(floating_ips, floatingips.c.fixed_port_id),
        PortSecurityGroup: of_ports(port_security_groups, securitygroupportbindings.c.port_id),
    }
    return {NeutronPort: first, **{k: q for k, q in dependent.items() if k in kinds}}
