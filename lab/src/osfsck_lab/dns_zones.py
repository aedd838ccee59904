"""The DNS zones of a lab cloud, as an operator's "record per VM" integration (or
designate-sink's nova_fixed handler with its default format) leaves them.

`zones` gives, from the lab's Neutron (lab/network.py): in the forward zone ZONE an A
record `<hostname>.ZONE` for each live instance's first port, and `<hostname>-fip.ZONE`
for its floating IP; in the reverse zones (one per /16: `<b>.<a>.in-addr.arpa.`) the PTR
of each of those addresses; plus the infrastructure records every zone has (SOA, NS,
the name server's own A record), which are not OpenStack's.

`inject` breaks them the ways the DNS checks detect; `near_misses` adds records the
checks must leave alone.  Records are (name, type, data) with absolute names.
"""

from __future__ import annotations

import ipaddress

from osfsck_lab.cloud import Cloud

ZONE = "cloud.example.test."
NAMESERVER = ("ns1.example.test.", "192.0.2.53")


def reverse_zone(address: str) -> str:
    """The /16 reverse zone holding an IPv4 address: 10.3.0.7 -> "3.10.in-addr.arpa."."""
    a, b, _, _ = address.split(".")
    return f"{b}.{a}.in-addr.arpa."


def ptr_name(address: str) -> str:
    return ipaddress.ip_address(address).reverse_pointer + "."


def zones(c: Cloud) -> dict[str, list[tuple[str, str, str]]]:
    out: dict[str, list] = {ZONE: [(f"ns1.{ZONE}", "A", NAMESERVER[1])]}
    seen = set()
    for p in c.net.ports:
        row = p.get("_instance")
        if row is None or row["deleted"] or row["uuid"] in seen:
            continue
        seen.add(row["uuid"])
        add(out, f"{row['display_name']}.{ZONE}", p["_ip"])
        if p.get("_fip"):
            add(out, f"{row['display_name']}-fip.{ZONE}", p["_fip"])
    return out


def add(out: dict, name: str, address: str, *, ptr: bool = True) -> None:
    """An A record and (`ptr`) its PTR."""
    out.setdefault(ZONE, []).append((name, "A", address))
    if ptr:
        out.setdefault(reverse_zone(address), []).append((ptr_name(address), "PTR", name))


# -- faults and near misses ------------------------------------------------------------


def inject(c: Cloud, z: dict, subject) -> None:
    """One fault of each DNS check.  `subject(name, type, data)` is how the checks name a
    record."""
    n = c.net
    compute = [p for p in n.ports if p.get("_instance") and not p["_instance"]["deleted"]]
    # the ports `zones` gave records: each live instance's first (a second port has none)
    named, seen = [], set()
    for p in compute:
        if p["_instance"]["uuid"] not in seen:
            seen.add(p["_instance"]["uuid"])
            named.append(p)
    # stale: the instance was deleted with its port, the record delete was lost
    gone = next(r for cell in c.instances for r in c.instance_rows(cell) if r["deleted"])
    cidr = next(s["cidr"] for s in n.subnets if s["network_id"] == compute[0]["network_id"])
    free = str(ipaddress.ip_network(cidr)[-2])  # the lab allocates from the bottom: never used
    add(z, f"{gone['display_name']}.{ZONE}", free)
    c.fault("DN101", subject(f"{gone['display_name']}.{ZONE}", "A", free), "A record of a deleted instance")
    c.fault("DN101", subject(ptr_name(free), "PTR", f"{gone['display_name']}.{ZONE}"), "its PTR")
    # duplicate: a renamed instance's old name still points at its address; the hook marks
    # each record it writes with the instance's uuid in a TXT (external-systems.md §B.3.4)
    p = named[len(named) // 2]
    old = f"old-{p['_instance']['display_name']}.{ZONE}"
    add(z, old, p["_ip"], ptr=False)
    z[ZONE].append((old, "TXT", f'"openstack-instance={p["_instance"]["uuid"]}"'))
    c.fault("DN102", subject(old, "A", p["_ip"]), f"second name for {p['_ip']}")
    # mismatch: a PTR names a host whose A record is another address
    q = named[len(named) // 3]
    wrong = named[len(named) // 3 + 1]["_instance"]["display_name"] + "." + ZONE
    z[reverse_zone(q["_ip"])] = [
        (name, t, wrong if name == ptr_name(q["_ip"]) else data) for name, t, data in z[reverse_zone(q["_ip"])]
    ]
    c.fault("DN103", subject(ptr_name(q["_ip"]), "PTR", wrong), f"PTR of {q['_ip']} names another instance")


def near_misses(c: Cloud, z: dict) -> None:
    z[ZONE] += [(f"mail.{ZONE}", "A", "192.0.2.25"), (f"www.{ZONE}", "A", "192.0.2.80")]
    c.notes += ["infrastructure records outside OpenStack's ranges", "records of floating IPs"]
    # an operator's wildcard and alias on a floating IP: no rule of OpenStack's made them,
    # so they are not duplicates of the floating IP's own name (issue 15 #9)
    fip = next(
        (p["_fip"] for p in c.net.ports if p.get("_fip") and p.get("_instance") and not p["_instance"]["deleted"]), None
    )
    if fip is not None:
        z[ZONE] += [(f"*.apps.{ZONE}", "A", fip), (f"shop.{ZONE}", "A", fip)]
        c.notes.append("an operator's wildcard and alias on a floating IP")
