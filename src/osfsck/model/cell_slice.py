"""What a run scoped to cells (`--cell`) reads of the databases every cell shares: the
part of each that concerns its cells, as a cell's own facts name it.

The cells' own databases come first (their instances, hosts, compute nodes, migrations,
volume and network mappings, and the instances the API database maps to the cells -- a
wrong-cell mapping places what its instance holds there too: `CellKeys`); then of Nova's
API database, Neutron's, Cinder's and Placement's, only the rows those keys reach
(`slice_facts` says which, row by row: the sources' SELECTs read the same rows,
tests/integration/test_one_cell_run.py compares them).
The coverage of what was read says so (`Coverage.part`: "cells:<names>"): every row of the
part was read, nothing outside it.

A part is read only where no check can need a row outside it to decide something inside
the cells, and what a check could conclude from a row it misses only concerns objects
the run cannot place inside (checks/scoping.py: an object whose cell no row read says
may be anywhere, so it is undecided, never a finding):

- an instance mapping settles a uuid's status only when its cell, read whole, holds the
  instance (instance_index.status): every mapping to the cells, every mapping of their
  instances (the second pass: an instance of the cell mapped elsewhere is a wrong-cell
  mapping, not an unmapped one), and every mapping to no cell (a build) are read;
- Neutron's ports are read for the cells' instances (device_id), the ports their network
  caches name, the ports bound to their hosts, and one router gateway or floating IP port
  per network that has any (in no cell: they say which networks are external, all that
  NSX's checks ask of them; the lowest id, `MIN(id) ... GROUP BY network_id`), with all
  their bindings, addresses, floating IPs and groups.  A floating IP's own port is on its
  floating network (Neutron creates it there, and the foreign key deletes the floating IP
  with it), so no external network lacks one.  What looks ports up by id beside them is
  itself narrowed to the same part (below), or not read (DNS);
- OVN's northbound database (after Neutron's part): the switch ports named by the part's
  ports or by the ports the cells' caches name (an LSP of one of those whose port is
  gone is an orphan: Neutron was asked for it by id), and those whose
  `neutron:device_id` is one of the cells' instances (a deleted instance's leaked LSP;
  its port, not in the part, may be gone or another cell's: OV101 and OV103 say they
  cannot tell); the switches of the part's ports' networks and of those switch ports;
  the NAT rows of the part's floating IPs and the routers holding them.  Nothing else of
  it lies in a cell (switches, routers, port groups and ACLs are network-wide; a port's
  own DHCP_Options is never a finding inside: its port is there, or gone and placed
  nowhere).  The switch port table is transferred whole to find them (ovsdb-server
  selects by `==` on a column through a hash, but by `includes` on external_ids by a
  scan per value: slower than the whole table) and cut to those;
- NSX (after Neutron's part): the segment (logical) ports standing for the part's ports,
  listed per segment (logical switch) of their networks -- the manager lists nothing by
  tag but its search API;
- RabbitMQ: the queues of the cells' hosts (`compute.<host>`, `compute-alt.<host>`), by
  the management API's name filter; a reply or fanout queue is placed in no cell;
- DNS zones are not read (`NOT_READ`): a zone transfer is of the whole zone, and one
  forward zone names every cell's instances; the DN checks say they could not decide;
- Cinder's volumes and attachments (after the cells' hosts, `HOST_KEY_KINDS`): the
  volumes the cells' block device mappings name, or attached to their instances, or
  named by their mappings' attachments; and what the volume checks look up for the
  hosts' own facts, which may name anyone's volumes: the volumes their domain disks name
  (`<serial>`), those with an attachment whose connector is a host whose sessions were
  read (a short name and its FQDN are one host: which targets it may hold), and for each
  session's target no mapping of its host's cell names, the volumes whose id the IQN
  holds and those with an attachment naming it (its connection_info, searched as text:
  whether the target is OpenStack's at all).  Then every attachment of those volumes;
- Placement's providers of the cells' compute nodes (and the providers nested under
  them), the allocations on them and of the cells' instances and migrations, the
  providers those allocations are on, their inventories, and those consumers;
- quota rows of the shared databases (Cinder's, Neutron's, Nova's API usage rows) lie in
  no cell: a `--cell` run reads none (`Coverage.part` "none").

Everything else of the shared databases is read whole (cell list, build requests, Cinder's
services and volume types, Neutron's networks, subnets, routers and security groups).
The checks of what is read as a part judge what the part asked for (checks/ovn,
checks/nsx: the Neutron objects whose rows and objects were selected).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from osfsck.model.facts.base import FactType, kind_of
from osfsck.model.facts.cinder import CINDER_SCOPE, CinderAttachment, CinderVolume
from osfsck.model.facts.dns import DnsRecord, DnsZone
from osfsck.model.facts.hypervisor import DomainVolume, IscsiSession
from osfsck.model.facts.neutron import (
    FLOATINGIP_OWNER,
    NEUTRON_SCOPE,
    ROUTER_GATEWAY_OWNER,
    FloatingIp,
    IpAllocation,
    NeutronPort,
    PortBinding,
    PortSecurityGroup,
)
from osfsck.model.facts.nova import (
    API_SCOPE,
    ArchivedInstance,
    BlockDeviceMapping,
    Cell,
    ComputeNode,
    ComputeService,
    Instance,
    InstanceMapping,
    InstanceNetwork,
    Migration,
    cell_scope,
)
from osfsck.model.facts.nsx import NSX_SCOPE, NsxObject
from osfsck.model.facts.nsx import PORT as NSX_PORT
from osfsck.model.facts.ovn import (
    LOGICAL_ROUTER,
    LOGICAL_SWITCH,
    NAME_PREFIX,
    NAT,
    OVN_NB_SCOPE,
    SWITCH_PORT,
    OvnNbRow,
)
from osfsck.model.facts.placement import PLACEMENT_SCOPE, Allocation, Consumer, Inventory, ResourceProvider
from osfsck.model.facts.quota import (
    CinderCounted,
    CinderQuotaUsage,
    CinderReservation,
    NeutronCounted,
    NeutronQuotaUsage,
    NeutronReservation,
    NovaQuotaUsage,
)
from osfsck.model.facts.rpc import RABBITMQ_PREFIX, InstanceAction, RabbitQueue

NONE = "none"  # Coverage.part of a kind no row of which lies inside a cell: not read
# the kinds of the shared databases no row of which lies in a cell (checks/scoping.py
# places a quota row in its project and in the cell whose database holds it; these are
# in none), by the scope a --cell run leaves unread
NEVER_INSIDE: dict[FactType, str] = {
    CinderQuotaUsage: CINDER_SCOPE,
    CinderReservation: CINDER_SCOPE,
    CinderCounted: CINDER_SCOPE,
    NeutronQuotaUsage: NEUTRON_SCOPE,
    NeutronReservation: NEUTRON_SCOPE,
    NeutronCounted: NEUTRON_SCOPE,
    NovaQuotaUsage: API_SCOPE,  # the API database's rows; a cell's own are read with it
}
MAPPING_KINDS: dict[FactType, str] = {InstanceMapping: API_SCOPE}
PORT_KINDS: dict[FactType, str] = {
    k: NEUTRON_SCOPE for k in (NeutronPort, PortBinding, IpAllocation, FloatingIp, PortSecurityGroup)
}
VOLUME_KINDS: dict[FactType, str] = {CinderVolume: CINDER_SCOPE, CinderAttachment: CINDER_SCOPE}
PLACEMENT_KINDS: dict[FactType, str] = {k: PLACEMENT_SCOPE for k in (ResourceProvider, Inventory, Allocation, Consumer)}
# the kinds of the whole-cloud services read as a part, by their scope ("rabbitmq:": each
# broker's vhosts); they read after Neutron's part (OVN, NSX) or the cells' own rows
OVN_KINDS: dict[FactType, str] = {OvnNbRow: OVN_NB_SCOPE}
NSX_KINDS: dict[FactType, str] = {NsxObject: NSX_SCOPE}
QUEUE_KINDS: dict[FactType, str] = {RabbitQueue: RABBITMQ_PREFIX}
# what a --cell run does not read at all, though some of it lies in its cells (by scope
# prefix), and why: its checks say they could not decide
NOT_READ: dict[FactType, str] = {DnsZone: "dns:", DnsRecord: "dns:"}
DNS_NOT_READ = (
    "not read in a --cell run: a zone transfer (AXFR) is of the whole zone, whose names are "
    "every cell's instances'; run without --cell to check DNS"
)
# the kinds of the shared databases read as a part, by their scope
SLICED_KINDS: dict[FactType, str] = {**MAPPING_KINDS, **PLACEMENT_KINDS, **PORT_KINDS, **VOLUME_KINDS}
# Neutron's ports of no instance of which every part reads one per network: they say
# which networks are external
EXTERNAL_OWNERS = frozenset({ROUTER_GATEWAY_OWNER, FLOATINGIP_OWNER})
# what the hosts hold of volumes, which Cinder's part is read after (its disks' serials
# and sessions' targets name volumes of any cell's)
HOST_KEY_KINDS = (DomainVolume, IscsiSession)
# a volume id in a target's IQN (LVM, tgt and LIO name targets volume-<id>): the volume
# checks take such a target for OpenStack's when the volume exists
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# what the cells' databases must have been asked for before their part can be known
KEY_KINDS = (
    Cell,
    Instance,
    ArchivedInstance,
    InstanceNetwork,
    BlockDeviceMapping,
    Migration,
    InstanceAction,
    ComputeNode,
    ComputeService,
)


def part_of(cells: Iterable[str]) -> str:
    """The Coverage.part of what was read for `cells` (names)."""
    return "cells:" + ",".join(sorted(cells))


def joined_parts(a: str, b: str) -> str:
    """The part two reads of one scope make together (snapshots merged)."""
    names = {n for p in (a, b) if p.startswith("cells:") for n in p[6:].split(",") if n}
    return part_of(names) if names else NONE


def in_scope(where: str, scope: str) -> bool:
    """Whether coverage scope `where` is `scope`, or one of it when `scope` is a prefix
    ("rabbitmq:", "dns:")."""
    return where == scope or (scope.endswith(":") and where.startswith(scope))


@dataclass(frozen=True)
class CellKeys:
    """What the cells' own rows name, from which their part of the shared databases is read."""

    cells: frozenset[str]  # names
    cell_uuids: frozenset[str]
    # every instance uuid the cells' rows hold (live, deleted, archived), and those the API
    # database maps to them (a wrong-cell mapping places what the instance holds there too)
    instances: frozenset[str]
    migrations: frozenset[str]  # migration uuids (Placement's consumers of a move)
    hosts: frozenset[str]  # the cells' compute hosts
    nodes: frozenset[str]  # compute node uuids
    node_names: frozenset[str]  # their hypervisor_hostname (a provider's name)
    volumes: frozenset[str]  # the volumes their block device mappings name
    attachments: frozenset[str]  # ... and Cinder attachments
    ports: frozenset[str]  # the ports their network info caches name
    # what the hosts read hold of volumes (none before the hosts are read)
    serials: frozenset[str] = frozenset()  # volume ids of the domains' disks
    session_hosts: frozenset[str] = frozenset()  # the hosts whose iSCSI sessions were read
    targets: frozenset[str] = frozenset()  # their sessions' IQNs no mapping of the host's cell names

    @property
    def part(self) -> str:
        return part_of(self.cells)

    @property
    def named_volumes(self) -> frozenset[str]:
        """Volume ids asked for by id: the mappings', the disks', the targets'."""
        return self.volumes | self.serials | frozenset(u for t in self.targets for u in _UUID.findall(t.lower()))

    @property
    def consumers(self) -> frozenset[str]:
        return self.instances | self.migrations


def cell_keys(facts: Mapping[str, list[Any]], coverage: Iterable[tuple[str, str]], cells: set[str]) -> CellKeys | None:
    """The keys of `cells` (names) from `facts` (by kind); None when the instances of one
    of them were not asked for at all (a run of checks that read no instance): then the
    shared databases are read whole."""
    covered = set(coverage)
    if not cells or any((kind_of(Instance), cell_scope(c)) not in covered for c in cells):
        return None

    def of(kind: FactType) -> list[Any]:
        return [f for f in facts.get(kind_of(kind), ()) if f.cell in cells]

    bdms, nets, nodes, moves = of(BlockDeviceMapping), of(InstanceNetwork), of(ComputeNode), of(Migration)
    instances = {f.uuid for k in (Instance, ArchivedInstance) for f in of(k)} | {n.uuid for n in nets}
    instances |= {f.instance_uuid for f in (*bdms, *moves, *of(InstanceAction)) if f.instance_uuid}
    cell_uuids = frozenset(c.uuid for c in facts.get(kind_of(Cell), ()) if c.name in cells)
    instances |= {m.instance_uuid for m in facts.get(kind_of(InstanceMapping), ()) if m.cell_uuid in cell_uuids}
    # a target its host's cell's mappings name is OpenStack's; any other may be
    # anyone's, or no one's (the host's own iSCSI): decided per host, so that the
    # parts of several cells' runs join into the part of one run of them all
    cell_of = {h.host: h.cell for h in (*of(ComputeService), *nodes) if h.host}
    named: dict[str, set[str]] = defaultdict(set)
    for b in bdms:
        named[b.cell].update(iqn for _, iqn, _ in b.iscsi_paths)
    sessions = facts.get(kind_of(IscsiSession), ())
    return CellKeys(
        cells=frozenset(cells),
        cell_uuids=cell_uuids,
        instances=frozenset(instances),
        migrations=frozenset(m.uuid for m in moves if m.uuid),
        hosts=frozenset(h.host for h in (*of(ComputeService), *nodes) if h.host),
        nodes=frozenset(n.uuid for n in nodes if n.uuid),
        node_names=frozenset(n.hypervisor_hostname for n in nodes if n.hypervisor_hostname),
        volumes=frozenset(b.volume_id for b in bdms if b.volume_id),
        attachments=frozenset(b.attachment_id for b in bdms if b.attachment_id),
        ports=frozenset(p for n in nets for p in n.port_ids),
        serials=frozenset(d.serial for d in facts.get(kind_of(DomainVolume), ())),
        session_hosts=frozenset(s.host for s in sessions),
        targets=frozenset(s.target_iqn for s in sessions if s.target_iqn not in named.get(cell_of.get(s.host, ""), ())),
    )


def slice_facts(keys: CellKeys, facts: Mapping[FactType, list[Any]]) -> dict[FactType, list[Any]]:
    """Of `facts` (a whole read of shared kinds, by fact type), the rows a run of
    `keys.cells` reads: the specification of the sources' SELECTs (see the module's doc).
    Kinds not in `facts` are left out; NEVER_INSIDE kinds come back empty."""
    out: dict[FactType, list[Any]] = {}

    def keep(kind: FactType, test: Any) -> list[Any]:
        rows = [f for f in facts.get(kind, ()) if test(f)]
        if kind in facts:
            out[kind] = rows
        return rows

    k = keys
    keep(
        InstanceMapping,
        lambda m: m.cell_uuid is None or m.cell_uuid in k.cell_uuids or m.instance_uuid in k.instances,
    )
    bound = {b.port_id for b in facts.get(PortBinding, ()) if b.host in k.hosts}
    external = external_marks(facts.get(NeutronPort, ()))
    kept_ports = keep(
        NeutronPort,
        lambda p: p.device_id in k.instances or p.id in k.ports or p.id in bound or p.id in external,
    )
    ports = {p.id for p in kept_ports}
    keep(PortBinding, lambda b: b.port_id in ports)
    keep(IpAllocation, lambda a: a.port_id in ports)
    keep(PortSecurityGroup, lambda g: g.port_id in ports)
    fips = keep(FloatingIp, lambda f: f.fixed_port_id in ports)
    if OvnNbRow in facts:
        out[OvnNbRow] = ovn_rows(ovn_ask(k, kept_ports, fips), facts[OvnNbRow])
    keep(NsxObject, lambda o: o.neutron_kind == NSX_PORT and o.neutron_id in ports)
    keep(RabbitQueue, lambda q: hosts_queue(q.name, k.hosts))
    connectors = {short_host(h) for h in k.session_hosts}
    targets = {t.lower() for t in k.targets}
    first = [
        a
        for a in facts.get(CinderAttachment, ())
        if a.instance_uuid in k.instances
        or a.id in k.attachments
        or short_host(a.attached_host) in connectors
        or any(iqn.lower() in targets for _, iqn, _ in a.iscsi_paths)
    ]
    volumes = k.named_volumes | {a.volume_id for a in first}
    keep(CinderVolume, lambda v: v.id in volumes)
    keep(CinderAttachment, lambda a: a.volume_id in volumes)
    roots = {p.uuid for p in facts.get(ResourceProvider, ()) if p.uuid in k.nodes or (p.name or "") in k.node_names}
    nodes = {p.uuid for p in facts.get(ResourceProvider, ()) if p.uuid in roots or p.root_provider_uuid in roots}
    allocations = keep(Allocation, lambda a: a.consumer_uuid in k.consumers or a.provider_uuid in nodes)
    providers = nodes | {a.provider_uuid for a in allocations}
    kept = keep(ResourceProvider, lambda p: p.uuid in providers)
    uuids = {p.uuid for p in kept}
    keep(Inventory, lambda i: i.provider_uuid in uuids)
    consumers = k.consumers | {a.consumer_uuid for a in allocations}
    keep(Consumer, lambda c: c.uuid in consumers)
    for kind in NEVER_INSIDE:
        if kind in facts:
            out[kind] = [f for f in facts[kind] if f.scope != NEVER_INSIDE[kind]]
    return out


def external_marks(ports: Iterable[NeutronPort]) -> set[str]:
    """Of Neutron's ports, the router gateway or floating IP port with the lowest id on
    each network that has any: what a part reads to know which networks are external."""
    lowest: dict[str | None, str] = {}
    for p in ports:
        if p.device_owner in EXTERNAL_OWNERS and (p.network_id not in lowest or p.id < lowest[p.network_id]):
            lowest[p.network_id] = p.id
    return set(lowest.values())


def short_host(name: str | None) -> str:
    """A host name as the volume checks compare Cinder's connectors with Nova's hosts: its
    first label ("cmp1" of "cmp1.example.org"), lowercased as SQL's lower() does."""
    return (name or "").split(".", 1)[0].lower()


# -- the whole-cloud services' parts ----------------------------------------------------
# per-host RPC queues of nova-compute (checks/rpc.py NOVA_TOPICS; oslo.messaging names a
# server's queue "<topic>.<server>")
HOST_QUEUE_TOPICS = ("compute", "compute-alt")


def hosts_queue(name: str, hosts: frozenset[str]) -> bool:
    """Whether queue `name` is one of `hosts`' nova-compute queues."""
    topic, dot, server = name.partition(".")
    return bool(dot) and topic in HOST_QUEUE_TOPICS and server in hosts


@dataclass(frozen=True)
class OvnAsk:
    """What a --cell run selects of OVN's northbound database (see the module's doc):
    switch ports by name or `neutron:device_id`, switches and routers by name, NAT rows by
    their `neutron:fip_id`."""

    ports: frozenset[str]  # switch ports by name: the part's ports and those the caches name
    instances: frozenset[str]  # ... by neutron:device_id: the cells' instances
    switches: frozenset[str]  # Logical_Switch names of the part's ports' networks
    fips: frozenset[str]  # NAT rows of the part's floating IPs
    routers: frozenset[str]  # Logical_Router names of their routers

    @property
    def empty(self) -> bool:
        return not (self.ports or self.instances or self.switches or self.fips or self.routers)

    def holds(self, row: OvnNbRow) -> bool:
        """Whether a switch port or NAT row is one the part asks for."""
        if row.table == SWITCH_PORT:
            return row.name in self.ports or row.device_id in self.instances
        return row.table == NAT and row.neutron_id in self.fips


def ovn_ask(keys: CellKeys, ports: Iterable[NeutronPort], fips: Iterable[FloatingIp]) -> OvnAsk:
    """What of OVN's northbound database stands for the cells' part of Neutron (`ports`
    and `fips`, as read)."""
    ports, fips = list(ports), list(fips)
    return OvnAsk(
        ports=frozenset(p.id for p in ports) | keys.ports,
        instances=keys.instances,
        switches=frozenset(NAME_PREFIX + p.network_id for p in ports if p.network_id),
        fips=frozenset(f.id for f in fips),
        routers=frozenset(NAME_PREFIX + f.router_id for f in fips if f.router_id),
    )


def ovn_rows(ask: OvnAsk, rows: Iterable[OvnNbRow]) -> list[OvnNbRow]:
    """Of a whole read's rows, those the part's select holds: `ask`'s switch ports and NAT
    rows, the switches and routers `ask` names, and those holding a switch port or NAT row
    read (a switch port's switch is not always its port's network's: a port gone)."""
    rows = list(rows)
    first = [r for r in rows if ask.holds(r)]
    switches = ask.switches | {r.parent for r in first if r.table == SWITCH_PORT and r.parent}
    routers = ask.routers | {r.parent for r in first if r.table == NAT and r.parent}
    held = [
        r
        for r in rows
        if (r.table == LOGICAL_SWITCH and r.name in switches) or (r.table == LOGICAL_ROUTER and r.name in routers)
    ]
    return first + held
