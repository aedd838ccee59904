"""An NSX manager, read-only: the objects the vmware-nsx plugin makes for Neutron's networks,
ports, routers and security groups, through the Policy API or the Manager API.

One scope ("nsx"), all or nothing: a page that fails after its retries leaves the scope
partial and adds no fact, so no check takes an object that was merely not read for gone.

A `--cell` run reads, after Neutron's part, the ports standing for the part's ports
(model/cell_slice.py): NSX lists nothing by tag (only its search API, an ElasticSearch
index, does), so they are listed per segment (Policy: a segment's id is its network's,
nsx_p/plugin.py) or per logical switch (Manager: `logical-ports?logical_switch_id=`,
after the switches' list) of the part's networks, and only those tagged with one of the
part's ports are kept: a shared network's other ports are read but kept by nobody.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from urllib.parse import quote

from osfsck.clients.nsx import NsxClient, NsxError
from osfsck.model.cell_slice import KEY_KINDS
from osfsck.model.facts import kind_of
from osfsck.model.facts.neutron import NeutronPort
from osfsck.model.facts.nsx import MANAGER, NETWORK, NSX_SCOPE, POLICY, PORT, NsxObject
from osfsck.model.result import SourceStatus
from osfsck.model.secrets import redact_url
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import NotConfigured, cover_all, utcnow
from osfsck.sources.cell_part import CellPartSource
from osfsck.sources.detach import facts_from
from osfsck.sources.nsx.mapping import NsxShapeError, manager_parent, to_fact

POLICY_BASE = "/policy/api/v1/infra"
SEGMENTS = f"{POLICY_BASE}/segments"
POLICY_LISTS = (
    f"{POLICY_BASE}/tier-1s",
    f"{POLICY_BASE}/domains/default/groups",
    f"{POLICY_BASE}/domains/default/security-policies",
)
MANAGER_LISTS = (
    "/api/v1/logical-switches",
    "/api/v1/logical-ports",
    "/api/v1/logical-routers",
    "/api/v1/ns-groups",
    "/api/v1/firewall/sections",
)
# segment ports are listed per segment (the Policy API has no list of all ports): a few
# segments at a time, since most clouds have thousands of networks with few ports each
PORT_LISTS_IN_PARALLEL = 8


class NsxSource(CellPartSource):
    name = "nsx"
    settings_attr = "nsx"
    provides = (NsxObject,)
    part_requires = (*KEY_KINDS, NeutronPort)

    def __init__(self, settings, transport=None):
        if settings.url is None:
            raise NotConfigured("[nsx] url is not configured")
        self.settings = settings
        self._transport = transport  # tests: an httpx transport standing in for the manager

    def reads(self) -> list[str]:
        s = self.settings
        paths = [SEGMENTS, f"{SEGMENTS}/<id>/ports", *POLICY_LISTS] if s.api == POLICY else list(MANAGER_LISTS)
        return [
            f"GET on the NSX manager {redact_url(s.url)} ({s.api} API) as {s.username} (a read-only role such as "
            f"Auditor is enough): {', '.join(paths)}"
        ]

    def collect(self, kinds, known: Snapshot, sink: Snapshot, scopes=None) -> list[SourceStatus]:
        if scopes is not None and NSX_SCOPE not in scopes:
            return []
        s = self.settings
        at = utcnow()
        keys = self.cell_keys(known)
        part = keys.part if keys is not None else ""
        ports = {p.id: p.network_id for p in known.of(NeutronPort)} if keys is not None else None
        try:
            with NsxClient(**s.client_kwargs(), transport=self._transport) as client:
                if ports is not None:
                    facts = read_ports(client, s.api, s.deployment(), ports)
                elif s.api == POLICY:
                    facts = read_policy(client, s.deployment())
                else:
                    facts = read_manager(client, s.deployment())
        except NsxError as e:
            return [cover_all(sink, self.provides, NSX_SCOPE, self.name, False, str(e), at, part)]
        except NsxShapeError as e:
            # JSON, but not NSX's shapes (an item that is not an object, one without an id)
            why = f"NSX {redact_url(s.url)}: an object of an unexpected shape: {e}"
            return [cover_all(sink, self.provides, NSX_SCOPE, self.name, False, why, at, part)]
        sink.add(kind_of(NsxObject), facts)
        status = cover_all(sink, self.provides, NSX_SCOPE, self.name, True, "", at, part)
        if ports is None:
            return [status]
        nets = len(set(ports.values()))
        said = f"only the ports of {part[6:]}'s part of Neutron ({len(ports)}), listed on their {nets} network(s)"
        return [replace(status, reason=said)]


def read_policy(client: NsxClient, deployment) -> list[NsxObject]:
    """Facts of every Policy object the checks judge; NsxError or NsxShapeError."""
    # each list's facts detached from its pages while they are held (sources/detach.py)
    segments = facts_from(client.list(SEGMENTS), lambda o: to_fact(POLICY, o, None, deployment))
    facts = list(segments)
    with ThreadPoolExecutor(PORT_LISTS_IN_PARALLEL) as pool:
        for seg, ports in zip(segments, pool.map(lambda seg: _segment_ports(client, seg.id), segments)):
            facts.extend(facts_from(ports, partial(to_fact, POLICY, parent_id=seg.id, deployment=deployment)))
    for path in POLICY_LISTS:
        facts.extend(facts_from(client.list(path), lambda o: to_fact(POLICY, o, None, deployment)))
    return facts


def _segment_ports(client: NsxClient, segment_id: str) -> list[dict]:
    # the id as one path segment: an id holding "/" or "?" must not name another list
    return _listed(client, f"{SEGMENTS}/{quote(segment_id, safe='')}/ports", None)


def read_manager(client: NsxClient, deployment) -> list[NsxObject]:
    """Facts of every Manager API object the checks judge; NsxError or NsxShapeError.  The
    five lists are fetched side by side, each mapped here as it comes, so that the mapping
    (Python's time) overlaps the manager's (tools/bench_paging.py)."""
    facts: list[NsxObject] = []
    with ThreadPoolExecutor(len(MANAGER_LISTS)) as pool:
        for objects in pool.map(client.list, MANAGER_LISTS):
            facts.extend(facts_from(objects, lambda o: to_fact(MANAGER, o, manager_parent(o), deployment)))
    return facts


def read_ports(client: NsxClient, api: str, deployment, ports: dict[str, str]) -> list[NsxObject]:
    """Facts of the NSX ports standing for `ports` ({Neutron port id: its network id}),
    listed per segment (logical switch) of their networks; NsxError or NsxShapeError."""
    nets = sorted(set(ports.values()))
    if api == POLICY:
        facts: list[NsxObject] = []
        with ThreadPoolExecutor(PORT_LISTS_IN_PARALLEL) as pool:
            for net, objects in zip(nets, pool.map(lambda net: _segment_ports(client, net), nets)):
                facts += [f for f in (to_fact(POLICY, o, net, deployment) for o in objects) if _of(f, ports)]
        return facts
    wanted = set(nets)
    listed = [to_fact(MANAGER, o, None, deployment) for o in client.list(MANAGER_LISTS[0])]
    switches = [sw.id for sw in listed if sw.neutron_kind == NETWORK and sw.neutron_id in wanted]
    facts = []
    with ThreadPoolExecutor(PORT_LISTS_IN_PARALLEL) as pool:
        for objects in pool.map(lambda sw: _listed(client, MANAGER_LISTS[1], {"logical_switch_id": sw}), switches):
            facts += [f for f in (to_fact(MANAGER, o, manager_parent(o), deployment) for o in objects) if _of(f, ports)]
    return facts


def _of(f: NsxObject, ports: dict[str, str]) -> bool:
    return f.neutron_kind == PORT and f.neutron_id in ports


def _listed(client: NsxClient, path: str, params: dict | None) -> list[dict]:
    try:
        return client.list(path, params)
    except NsxError as e:
        if e.status == 404:
            return []  # the segment was deleted since it was listed (or never was), and its ports with it
        raise
