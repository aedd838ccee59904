"""The OVN northbound database of a lab cloud, as Neutron's ML2/OVN driver writes it.

`rows` turns the lab's Neutron (lab/network.py) into NB rows (external-systems.md §B.2):
a Logical_Switch `neutron-<network id>` per network with one Logical_Switch_Port per
port (named by the port id; router ports of type "router"), a DHCP_Options row per
subnet, a Logical_Router `neutron-<router id>` with a Logical_Router_Port `lrp-<port id>`
per router port and a dnat_and_snat NAT per associated floating IP, and a Port_Group
`pg_<security group id>` per security group with an ACL per rule; every row carries
Neutron's `neutron:*` external_ids and revision number.  Floating IP ports have no LSP.

`inject` breaks it the ways the OVN checks detect; `near_misses` adds rows an operator
made by hand and objects too new to be in NB.  `transaction` is the whole database as one
OVSDB `transact` request, sent by `load` to the running server: seconds even at the L
scale (a client adding rows one by one would take minutes).  Every row's _uuid is chosen
here, from the cloud's seed (OVSDB honours a uuid given on insert), so the truth can name
the OVN checks' subjects, which are row uuids, before the server holds them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from osfsck.lab.cloud import Cloud

MINUTE = dt.timedelta(minutes=1)


@dataclass
class NbRow:
    table: str
    uuid: str                       # the row's _uuid
    row: dict                       # column -> Python value (dict: a map, list: a set)
    refs: dict = field(default_factory=dict)    # column -> [NbRow] (references in this transaction)


@dataclass
class Northbound:
    new_uuid: Callable[[], str]
    rows: list = field(default_factory=list)
    by_name: dict = field(default_factory=dict)     # (table, name) -> NbRow


def _ext(**kw) -> dict:
    return {f"neutron:{k}": str(v) for k, v in kw.items()}


def _add(nb: Northbound, table: str, name: str | None, row: dict, **refs) -> NbRow:
    r = NbRow(table, nb.new_uuid(), row, {k: list(v) for k, v in refs.items()})
    nb.rows.append(r)
    if name is not None:
        nb.by_name[(table, name)] = r
    return r


def rows(c: Cloud) -> Northbound:
    n = c.net
    nb = Northbound(c.uuid)
    revisions = {a["id"]: a["revision_number"] for a in n.attrs}
    rev = lambda obj: revisions[obj["standard_attr_id"]]  # noqa: E731 - one line, read twice below
    subnets = {s["network_id"]: s for s in n.subnets}
    groups_of: dict = {}
    for b in n.port_groups:
        groups_of.setdefault(b["port_id"], []).append(b["security_group_id"])
    created = {a["id"]: a["created_at"] for a in n.attrs}
    lsps: dict = {}                                     # network id -> [NbRow]
    for p in n.ports:
        if p["device_owner"] == "network:floatingip":
            continue
        if c.now - created[p["standard_attr_id"]] < MINUTE:
            continue        # Neutron's NB write of a port made seconds ago is still in flight
        router_port = p["device_owner"].startswith("network:router")
        sub = subnets[p["network_id"]]
        prefix = sub["cidr"].split("/")[1]
        row = {"name": p["id"], "type": "router" if router_port else "",
               "addresses": ["router"] if router_port else [f"{p['mac_address']} {p['_ip']}"],
               "port_security": [] if router_port else [f"{p['mac_address']} {p['_ip']}"],
               "options": {"router-port": f"lrp-{p['id']}"} if router_port else {},
               "external_ids": _ext(port_name="", device_id=p["device_id"], device_owner=p["device_owner"],
                                    project_id=p["project_id"] or "", cidrs=f"{p['_ip']}/{prefix}",
                                    network_name=f"neutron-{p['network_id']}",
                                    security_group_ids=" ".join(groups_of.get(p["id"], ())),
                                    revision_number=rev(p), vnic_type="normal")}
        lsps.setdefault(p["network_id"], []).append(_add(nb, "Logical_Switch_Port", p["id"], row))
    for net in n.networks:
        _add(nb, "Logical_Switch", f"neutron-{net['id']}",
             {"name": f"neutron-{net['id']}", "other_config": {"mcast_snoop": "false"},
              "external_ids": _ext(network_name=net["name"], mtu=net["mtu"], revision_number=rev(net),
                                   availability_zone_hints="")},
             ports=lsps.get(net["id"], []))
    for s in n.subnets:
        _add(nb, "DHCP_Options", s["id"], {"cidr": s["cidr"], "options": {"router": s["gateway_ip"], "lease_time": "43200"},
             "external_ids": {"subnet_id": s["id"], "neutron:network_id": s["network_id"],
                              "neutron:revision_number": str(rev(s))}})
    _routers(c, nb, rev)
    _groups(c, nb, rev)
    _add(nb, "Port_Group", "neutron_pg_drop", {"name": "neutron_pg_drop", "external_ids": {}})
    return nb


def _routers(c: Cloud, nb: Northbound, rev) -> None:
    n = c.net
    ports = {p["id"]: p for p in n.ports}
    subnets = {s["network_id"]: s for s in n.subnets}
    lrps: dict = {}
    for rp in n.router_ports:
        p = ports[rp["port_id"]]
        gw = rp["port_type"] == "network:router_gateway"
        prefix = subnets[p["network_id"]]["cidr"].split("/")[1]
        lrps.setdefault(rp["router_id"], []).append(_add(nb, "Logical_Router_Port", f"lrp-{p['id']}", {
            "name": f"lrp-{p['id']}", "mac": p["mac_address"], "networks": [f"{p['_ip']}/{prefix}"],
            "external_ids": _ext(revision_number=rev(p), network_name=f"neutron-{p['network_id']}",
                                 router_name=f"neutron-{rp['router_id']}", is_ext_gw=str(gw),
                                 subnet_ids=subnets[p["network_id"]]["id"])}))
    nats: dict = {}
    for f in n.fips:
        if not f["fixed_port_id"]:
            continue
        nats.setdefault(f["router_id"], []).append(_add(nb, "NAT", f["id"], {
            "type": "dnat_and_snat", "external_ip": f["floating_ip_address"], "logical_ip": f["fixed_ip_address"],
            "logical_port": f["fixed_port_id"],
            "external_ids": _ext(fip_id=f["id"], fip_port_id=f["fixed_port_id"], revision_number=rev(f),
                                 router_name=f"neutron-{f['router_id']}", fip_network_id=f["floating_network_id"])}))
    for r in n.routers:
        _add(nb, "Logical_Router", f"neutron-{r['id']}",
             {"name": f"neutron-{r['id']}", "external_ids": _ext(router_name=r["name"], revision_number=rev(r),
                                                                 availability_zone_hints="")},
             ports=lrps.get(r["id"], []), nat=nats.get(r["id"], []))


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
        rules.setdefault(r["security_group_id"], []).append(_add(nb, "ACL", r["id"], {
            "direction": "to-lport" if r["direction"] == "ingress" else "from-lport", "priority": 1002,
            "match": f"{port} == @{pg} && {ip}", "action": "allow-related",
            "external_ids": {"neutron:security_group_rule_id": r["id"]}}))
    for g in n.groups:
        name = f"pg_{g['id'].replace('-', '_')}"
        _add(nb, "Port_Group", name, {"name": name, "external_ids": _ext(security_group_id=g["id"])},
             ports=members.get(g["id"], []), acls=rules.get(g["id"], []))


# -- faults and near misses ------------------------------------------------------------

def inject(c: Cloud, nb: Northbound) -> None:
    """One fault of each OVN check, named as the checks name them: an NB row by its _uuid,
    a Neutron object without its row by the object's id."""
    n = c.net
    taken = c.faulted_ids()
    ports = [p for p in n.ports if p["device_owner"].startswith("compute:") and p["id"] not in taken
             and ("Logical_Switch_Port", p["id"]) in nb.by_name]
    # orphan: Neutron deleted a port while the NB write failed; its LSP stays on the switch
    net = n.networks[1]
    ghost = c.uuid()
    lsp = _add(nb, "Logical_Switch_Port", ghost, {
        "name": ghost, "type": "", "addresses": ["fa:16:3e:ee:ee:01 10.1.255.250"],
        "external_ids": _ext(port_name="", device_id=c.uuid(), device_owner="compute:nova",
                             project_id=net["project_id"], network_name=f"neutron-{net['id']}", revision_number=5)})
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
    _add(nb, "Logical_Switch", "ops-test-switch", {"name": "ops-test-switch", "external_ids": {"owner": "ops"}},
         ports=[hand])
    ext = c.net.external
    localnet = _add(nb, "Logical_Switch_Port", f"provnet-{c.uuid()}", {
        "name": "", "type": "localnet", "addresses": ["unknown"], "options": {"network_name": "physnet1"}})
    localnet.row["name"] = next(k[1] for k, v in nb.by_name.items() if v is localnet)
    nb.by_name[("Logical_Switch", f"neutron-{ext['id']}")].refs["ports"].append(localnet)
    c.notes += ["hand-made OVN switch and port without Neutron's external_ids", "localnet port of a provider network",
                "a port seconds old not yet written to OVN", "Neutron's neutron_pg_drop port group"]


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
    ops = []
    for r in nb.rows:
        row = {k: _datum(v) for k, v in r.row.items()}
        for col, targets in r.refs.items():
            row[col] = ["set", [["uuid", t.uuid] for t in targets]]
        ops.append({"op": "insert", "table": r.table, "row": row, "uuid": r.uuid})
    return ["OVN_Northbound", *ops]


def load(remote: str, nb: Northbound, timeout: float = 600) -> int:
    """Send the whole database to a running ovsdb-server as one `transact` (raw JSON-RPC:
    `ovsdb-tool transact` takes it on its command line, which cannot hold the L scale).
    `remote` is "unix:PATH" or "tcp:IP:PORT".  Returns the number of rows inserted."""
    import json
    import socket

    txn = transaction(nb)
    kind, _, where = remote.partition(":")
    if kind == "unix":
        sock = socket.socket(socket.AF_UNIX)
        sock.settimeout(timeout)
        sock.connect(where)
    else:
        host, _, port = where.rpartition(":")
        sock = socket.create_connection((host, int(port)), timeout=timeout)
    with sock:
        sock.sendall(json.dumps({"method": "transact", "params": txn, "id": 1}).encode())
        decoder, buf = json.JSONDecoder(), ""
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError(f"{remote} closed the connection before answering")
            buf += chunk.decode()
            try:
                reply, _ = decoder.raw_decode(buf)
            except ValueError:
                continue
            if reply.get("id") == 1:
                break
    errors = [r for r in reply.get("result") or [] if isinstance(r, dict) and "error" in r]
    if reply.get("error") or errors:
        raise RuntimeError(f"ovsdb-server refused the lab's NB rows: {reply.get('error') or errors[0]}")
    return len(txn) - 1
