"""An NSX manager, read-only: the objects the vmware-nsx plugin makes for Neutron's networks,
ports, routers and security groups, through the Policy API or the Manager API.

One scope ("nsx"), all or nothing: a page that fails after its retries leaves the scope
partial and adds no fact, so no check takes an object that was merely not read for gone.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from urllib.parse import quote

from osfsck.clients.nsx import NsxClient, NsxError
from osfsck.model.facts import kind_of
from osfsck.model.facts.nsx import MANAGER, NSX_SCOPE, POLICY, NsxObject
from osfsck.model.result import SourceStatus
from osfsck.model.secrets import redact_url
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import NotConfigured, Source, cover_all, utcnow
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


class NsxSource(Source):
    name = "nsx"
    settings_attr = "nsx"
    provides = (NsxObject,)

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
        try:
            with NsxClient(**s.client_kwargs(), transport=self._transport) as client:
                facts = read_policy(client, s.deployment()) if s.api == POLICY else read_manager(client, s.deployment())
        except NsxError as e:
            return [cover_all(sink, self.provides, NSX_SCOPE, self.name, False, str(e), at)]
        except NsxShapeError as e:
            # JSON, but not NSX's shapes (an item that is not an object, one without an id)
            why = f"NSX {redact_url(s.url)}: an object of an unexpected shape: {e}"
            return [cover_all(sink, self.provides, NSX_SCOPE, self.name, False, why, at)]
        sink.add(kind_of(NsxObject), facts)
        return [cover_all(sink, self.provides, NSX_SCOPE, self.name, True, "", at)]


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
    try:
        # the id as one path segment: an id holding "/" or "?" must not name another list
        return client.list(f"{SEGMENTS}/{quote(segment_id, safe='')}/ports")
    except NsxError as e:
        if e.status == 404:
            return []  # the segment was deleted since it was listed, and its ports with it
        raise


def read_manager(client: NsxClient, deployment) -> list[NsxObject]:
    """Facts of every Manager API object the checks judge; NsxError or NsxShapeError.  The
    five lists are fetched side by side, each mapped here as it comes, so that the mapping
    (Python's time) overlaps the manager's (tools/bench_paging.py)."""
    facts: list[NsxObject] = []
    with ThreadPoolExecutor(len(MANAGER_LISTS)) as pool:
        for objects in pool.map(client.list, MANAGER_LISTS):
            facts.extend(facts_from(objects, lambda o: to_fact(MANAGER, o, manager_parent(o), deployment)))
    return facts
