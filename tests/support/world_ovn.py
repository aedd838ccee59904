"""World builders for the OVN northbound database: the rows Neutron's ML2/OVN driver makes
for Neutron's objects, and rows it does not own.

    w = World()
    net = w.network(); p = w.instance_port(w.instance(), network_id=net)
    w.ovn()                                     # NB rows for every Neutron object so far
    w.ovn_row("Logical_Switch_Port", "port", port_uid(9), parent=switch_name(net))   # for a port Neutron lacks
    w.ovn_row("Logical_Switch", name="neutron-...", marked=False)    # made by hand, no external_ids
    w.ovn_down()                                # the NB dump did not arrive

`w.ovn()` mirrors what exists when it is called: objects made after it have no row
(a missing row); `skip` leaves rows out and `revisions` sets a row's neutron:revision_number.
NB rows get uuids of their own (`ovn_row_uid(n)`), in creation order.
"""

from __future__ import annotations

from osfsck.model.facts.neutron import (
    FLOATINGIP_OWNER,
    ROUTER_GATEWAY_OWNER,
    ROUTER_INTERFACE_OWNERS,
    FloatingIp,
    NeutronNetwork,
    NeutronPort,
    NeutronRouter,
    NeutronSubnet,
    RouterPort,
    SecurityGroup,
    SecurityGroupRule,
)
from osfsck.model.facts.ovn import (
    ACL,
    DHCP_OPTIONS,
    DROP_PORT_GROUP,
    FLOATING_IP,
    LOGICAL_ROUTER,
    LOGICAL_SWITCH,
    NAT,
    NETWORK,
    OVN_NB_SCOPE,
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
    port_group_name,
    router_name,
    router_port_name,
    switch_name,
)

_ROW_BASE = 0x0B1 << 72


def ovn_row_uid(n: int) -> str:
    """The _uuid of the n-th NB row a World creates."""
    import uuid

    return str(uuid.UUID(int=_ROW_BASE + n))


# the name Neutron gives each kind's row (ACL, NAT and DHCP_Options have none)
_NAME = {
    NETWORK: switch_name,
    PORT: lambda i: i,
    ROUTER: router_name,
    ROUTER_PORT: router_port_name,
    SECURITY_GROUP: port_group_name,
    SEGMENT: lambda i: PROVNET_PREFIX + i,
}


class OvnWorld:
    """Mixed into World (tests/support/world.py), which provides `_facts`, `_cover` and `partial`."""

    def _ovn_init(self) -> None:
        self._ovn_count = 0

    def ovn_nb(self) -> None:
        """Declare the NB dump complete (done on first use of any builder)."""
        if (OvnNbRow.kind, OVN_NB_SCOPE) not in self._coverage:
            self._cover(OvnNbRow, OVN_NB_SCOPE)

    def ovn_down(
        self,
        reason: str = "OVN NB tcp:192.0.2.10:6641: the initial dump did not arrive in time "
        "(connected); nothing was compared",
    ) -> None:
        """The NB dump did not arrive: the scope is partial and holds no row."""
        self.ovn_nb()
        self.partial(OvnNbRow, OVN_NB_SCOPE, reason)
        self._facts[OvnNbRow.kind].clear()

    def ovn_row(
        self,
        table: str,
        neutron_kind: str | None = None,
        neutron_id: str | None = None,
        *,
        name: str | None = None,
        revision: int | None = 1,
        marked: bool = True,
        parent: str = "",
        type: str = "",
        device_owner: str = "",
        device_id: str = "",
    ) -> str:
        """One NB row; its name defaults to Neutron's for the kind.  Returns its _uuid."""
        self.ovn_nb()
        self._ovn_count += 1
        uuid = ovn_row_uid(self._ovn_count)
        if name is None:
            name = _NAME[neutron_kind](neutron_id) if neutron_kind in _NAME and table != DHCP_OPTIONS else ""
        self._facts[OvnNbRow.kind].append(
            OvnNbRow(
                OVN_NB_SCOPE,
                table,
                uuid,
                name,
                neutron_kind,
                neutron_id,
                revision if marked else None,
                marked,
                parent,
                type,
                device_owner,
                device_id,
            )
        )
        return uuid

    def ovn(self, *, skip: tuple = (), revisions: dict | None = None, drop_group: bool = True) -> None:
        """NB rows for every Neutron object so far, as ML2/OVN writes them, at Neutron's
        revision (or `revisions[id]`); no row for what `skip` names: an id (every row
        standing for it) or a (table, id) pair (a router port's LSP but not its LRP)."""
        self.ovn_nb()
        rev = dict(revisions or {})
        f = self._facts

        def add(table, kind, oid, revision, **kw):
            if oid not in skip and (table, oid) not in skip:
                self.ovn_row(table, kind, oid, revision=rev.get(oid, revision), **kw)

        for n in f[NeutronNetwork.kind]:
            add(LOGICAL_SWITCH, NETWORK, n.id, n.revision_number)
        for s in f[NeutronSubnet.kind]:
            add(DHCP_OPTIONS, SUBNET, s.id, s.revision_number)
        for r in f[NeutronRouter.kind]:
            add(LOGICAL_ROUTER, ROUTER, r.id, r.revision_number)
        ports = {p.id: p for p in f[NeutronPort.kind]}
        for p in ports.values():
            if p.device_owner == FLOATINGIP_OWNER:
                continue  # Neutron never creates these in OVN
            router = p.device_owner in ROUTER_INTERFACE_OWNERS or p.device_owner == ROUTER_GATEWAY_OWNER
            add(
                SWITCH_PORT,
                PORT,
                p.id,
                p.revision_number,
                parent=switch_name(p.network_id),
                type="router" if router else "",
                device_owner=p.device_owner,
                device_id=p.device_id,
            )
        for rp in f[RouterPort.kind]:
            add(
                ROUTER_PORT_TABLE,
                ROUTER_PORT,
                rp.port_id,
                ports[rp.port_id].revision_number,
                parent=router_name(rp.router_id),
            )
        for g in f[SecurityGroup.kind]:
            add(PORT_GROUP, SECURITY_GROUP, g.id, None)
        for r in f[SecurityGroupRule.kind]:
            add(ACL, RULE, r.id, None, parent=port_group_name(r.security_group_id))
        for fip in f[FloatingIp.kind]:
            if fip.fixed_port_id:
                add(
                    NAT,
                    FLOATING_IP,
                    fip.id,
                    fip.revision_number,
                    type="dnat_and_snat",
                    parent=router_name(fip.router_id) if fip.router_id else "",
                )
        if drop_group:
            self.ovn_row(PORT_GROUP, None, None, name=DROP_PORT_GROUP, revision=None)
