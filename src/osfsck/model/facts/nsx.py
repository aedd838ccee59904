"""Facts read from a VMware NSX manager: one flat record per object osfsck judges, through
the Policy API (`/policy/api/v1/infra/...`, the vmware-nsx "nsx_p" plugin) or the Manager
API (`/api/v1/...`, the "nsx_v3" plugin).

Which Neutron object an NSX object stands for is read from the tags the plugin writes
(vmware_nsxlib `build_v3_tags_payload`: `<resource scope>: <neutron id>`, `os-project-id`,
`os-project-name`, `os-api-version`).  Objects without such a tag were not made by Neutron
and are never judged.  The plugin's own objects (default section and group, exclusion
group, profiles) carry `os-neutron-id: NSX Neutron plugin` instead, or have fixed ids.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from osfsck.model.facts.base import fact_type

NSX_SCOPE = "nsx"
POLICY, MANAGER = "policy", "manager"

# Neutron kinds an NSX object can stand for (also the ObjectRef kinds of Neutron objects)
NETWORK, PORT, ROUTER, SECURITY_GROUP = "network", "port", "router", "security-group"

# the tag scope that names the Neutron object -> its kind.  DHCP and router-interface ports
# have scopes of their own (nsx_v3/plugin.py); both name a Neutron port.  The security group
# scope is spelled `os-neutron-secgr-id` by the Manager plugin (nsx_v3/plugin.py) and
# `os-neutron-secg-id` by the Policy plugin (nsx_p/plugin.py).
NEUTRON_TAG_SCOPES = {
    "os-neutron-net-id": NETWORK,
    "os-neutron-port-id": PORT,
    "os-neutron-dport-id": PORT,
    "os-neutron-rport-id": PORT,
    "os-neutron-router-id": ROUTER,
    "os-neutron-secgr-id": SECURITY_GROUP,
    "os-neutron-secg-id": SECURITY_GROUP,
}
API_VERSION_SCOPE = "os-api-version"
PROJECT_ID_SCOPE = "os-project-id"
# build_v3_api_version_tag(): what the plugin puts on objects it keeps for itself
PLUGIN_SCOPE, PLUGIN_TAG = "os-neutron-id", "NSX Neutron plugin"

# fixed ids of the Policy plugin's own objects (nsx_p/plugin.py) and display names of the
# Manager plugin's (nsx_v3/plugin.py): never orphans, whatever their tags say
POLICY_INTERNAL_IDS = frozenset(
    {
        "os_default_group",
        "os_default_section",
        "neutron_excluded_ports_group",
        "neutron-spoofguard-profile",
        "neutron-mac-discovery-profile",
        "neutron-no-segment-security-profile",
        "neutron-slaac-profile",
        "neutron-ipv6-ra",
    }
)
MANAGER_INTERNAL_NAMES = frozenset(
    {
        "OS Default Section for Neutron Security-Groups",
        "os_default_section_ns_group",
        "neutron_excluded_port_nsgroup",
        "OS-Default-Section",
    }
)

# resource types, by API: what stands for a Neutron network, port, router, security group
SEGMENT, SEGMENT_PORT, TIER1, GROUP, SECURITY_POLICY = "Segment", "SegmentPort", "Tier1", "Group", "SecurityPolicy"
LOGICAL_SWITCH, LOGICAL_PORT, LOGICAL_ROUTER, NSGROUP, FIREWALL_SECTION = (
    "LogicalSwitch",
    "LogicalPort",
    "LogicalRouter",
    "NSGroup",
    "FirewallSection",
)
# a Neutron security group is two NSX objects: the group of its ports and the rules
GROUP_TYPES = frozenset({GROUP, NSGROUP})
RULES_TYPES = frozenset({SECURITY_POLICY, FIREWALL_SECTION})


@fact_type("nsx.object", scope_field="scope")
class NsxObject(NamedTuple):
    """One NSX object as the manager lists it."""

    scope: str  # NSX_SCOPE
    api: str  # "policy" or "manager"
    resource_type: str  # Segment, SegmentPort, Tier1, Group, SecurityPolicy, LogicalSwitch, ...
    id: str  # the NSX id (= the Neutron id for Policy objects the plugin made)
    display_name: str | None
    path: str | None  # Policy objects: "/infra/segments/<id>/ports/<id>"; Manager: None
    parent_id: str | None  # a port's segment / logical switch
    neutron_kind: str | None  # NETWORK, PORT, ROUTER, SECURITY_GROUP; None: not tagged by Neutron
    neutron_id: str | None  # the tag's value: the Neutron object it stands for
    api_version: str | None  # os-api-version: the plugin's (Neutron's) version
    project_id: str | None  # os-project-id
    internal: bool  # one of the plugin's own objects (default section, ...)
    other_deployment: bool  # [nsx] restricts to one deployment and this lacks its tag
    attached: bool  # a port with an attachment (a Manager port is deleted with detach=true)
    revision: int  # _revision, incremented by NSX on every change
    created_at: dt.datetime | None  # _create_time (epoch ms), naive UTC
    updated_at: dt.datetime | None  # _last_modified_time
