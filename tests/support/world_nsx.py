"""World builders for an NSX manager: the objects the vmware-nsx plugin makes for Neutron's
networks, ports, routers and security groups, and objects it does not own.

    w = World()
    net = w.network(); p = w.instance_port(w.instance(), network_id=net)
    w.nsx_mirror()                     # NSX objects for every Neutron object so far (Policy API)
    w.nsx_for("port", port_uid(9))     # an NSX port for a Neutron port that does not exist
    w.nsx_by_hand("Segment")           # made by an operator: no Neutron tag
    w.nsx_internal()                   # the plugin's default section and group
    w.nsx_down()                       # the manager could not be read

Policy objects have the Neutron id as their id; Manager objects get ids of their own
(`nsx_uid(n)`), as NSX gives them.
"""

from __future__ import annotations

from osfsck.model.facts.neutron import NeutronNetwork, NeutronPort, NeutronRouter, SecurityGroup
from osfsck.model.facts.nsx import (
    MANAGER,
    NETWORK,
    NSX_SCOPE,
    POLICY,
    PORT,
    ROUTER,
    SECURITY_GROUP,
    NsxObject,
)
from osfsck.rules.ownership import is_compute_port
from osfsck_lab.nsx_objects import INTERNAL_TAGS, mirror, plugin_tags  # noqa: F401 - the tests' vocabulary too

DAY = 86400
_NSX_BASE = 0x45C0 << 64

# resource types the plugin makes for each Neutron kind, by API
PLUGIN_TYPES = {
    POLICY: {
        NETWORK: ("Segment",),
        PORT: ("SegmentPort",),
        ROUTER: ("Tier1",),
        SECURITY_GROUP: ("Group", "SecurityPolicy"),
    },
    MANAGER: {
        NETWORK: ("LogicalSwitch",),
        PORT: ("LogicalPort",),
        ROUTER: ("LogicalRouter",),
        SECURITY_GROUP: ("NSGroup", "FirewallSection"),
    },
}
_POLICY_PATHS = {
    "Segment": "/infra/segments/{id}",
    "Tier1": "/infra/tier-1s/{id}",
    "Group": "/infra/domains/default/groups/{id}",
    "SecurityPolicy": "/infra/domains/default/security-policies/{id}",
}


def nsx_uid(n: int) -> str:
    """The id of the n-th Manager API object a World creates."""
    import uuid

    return str(uuid.UUID(int=_NSX_BASE + n))


class NsxWorld:
    """Mixed into World (tests/support/world.py), which provides `ago`, `_facts`, `_cover`,
    `_dropped` and `partial`."""

    def _nsx_init(self) -> None:
        self._nsx_count = 0
        self._nsx_ids: dict[tuple, str] = {}  # (resource type, neutron id) -> NSX id

    def nsx(self) -> None:
        """Declare the NSX manager read completely (done on first use of any builder)."""
        if (NsxObject.kind, NSX_SCOPE) not in self._coverage:
            self._cover(NsxObject, NSX_SCOPE)

    def nsx_down(self, reason: str = "NSX https://nsx1: GET /api/v1/logical-ports: 503 after 5 attempt(s)") -> None:
        """The manager could not be read: no NSX fact, the scope partial."""
        self.nsx()
        self.partial(NsxObject, NSX_SCOPE, reason)
        self._dropped.add((NsxObject.kind, NSX_SCOPE))

    def nsx_object(
        self,
        resource_type: str,
        oid: str | None = None,
        *,
        api: str = POLICY,
        neutron_kind: str | None = None,
        neutron_id: str | None = None,
        parent_id: str | None = None,
        internal: bool = False,
        other_deployment: bool = False,
        attached: bool | None = None,
        display_name: str | None = None,
        revision: int = 1,
        age=DAY,
        api_version: str = "17.0.0",
        project_id: str | None = "project-a",
    ) -> str:
        """One NSX object; returns its id (for Policy objects the Neutron id by default)."""
        self.nsx()
        if oid is None:
            if api == POLICY and neutron_id:
                oid = neutron_id
            else:
                self._nsx_count += 1
                oid = nsx_uid(self._nsx_count)
        path = None
        if api == POLICY:
            path = (
                f"/infra/segments/{parent_id}/ports/{oid}"
                if resource_type == "SegmentPort"
                else _POLICY_PATHS.get(resource_type, "/infra/{id}").format(id=oid)
            )
        if attached is None:
            attached = resource_type in ("SegmentPort", "LogicalPort")
        at = self.ago(age)
        self._facts[NsxObject.kind].append(
            NsxObject(
                NSX_SCOPE,
                api,
                resource_type,
                oid,
                display_name or f"{resource_type.lower()}-{oid[-5:]}",
                path,
                parent_id,
                neutron_kind,
                neutron_id,
                api_version,
                project_id,
                internal,
                other_deployment,
                attached,
                revision,
                at,
                at,
            )
        )
        if neutron_id:
            self._nsx_ids[(resource_type, neutron_id)] = oid
        return oid

    def nsx_for(
        self, kind: str, neutron_id: str, *, api: str = POLICY, network_id: str | None = None, **kw
    ) -> list[str]:
        """The objects the plugin makes for one Neutron object (a security group gets two);
        a port's segment is its network's (`network_id`).  Returns their ids."""
        parent = None
        if kind == PORT:
            switch = PLUGIN_TYPES[api][NETWORK][0]
            parent = self._nsx_ids.get((switch, network_id)) if network_id else None
        return [
            self.nsx_object(t, api=api, neutron_kind=kind, neutron_id=neutron_id, parent_id=parent, **kw)
            for t in PLUGIN_TYPES[api][kind]
        ]

    def nsx_mirror(self, *, api: str = POLICY, skip: tuple = (), **kw) -> None:
        """NSX objects for every Neutron network, router, security group and compute port
        so far, as the plugin makes them; but none for the networks in `skip` (external
        ones) or their ports."""
        self.nsx()
        for n in self._facts[NeutronNetwork.kind]:
            if n.id not in skip:
                self.nsx_for(NETWORK, n.id, api=api, **kw)
        for r in self._facts[NeutronRouter.kind]:
            self.nsx_for(ROUTER, r.id, api=api, **kw)
        for g in self._facts[SecurityGroup.kind]:
            self.nsx_for(SECURITY_GROUP, g.id, api=api, **kw)
        for p in self._facts[NeutronPort.kind]:
            if is_compute_port(p) and p.network_id not in skip:
                self.nsx_for(PORT, p.id, api=api, network_id=p.network_id, **kw)

    def nsx_internal(self, *, api: str = POLICY) -> list[str]:
        """The plugin's own default group and section (`os-neutron-id: NSX Neutron plugin`)."""
        if api == POLICY:
            return [
                self.nsx_object("Group", "os_default_group", internal=True, project_id=None),
                self.nsx_object("SecurityPolicy", "os_default_section", internal=True, project_id=None),
            ]
        return [
            self.nsx_object(
                "NSGroup", api=MANAGER, internal=True, display_name="os_default_section_ns_group", project_id=None
            ),
            self.nsx_object(
                "FirewallSection",
                api=MANAGER,
                internal=True,
                project_id=None,
                display_name="OS Default Section for Neutron Security-Groups",
            ),
        ]

    def nsx_by_hand(self, resource_type: str, *, api: str = POLICY, **kw) -> str:
        """An object an operator made: no Neutron tag at all."""
        self._nsx_count += 1
        return self.nsx_object(
            resource_type, kw.pop("oid", None) or f"by-hand-{self._nsx_count}", api=api, project_id=None, **kw
        )


# -- the same objects in the NSX test double (osfsck_lab.nsx_standin) -------------------------

LONG_AGO_MS = 1_767_225_600_000  # 2026-01-01: older than any grace


def fill_standin(store, snap, api: str = POLICY, *, internal: bool = True) -> dict:
    """Put in the double's `store` what the plugin makes for the Neutron objects of `snap`
    (networks, compute ports, routers, security groups; the plugin's default group and
    section too), made long ago.  Returns {neutron id: [NSX ids]}."""

    def rec(o, **extra) -> dict:
        return {"id": o.id, "name": o.name or "", "project_id": "project-a", "created_ms": LONG_AGO_MS, **extra}

    ports = [rec(p, network_id=p.network_id, device_id=p.device_id) for p in snap.of(NeutronPort) if is_compute_port(p)]
    return mirror(
        store,
        api,
        [rec(n) for n in snap.of(NeutronNetwork)],
        ports,
        [rec(r) for r in snap.of(NeutronRouter)],
        [rec(g) for g in snap.of(SecurityGroup)],
        internal=internal,
    )
