"""The OVN northbound database of a lab cloud, as Neutron's ML2/OVN driver writes it.

`rows` turns the lab's Neutron (lab/network.py) into NB rows (external-systems.md §B.2)
as ovn_client.py of the release writes them: a Logical_Switch `neutron-<network id>` per
network with one Logical_Switch_Port per port (named by the port id; router ports of
type "router", the metadata port a localport, the external network's segment a localnet
`provnet-<segment id>`), a DHCP_Options row per subnet with DHCP, a Logical_Router
`neutron-<router id>` with a Logical_Router_Port `lrp-<port id>` per router port and a
dnat_and_snat NAT per associated floating IP, a Port_Group `pg_<security group id>` per
security group with an ACL per rule, and `neutron_pg_drop` with its drop ACLs; every row
carries Neutron's `neutron:*` external_ids and revision number.  Floating IP ports have
no LSP.  `revisions` is what the driver records meanwhile in Neutron's own
`ovn_revision_numbers`: the revision each object has in NB.

`inject` breaks it the ways the OVN checks detect; `near_misses` adds rows an operator
made by hand and objects too new to be in NB.  `transaction` is the whole database as one
OVSDB `transact` request, sent by `load` to the running server: seconds even at the L
scale (a client adding rows one by one would take minutes).  Every row's _uuid is chosen
here, from the cloud's seed (OVSDB honours a uuid given on insert), so the truth can name
the OVN checks' subjects, which are row uuids, before the server holds them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from osfsck.model.releases import at_least
from osfsck_lab import schemas
from osfsck_lab.cloud import Cloud, threshold

MINUTE = dt.timedelta(minutes=1)
NEWEST = schemas.releases()[0]
# The first release whose neutron writes each NB shape (ovn_client.py), with the change;
# "bp" marks a stable backport: the first release of the series the lab's schemas were
# built from (versions.json) that has it.  Xena's last, 19.7.0, predates every one of them.
LSP_MIGRATION_CHASSIS = "yoga"  # neutron 20.3.0 bp 35fade3b5f "ovn: use requested-chassis list format for live..."
LSP_HOST_ID = "yoga"  # neutron 20.4.0 bp 28926957d6 "[OVN] Expose chassis hosting information in LSP"
LSP_MTU_KEY = "zed"  # neutron 21.2.1 bp 47b4d14955 "[OVN] Set MTU of the VETH interfaces between OVS and ..."
LSP_VNIC_TYPE = "2023.1"  # neutron 22.0.0, b6750fb2b8 "[OVN] Add vnic_type and binding profile capabilities ..."
LRP_IS_EXT_GW = "2023.1"  # neutron 22.2.0 bp a355d2a0d5 "Log warning about port forwardings that won't work ..."
LS_NETWORK_TYPE = "2023.2"  # neutron 23.4.0 bp f82c650c8c "[OVN] Add the network type to the Logical_Switch ..."
LOCALNET_LEARN_FDB = "2023.2"  # neutron 23.0.0, 7dfbdf65a7 "Add support for localnet_learn_fdb OVN option"
LRP_ROUTER_OVN_NAME = "2025.2"  # neutron 27.0.0, 2996f9ff53 "Fix LRP.external_ids router name prefix"
NAT_STATELESS_OPTION = "2025.2"  # neutron 27.0.0, 2145901d6f "[OVN] Use stateless NAT rules for FIPs"
LS_PHYSNET = "2026.1"  # neutron 28.0.0, a924eb9faa "[OVN] Add 'provider:physical_network' field if there is physnet"
DHCP_NETWORK_ID = "2026.1"  # neutron 28.0.0, 3e1b2d231e "Add neutron-id to DHCP_Options entries"
LOCALNET_PHYSNET = "2026.2"  # neutron 29.0.0, 55e1fb9739 "Add Neutron mark to localnet ports"
LOCALPORT_MTU = "2026.2"  # neutron 29.0.0, 76e1be24ee "Set MTU of metadata and OVN LB HM port tap interfaces ..."


@dataclass
class NbRow:
    table: str
    uuid: str  # the row's _uuid
    row: dict  # column -> Python value (dict: a map, list: a set)
    refs: dict = field(default_factory=dict)  # column -> [NbRow] (references in this transaction)


@dataclass
class Northbound:
    new_uuid: Callable[[], str]
    rows: list = field(default_factory=list)
    by_name: dict = field(default_factory=dict)  # (table, name) -> NbRow


def _ext(**kw) -> dict:
    """Neutron's external_ids; a key given None is one the release does not write."""
    return {f"neutron:{k}": str(v) for k, v in kw.items() if v is not None}


def _add(nb: Northbound, table: str, name: str | None, row: dict, **refs) -> NbRow:
    r = NbRow(table, nb.new_uuid(), row, {k: list(v) for k, v in refs.items()})
    nb.rows.append(r)
    if name is not None:
        nb.by_name[(table, name)] = r
    return r


def rows(c: Cloud, release: str = NEWEST) -> Northbound:
    """The NB rows ML2/OVN's ovn_client writes for the lab's Neutron, as `release` writes
    them (a few tables' external_ids and options changed between releases: see above)."""
    n = c.net
    nb = Northbound(c.uuid)
    revisions = {a["id"]: a["revision_number"] for a in n.attrs}
    rev = lambda obj: revisions[obj["standard_attr_id"]]  # noqa: E731 - one line, read twice below
    subnets = {s["network_id"]: s for s in n.subnets}
    mtu = {net["id"]: net["mtu"] for net in n.networks}
    groups_of: dict = {}
    for b in n.port_groups:
        groups_of.setdefault(b["port_id"], []).append(b["security_group_id"])
    active = {b["port_id"]: b for b in n.bindings if b["status"] == "ACTIVE" and b["host"]}
    created = {a["id"]: a["created_at"] for a in n.attrs}
    lsps: dict = {}  # network id -> [NbRow]
    for p in n.ports:
        if p["device_owner"] == "network:floatingip":
            continue  # utils.is_lsp_ignored: floating IP ports have no LSP
        if c.now - created[p["standard_attr_id"]] < MINUTE:
            # Neutron's NB write of a port made seconds ago is still in flight
            c.ripens(
                "OV102",
                p["id"],
                created[p["standard_attr_id"]] + threshold("OV102", "min_age"),
                "a port seconds old not yet in OVN",
            )
            continue
        lsps.setdefault(p["network_id"], []).append(
            _add(
                nb,
                "Logical_Switch_Port",
                p["id"],
                _lsp(
                    p,
                    subnets[p["network_id"]],
                    groups_of.get(p["id"], ()),
                    active.get(p["id"]),
                    rev(p),
                    mtu[p["network_id"]],
                    release,
                ),
            )
        )
    for net in n.networks:
        seg = net["_segment"]
        ext = {
            "neutron:network_name": net["name"],
            "neutron:mtu": str(net["mtu"]),
            "neutron:revision_number": str(rev(net)),
            "neutron:availability_zone_hints": "",
        }
        if at_least(release, LS_NETWORK_TYPE):
            ext["neutron:provnet-network-type"] = seg["network_type"]
        if at_least(release, LS_PHYSNET) and seg["physical_network"]:
            ext["neutron:provnet-physical-network"] = seg["physical_network"]
        ports = lsps.get(net["id"], [])
        if seg["physical_network"]:
            ports.append(_provnet(nb, seg, release))
        _add(
            nb,
            "Logical_Switch",
            f"neutron-{net['id']}",
            {
                "name": f"neutron-{net['id']}",
                "other_config": {"mcast_snoop": "false", "mcast_flood_unregistered": "false"},
                "external_ids": ext,
            },
            ports=ports,
        )
    meta_ip = {p["network_id"]: p["_ip"] for p in n.ports if p["device_owner"] == "network:distributed"}
    for s in n.subnets:
        if not s["enable_dhcp"]:
            continue  # ovn_client.create_subnet writes DHCP_Options only for DHCP subnets
        ext = {"subnet_id": s["id"], "neutron:revision_number": str(rev(s))}
        if at_least(release, DHCP_NETWORK_ID):
            ext["neutron:network_id"] = s["network_id"]
        _add(
            nb,
            "DHCP_Options",
            s["id"],
            {
                "cidr": s["cidr"],
                "options": {
                    "server_id": s["gateway_ip"],
                    "server_mac": _server_mac(s["id"]),
                    "lease_time": "43200",
                    "mtu": str(mtu[s["network_id"]]),
                    "router": s["gateway_ip"],
                    "classless_static_route": f"{{169.254.169.254/32,{meta_ip[s['network_id']]}, 0.0.0.0/0,{s['gateway_ip']}}}",
                },
                "external_ids": ext,
            },
        )
    _routers(c, nb, rev, release)
    _groups(c, nb, rev)
    return nb


def _lsp(p: dict, sub: dict, groups, binding: dict | None, revision: int, mtu: int, release: str) -> dict:
    """A port's Logical_Switch_Port (ovn_client._get_port_options and
    get_external_ids_from_port): router ports are type "router", OVN's metadata port a
    localport; network:* ports are trusted (no port security)."""
    owner = p["device_owner"]
    router_port = owner.startswith("network:router")
    address = " ".join(x for x in (p["mac_address"], p["_ip"]) if x)
    ext = {
        "neutron:port_name": "",
        "neutron:device_id": p["device_id"],
        "neutron:project_id": p["project_id"] or "",
        "neutron:cidrs": f"{p['_ip']}/{sub['cidr'].split('/')[1]}" if p["_ip"] else "",
        "neutron:device_owner": owner,
        "neutron:subnet_pool_addr_scope4": "",
        "neutron:subnet_pool_addr_scope6": "",
        "neutron:network_name": f"neutron-{p['network_id']}",
        "neutron:security_group_ids": " ".join(groups),
        "neutron:revision_number": str(revision),
    }
    if at_least(release, LSP_VNIC_TYPE):
        ext.update({"neutron:vnic_type": "normal", "neutron:port_capabilities": ""})
    if at_least(release, LSP_MTU_KEY):
        # the network's MTU is given to localports (empty for every other port)
        ext["neutron:mtu"] = str(mtu) if owner == "network:distributed" and at_least(release, LOCALPORT_MTU) else ""
    options: dict = {}
    if binding is not None:
        # update_lsp_host_info once the port is up; requested-chassis from the binding, both
        # hosts while a live migration runs ("migrating_to" in the profile), traffic on the
        # destination held until the guest's RARP (live_migration_activation_strategy)
        if at_least(release, LSP_HOST_ID):
            ext["neutron:host_id"] = binding["host"]
        if not router_port:
            options["requested-chassis"] = binding["host"]
            dest = json.loads(binding["profile"]).get("migrating_to") if binding["profile"] else None
            if dest and at_least(release, LSP_MIGRATION_CHASSIS):
                options.update({"requested-chassis": f"{binding['host']},{dest}", "activation-strategy": "rarp"})
    if router_port:
        return {
            "name": p["id"],
            "type": "router",
            "addresses": ["router"],
            "port_security": [],
            "options": {"router-port": f"lrp-{p['id']}"},
            "external_ids": ext,
        }
    trusted = owner.startswith("network:")
    return {
        "name": p["id"],
        "type": "localport" if owner == "network:distributed" else "",
        "addresses": [address],
        "port_security": [] if trusted else [address],
        "options": options,
        "external_ids": ext,
    }


def _provnet(nb: Northbound, seg: dict, release: str) -> NbRow:
    """The localnet port of a provider segment (ovn_client.create_provnet_port): named
    after the segment; marked with its physical network since LOCALNET_PHYSNET."""
    name = f"provnet-{seg['id']}"
    options = {"network_name": seg["physical_network"], "mcast_flood": "false", "mcast_flood_reports": "true"}
    if at_least(release, LOCALNET_LEARN_FDB):
        options["localnet_learn_fdb"] = "false"
    return _add(
        nb,
        "Logical_Switch_Port",
        name,
        {
            "name": name,
            "type": "localnet",
            "addresses": ["unknown"],
            "options": options,
            "external_ids": (
                {"neutron:provnet-physical-network": seg["physical_network"]}
                if at_least(release, LOCALNET_PHYSNET)
                else {}
            ),
        },
    )


def _server_mac(subnet_id: str) -> str:
    """A stable stand-in for the random MAC ovn_client gives a subnet's DHCP server."""
    h = int(subnet_id.replace("-", "")[:6], 16)
    return f"fa:16:3e:{h >> 16 & 255:02x}:{h >> 8 & 255:02x}:{h & 255:02x}"


def _routers(c: Cloud, nb: Northbound, rev, release: str) -> None:
    n = c.net
    ports = {p["id"]: p for p in n.ports}
    subnets = {s["network_id"]: s for s in n.subnets}
    lrps: dict = {}
    for rp in n.router_ports:
        p = ports[rp["port_id"]]
        gw = rp["port_type"] == "network:router_gateway"
        prefix = subnets[p["network_id"]]["cidr"].split("/")[1]
        lrps.setdefault(rp["router_id"], []).append(
            _add(
                nb,
                "Logical_Router_Port",
                f"lrp-{p['id']}",
                {
                    "name": f"lrp-{p['id']}",
                    "mac": p["mac_address"],
                    "networks": [f"{p['_ip']}/{prefix}"],
                    # _gen_router_port_ext_ids: router_name is the router's id, its OVN name
                    # ("neutron-<id>") since LRP_ROUTER_OVN_NAME
                    "external_ids": _ext(
                        revision_number=rev(p),
                        network_name=f"neutron-{p['network_id']}",
                        router_name=f"neutron-{rp['router_id']}"
                        if at_least(release, LRP_ROUTER_OVN_NAME)
                        else rp["router_id"],
                        is_ext_gw=str(gw) if at_least(release, LRP_IS_EXT_GW) else None,
                        subnet_ids=subnets[p["network_id"]]["id"],
                    ),
                },
            )
        )
    nats: dict = {}
    for f in n.fips:
        if not f["fixed_port_id"]:
            continue
        nat = {
            "type": "dnat_and_snat",
            "external_ip": f["floating_ip_address"],
            "logical_ip": f["fixed_ip_address"],
            "logical_port": f["fixed_port_id"],
            "external_ids": _ext(
                fip_id=f["id"],
                fip_port_id=f["fixed_port_id"],
                revision_number=rev(f),
                router_name=f"neutron-{f['router_id']}",
                fip_external_mac=ports[f["fixed_port_id"]]["mac_address"],
                fip_network_id=f["floating_network_id"],
            ),
        }
        if at_least(release, NAT_STATELESS_OPTION):
            nat["options"] = {"stateless": "false"}
        nats.setdefault(f["router_id"], []).append(_add(nb, "NAT", f["id"], nat))
    for r in n.routers:
        _add(
            nb,
            "Logical_Router",
            f"neutron-{r['id']}",
            {
                "name": f"neutron-{r['id']}",
                "external_ids": _ext(router_name=r["name"], revision_number=rev(r), availability_zone_hints=""),
            },
            ports=lrps.get(r["id"], []),
            nat=nats.get(r["id"], []),
        )


def _groups(c: Cloud, nb: Northbound, rev) -> None:
    n = c.net
    members: dict = {}
    for b in n.port_groups:
        lsp = nb.by_name.get(("Logical_Switch_Port", b["port_id"]))
        if lsp is not None:
            members.setdefault(b["security_group_id"], []).append(lsp)
    rules: dict = {}
    for r in n.rules:
        pg = f"pg_{r['security_group_id'].replace('-', '_')}"
        port = "outport" if r["direction"] == "ingress" else "inport"
        ip = "ip4" if r["ethertype"] == "IPv4" else "ip6"
        rules.setdefault(r["security_group_id"], []).append(
            _add(
                nb,
                "ACL",
                r["id"],
                {
                    "direction": "to-lport" if r["direction"] == "ingress" else "from-lport",
                    "priority": 1002,
                    "match": f"{port} == @{pg} && {ip}",
                    "action": "allow-related",
                    "log": False,
                    "name": [],
                    "severity": [],
                    "meter": [],
                    "external_ids": {"neutron:security_group_rule_id": r["id"]},
                },
            )
        )
    for g in n.groups:
        name = f"pg_{g['id'].replace('-', '_')}"
        _add(
            nb,
            "Port_Group",
            name,
            {"name": name, "external_ids": _ext(security_group_id=g["id"])},
            ports=members.get(g["id"], []),
            acls=rules.get(g["id"], []),
        )
    # Neutron's default-drop group (utils.create_default_drop_port_group): its two drop ACLs,
    # and every untrusted port with port security as a member (ovn_client.create_port)
    drops = [
        _add(
            nb,
            "ACL",
            None,
            {"action": "drop", "direction": d, "match": f"{side} == @neutron_pg_drop && ip", "priority": 1001},
        )
        for d, side in (("to-lport", "outport"), ("from-lport", "inport"))
    ]
    guarded = [r for r in nb.rows if r.table == "Logical_Switch_Port" and r.row.get("port_security")]
    _add(
        nb, "Port_Group", "neutron_pg_drop", {"name": "neutron_pg_drop", "external_ids": {}}, ports=guarded, acls=drops
    )


# -- Neutron's record of them -------------------------------------------------------------

# NB table -> ovn_revision_numbers.resource_type (neutron/common/ovn/constants.py TYPE_*)
_REVISION_TYPES = {
    "Logical_Switch": "networks",
    "Logical_Switch_Port": "ports",
    "Logical_Router": "routers",
    "Logical_Router_Port": "router_ports",
    "NAT": "floatingips",
    "Port_Group": "security_groups",
    "ACL": "security_group_rules",
}


def revisions(c: Cloud, nb: Northbound) -> list[dict]:
    """`ovn_revision_numbers` rows: one per Neutron object ML2/OVN tracks (a router port
    twice, as "ports" and "router_ports"; a subnet and an unassociated floating IP too, their
    revision bumped though NB holds nothing for them).  The revision is NB's; -1
    (INITIAL_REV_NUM, create_initial_revision in the precommit) while the NB write of a new
    object is in flight; Neutron's own where NB lost the row behind Neutron's back.  A row
    whose object Neutron deleted while the NB delete failed stays, its standard_attr_id NULL
    (ON DELETE SET NULL): the maintenance task's to-do list."""
    n = c.net
    attrs = {a["id"]: a for a in n.attrs}
    out = []

    def record(uuid: str, rtype: str, obj: dict | None, nb_row: NbRow | None, revision: int | None = None):
        attr = attrs[obj["standard_attr_id"]] if obj else None
        nb_revision = (nb_row.row.get("external_ids") or {}).get("neutron:revision_number") if nb_row else None
        if nb_revision is not None:
            revision = int(nb_revision)
        elif revision is None:  # Port_Group and ACL rows carry none: bumped to Neutron's
            revision = -1 if nb_row is None and c.now - attr["created_at"] < MINUTE else attr["revision_number"]
        when = attr["created_at"] if attr else c.now - dt.timedelta(days=3)
        out.append(
            {
                "resource_uuid": uuid,
                "resource_type": rtype,
                "revision_number": revision,
                "standard_attr_id": obj["standard_attr_id"] if obj else None,
                "created_at": when,
                "updated_at": attr["updated_at"] if attr else when,
            }
        )

    def find(table: str, name: str):
        return nb.by_name.get((table, name))

    for net in n.networks:
        record(net["id"], "networks", net, find("Logical_Switch", f"neutron-{net['id']}"))
    for s in n.subnets:
        record(s["id"], "subnets", s, None, attrs[s["standard_attr_id"]]["revision_number"])
    router_ports = {rp["port_id"] for rp in n.router_ports}
    for p in n.ports:
        if p["device_owner"] == "network:floatingip":
            continue
        record(p["id"], "ports", p, find("Logical_Switch_Port", p["id"]))
        if p["id"] in router_ports:
            record(p["id"], "router_ports", p, find("Logical_Router_Port", f"lrp-{p['id']}"))
    for r in n.routers:
        record(r["id"], "routers", r, find("Logical_Router", f"neutron-{r['id']}"))
    for f in n.fips:
        nat = find("NAT", f["id"])
        record(f["id"], "floatingips", f, nat, None if nat else attrs[f["standard_attr_id"]]["revision_number"])
    for g in n.groups:
        record(g["id"], "security_groups", g, find("Port_Group", f"pg_{g['id'].replace('-', '_')}"))
    for r in n.rules:
        record(r["id"], "security_group_rules", r, find("ACL", r["id"]))
    ports = {p["id"] for p in n.ports}
    for row in nb.rows:  # NB rows whose Neutron object is gone: their revision rows stay
        if (
            row.table == "Logical_Switch_Port"
            and row.row.get("external_ids", {}).get("neutron:device_owner") is not None
            and row.row["name"] not in ports
        ):
            record(row.row["name"], _REVISION_TYPES[row.table], None, row)
    return out


# -- faults and near misses ------------------------------------------------------------


def inject(c: Cloud, nb: Northbound, release: str = NEWEST) -> None:
    """One fault of each OVN check, named as the checks name them: an NB row by its _uuid,
    a Neutron object without its row by the object's id."""
    n = c.net
    taken = c.faulted_ids()
    ports = [
        p
        for p in n.ports
        if p["device_owner"].startswith("compute:")
        and p["id"] not in taken
        and ("Logical_Switch_Port", p["id"]) in nb.by_name
    ]
    # orphan: Neutron deleted a port while the NB write failed; its LSP stays on the switch
    net = next(x for x in n.networks if not x["_external"])
    ghost = c.uuid()
    gone_port = {
        "id": ghost,
        "network_id": net["id"],
        "mac_address": "fa:16:3e:ee:ee:01",
        "_ip": "10.1.255.250",
        "device_id": c.uuid(),
        "device_owner": "compute:nova",
        "project_id": net["project_id"],
    }
    lsp = _add(nb, "Logical_Switch_Port", ghost, _lsp(gone_port, net["_subnet"], (), None, 5, net["mtu"], release))
    nb.by_name[("Logical_Switch", f"neutron-{net['id']}")].refs["ports"].append(lsp)
    c.fault("OV101", lsp.uuid, "LSP of a port Neutron deleted")
    # missing: the LSP of a live port was lost (NB restored from an older backup)
    gone = ports[len(ports) // 2]
    row = nb.by_name.pop(("Logical_Switch_Port", gone["id"]))
    nb.rows.remove(row)
    for r in nb.rows:
        for targets in r.refs.values():
            if row in targets:
                targets.remove(row)
    c.fault("OV102", gone["id"], f"port {gone['id']} has no LSP")
    # drift: Neutron updated a port (revision 5) but the NB update was lost (still 4)
    behind = ports[len(ports) // 3]
    lsp = nb.by_name[("Logical_Switch_Port", behind["id"])]
    neutron = int(lsp.row["external_ids"]["neutron:revision_number"])
    lsp.row["external_ids"]["neutron:revision_number"] = str(neutron - 1)
    c.fault("OV103", lsp.uuid, f"LSP revision {neutron - 1}, Neutron's {neutron}")


def near_misses(c: Cloud, nb: Northbound) -> None:
    """Rows Neutron did not make, which are not ours to judge."""
    hand = _add(nb, "Logical_Switch_Port", "ops-debug-port", {"name": "ops-debug-port", "addresses": ["unknown"]})
    _add(
        nb,
        "Logical_Switch",
        "ops-test-switch",
        {"name": "ops-test-switch", "external_ids": {"owner": "ops"}},
        ports=[hand],
    )
    # (the external network's localnet port, `rows` makes as Neutron does, stands for its
    # segment, which osfsck does not read)
    c.notes += [
        "hand-made OVN switch and port without Neutron's external_ids",
        "localnet port of a provider network",
        "a port seconds old not yet written to OVN",
        "Neutron's neutron_pg_drop port group",
    ]


# -- as one OVSDB transaction -------------------------------------------------------------


def _datum(value):
    """A Python value as OVSDB JSON: dicts are maps, lists are sets, the rest atoms."""
    if isinstance(value, dict):
        return ["map", [[k, v] for k, v in sorted(value.items())]]
    if isinstance(value, list):
        return ["set", value]
    return value


def transaction(nb: Northbound) -> list:
    """["OVN_Northbound", {insert}, ...]: rows reference each other by their chosen uuids
    (not by uuid-name: ovsdb-server resolves a forward named-uuid to a uuid of its own, not
    to the one the later insert asks for)."""
    return ["OVN_Northbound", *_inserts(nb)]


def _inserts(nb: Northbound):
    for r in nb.rows:
        row = {k: _datum(v) for k, v in r.row.items()}
        for col, targets in r.refs.items():
            row[col] = ["set", [["uuid", t.uuid] for t in targets]]
        yield {"op": "insert", "table": r.table, "row": row, "uuid": r.uuid}


def load(remote: str, nb: Northbound, timeout: float = 600) -> int:
    """Send the whole database to a running ovsdb-server as one `transact` (raw JSON-RPC:
    `ovsdb-tool transact` takes it on its command line, which cannot hold the L scale),
    written a thousand inserts at a time (XL's request is gigabytes: never held whole).
    `remote` is "unix:PATH" or "tcp:IP:PORT".  Returns the number of rows inserted."""
    import json
    import socket

    kind, _, where = remote.partition(":")
    if kind == "unix":
        sock = socket.socket(socket.AF_UNIX)
        sock.settimeout(timeout)
        sock.connect(where)
    else:
        host, _, port = where.rpartition(":")
        sock = socket.create_connection((host, int(port)), timeout=timeout)
    with sock:
        sock.sendall(b'{"method": "transact", "id": 1, "params": ["OVN_Northbound"')
        inserts = _inserts(nb)
        while batch := list(itertools.islice(inserts, 1000)):
            sock.sendall("".join(", " + json.dumps(op) for op in batch).encode())
        sock.sendall(b"]}")
        # the answer (a result per insert: tens of megabytes at XL) is decoded when what
        # arrived may end an object, not at every chunk
        decoder, buf, chunks = json.JSONDecoder(), "", []
        reply = None
        while reply is None:
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError(f"{remote} closed the connection before answering")
            chunks.append(chunk)
            if not chunk.rstrip().endswith(b"}"):
                continue
            buf, chunks = (buf + b"".join(chunks).decode()).lstrip(), []
            while buf and reply is None:
                try:
                    message, end = decoder.raw_decode(buf)
                except ValueError:
                    break
                buf = buf[end:].lstrip()
                if message.get("id") == 1:
                    reply = message
    errors = [r for r in reply.get("result") or [] if isinstance(r, dict) and "error" in r]
    if reply.get("error") or errors:
        raise RuntimeError(f"ovsdb-server refused the lab's NB rows: {reply.get('error') or errors[0]}")
    return len(nb.rows)
