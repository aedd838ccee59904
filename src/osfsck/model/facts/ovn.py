"""Facts read from the OVN northbound database: the rows Neutron's ML2/OVN driver owns.

One flat kind for the eight tables osfsck judges (Logical_Switch, Logical_Switch_Port,
Logical_Router, Logical_Router_Port, Port_Group, ACL, NAT, DHCP_Options): every check
asks the same question of each row ("which Neutron object does it stand for, and is that
object still there, at the same revision?"), and 110,000 switch ports must stay small.

The Neutron object a row stands for comes from Neutron's naming and external_ids
(neutron/common/ovn/utils.py and ovn_client.py; research/external-systems.md §B.2):

    Logical_Switch       neutron-<network id>                  -> network
    Logical_Switch_Port  <port id>                             -> port
                         provnet-<segment id> (localnet)       -> segment
    Logical_Router       neutron-<router id>                   -> router
    Logical_Router_Port  lrp-<port id>                         -> router-port (the port id)
    Port_Group           pg_<security group id, '-' -> '_'>    -> security-group
                         neutron_pg_drop                       -> none: Neutron's own
    ACL                  neutron:security_group_rule_id        -> security-group-rule
    NAT                  neutron:fip_id                        -> floating-ip
    DHCP_Options         subnet_id (+ port_id for a port's own) -> subnet (or port)
"""

from __future__ import annotations

from typing import NamedTuple

from osfsck.model.facts.base import fact_type

OVN_NB_SCOPE = "ovn-nb"

# what a row stands for (OvnNbRow.neutron_kind)
NETWORK, PORT, ROUTER, ROUTER_PORT = "network", "port", "router", "router-port"
SECURITY_GROUP, RULE, FLOATING_IP, SUBNET, SEGMENT = (
    "security-group",
    "security-group-rule",
    "floating-ip",
    "subnet",
    "segment",
)

# tables, as the NB schema names them
LOGICAL_SWITCH, SWITCH_PORT = "Logical_Switch", "Logical_Switch_Port"
LOGICAL_ROUTER, ROUTER_PORT_TABLE = "Logical_Router", "Logical_Router_Port"
PORT_GROUP, ACL, NAT, DHCP_OPTIONS = "Port_Group", "ACL", "NAT", "DHCP_Options"
TABLES = (LOGICAL_SWITCH, SWITCH_PORT, LOGICAL_ROUTER, ROUTER_PORT_TABLE, PORT_GROUP, ACL, NAT, DHCP_OPTIONS)

# Neutron's names (neutron/common/ovn/constants.py)
NAME_PREFIX = "neutron-"
LRP_PREFIX = "lrp-"
PG_PREFIX = "pg_"
PROVNET_PREFIX = "provnet-"
DROP_PORT_GROUP = "neutron_pg_drop"
METADATA_DEVICE_PREFIX = "ovnmeta-"


@fact_type("ovn.nb_row", scope_field="scope")
class OvnNbRow(NamedTuple):
    """One NB row Neutron owns (its `neutron:*` external_ids, or its naming alone).

    `marked` is True when the row carries Neutron's external_ids: only such rows are
    provably Neutron's; a row that merely looks like one (a `neutron-<uuid>` switch made
    by hand with no external_ids) is kept for completeness but never judged an orphan.
    """

    scope: str
    table: str  # "Logical_Switch_Port", ...
    uuid: str  # the row's _uuid
    name: str  # the row's name ("" for ACL, NAT, DHCP_Options)
    neutron_kind: str | None  # what it stands for: "network", "port", ... (None: Neutron's own)
    neutron_id: str | None  # the id of that Neutron object
    revision: int | None  # neutron:revision_number (None when absent or malformed)
    marked: bool  # carries neutron:* external_ids
    parent: str  # the switch/router/port group holding it ("" for root rows)
    type: str  # LSP type ("", "router", "localnet", ...), NAT type, ...
    device_owner: str  # LSP neutron:device_owner
    device_id: str  # LSP neutron:device_id


def switch_name(network_id: str) -> str:
    return NAME_PREFIX + network_id


def router_name(router_id: str) -> str:
    return NAME_PREFIX + router_id


def router_port_name(port_id: str) -> str:
    return LRP_PREFIX + port_id


def port_group_name(security_group_id: str) -> str:
    """`ovn_port_group_name`: OVN names may not hold '-' in a match (`@pg_...`)."""
    return PG_PREFIX + security_group_id.replace("-", "_")
