"""The lab's network written by the real Neutron with ML2/OVN (`lab build --neutron real`).

The lab's spec (lab/network.py: projects' networks and subnets, routers with their gateway
and interfaces, default security groups, compute ports bound to the hypervisors, floating
IPs, and the Neutron faults and near misses) is created through Neutron's own API, on the
lab's MariaDB, with ML2/OVN writing the northbound database (lab/ovn_central.py: NB, SB,
ovn-northd, a fake chassis per host).  What the API lets a caller choose is chosen as the
spec says (MAC and fixed addresses, floating IP addresses, the gateway's address); the
ids are the server's, and the spec is rewritten with them (`_remap`) before the rest of
the lab (Nova's caches, DNS, NSX, quotas, truth) is derived from it.

Then, as the imitation dates its rows, `_age` backdates each object's standardattributes
to the spec's dates (Neutron's inconsistency task ignores objects younger than 60 s,
osfsck's OVN checks those younger than 10 min).  The maintenance worker is started: its
first inconsistency run settles what Neutron itself leaves behind (a network's revision
is bumped by its subnet, a router's by its interface, without an OVN update), and the
lab refuses to go on unless ovn_revision_numbers then agrees with standardattributes.

Faults are injected by perturbing that real state afterwards (`inject`): the LSP of a
live port deleted from NB (OV102), an LSP's `neutron:revision_number` lowered (OV103),
an LSP of a port Neutron deleted put back into NB (OV101, a restore of an older NB
backup).  Neutron's own bookkeeping (ovn_revision_numbers) is left as it was, so Neutron
does not notice them: that is what osfsck is for.  Their subjects are read back from NB.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from osfsck_lab import database, network, neutron_server, ovn_central, services
from osfsck_lab.cloud import Cloud
from osfsck_lab.hypervisors import LabError
from osfsck_lab.network import NETWORK_NODE
from osfsck_lab.ovsdb import OvsdbServer

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# the tables whose rows carry a standard_attr_id, as the spec's Network keeps them
ATTR_TABLES = {
    "networks": "networks",
    "subnets": "subnets",
    "ports": "ports",
    "routers": "routers",
    "fips": "floatingips",
    "groups": "securitygroups",
    "rules": "securitygrouprules",
}


class Api:
    """Neutron's API with noauth."""

    def __init__(self, endpoint: str):
        self.base = endpoint.rstrip("/") + "/v2.0"
        self.calls = 0

    def __call__(self, method: str, path: str, body: dict | None = None) -> dict:
        self.calls += 1
        req = urllib.request.Request(
            self.base + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            # noauth: a call without a project is an admin's of "fake_project_id"
            # (NoauthFakeProjectId elevates it; Neutron gives that project a default group:
            # _adopt_groups), with the roles given here: bindings and binding:profile are the
            # service role's (Nova's) to write (a call naming its project is not elevated)
            headers={"Content-Type": "application/json", "X-Roles": "service"},
        )
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                data = r.read()
        except urllib.error.HTTPError as e:
            raise LabError(
                f"Neutron: {method} {path}: HTTP {e.code} {e.read()[:300].decode(errors='replace')}"
            ) from None
        except OSError as e:
            raise LabError(f"Neutron: {method} {path}: {e}") from None
        return json.loads(data) if data else {}


def start(
    out: Path, url: str, release: str, running: dict, hosts: list[str]
) -> tuple[Api, OvsdbServer, OvsdbServer, list]:
    """The Neutron database, OVN's central services with a chassis per host (the network
    node's a gateway), and neutron-server with ML2/OVN; each recorded in `running` as it
    starts.  Returns (the API, the NB and SB servers, the `[neutron]` API lines)."""
    database.create(url, "neutron", release)
    _default_rule_templates(url)
    entries, nb, sb = ovn_central.start(out)
    running.update(entries)
    ovn_central.add_chassis(sb, sorted({*hosts, NETWORK_NODE}), gateways=(NETWORK_NODE,))
    running["neutron-server"], lines = neutron_server.start_neutron(out, url, ovn=(nb.remote, sb.remote))
    endpoint = lines[0].split('"')[1]
    return Api(endpoint), nb, sb, lines


def _default_rule_templates(url: str) -> None:
    """The rows Neutron's migration c33da356b165 (2023.2) puts in securitygroupdefaultrules
    (the lab loads the DDL the migrations produce, not their data): without them a
    project's default security group is made with no rules at all."""
    templates = [
        ("egress", "IPv4", None, True),
        ("egress", "IPv6", None, True),
        ("ingress", "IPv4", "PARENT", False),
        ("ingress", "IPv6", "PARENT", False),
    ]
    with engine(url).begin() as conn:
        for direction, ethertype, remote, non_default in templates:
            sid = conn.execute(
                text(
                    "INSERT INTO standardattributes (resource_type, description, revision_number, created_at) "
                    "VALUES ('securitygroupdefaultrules', :d, 0, NOW())"
                ),
                {"d": f"Legacy default SG rule for {direction} traffic"},
            ).lastrowid
            conn.execute(
                text(
                    "INSERT INTO securitygroupdefaultrules (id, standard_attr_id, direction, ethertype, "
                    "remote_group_id, used_in_default_sg, used_in_non_default_sg) VALUES (UUID(), :s, :d, :e, :r, 1, :n)"
                ),
                {"s": sid, "d": direction, "e": ethertype, "r": remote, "n": non_default},
            )


def realize(c: Cloud, out: Path, url: str, release: str, running: dict) -> tuple[OvsdbServer, list]:
    """Write the spec's network through the real Neutron, settle it, and inject the OVN
    faults; returns (the NB server, the `[neutron]` API lines) and leaves neutron-server
    and its maintenance worker running (recorded in `running`)."""
    try:
        return _realize(c, out, url, release, running)
    except BaseException:
        # build's own stop finds the servers by lab.json, written at the end, or by their
        # environment, which neutron-server's does not keep: they are stopped here
        for entry in running.values():
            services.stop(entry, out)
        running.clear()
        raise


def _realize(c: Cloud, out: Path, url: str, release: str, running: dict) -> tuple[OvsdbServer, list]:
    hosts = [b["host"] for b in c.net.bindings if b["host"]] + [h for h, _ in c.hosts]
    api, nb, sb, lines = start(out, url, release, running, hosts)
    ids = create(c, api, url)
    _remap(c, ids)
    retired = sorted({b["host"] for b in c.net.bindings if b["host"].startswith("retired-")})
    for host in retired:  # decommissioned after the port was bound there (NT102)
        ovn_central.del_chassis(sb, host)
    _age(c, url)
    running["neutron-maintenance"] = neutron_server.start_maintenance(out)
    neutron_server.wait_for_inconsistencies(out)
    behind = drifted(url)
    if behind:
        raise LabError(f"Neutron's maintenance left {len(behind)} objects behind in OVN: {behind[:3]}")
    inject(c, api, nb)
    with engine(url).begin() as conn:
        conn.execute(text("DELETE FROM quotausages"))  # the lab's own rows (lab/quotas.py) go in
    return nb, lines


# -- through the API ----------------------------------------------------------------------


def create(c: Cloud, api: Api, url: str) -> dict[str, str]:
    """Every object of the spec through the API; returns {spec id: server id}."""
    n = c.net
    ids: dict[str, str] = {}
    subnet_of = {s["network_id"]: s for s in n.subnets}
    for net in n.networks:
        body: dict = {"name": net["name"], "tenant_id": net["project_id"]}
        if net["_external"]:
            body.update({"router:external": True, "provider:network_type": "flat"})
            body["provider:physical_network"] = net["_segment"]["physical_network"]
        ids[net["id"]] = api("POST", "/networks", {"network": body})["network"]["id"]
        s = subnet_of[net["id"]]
        sub = {
            "network_id": ids[net["id"]],
            "name": s["name"],
            "tenant_id": s["project_id"],
            "cidr": s["cidr"],
            "gateway_ip": s["gateway_ip"],
            "ip_version": 4,
            "enable_dhcp": bool(s["enable_dhcp"]),
        }
        ids[s["id"]] = api("POST", "/subnets", {"subnet": sub})["subnet"]["id"]
    groups = {g["id"]: g for g in n.groups}
    for g in n.groups:  # each project's default group, made by Neutron on first sight of it
        found = api("GET", f"/security-groups?project_id={g['project_id']}&name=default")["security_groups"]
        ids[g["id"]] = found[0]["id"]
        rules = api("GET", f"/security-group-rules?security_group_id={found[0]['id']}")["security_group_rules"]
        made = {(r["direction"], r["ethertype"]): r["id"] for r in rules}
        for r in n.rules:
            if r["security_group_id"] == g["id"]:
                ids[r["id"]] = made[(r["direction"], r["ethertype"])]
    ip_of = {i["port_id"]: i for i in n.ips}
    router_of = {rp["port_id"]: rp["router_id"] for rp in n.router_ports}
    gateways = {r["gw_port_id"]: r for r in n.routers}
    for r in n.routers:
        gw = next(p for p in n.ports if p["id"] == r["gw_port_id"])
        info = {
            "network_id": ids[gw["network_id"]],
            "enable_snat": bool(r["enable_snat"]),
            "external_fixed_ips": [{"subnet_id": ids[ip_of[gw["id"]]["subnet_id"]], "ip_address": gw["_ip"]}],
        }
        body = {"name": r["name"], "tenant_id": r["project_id"], "external_gateway_info": info}
        ids[r["id"]] = api("POST", "/routers", {"router": body})["router"]["id"]
    sgs_of: dict[str, list] = {}
    for pg in n.port_groups:
        sgs_of.setdefault(pg["port_id"], []).append(pg["security_group_id"])
    hosts = _binding_hosts(c)
    for p in n.ports:
        owner = p["device_owner"]
        if owner == "network:floatingip":
            continue  # made with its floating IP
        if owner == "network:distributed":  # the metadata port ML2/OVN made with the network
            ids[p["id"]] = _metadata_port(api, p, ids, ip_of)
            continue
        if p["id"] in gateways:  # made with its router
            got = api("GET", f"/ports?device_id={ids[p['device_id']]}&device_owner=network:router_gateway")
            ids[p["id"]] = got["ports"][0]["id"]
            continue
        body = {
            "network_id": ids[p["network_id"]],
            "tenant_id": p["project_id"],
            "mac_address": p["mac_address"],
            "device_owner": "" if p["id"] in router_of else owner,
            "device_id": "" if p["id"] in router_of else p["device_id"],
            "security_groups": [ids[g] for g in sgs_of.get(p["id"], []) if g in groups],
        }
        if p["id"] in ip_of:
            body["fixed_ips"] = [{"subnet_id": ids[ip_of[p["id"]]["subnet_id"]], "ip_address": p["_ip"]}]
        if hosts.get(p["id"]) and p["id"] not in router_of:
            body["binding:host_id"] = hosts[p["id"]]
        port = api("POST", "/ports", {"port": body})["port"]
        ids[p["id"]] = port["id"]
        if p["id"] in router_of:
            api("PUT", f"/routers/{ids[router_of[p['id']]]}/add_router_interface", {"port_id": port["id"]})
    _extra_bindings(c, api, ids)
    _adopt_groups(c, api, ids)
    for f in n.fips:
        body = {
            "floating_network_id": ids[f["floating_network_id"]],
            "floating_ip_address": f["floating_ip_address"],
            "tenant_id": f["project_id"],
        }
        if f["fixed_port_id"]:
            body["port_id"] = ids[f["fixed_port_id"]]
        fip = api("POST", "/floatingips", {"floatingip": body})["floatingip"]
        ids[f["id"]] = fip["id"]
        ids[f["floating_port_id"]] = fip["port_id"] or _fip_port(api, fip["id"])
    return ids


def _adopt_groups(c: Cloud, api: Api, ids: dict) -> None:
    """Default security groups Neutron made that the spec has none of (the projects of the
    API's calls and of the external network's metadata port): into the spec with their
    rules, so that NSX and the quotas are derived with them."""
    n = c.net
    old = c.now - 400 * network.DAY
    for g in api("GET", "/security-groups")["security_groups"]:
        if g["id"] in ids.values():
            continue
        n.groups.append(
            {
                "id": g["id"],
                "project_id": g["project_id"],
                "name": g["name"],
                "stateful": int(g["stateful"]),
                "standard_attr_id": network._stamp(c, n, "securitygroups", old, g["revision_number"]),
            }
        )
        for r in g["security_group_rules"]:
            n.rules.append(
                {
                    **{k: r[k] for k in ("id", "project_id", "security_group_id", "remote_group_id", "direction")},
                    **{k: r[k] for k in ("ethertype", "protocol", "port_range_min", "port_range_max")},
                    "remote_ip_prefix": r["remote_ip_prefix"],
                    "remote_address_group_id": r.get("remote_address_group_id"),
                    "standard_attr_id": network._stamp(c, n, "securitygrouprules", old, r["revision_number"]),
                }
            )
        ids.update({g["id"]: g["id"]} | {r["id"]: r["id"] for r in g["security_group_rules"]})


def _fip_port(api: Api, fip_id: str) -> str:
    return api("GET", f"/ports?device_id={fip_id}&device_owner=network:floatingip")["ports"][0]["id"]


def _metadata_port(api: Api, p: dict, ids: dict, ip_of: dict) -> str:
    """The network's metadata port as ML2/OVN made it; its address made the spec's, and
    the spec given its MAC (Neutron picked it)."""
    found = api("GET", f"/ports?device_id=ovnmeta-{ids[p['network_id']]}&device_owner=network:distributed")
    port = found["ports"][0]
    p["mac_address"] = port["mac_address"]
    want = ip_of.get(p["id"])
    have = [ip["ip_address"] for ip in port["fixed_ips"]]
    if want is not None and have != [p["_ip"]]:
        fixed = [{"subnet_id": ids[want["subnet_id"]], "ip_address": p["_ip"]}]
        api("PUT", f"/ports/{port['id']}", {"port": {"fixed_ips": fixed}})
    return port["id"]


def _binding_hosts(c: Cloud) -> dict[str, str]:
    """Each port's ACTIVE binding's host (the one given at create)."""
    return {b["port_id"]: b["host"] for b in c.net.bindings if b["status"] == "ACTIVE" and b["host"]}


def _extra_bindings(c: Cloud, api: Api, ids: dict) -> None:
    """INACTIVE bindings as Nova makes them for a live migration (binding-extended:
    POST /ports/{id}/bindings), and the source binding's `migrating_to` (binding:profile)."""
    for b in c.net.bindings:
        if b["status"] == "INACTIVE":
            api("POST", f"/ports/{ids[b['port_id']]}/bindings", {"binding": {"host": b["host"]}})
        elif b["profile"]:
            api("PUT", f"/ports/{ids[b['port_id']]}", {"port": {"binding:profile": json.loads(b["profile"])}})


def _remap(c: Cloud, ids: dict[str, str]) -> None:
    """Every spec id in the lab's Neutron, Nova caches, truth and notes becomes the
    server's (in place: the spec's rows share dicts)."""

    def sub(s: str) -> str:
        return UUID.sub(lambda m: ids.get(m.group(0), m.group(0)), s)

    seen: set[int] = set()

    def walk(obj) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, dict):
            for k in list(obj):
                v = obj.pop(k)
                obj[sub(k) if isinstance(k, str) else k] = sub(v) if isinstance(v, str) else v
                walk(v)
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                if isinstance(v, str):
                    obj[i] = sub(v)
                else:
                    walk(v)

    n = c.net
    walk([getattr(n, f) for f in n.__dataclass_fields__] + [c.truth, c.notes])


# -- settling ------------------------------------------------------------------------------


def engine(url: str):
    return create_engine(url, poolclass=NullPool)


def _age(c: Cloud, url: str) -> None:
    """Each object's standardattributes dated as the spec dates it (Neutron dated them now),
    moved by the minutes the API calls took: a port the spec makes seconds old is seconds
    old when the build ends, as the checks' near misses need it."""
    n = c.net
    late = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) - c.now
    spec_attrs = {a["id"]: a for a in n.attrs}
    dates = []
    with engine(url).begin() as conn:
        for field, table in ATTR_TABLES.items():
            server = dict(conn.execute(text(f"SELECT id, standard_attr_id FROM {table}")).all())
            for row in getattr(n, field):
                if row["id"] in server:
                    a = spec_attrs[row["standard_attr_id"]]
                    dates.append({"sid": server[row["id"]], "c": a["created_at"] + late, "u": a["updated_at"] + late})
        conn.execute(text("UPDATE standardattributes SET created_at = :c, updated_at = :u WHERE id = :sid"), dates)


def drifted(url: str) -> list[tuple]:
    """(type, uuid, OVN's revision, Neutron's) of every object Neutron's bookkeeping says
    is behind in OVN."""
    with engine(url).connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT o.resource_type, o.resource_uuid, o.revision_number, s.revision_number "
                    "FROM ovn_revision_numbers o JOIN standardattributes s ON s.id = o.standard_attr_id "
                    "WHERE o.revision_number != s.revision_number ORDER BY 1, 2"
                )
            )
        ]


# -- faults --------------------------------------------------------------------------------


def _lsp(nb, name: str) -> dict:
    return next(r for r in ovn_central.rows(nb, "Logical_Switch_Port") if r["name"] == name)


def _datum(v) -> str:
    """A value in ovn-nbctl's syntax."""
    if isinstance(v, dict):
        return "{" + ",".join(f"{json.dumps(k)}={json.dumps(x)}" for k, x in sorted(v.items())) + "}"
    if isinstance(v, list):
        return "[" + ",".join(json.dumps(x) for x in v) + "]"
    return json.dumps(v)


def inject(c: Cloud, api: Api, nb) -> None:
    """One fault of each OVN check, by perturbing what Neutron wrote (ovn_nb.inject's
    faults, as the checks name them: an NB row by its _uuid, a Neutron object without its
    row by the object's id)."""
    n = c.net
    taken = c.faulted_ids()
    ports = [p for p in n.ports if p["device_owner"].startswith("compute:") and p["id"] not in taken]
    ports = [
        p for p in ports if any(b["port_id"] == p["id"] and b["status"] == "ACTIVE" and b["host"] for b in n.bindings)
    ]
    # orphan: Neutron deleted a port since the NB backup that was restored was taken
    net = next(x for x in n.networks if not x["_external"])
    made = api(
        "POST",
        "/ports",
        {
            "port": {
                "network_id": net["id"],
                "tenant_id": net["project_id"],
                "device_owner": "compute:nova",
                "device_id": c.uuid(),
            }
        },
    )["port"]
    row = _lsp(nb, made["id"])
    api("DELETE", f"/ports/{made['id']}")
    columns = {k: row[k] for k in ("addresses", "port_security", "external_ids", "options") if row[k]}
    args = ["--", "--id=@p", "create", "Logical_Switch_Port", f"name={made['id']}"]
    args += [f"{k}={_datum(v)}" for k, v in columns.items()]
    args += ["--", "add", "Logical_Switch", f"neutron-{net['id']}", "ports", "@p"]
    ovn_central.nbctl(nb, *args)
    c.fault("OV101", _lsp(nb, made["id"])["_uuid"], "LSP of a port Neutron deleted")
    # missing: the LSP of a live port was lost (NB restored from an older backup)
    gone = ports[len(ports) // 2]
    ovn_central.nbctl(nb, "lsp-del", gone["id"])
    c.fault("OV102", gone["id"], f"port {gone['id']} has no LSP")
    # drift: Neutron updated a port but the NB update was lost
    behind = _lsp(nb, ports[len(ports) // 3]["id"])
    neutron = int(behind["external_ids"]["neutron:revision_number"])
    ovn_central.nbctl(
        nb, "set", "Logical_Switch_Port", behind["_uuid"], f'external_ids:"neutron:revision_number"="{neutron - 1}"'
    )
    c.fault("OV103", behind["_uuid"], f"LSP revision {neutron - 1}, Neutron's {neutron}")
    # near miss: an operator's own switch and port, without Neutron's external_ids
    ovn_central.nbctl(
        nb,
        "ls-add",
        "ops-test-switch",
        "--",
        "set",
        "Logical_Switch",
        "ops-test-switch",
        "external_ids:owner=ops",
        "--",
        "lsp-add",
        "ops-test-switch",
        "ops-debug-port",
        "--",
        "lsp-set-addresses",
        "ops-debug-port",
        "unknown",
    )
    c.notes += [
        "hand-made OVN switch and port without Neutron's external_ids",
        "localnet port of a provider network",
        "Neutron's neutron_pg_drop port group",
    ]
