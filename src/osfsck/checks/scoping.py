"""What a check reports in a scoped run (`--cell`, `--host`, `--project`): only what lies
inside the scope, and, where something inside could not be decided because it needs what
lies outside (not read), that it could not.

Where an object lies is its place: the cells, hosts and projects it belongs to, each a set
that may also hold ANY, "and perhaps others nobody read" (a DNS record for an address
nobody holds might be anyone's; an empty set: in none, as a network is in no cell).  It is worked out from the snapshot's facts: an
instance from its rows and mapping, a domain from its host, a port from its instance and
bindings, a volume from its attachments, an allocation from its consumer...

A finding is reported when any of its objects (subject, related) lies inside; a finding
that lies nowhere known is not reported as a finding but as undecided ("could not be
placed"), since it may be outside.  An undecided scope a check recorded is kept when any
object it was recorded for (`CheckOutput.inconclusive(about=...)`) lies inside or may, or
when the check did not say which; the ones that lie outside the run's scope are gathered
into one record per check (scope OUTSIDE_SCOPE), naming what was not read.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, NamedTuple

from osfsck.checks.base import CheckOutput
from osfsck.checks.dns.common import ptr_address
from osfsck.checks.instance_index import instance_index
from osfsck.checks.rpc import host_queue
from osfsck.model.cell_slice import DNS_NOT_READ
from osfsck.model.facts.base import kind_of
from osfsck.model.facts.cinder import CinderAttachment, CinderVolume
from osfsck.model.facts.hypervisor import Domain, InstanceDir
from osfsck.model.facts.neutron import (
    FloatingIp,
    IpAllocation,
    NeutronNetwork,
    NeutronPort,
    NeutronRouter,
    PortBinding,
    SecurityGroup,
    SecurityGroupRule,
)
from osfsck.model.facts.nova import BlockDeviceMapping, ComputeNode, ComputeService, Migration, cell_scope
from osfsck.model.facts.nsx import NsxObject
from osfsck.model.facts.ovn import OvnNbRow
from osfsck.model.facts.placement import Allocation, Consumer, ResourceProvider
from osfsck.model.facts.quota import CinderReservation, NeutronReservation
from osfsck.model.finding import Finding, Inconclusive
from osfsck.model.refs import ObjectRef
from osfsck.model.scope import OUTSIDE_SCOPE, RunScope
from osfsck.model.snapshot import Snapshot

INSIDE, OUTSIDE, MAYBE = "inside", "outside", "maybe"
ANY = "*"  # in a place's set: and perhaps others, unknown
_NOWHERE: frozenset[str] = frozenset()
_ANYWHERE = frozenset({ANY})
_SHOWN = 3  # outside scopes named in a gathered record's reason
# Neutron (and NSX, OVN) kinds of network-wide objects: in no cell and on no host
_NETWORK_WIDE = frozenset(
    {"network", "subnet", "router", "security-group", "security-group-rule", "security_group", "security_group_rule"}
)


class Place(NamedTuple):
    """Where an object lies: its cells, hosts and projects (each may hold ANY)."""

    cells: frozenset[str]
    hosts: frozenset[str]
    projects: frozenset[str]


UNKNOWN = Place(_ANYWHERE, _ANYWHERE, _ANYWHERE)


def _one(value: str | None) -> frozenset[str]:
    """A dimension known to hold `value`, or unknown when there is none."""
    return frozenset({value}) if value else _ANYWHERE


def narrow(out: CheckOutput, snap: Snapshot) -> None:
    """Keep in `out` only what lies inside the snapshot's scope (see the module's doc)."""
    scope = snap.scope
    if not scope:
        return
    places = places_of(snap)
    code, told = out.check.code, scope.describe()
    kept, unplaced = [], defaultdict(list)
    for f in out.findings:
        verdict = places.finding(f)
        if verdict == INSIDE:
            kept.append(f)
        elif verdict == MAYBE:
            unplaced[f.subject.scope].append(f)
    out.findings = kept
    inside: dict[str, Inconclusive] = {}
    beyond: list[str] = []
    for where, inc in out.undecided.items():
        about = out.grounds.get(where, {None})
        if None not in about and all(places.verdict(places.of(a)) == OUTSIDE for a in about if a is not None):
            continue  # undecided only for what lies outside: not asked about
        if snap.outside(where):
            beyond.append(where)
        else:
            inside[where] = inc
    for where, fs in sorted(unplaced.items()):
        inside.setdefault(
            where,
            Inconclusive(
                code,
                where,
                f"{len(fs)} finding(s) could not be placed inside or outside the run's scope ({told}), "
                f"e.g. {fs[0].subject}",
            ),
        )
    _gather_not_read(code, inside)
    if beyond:
        names = ", ".join(beyond[:_SHOWN]) + (f" (+{len(beyond) - _SHOWN} more)" if len(beyond) > _SHOWN else "")
        inside[OUTSIDE_SCOPE] = Inconclusive(
            code,
            OUTSIDE_SCOPE,
            f"what it needs to decide lies outside the run's scope ({told}) and was not read: {names}",
        )
    out.undecided = dict(sorted(inside.items()))


def _gather_not_read(code: str, inside: dict[str, Inconclusive]) -> None:
    """What a --cell run does not read at all (every DNS zone: model/cell_slice.py
    NOT_READ) is one record per check, not one per zone."""
    zones = sorted(where for where, inc in inside.items() if inc.reason == DNS_NOT_READ)
    if len(zones) > 1:
        for where in zones:
            del inside[where]
        shown = ", ".join(z[4:] for z in zones[:_SHOWN]) + (
            f" (+{len(zones) - _SHOWN} more)" if len(zones) > _SHOWN else ""
        )
        inside["dns:*"] = Inconclusive(code, "dns:*", f"zones {shown}: {DNS_NOT_READ}")


def places_of(snap: Snapshot) -> Places:
    """The snapshot's Places, built once per snapshot."""
    found = snap.memo.get("places")
    if found is None:
        found = snap.memo["places"] = Places(snap)
    return found


class Places:
    """Where each object of a snapshot lies, and whether that is inside its scope."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.scope: RunScope = snap.scope or RunScope()
        self.inside_cells = snap.inside_cells()
        self.host_cells = snap.host_cells()
        self._by: dict[str, Any] = {}

    # -- verdicts -----------------------------------------------------------------------
    def verdict(self, place: Place) -> str:
        """INSIDE, OUTSIDE or MAYBE for each dimension the scope narrows: outside in one
        is outside; unknown in one (and outside in none) may be inside."""
        s, dims = self.scope, []
        if s.cells:
            dims.append(_dim(place.cells, lambda c: c in self.inside_cells))
        if s.hosts:
            dims.append(_dim(place.hosts, s.host_matches))
        if s.projects:
            dims.append(_dim(place.projects, s.project_inside))
        if False in dims:
            return OUTSIDE
        return MAYBE if None in dims else INSIDE

    def finding(self, f: Finding) -> str:
        """A finding lies inside when any of its objects does, else where its subject does."""
        subject = self.verdict(self.of(f.subject))
        if subject == INSIDE or any(self.verdict(self.of(r)) == INSIDE for r in f.related):
            return INSIDE
        return subject

    # -- places -------------------------------------------------------------------------
    def of(self, ref: ObjectRef) -> Place:
        kind, where = ref.kind, ref.scope
        if kind == "instance-dir":
            return self.instance_dir(ref)
        if where.startswith("host:"):
            return _join(self.host(where[5:]), self._on_host(kind, ref.id, where[5:]))
        if kind in ("instance", "instance-mapping", "build-request"):
            return _join(self.instance(ref.id), self._cell(where))
        if kind == "instance-vif":
            return _join(self.instance(ref.id.split("/", 1)[0]), self._cell(where))
        if kind == "block-device-mapping":
            bdm = self._index("bdm", BlockDeviceMapping, lambda b: b.uuid or str(b.id)).get(ref.id)
            return _join(self.instance(bdm.instance_uuid) if bdm else UNKNOWN, self._cell(where))
        if kind == "compute-service":
            return _join(self.host(ref.id), self._cell(where))
        if kind == "port-binding":
            port_id, _, host = ref.id.partition("/")
            return _join(self.neutron(port_id), Place(_NOWHERE, frozenset({host}), _NOWHERE))
        if kind == "volume":
            return self.volume(ref.id)
        if kind == "volume-attachment":
            return self.attachment(ref.id)
        if kind == "volume-service":
            return Place(_NOWHERE, frozenset({ref.id.split("@")[0]}), _NOWHERE)
        if kind == "placement-consumer":
            return self.consumer(ref.id)
        if kind == "resource-provider":
            return self.provider(ref.id)
        if kind in ("quota-usage", "quota-reservation"):
            return self.quota(ref)
        if kind == "rabbitmq-queue":
            return self.queue(ref.id)
        if kind == "dns-record":
            return self.dns_record(ref.id)
        if kind.startswith("ovn-"):
            row = self._index("ovn", OvnNbRow, lambda r: r.uuid).get(ref.id)
            return self._ovn_row(row) if row else UNKNOWN
        if kind.startswith("nsx-"):
            o = self._index("nsx", NsxObject, lambda o: o.id).get(ref.id)
            if o is None or not o.neutron_id:
                return UNKNOWN
            return _join(self.neutron(o.neutron_id, o.neutron_kind), Place(_NOWHERE, _NOWHERE, _one(o.project_id)))
        if where == "neutron":
            return self.neutron(ref.id, kind)
        return Place(frozenset({where[5:]}), _ANYWHERE, _ANYWHERE) if where.startswith("cell:") else UNKNOWN

    def _cell(self, where: str) -> Place:
        """What a ref's scope says: the cell it names ("cell:<name>"); nothing else."""
        return Place(frozenset({where[5:]}), _NOWHERE, _NOWHERE) if where.startswith("cell:") else NOTHING

    def host(self, host: str) -> Place:
        """A compute host: its cell from Nova's services and compute nodes.  A host they
        do not list is in none of the named cells once those were read whole (an
        extra_hosts entry, a network node); else its cell is unknown.  No project's."""
        cell = self.host_cells.get(host)
        if cell is not None:
            cells = frozenset({cell})
        else:
            cells = _NOWHERE if self._nodes_read() else _ANYWHERE
        return Place(cells, frozenset({host}), _NOWHERE)

    def _on_host(self, kind: str, id_: str, host: str) -> Place:
        """The projects of an object on a host: a domain's (Nova's metadata, else its
        instance's), an instance folder's or a domain disk's instance's; what else
        (iSCSI sessions and disks) may be anyone's."""
        if kind == "domain":
            d = self._index("domain", Domain, lambda d: (d.host, d.uuid)).get((host, id_))
            if d is not None and d.nova_project:
                return Place(_NOWHERE, _NOWHERE, frozenset({d.nova_project}))
            return Place(_NOWHERE, _NOWHERE, self.instance(id_).projects)
        if kind in ("domain-volume", "volume-connection"):  # "<instance uuid>/<volume id>"
            return Place(_NOWHERE, _NOWHERE, self.instance(id_.split("/", 1)[0]).projects)
        if kind == "host":
            return NOTHING
        return Place(_NOWHERE, _NOWHERE, _ANYWHERE)

    def instance_dir(self, ref: ObjectRef) -> Place:
        """An instance folder (`<instances_path>/<uuid>[_resize|_del]`): on every host seen
        to hold it (one, or each host mounting its shared storage), its instance's project."""
        views = self._by.get("dirs")
        if views is None:
            views = self._by["dirs"] = defaultdict(set)
            for d in self.snap.of(InstanceDir):
                views[d.path].add(d.host)
        place = Place(_NOWHERE, _NOWHERE, _NOWHERE)
        for host in sorted(views.get(ref.id, ()) or ([ref.scope[5:]] if ref.scope.startswith("host:") else [])):
            place = _join(place, self.host(host))
        uuid = ref.id.rstrip("/").rsplit("/", 1)[-1].split("_", 1)[0]
        return _join(place, Place(_NOWHERE, _NOWHERE, self.instance(uuid).projects))

    def instance(self, uuid: str) -> Place:
        """An instance: the cells of its rows (live, deleted, archived) and its mapping, the
        hosts it is or may be on (its host, both ends of a move), its project.  What no
        row read says is unknown: a uuid known to nothing read may be anywhere."""
        idx = instance_index(self.snap)
        rows = list(idx.live.get(uuid, ()))
        if uuid in idx.deleted:
            rows.append(idx.deleted[uuid])
        arch = idx.archived.get(uuid)
        mapping = idx.mappings.get(uuid)
        build = idx.build_requests.get(uuid)
        # what nothing read says is unknown only while some cell (or the cell list) was
        # not read whole: with every cell read, a uuid without rows is in none, on no host
        unread = bool(idx.partial_cells) or not idx.api_complete
        cells = {r.cell for r in rows} | ({arch.cell} if arch else set())
        home = idx.cell_name(mapping.cell_uuid) if mapping is not None else None
        if home:
            cells.add(home)
        if unread and not (rows or arch or mapping or build):
            cells.add(ANY)
        hosts = idx.expected_hosts(uuid) | {r.host for r in rows if r.host}
        if arch and arch.host:
            hosts.add(arch.host)
        if unread and not (rows or arch):
            hosts.add(ANY)  # its rows may be in a cell not read
        projects = {r.project_id for r in rows if r.project_id}
        projects |= {x.project_id for x in (mapping, build) if x is not None and x.project_id}
        return Place(frozenset(cells), frozenset(hosts), frozenset(projects or {ANY}))

    def neutron(self, id_: str, kind: str | None = None) -> Place:
        """A Neutron object by id (of `kind`, when known): a port lies where its instance
        does (a compute port) and on the hosts it is bound to; a floating IP where its port
        does; a network, router or security group (or a rule of one) in no cell and on no
        host, in its project, even once it is gone (whose, then, is unknown)."""
        port = self._index("port", NeutronPort, lambda p: p.id).get(id_)
        if port is not None:
            bound = frozenset(b.host for b in self._ports_bindings().get(id_, ()) if b.host)
            mine = Place(_NOWHERE, bound, _one(port.project_id))
            if port.device_owner.startswith("compute:") and port.device_id:
                return _join(mine, self.instance(port.device_id))
            return mine
        fip = self._index("fip", FloatingIp, lambda f: f.id).get(id_)
        if fip is not None:
            mine = Place(_NOWHERE, _NOWHERE, _one(fip.project_id))
            return _join(mine, self.neutron(fip.fixed_port_id)) if fip.fixed_port_id else mine
        for fact in (NeutronNetwork, NeutronRouter, SecurityGroup):
            o = self._index(kind_of(fact), fact, lambda o: o.id).get(id_)
            if o is not None:
                return Place(_NOWHERE, _NOWHERE, _one(o.project_id))
        rule = self._index("rule", SecurityGroupRule, lambda r: r.id).get(id_)
        if rule is not None:
            return self.neutron(rule.security_group_id, "security-group")
        if kind in _NETWORK_WIDE:
            return Place(_NOWHERE, _NOWHERE, _ANYWHERE)
        return UNKNOWN

    def _ports_bindings(self) -> dict[str, list[PortBinding]]:
        found = self._by.get("bindings")
        if found is None:
            found = self._by["bindings"] = defaultdict(list)
            for b in self.snap.of(PortBinding):
                found[b.port_id].append(b)
        return found

    def volume(self, volume_id: str) -> Place:
        """A volume: its project, and where its attachments and their instances lie."""
        v = self._index("volume", CinderVolume, lambda v: v.id).get(volume_id)
        mine = Place(_NOWHERE, _NOWHERE, _one(v.project_id if v else None))
        for a in self._attachments().get(volume_id, ()):
            mine = _join(mine, self._attached(a))
        return mine

    def attachment(self, attachment_id: str) -> Place:
        a = self._index("attachment", CinderAttachment, lambda a: a.id).get(attachment_id)
        if a is None:
            return UNKNOWN
        v = self._index("volume", CinderVolume, lambda v: v.id).get(a.volume_id)
        return _join(Place(_NOWHERE, _NOWHERE, _one(v.project_id if v else None)), self._attached(a))

    def _attached(self, a: CinderAttachment) -> Place:
        on = Place(_NOWHERE, frozenset({a.attached_host}) if a.attached_host else _NOWHERE, _NOWHERE)
        return _join(on, self.instance(a.instance_uuid)) if a.instance_uuid else on

    def _attachments(self) -> dict[str, list[CinderAttachment]]:
        found = self._by.get("attachments")
        if found is None:
            found = self._by["attachments"] = defaultdict(list)
            for a in self.snap.of(CinderAttachment):
                found[a.volume_id].append(a)
        return found

    def consumer(self, uuid: str) -> Place:
        """An allocation's consumer: its project, its instance (or migration: unknown), the
        hosts of the providers it holds resources of."""
        c = self._index("consumer", Consumer, lambda c: c.uuid).get(uuid)
        providers = self._by.get("consumer_providers")
        if providers is None:
            providers = self._by["consumer_providers"] = defaultdict(set)
            for a in self.snap.of(Allocation):
                providers[a.consumer_uuid].add(a.provider_uuid)
        hosts: frozenset[str] = _NOWHERE
        for p in sorted(providers.get(uuid, ())):
            hosts |= self.provider(p).hosts
        # its cell is its instance's (a migration's consumer: the migrating instance's): a
        # provider of a node not read may be any cell's
        mine = Place(_NOWHERE, hosts, _one(c.project_id if c else None))
        migration = self._index("migration", Migration, lambda m: m.uuid).get(uuid)
        if migration is not None and migration.instance_uuid:
            moved = self.instance(migration.instance_uuid)
            return _join(mine, _join(moved, Place(frozenset({migration.cell}), _NOWHERE, _NOWHERE)))
        return _join(mine, self.instance(uuid))

    def provider(self, uuid: str) -> Place:
        """A resource provider: the host of the compute node it stands for (by uuid, else
        by its name, the node's hypervisor_hostname), no project's.  One of no node read
        (a sharing provider, a decommissioned host's) is on no host but the one its name
        may still be, once every named cell's nodes were read; in a cell nobody can say."""
        node = self._index("node", ComputeNode, lambda n: n.uuid).get(uuid)
        rp = None
        if node is None:
            rp = self._index("provider", ResourceProvider, lambda p: p.uuid).get(uuid)
            by_name = self._index("node_name", ComputeNode, lambda n: n.hypervisor_hostname)
            node = by_name.get(rp.name) if rp is not None and rp.name else None
        if node is not None and node.host:
            return _join(self.host(node.host), Place(frozenset({node.cell}), _NOWHERE, _NOWHERE))
        named = frozenset({rp.name}) if rp is not None and rp.name else _NOWHERE
        # which cell a node now gone was in, nothing read says
        return Place(_ANYWHERE, named if self._nodes_read() else named | _ANYWHERE, _NOWHERE)

    def _nodes_read(self) -> bool:
        """Whether the compute nodes and services of every cell the scope names were read."""
        found = self._by.get("nodes_read")
        if found is None:
            found = self._by["nodes_read"] = all(
                self.snap.is_complete(k, cell_scope(c))
                for c in self.inside_cells
                for k in (ComputeNode, ComputeService)
            )
        return bool(found)

    def quota(self, ref: ObjectRef) -> Place:
        """A usage row or a reservation: its project (a usage row's is in its name,
        "<service>/<project>/<resource>"; a reservation's in its row), on no host, in the
        cell whose database holds it (Nova's legacy rows), else in none."""
        parts = ref.id.split("/")
        if ref.kind == "quota-usage":
            project = parts[1] if len(parts) == 3 else None
        else:  # "<service>/<reservation id or uuid>"
            r = self._index("cinder_res", CinderReservation, lambda r: f"cinder/{r.uuid}").get(ref.id)
            r = r or self._index("neutron_res", NeutronReservation, lambda r: f"neutron/{r.id}").get(ref.id)
            project = r.project_id if r is not None else None
        return Place(self._cell(ref.scope).cells, _NOWHERE, _one(project))

    def queue(self, name: str) -> Place:
        """A host's RPC queue (compute.<host>, cinder-volume.<host@backend>) lies on that
        host; any other queue (reply, fanout) may be anyone's."""
        found = host_queue(name)
        if found is None:
            return UNKNOWN
        topic, server = found
        if topic == "cinder-volume":
            return Place(_NOWHERE, frozenset({server.split("@")[0]}), _NOWHERE)
        return self.host(server)

    def dns_record(self, record_id: str) -> Place:
        """An address or PTR record lies where the port (or floating IP) holding its
        address does; any other record (a CNAME), or an address nobody holds, may be
        anyone's."""
        name, rtype, data = (record_id.split(" ", 2) + ["", ""])[:3]
        if rtype == "PTR":
            data = ptr_address(name) or ""
        elif rtype not in ("A", "AAAA"):
            return UNKNOWN
        held = self._index("address", IpAllocation, lambda a: a.ip_address).get(data)
        if held is not None and held.port_id:
            return self.neutron(held.port_id)
        fip = self._index("fip_address", FloatingIp, lambda f: f.floating_ip_address).get(data)
        return self.neutron(fip.id) if fip else UNKNOWN

    def _ovn_row(self, row: OvnNbRow) -> Place:
        """An NB row lies where the Neutron object it stands for does (a compute port's
        switch port, also where its instance does)."""
        place = self.neutron(row.neutron_id, row.neutron_kind) if row.neutron_id else UNKNOWN
        if row.device_owner.startswith("compute:") and row.device_id:
            return _join(place, self.instance(row.device_id)) if place != UNKNOWN else self.instance(row.device_id)
        return place

    def _index(self, name: str, kind: Any, key: Any) -> dict[Any, Any]:
        found = self._by.get(name)
        if found is None:
            found = self._by[name] = {key(f): f for f in self.snap.of(kind)}
        return found


NOTHING = Place(_NOWHERE, _NOWHERE, _NOWHERE)


def _join(a: Place, b: Place) -> Place:
    """What two views of one object say together: where either puts it."""
    return Place(a.cells | b.cells, a.hosts | b.hosts, a.projects | b.projects)


def _dim(values: frozenset[str], inside: Any) -> bool | None:
    """True when a known value is inside, None when only an unknown one may be, else False."""
    if any(inside(v) for v in values if v != ANY):
        return True
    return None if ANY in values else False
