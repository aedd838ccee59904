"""What the vmware-nsx plugin keeps in an NSX manager for a lab cloud's Neutron, put in the
NSX stand-in's store (osfsck_lab.nsx_standin: NSX cannot run here).

`mirror` makes the plugin's objects for Neutron records, tagged as vmware_nsxlib's
build_v3_tags_payload tags them (research/external-systems.md §B.1): a segment (Policy)
or logical switch (Manager) per network, a segment port or logical port per compute or
unowned port, a tier-1 or logical router per router, and a group with a security policy
(NSGroup with a firewall section) per security group, plus the plugin's own default group
and section.  External networks get nothing (the plugins map them to NSX's tier-0 side),
nor do router, DHCP and floating IP ports.  The tests' World and the lab both use it.

`populate` mirrors the lab's Neutron (objects made when their Neutron object was, and
none for a port made seconds ago: the plugin's call is still in flight); `inject` adds one
fault of each NSX check and `near_misses` what is not the plugin's to answer for.
"""

from __future__ import annotations

import datetime as dt

from osfsck_lab.cloud import Cloud, threshold
from osfsck_lab.nsx_standin import MANAGER as M
from osfsck_lab.nsx_standin import POLICY as P
from osfsck_lab.nsx_standin import Store

API_VERSION = "17.0.0"
INTERNAL_TAGS = [
    {"scope": "os-neutron-id", "tag": "NSX Neutron plugin"},
    {"scope": "os-api-version", "tag": API_VERSION},
]
IN_FLIGHT = dt.timedelta(minutes=1)
_EPOCH = dt.datetime(1970, 1, 1)


def plugin_tags(scope: str, neutron_id: str, project_id: str = "project-a", version: str = API_VERSION) -> list:
    """The four tags build_v3_tags_payload writes (vmware_nsxlib v3/utils.py)."""
    return [
        {"scope": scope, "tag": neutron_id},
        {"scope": "os-project-id", "tag": project_id},
        {"scope": "os-project-name", "tag": "demo"},
        {"scope": "os-api-version", "tag": version},
    ]


def _port_tags(api: str, p: dict) -> list:
    """A port's tags: the Policy plugin puts an `os-security-group` tag per security group
    before the payload (nsx_p/plugin.py _build_port_tags); the Manager plugin adds to the
    payload `os-instance-uuid` for a compute port, then the groups' tags and the default
    section's (nsx_v3/plugin.py _create_port_at_the_backend, nsxlib get_lport_tags)."""
    groups = [{"scope": "os-security-group", "tag": g} for g in p.get("groups", ())]
    payload = plugin_tags("os-neutron-port-id", p["id"], p["project_id"])
    if api == "policy":
        return groups + payload
    instance = (
        [{"scope": "os-instance-uuid", "tag": p["device_id"]}]
        if p.get("device_owner", "").startswith("compute:")
        else []
    )
    return payload + instance + groups + [{"scope": "os-security-group", "tag": "OS-Default-Section"}]


def epoch_ms(t: dt.datetime) -> int:
    return int((t - _EPOCH).total_seconds() * 1000)


def mirror(store: Store, api: str, networks, ports, routers, groups, *, internal: bool = True) -> dict:
    """The plugin's objects for Neutron records (dicts with "id", "name", "project_id",
    "created_ms"; ports also "network_id", "device_id" and optionally "device_owner" and
    "groups", their security groups).  `networks` must not hold
    external ones; ports on networks not given get nothing.  Returns {neutron id: [NSX ids]}."""
    made: dict[str, list] = {}

    def add(collection, obj, rec):
        o = store.add(collection, obj, _create_time=rec["created_ms"], _last_modified_time=rec["created_ms"])
        made.setdefault(rec["id"], []).append(o["id"])
        return o

    switch = {}
    for n in networks:
        tags = plugin_tags("os-neutron-net-id", n["id"], n["project_id"])
        switch[n["id"]] = (
            add(f"{P}/segments", {"id": n["id"], "display_name": n["name"], "tags": tags}, n)["id"]
            if api == "policy"
            else add(f"{M}/logical-switches", {"display_name": n["name"], "tags": tags}, n)["id"]
        )
    for p in ports:
        if p["network_id"] not in switch:
            continue
        tags = _port_tags(api, p)
        if api == "policy":
            add(
                f"{P}/segments/{switch[p['network_id']]}/ports",
                {"id": p["id"], "attachment": {"id": p["id"]}, "tags": tags},
                p,
            )
        else:
            add(
                f"{M}/logical-ports",
                {
                    "logical_switch_id": switch[p["network_id"]],
                    "tags": tags,
                    "attachment": {"attachment_type": "VIF", "id": p["id"]},
                },
                p,
            )
    for r in routers:
        tags = plugin_tags("os-neutron-router-id", r["id"], r["project_id"])
        if api == "policy":
            add(f"{P}/tier-1s", {"id": r["id"], "display_name": r["name"], "tags": tags}, r)
        else:
            add(f"{M}/logical-routers", {"display_name": r["name"], "router_type": "TIER1", "tags": tags}, r)
    # the two plugins spell the security group's scope differently
    sg_scope = "os-neutron-secg-id" if api == "policy" else "os-neutron-secgr-id"
    for g in groups:
        tags = plugin_tags(sg_scope, g["id"], g["project_id"])
        if api == "policy":
            group = add(f"{P}/domains/default/groups", {"id": g["id"], "tags": tags}, g)
            add(
                f"{P}/domains/default/security-policies",
                {"id": g["id"], "category": "Environment", "tags": tags, "scope": [group["path"]]},
                g,
            )
        else:
            group = add(f"{M}/ns-groups", {"display_name": f"{g['name']} - {g['id']}", "tags": tags}, g)
            add(
                f"{M}/firewall/sections",
                {
                    "display_name": f"{g['name']} - {g['id']}",
                    "tags": tags,
                    "applied_tos": [{"target_id": group["id"], "target_type": "NSGroup"}],
                },
                g,
            )
    if internal:
        first = min((r["created_ms"] for r in (*networks, *groups)), default=0)
        old = {"_create_time": first, "_last_modified_time": first}
        if api == "policy":
            store.add(f"{P}/domains/default/groups", {"id": "os_default_group", "tags": INTERNAL_TAGS}, **old)
            store.add(
                f"{P}/domains/default/security-policies", {"id": "os_default_section", "tags": INTERNAL_TAGS}, **old
            )
        else:
            store.add(f"{M}/ns-groups", {"display_name": "os_default_section_ns_group", "tags": INTERNAL_TAGS}, **old)
    return made


# -- the lab ------------------------------------------------------------------------------


def populate(c: Cloud, api: str = "policy") -> Store:
    n = c.net
    created = {a["id"]: a["created_at"] for a in n.attrs}

    def rec(obj: dict, **extra) -> dict:
        return {
            "id": obj["id"],
            "name": obj.get("name") or "",
            "project_id": obj.get("project_id") or "",
            "created_ms": epoch_ms(created[obj["standard_attr_id"]]),
            **extra,
        }

    networks = [rec(net) for net in n.networks if not net["_external"]]
    groups_of: dict = {}
    for b in n.port_groups:
        groups_of.setdefault(b["port_id"], []).append(b["security_group_id"])
    plugins = [p for p in n.ports if p["device_owner"].startswith("compute:") or not p["device_owner"]]
    for p in plugins:
        if c.now - created[p["standard_attr_id"]] < IN_FLIGHT:
            c.ripens(
                "NX102",
                p["id"],
                created[p["standard_attr_id"]] + threshold("NX102", "min_age"),
                "a port seconds old not yet in NSX",
            )
    ports = [
        rec(
            p,
            network_id=p["network_id"],
            device_id=p["device_id"],
            device_owner=p["device_owner"],
            groups=groups_of.get(p["id"], []),
        )
        for p in plugins
        if c.now - created[p["standard_attr_id"]] >= IN_FLIGHT
    ]
    store = Store()
    mirror(store, api, networks, ports, [rec(r) for r in n.routers], [rec(g) for g in n.groups])
    return store


def inject(c: Cloud, store: Store) -> None:
    """One fault of each NSX check, named as the checks name them: an NSX object by its id,
    a Neutron object without its NSX object by the Neutron id (Policy API)."""
    n = c.net
    taken = c.faulted_ids()
    ports = [p for p in n.ports if p["device_owner"].startswith("compute:") and p["id"] not in taken]
    segments = {s["id"] for s in store.objects(f"{P}/segments")}
    long_ago = epoch_ms(c.ago(days=3))
    # orphan: Neutron deleted a port while the manager was unreachable; its segment port stays
    net = next(x for x in n.networks if x["id"] in segments)
    ghost = c.uuid()
    store.add(
        f"{P}/segments/{net['id']}/ports",
        {"id": ghost, "attachment": {"id": ghost}, "tags": plugin_tags("os-neutron-port-id", ghost, net["project_id"])},
        _create_time=long_ago,
        _last_modified_time=long_ago,
    )
    c.fault("NX101", ghost, "segment port of a port Neutron deleted")
    # missing: the segment port of a live port was lost (a manager restored from a backup)
    gone = next(p for p in ports[len(ports) // 4 :] if store.get(f"{P}/segments/{p['network_id']}/ports", p["id"]))
    del store.collections[f"{P}/segments/{gone['network_id']}/ports"][gone["id"]]
    c.fault("NX102", gone["id"], f"port {gone['id']} has no segment port")


def near_misses(c: Cloud, store: Store) -> None:
    """Objects the plugin did not make, or that are its own: not orphans of anything."""
    long_ago = epoch_ms(c.ago(days=30))
    old = {"_create_time": long_ago, "_last_modified_time": long_ago}
    store.add(f"{P}/segments", {"id": "ops-transit-segment", "display_name": "made by hand", "tags": []}, **old)
    store.add(f"{P}/tier-1s", {"id": "ops-t1", "tags": [{"scope": "owner", "tag": "network-team"}]}, **old)
    c.notes += [
        "NSX segment and tier-1 made by hand, without Neutron's tags",
        "the plugin's default group and security policy",
        "a port seconds old not yet in NSX",
    ]
