"""NB rows into facts: which rows are Neutron's, and which Neutron object each stands for
(the table in osfsck/model/facts/ovn.py).  Pure: rows come in as plain values."""

from __future__ import annotations

import re

from osfsck.model.facts.ovn import (
    ACL,
    DHCP_OPTIONS,
    DROP_PORT_GROUP,
    FLOATING_IP,
    LOGICAL_ROUTER,
    LOGICAL_SWITCH,
    LRP_PREFIX,
    NAME_PREFIX,
    NAT,
    NETWORK,
    OVN_NB_SCOPE,
    PG_PREFIX,
    PORT,
    PORT_GROUP,
    PROVNET_PREFIX,
    ROUTER,
    ROUTER_PORT,
    ROUTER_PORT_TABLE,
    RULE,
    SECURITY_GROUP,
    SEGMENT,
    SUBNET,
    SWITCH_PORT,
    OvnNbRow,
)

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_PG_UUID = re.compile(r"^[0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12}$")


def is_uuid(s: str) -> bool:
    return bool(_UUID.match(s))


def _after(name: str, prefix: str) -> str | None:
    """The uuid after `prefix` in `name`, or None when the name is not `prefix<uuid>`."""
    if name.startswith(prefix) and is_uuid(name[len(prefix) :]):
        return name[len(prefix) :]
    return None


def revision_of(external_ids: dict) -> int | None:
    try:
        return int(external_ids["neutron:revision_number"])
    except (KeyError, TypeError, ValueError):
        return None


def to_fact(table: str, uuid: str, name: str, external_ids: dict, type_: str = "", parent: str = "") -> OvnNbRow | None:
    """The fact for one row, or None when the row is not Neutron's (made by hand, or by
    another consumer of the NB database such as ovn-octavia-provider or ovn-bgp-agent)."""
    ext = external_ids
    marked = any(k.startswith("neutron:") for k in ext)
    kind = nid = None
    if table == LOGICAL_SWITCH:
        nid = _after(name, NAME_PREFIX)
        kind = NETWORK if nid else None
    elif table == LOGICAL_ROUTER:
        nid = _after(name, NAME_PREFIX)
        kind = ROUTER if nid else None
    elif table == SWITCH_PORT:
        if type_ == "localnet" and name.startswith(PROVNET_PREFIX):
            kind, nid = SEGMENT, name[len(PROVNET_PREFIX) :]
            marked = True  # Neutron's naming; it writes no external_ids on these
        elif is_uuid(name):
            kind, nid = PORT, name
            # a port named by uuid on a Neutron switch is Neutron's by naming alone
            if not marked and _after(parent, NAME_PREFIX) is None:
                return None
    elif table == ROUTER_PORT_TABLE:
        nid = _after(name, LRP_PREFIX)
        kind = ROUTER_PORT if nid else None
    elif table == PORT_GROUP:
        if name == DROP_PORT_GROUP:
            marked = True  # Neutron's own default-drop group: stands for no object
        else:
            nid = ext.get("neutron:security_group_id")
            if nid is None and name.startswith(PG_PREFIX) and _PG_UUID.match(name[len(PG_PREFIX) :]):
                nid = name[len(PG_PREFIX) :].replace("_", "-")
            kind = SECURITY_GROUP if nid else None
    elif table == ACL:
        nid = ext.get("neutron:security_group_rule_id")
        kind = RULE if nid else None
    elif table == NAT:
        nid = ext.get("neutron:fip_id")
        kind = FLOATING_IP if nid else None
    elif table == DHCP_OPTIONS:
        # subnet_id has no "neutron:" prefix (ovn_client.py); port_id marks a port's own options
        if ext.get("port_id"):
            kind, nid = PORT, ext["port_id"]
        elif ext.get("subnet_id"):
            kind, nid = SUBNET, ext["subnet_id"]
        marked = marked or kind is not None
    else:
        raise ValueError(f"not an NB table osfsck reads: {table}")
    if kind is None and not marked:
        return None
    return OvnNbRow(
        OVN_NB_SCOPE,
        table,
        uuid,
        name,
        kind,
        nid,
        revision_of(ext),
        marked,
        parent,
        type_,
        ext.get("neutron:device_owner", ""),
        ext.get("neutron:device_id", ""),
    )
