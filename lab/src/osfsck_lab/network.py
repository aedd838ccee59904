"""Neutron in a lab cloud: networks, ports, floating IPs, routers and security groups, and
each live instance's network info cache in its cell.

`populate` makes them consistent with the instances already in the cloud: per project a
primary and a secondary network (one IPv4 /16 subnet each, OVN's metadata port, an
interface on the project's router, whose gateway is on the shared external network), a compute port
per live instance on its primary network (and on the secondary for about one in three)
bound to its host, a floating IP for one in ten, and the project's default security group
with Neutron's four default rules.  Shelved-offloaded instances keep their ports, unbound.
Shapes follow what Neutron (ML2 with the OVN mechanism driver) and Nova write:
`standardattributes` rows with revision numbers, a `networksegments` row per network
(geneve for tenant networks, flat on physnet1 for the external one), `ml2_port_bindings`
(one ACTIVE binding per bound port, OVN's vif_details) with their
`ml2_port_binding_levels` (level 0, driver "ovn", the network's segment), Nova's
network_info JSON (VIFs with their network's subnets, fixed IPs and floating IPs).

`inject` breaks them the ways the Neutron checks detect (NT1xx) and `near_misses` adds
the legitimate states those checks must leave alone.  DNS, OVN and NSX are derived from
the same spec by their own lab modules.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain

from osfsck_lab.cloud import Cloud

DAY = dt.timedelta(days=1)
EXTERNAL_CIDR = "198.18.0.0/15"  # benchmarking range (RFC 2544): 131k floating IPs fit
NETWORK_NODE = "net-lab"  # the gateway chassis router gateway ports are bound to
AZ = "nova"
PHYSNET = "physnet1"  # the external network's provider network
# what ML2/OVN's bind_port stores in ml2_port_bindings.vif_details for an OVS port
# (mech_driver.py: vif_details[ovs] updated with the chassis' bridge and datapath type)
OVN_VIF_DETAILS = {"port_filter": True, "connectivity": "l2", "bridge_name": "br-int", "datapath_type": "system"}


@dataclass
class Network:
    """Everything Neutron holds, as row dicts keyed as the tables' columns (keys starting
    with "_" are the lab's own)."""

    attrs: list = field(default_factory=list)  # standardattributes
    networks: list = field(default_factory=list)
    segments: list = field(default_factory=list)  # networksegments
    subnets: list = field(default_factory=list)
    ports: list = field(default_factory=list)
    bindings: list = field(default_factory=list)
    levels: list = field(default_factory=list)  # ml2_port_binding_levels
    ips: list = field(default_factory=list)
    fips: list = field(default_factory=list)
    routers: list = field(default_factory=list)
    router_ports: list = field(default_factory=list)
    groups: list = field(default_factory=list)
    rules: list = field(default_factory=list)
    port_groups: list = field(default_factory=list)  # securitygroupportbindings
    caches: dict = field(default_factory=dict)  # cell -> instance_info_caches rows
    ovn_revisions: list = field(default_factory=list)  # ovn_revision_numbers (lab/ovn_nb.py)
    external: dict | None = None  # the external network (floating IPs)
    by_project: dict = field(default_factory=dict)  # project -> {"nets": [...], "router", "sg"}
    _hosts_free: dict = field(default_factory=dict)  # subnet id -> next host index


def _stamp(c: Cloud, n: Network, resource_type: str, created: dt.datetime, revision: int) -> int:
    """A `standardattributes` row; returns its id (what every resource's standard_attr_id names)."""
    sid = len(n.attrs) + 1
    n.attrs.append(
        {
            "id": sid,
            "resource_type": resource_type,
            "created_at": created,
            "updated_at": created,
            "description": "",
            "revision_number": revision,
        }
    )
    return sid


def add_network(c: Cloud, n: Network, project: str, name: str, cidr: str, *, external: bool = False) -> dict:
    created = c.now - 400 * DAY
    net = {
        "id": c.uuid(),
        "project_id": project,
        "name": name,
        "status": "ACTIVE",
        "admin_state_up": 1,
        "mtu": 1442,
        "vlan_transparent": None,
        "availability_zone_hints": None,
        "qinq": None,
        "standard_attr_id": _stamp(c, n, "networks", created, 2),
        "_external": external,
    }
    sub = {
        "id": c.uuid(),
        "project_id": project,
        "name": f"{name}-subnet",
        "network_id": net["id"],
        "ip_version": 4,
        "cidr": cidr,
        "gateway_ip": str(ipaddress.ip_network(cidr)[1]),
        "enable_dhcp": int(not external),
        "ipv6_ra_mode": None,
        "ipv6_address_mode": None,
        "subnetpool_id": None,
        "segment_id": None,
        "standard_attr_id": _stamp(c, n, "subnets", created, 1),
    }
    # the network's one segment (ml2 type drivers: a geneve VNI from the tenant range; the
    # external network a flat provider segment)
    seg = {
        "id": c.uuid(),
        "network_id": net["id"],
        "network_type": "flat" if external else "geneve",
        "physical_network": PHYSNET if external else None,
        "segmentation_id": None if external else len(n.segments) + 1,
        "is_dynamic": 0,
        "segment_index": 0,
        "name": None,
        "standard_attr_id": _stamp(c, n, "networksegments", created, 0),
    }
    n.networks.append(net)
    n.segments.append(seg)
    n.subnets.append(sub)
    net["_subnet"] = sub
    net["_segment"] = seg
    n._hosts_free[sub["id"]] = 2  # .1 is the gateway (the router's interface)
    # ML2/OVN makes a metadata port with every network (ovn_client.create_network ->
    # create_metadata_port, with ovn_metadata_enabled as deployment tools set it), given an
    # address in each subnet with DHCP enabled; it is never bound (a localport) and stays DOWN
    add_port(
        c,
        n,
        net,
        device_id=f"ovnmeta-{net['id']}",
        device_owner="network:distributed",
        project=project,
        host=None,
        age=c.now - created,
        fixed_ip=not external,
        revision=2,
    )
    return net


def _next_ip(n: Network, net: dict) -> str:
    sub = net["_subnet"]
    i = n._hosts_free[sub["id"]]
    n._hosts_free[sub["id"]] = i + 1
    return str(ipaddress.ip_network(sub["cidr"])[i])


def add_port(
    c: Cloud,
    n: Network,
    net: dict,
    *,
    device_id: str,
    device_owner: str,
    project: str,
    host: str | None,
    age: dt.timedelta = 20 * DAY,
    ip: str | None = None,
    status: str | None = None,
    revision: int = 4,
    fixed_ip: bool = True,
) -> dict:
    """A port with its address (unless not `fixed_ip`) and (when `host`) its ACTIVE binding."""
    created = c.now - age
    mac = len(n.ports) + 1
    port = {
        "id": c.uuid(),
        "project_id": project,
        "name": "",
        "network_id": net["id"],
        "mac_address": f"fa:16:3e:{mac >> 16 & 255:02x}:{mac >> 8 & 255:02x}:{mac & 255:02x}",
        "admin_state_up": 1,
        "status": status or ("ACTIVE" if host else "DOWN"),
        "device_id": device_id,
        "device_owner": device_owner,
        "ip_allocation": "immediate",
        "standard_attr_id": _stamp(c, n, "ports", created, revision),
        "_ip": (ip or _next_ip(n, net)) if fixed_ip else None,
    }
    n.ports.append(port)
    if fixed_ip:
        n.ips.append(
            {
                "port_id": port["id"],
                "ip_address": port["_ip"],
                "subnet_id": net["_subnet"]["id"],
                "network_id": net["id"],
            }
        )
    bind(n, port, host or "", status="ACTIVE", vif_type="ovs" if host else "unbound")
    return port


def bind(n: Network, port: dict, host: str, *, status: str, vif_type: str = "ovs") -> None:
    """A `ml2_port_bindings` row and, when bound, its level: ML2 stores the driver and the
    segment that bound it per host (db.set_binding_levels), the INACTIVE binding a live
    migration makes on the destination included (plugin.create_port_binding)."""
    bound = vif_type not in ("unbound", "binding_failed")
    n.bindings.append(
        {
            "port_id": port["id"],
            "host": host,
            "vif_type": vif_type,
            "vnic_type": "normal",
            "profile": "",
            "vif_details": json.dumps(OVN_VIF_DETAILS) if bound else "",
            "status": status,
        }
    )
    if bound:
        segment = next(net["_segment"] for net in n.networks if net["id"] == port["network_id"])
        n.levels.append({"port_id": port["id"], "host": host, "level": 0, "driver": "ovn", "segment_id": segment["id"]})


def unbind(n: Network, port_id: str, host: str | None = None) -> None:
    """Drop a port's bindings (on `host`, else all) and their levels."""

    def keep(row):
        return row["port_id"] != port_id or (host is not None and row["host"] != host)

    n.bindings = [b for b in n.bindings if keep(b)]
    n.levels = [lv for lv in n.levels if keep(lv)]


def add_fip(
    c: Cloud, n: Network, project: str, port: dict | None, router: dict | None, age: dt.timedelta = 10 * DAY
) -> dict:
    """A floating IP (and its network:floatingip port on the external network)."""
    fid = c.uuid()
    fport = add_port(
        c, n, n.external, device_id=fid, device_owner="network:floatingip", project="", host=None, age=age, status="N/A"
    )
    fip = {
        "id": fid,
        "project_id": project,
        "floating_ip_address": fport["_ip"],
        "floating_network_id": n.external["id"],
        "floating_port_id": fport["id"],
        "fixed_port_id": port["id"] if port else None,
        "fixed_ip_address": port["_ip"] if port else None,
        "router_id": router["id"] if port and router else None,
        "last_known_router_id": None,
        "status": "ACTIVE" if port else "DOWN",
        "standard_attr_id": _stamp(c, n, "floatingips", c.now - age, 2),
    }
    n.fips.append(fip)
    if port is not None:
        port["_fip"] = fip["floating_ip_address"]
    return fip


def _project(c: Cloud, n: Network, project: str) -> dict:
    """A project's networks, router and default security group, made on first use."""
    p = n.by_project.get(project)
    if p is not None:
        return p
    k = len(n.by_project)
    created = c.now - 400 * DAY
    if k >= 128:
        raise ValueError("the lab gives each project two /16s of 10.0.0.0/8: at most 128 projects")
    nets = [
        add_network(c, n, project, f"{project}-{kind}", f"10.{2 * k + i}.0.0/16")
        for i, kind in enumerate(("private", "backend"))
    ]
    router = {
        "id": c.uuid(),
        "project_id": project,
        "name": f"{project}-router",
        "status": "ACTIVE",
        "admin_state_up": 1,
        "gw_port_id": None,
        "enable_snat": 1,
        "flavor_id": None,
        "standard_attr_id": _stamp(c, n, "routers", created, 3),
    }
    n.routers.append(router)
    # the gateway port is bound to the chassis OVN schedules the gateway on
    # (ovn_l3 plugin update_router_gateway_port_bindings); interfaces are never bound (OVN's
    # routers are distributed) and mech_driver.set_port_status_up marks them ACTIVE
    gw = add_port(
        c,
        n,
        n.external,
        device_id=router["id"],
        device_owner="network:router_gateway",
        project="",
        host=NETWORK_NODE,
        age=400 * DAY,
    )
    router["gw_port_id"] = gw["id"]
    n.router_ports.append({"router_id": router["id"], "port_id": gw["id"], "port_type": "network:router_gateway"})
    for net in nets:
        iface = add_port(
            c,
            n,
            net,
            device_id=router["id"],
            device_owner="network:router_interface",
            project=project,
            host=None,
            status="ACTIVE",
            age=400 * DAY,
            ip=net["_subnet"]["gateway_ip"],
        )
        n.router_ports.append(
            {"router_id": router["id"], "port_id": iface["id"], "port_type": "network:router_interface"}
        )
    sg = {
        "id": c.uuid(),
        "project_id": project,
        "name": "default",
        "stateful": 1,
        "standard_attr_id": _stamp(c, n, "securitygroups", created, 1),
    }
    n.groups.append(sg)
    for direction in ("ingress", "egress"):
        for ethertype in ("IPv4", "IPv6"):
            n.rules.append(
                {
                    "id": c.uuid(),
                    "project_id": project,
                    "security_group_id": sg["id"],
                    "remote_group_id": sg["id"] if direction == "ingress" else None,
                    "direction": direction,
                    "ethertype": ethertype,
                    "protocol": None,
                    "port_range_min": None,
                    "port_range_max": None,
                    "remote_ip_prefix": None,
                    "remote_address_group_id": None,
                    "standard_attr_id": _stamp(c, n, "securitygrouprules", created, 0),
                }
            )
    p = n.by_project[project] = {"nets": nets, "router": router, "sg": sg}
    return p


def instance_port(
    c: Cloud, n: Network, row: dict, net: dict, sg: dict, *, host: str | None = None, age: dt.timedelta | None = None
) -> dict:
    """A compute port of an instance, bound to its host (unbound when it has none), in its
    project's default security group."""
    age = age if age is not None else c.now - row["created_at"]
    port = add_port(
        c,
        n,
        net,
        device_id=row["uuid"],
        device_owner=f"compute:{AZ}",
        project=row["project_id"],
        host=host if host is not None else row["host"],
        age=age,
    )
    port["_instance"] = row
    n.port_groups.append({"port_id": port["id"], "security_group_id": sg["id"]})
    return port


def _vif(port: dict, net: dict) -> dict:
    """One VIF of Nova's network_info as nova/network/neutron.py _build_vif_model makes it
    from the port Neutron shows (29.4.0 and master alike; key order as the model's
    __init__ sets them): the binding's vif_details with ML2's bound_drivers, the network's
    meta (injected, tenant_id, mtu, physical_network, tunneled), each subnet's meta
    (enable_dhcp; dhcp_server only where a network:dhcp port has an address, which ML2/OVN
    makes none of), fixed IPs with their floating IPs.  The cache keeps what the port was
    when last refreshed: a shelved-offloaded instance's still says "ovs"."""
    sub = net["_subnet"]
    ip = {
        "address": port["_ip"],
        "type": "fixed",
        "version": 4,
        "meta": {},
        "floating_ips": [{"address": port["_fip"], "type": "floating", "version": 4, "meta": {}}]
        if port.get("_fip")
        else [],
    }
    subnet = {
        "cidr": sub["cidr"],
        "dns": [],
        "gateway": {"address": sub["gateway_ip"], "type": "gateway", "version": 4, "meta": {}},
        "ips": [ip],
        "routes": [],
        "version": 4,
        "meta": {"enable_dhcp": bool(sub["enable_dhcp"])},
    }
    network = {
        "id": net["id"],
        "bridge": OVN_VIF_DETAILS["bridge_name"],
        "label": net["name"],
        "subnets": [subnet],
        "meta": {
            "injected": False,
            "tenant_id": net["project_id"],
            "mtu": net["mtu"],
            "physical_network": net["_segment"]["physical_network"],
            "tunneled": net["_segment"]["network_type"] == "geneve",
        },
    }
    return {
        "id": port["id"],
        "address": port["mac_address"],
        "network": network,
        "type": "ovs",
        "details": {**OVN_VIF_DETAILS, "bound_drivers": {"0": "ovn"}},
        "devname": f"tap{port['id'][:11]}",
        "ovs_interfaceid": port["id"],
        "qbh_params": None,
        "qbg_params": None,
        "active": True,
        "vnic_type": "normal",
        "profile": {},
        "preserve_on_delete": False,
        "delegate_create": True,
        "meta": {},
    }


def cache(c: Cloud, n: Network, cell: str, row: dict, ports: list[dict], *, gone: tuple = ()) -> None:
    """The instance's `instance_info_caches` row in its cell (written when its network was
    allocated); `gone` adds the VIFs of ports Neutron no longer has (a fault: they were
    deleted behind Nova's back, and the network-vif-deleted event was lost).  Its
    network_info is made from the ports when written (cache_rows), not held (XL: 400,000
    of a few KB): nothing the VIFs show of a port changes once its instance is cached."""
    n.caches.setdefault(cell, []).append(
        {
            "instance_uuid": row["uuid"],
            "created_at": row["created_at"],
            "updated_at": row["created_at"] + dt.timedelta(seconds=15),
            "deleted": 0,
            "_ports": list(ports),
            "_gone": tuple(gone),
        }
    )


def network_info(n: Network, cached: dict, nets: dict | None = None) -> str:
    """A cached instance's network_info (`nets`: network id -> network)."""
    nets = nets if nets is not None else {net["id"]: net for net in n.networks}
    ports = cached["_ports"]
    vifs = [_vif(p, nets[p["network_id"]]) for p in ports]
    for pid in cached["_gone"]:
        net = nets[ports[0]["network_id"]]
        ghost = {
            "id": pid,
            "mac_address": "fa:16:3e:ff:ff:ff",
            "_ip": str(ipaddress.ip_network(net["_subnet"]["cidr"])[-3]),
        }
        vifs.append(_vif(ghost, net))
    return json.dumps(vifs)


def cache_rows(c: Cloud, cell: str) -> Iterator[dict]:
    """The cell's `instance_info_caches`: the live instances' and, soft-deleted with them by
    instance_destroy (deleted = the row's id), a deleted instance's, emptied by
    deallocate_for_instance before the destroy (nova/network/neutron.py)."""
    n = c.net
    nets = {net["id"]: net for net in n.networks} if n else {}
    live = (
        {
            "instance_uuid": r["instance_uuid"],
            "network_info": network_info(n, r, nets),
            "created_at": r["created_at"],
            "updated_at": r["updated_at"],
            "deleted": 0,
        }
        for r in (n.caches.get(cell, []) if n else [])
    )
    deleted = (
        {
            "instance_uuid": r["uuid"],
            "network_info": "[]",
            "created_at": r["created_at"],
            "updated_at": r["deleted_at"],
            "deleted_at": r["deleted_at"],
            "deleted": True,
        }
        for r in c.instance_rows(cell)
        if r["deleted"]
    )
    for i, r in enumerate(chain(live, deleted), 1):
        yield {**r, "id": i, "deleted": i if r["deleted"] else 0, "deleted_at": r.get("deleted_at")}


def populate(c: Cloud) -> None:
    n = c.net = Network()
    n.external = add_network(c, n, "admin", "public", EXTERNAL_CIDR, external=True)
    n._hosts_free[n.external["_subnet"]["id"]] = 10
    i = 0
    for cell, rows in c.instances.items():
        for row in rows:
            if row["deleted"] or not (row["host"] or row["vm_state"] == "shelved_offloaded"):
                continue
            p = _project(c, n, row["project_id"])
            ports = [instance_port(c, n, row, p["nets"][0], p["sg"])]
            if i % 3 == 0:
                ports.append(instance_port(c, n, row, p["nets"][1], p["sg"]))
            if i % 10 == 0 and row["host"]:
                add_fip(c, n, row["project_id"], ports[0], p["router"])
            cache(c, n, cell, row, ports)
            i += 1


# -- faults -----------------------------------------------------------------------------


def inject(c: Cloud, hosts: list[str]) -> None:
    """One fault of each Neutron check, on hosts[0..4]."""
    orphan_port(c, hosts[0])
    dead_host_binding(c, hosts[1])
    stale_binding(c, hosts[2])
    missing_port(c, hosts[3])
    orphan_fip(c, hosts[4])


def _gone_with_port(c: Cloud, host: str) -> tuple[dict, dict]:
    """An instance Nova deleted whose port delete was lost (Neutron unreachable then)."""
    cell = c.cell_of(host)
    row = c.add_instance(cell, host, deleted=True, deleted_age=3 * DAY, domain=False, folder=False)
    p = _project(c, c.net, row["project_id"])
    return row, instance_port(c, c.net, row, p["nets"][0], p["sg"])


def orphan_port(c: Cloud, host: str) -> None:
    row, port = _gone_with_port(c, host)
    c.fault("NT101", port["id"], f"port of {row['uuid']}, deleted 3 days ago on {host}")


def orphan_fip(c: Cloud, host: str) -> None:
    row, port = _gone_with_port(c, host)
    fip = add_fip(c, c.net, row["project_id"], port, _project(c, c.net, row["project_id"])["router"], age=15 * DAY)
    c.fault("NT101", port["id"], f"port of {row['uuid']}, deleted 3 days ago on {host}, with a floating IP")
    c.fault("NT105", fip["id"], f"floating IP {fip['floating_ip_address']} still on that orphan port")


def _live_with_ports(c: Cloud, host: str, **kw) -> tuple[str, dict, list[dict]]:
    cell = c.cell_of(host)
    row = c.add_instance(cell, host, **kw)
    p = _project(c, c.net, row["project_id"])
    return cell, row, [instance_port(c, c.net, row, p["nets"][0], p["sg"])]


def dead_host_binding(c: Cloud, host: str) -> None:
    """Evacuated by hand (the instance row moved) while the port stayed bound to the old
    host, since decommissioned: its nova-compute service row is gone."""
    cell, row, [port] = _live_with_ports(c, host)
    retired = f"retired-{host}"
    unbind(c.net, port["id"])
    bind(c.net, port, retired, status="ACTIVE")
    cache(c, c.net, cell, row, [port])
    c.fault("NT102", port["id"], f"bound to {retired}, which runs no nova-compute")


def stale_binding(c: Cloud, host: str) -> None:
    """A live migration to another host failed two days ago; the INACTIVE binding Nova made
    on the destination was never deleted."""
    cell, row, [port] = _live_with_ports(c, host)
    dest = c.other_host(host)
    bind(c.net, port, dest, status="INACTIVE")
    c.add_migration(cell, row, type_="live-migration", status="error", source=host, dest=dest, age=2 * DAY)
    cache(c, c.net, cell, row, [port])
    c.fault("NT103", f"{port['id']}/{dest}", f"INACTIVE binding on {dest} left by a failed live migration")


def missing_port(c: Cloud, host: str) -> None:
    """Nova's cache names a port Neutron deleted (an operator ran `openstack port delete`)."""
    cell, row, [port] = _live_with_ports(c, host)
    gone = c.uuid()
    cache(c, c.net, cell, row, [port], gone=(gone,))
    c.fault("NT104", f"{row['uuid']}/{gone}", f"instance {row['uuid']}'s cache names port {gone}, gone from Neutron")


def near_misses(c: Cloud) -> None:
    """Legitimate states the Neutron checks must leave alone."""
    n = c.net
    # a live migration running: each port has the INACTIVE binding the conductor made on
    # the destination (nova bind_ports_to_host -> ml2 create_port_binding, bound there, with
    # its level), and pre_live_migration set "migrating_to" in the source binding's profile
    # (nova setup_networks_on_host); activation at the end swaps the two
    for rows in c.instances.values():
        for row in rows:
            if row["task_state"] == "migrating" and not row["deleted"]:
                mig = next(m for ms in c.migrations.values() for m in ms if m["instance_uuid"] == row["uuid"])
                for port in (p for p in n.ports if p["device_id"] == row["uuid"]):
                    source = next(b for b in n.bindings if b["port_id"] == port["id"] and b["status"] == "ACTIVE")
                    source["profile"] = json.dumps({"migrating_to": mig["dest_compute"]})
                    bind(n, port, mig["dest_compute"], status="INACTIVE")
    # a build request seconds old whose port the user pre-created and Nova already claimed
    req = max(c.build_requests, key=lambda b: b["created_at"])
    p = _project(c, n, req["project_id"])
    add_port(
        c,
        n,
        p["nets"][0],
        device_id=req["instance_uuid"],
        device_owner=f"compute:{AZ}",
        project=req["project_id"],
        host=None,
        age=dt.timedelta(seconds=20),
    )
    # a spare port made for later use: no device yet
    add_port(c, n, p["nets"][0], device_id="", device_owner="", project=req["project_id"], host=None)
    # a floating IP allocated to a project, not associated
    add_fip(c, n, req["project_id"], None, None)
    c.notes += [
        "port of a live migration in progress (INACTIVE binding on the destination)",
        "port claimed for a build seconds old",
        "spare port with no device",
        "unassociated floating IP",
        "router interface, gateway and OVN metadata ports",
        "ports of a shelved-offloaded instance (unbound)",
    ]
