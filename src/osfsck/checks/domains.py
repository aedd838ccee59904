"""Helpers shared by the checks that look at libvirt domains."""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from osfsck.checks.base import CheckOutput, place_ref
from osfsck.model.facts.base import FactType
from osfsck.model.facts.hypervisor import Domain, host_scope
from osfsck.model.facts.nova import API_SCOPE, Cell, ComputeNode, cell_scope
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

# nova.conf [DEFAULT] instance_name_template defaults to "instance-%08x" (nova/conf/compute.py)
DEFAULT_NAME_PATTERN = r"^instance-[0-9a-f]{8}$"

# compute_nodes.hypervisor_type as Nova's libvirt driver reports it: libvirt's
# virConnectGetType() ("QEMU" for kvm and qemu alike, "LXC", "Xen", "UML", "Parallels" or
# "vz"); Ironic, VMware, Hyper-V... hosts report their own and hold no libvirt domain.
LIBVIRT_HYPERVISOR_TYPES = frozenset({"qemu", "kvm", "lxc", "xen", "uml", "parallels", "vz"})

# vm_states in which the libvirt driver keeps a defined domain on instance.host.  Left
# out on purpose: building (not spawned yet), shelved and shelved_offloaded (the domain
# is destroyed at offload), soft-delete and error (a failed build may have none), deleted.
STATES_WITH_DOMAIN = frozenset({"active", "paused", "suspended", "stopped", "rescued", "resized"})

# libvirt virDomainState -> Nova power_state, as nova/virt/libvirt/driver.py maps them
# (LIBVIRT_POWER_STATE): blocked counts as running, shut off as shutdown, pmsuspended as suspended.
LIBVIRT_TO_NOVA_POWER = {0: 0, 1: 1, 2: 1, 3: 3, 4: 4, 5: 4, 6: 6, 7: 7}
NOVA_POWER_NAMES = {0: "nostate", 1: "running", 3: "paused", 4: "shutdown", 6: "crashed", 7: "suspended"}
LIBVIRT_STATE_NAMES = {
    0: "nostate",
    1: "running",
    2: "blocked",
    3: "paused",
    4: "shutting down",
    5: "shut off",
    6: "crashed",
    7: "pmsuspended",
}


def is_nova_domain(d: Domain, name_pattern: str = DEFAULT_NAME_PATTERN) -> bool:
    """Whether Nova made this domain: its metadata, or failing that its name pattern.
    Domains made by hand (no metadata, another name) are not ours to judge."""
    return d.nova_ns is not None or _pattern(name_pattern).match(d.name) is not None


@functools.lru_cache(maxsize=8)
def _pattern(name_pattern: str) -> re.Pattern[str]:
    return re.compile(name_pattern)


def domains_by_uuid(snap: Snapshot) -> dict[str, list[Domain]]:
    idx = snap.memo.get("domains_by_uuid")
    if idx is None:
        idx = defaultdict(list)
        for d in snap.of(Domain):
            idx[d.uuid].append(d)
        for v in idx.values():
            v.sort(key=lambda d: d.host)
        idx = snap.memo["domains_by_uuid"] = dict(idx)
    return idx


def domain_ref(d: Domain) -> ObjectRef:
    return ObjectRef("domain", d.uuid, host_scope(d.host))


def domain_evidence(d: Domain) -> dict[str, Any]:
    return {
        "host": d.host,
        "name": d.name,
        "uuid": d.uuid,
        "state": LIBVIRT_STATE_NAMES.get(d.state, str(d.state)),
        "active": d.active,
        "nova_metadata": d.nova_ns,
        "display_name": d.nova_name,
        "vcpus": d.vcpus,
        "memory_mb": d.memory_mb,
    }


def hosts_complete(snap: Snapshot, hosts: Iterable[str]) -> tuple[bool, str, str]:
    """(all complete, first partial scope, its reason) for the domain facts of `hosts`."""
    for h in sorted(hosts):
        scope = host_scope(h)
        if not snap.is_complete(Domain, scope):
            return False, scope, snap.why_incomplete(Domain, scope)
    return True, "", ""


def unread_hosts(snap: Snapshot, kind: FactType = Domain) -> dict[str, str]:
    """Host scope -> why, for every host whose `kind` facts (domains, by default) are not all
    known: one the hypervisor source could not read completely, and one where Nova runs a
    libvirt compute node that no source read (a skipped host, a host list built without it);
    and a cell whose compute nodes (the API database, whose cell list) could not be read,
    since its hosts are unknown.  Hosts of other drivers are not listed: they hold no
    libvirt domain (needs ComputeNode and Cell to know the last two kinds)."""
    key = f"unread_hosts:{kind.kind}"
    found = snap.memo.get(key)
    if found is None:
        found = {
            c.scope: c.reason or f"{c.scope}: its {kind.kind} facts were not read completely"
            for c in snap.incomplete_scopes(kind)
        }
        read = set(snap.scopes(kind))
        for n in snap.of(ComputeNode):
            scope = host_scope(n.host) if n.host else None
            if scope and scope not in read and (n.hypervisor_type or "").lower() in LIBVIRT_HYPERVISOR_TYPES:
                found.setdefault(
                    scope, f"{n.host} runs a libvirt compute node, but its {kind.kind} facts were not read"
                )
        # a cell whose compute nodes (or the API database whose cell list) could not be
        # read may have hosts nobody knew to read
        if not snap.is_complete(Cell, API_SCOPE):
            found[API_SCOPE] = snap.why_incomplete(Cell, API_SCOPE)
        for scope in {cell_scope(c.name) for c in snap.of(Cell)} | set(snap.scopes(ComputeNode)):
            if not snap.is_complete(ComputeNode, scope):
                found[scope] = snap.why_incomplete(ComputeNode, scope)
        found = snap.memo[key] = dict(sorted(found.items()))
    return found


def host_read(snap: Snapshot, out: CheckOutput, host: str, cell: str, about: ObjectRef | None = None) -> bool | None:
    """Whether the domains of `host` (in `cell`) were read completely: True; False when they
    were not, recorded inconclusive (the host, or its cell when that cell's hosts are
    unknown; for `about`, the object judged); None for a host of another driver (Ironic,
    VMware), which is not judged."""
    unread = unread_hosts(snap)
    scope = host_scope(host)
    if scope in unread:
        out.inconclusive(scope, unread[scope], about)
        return False
    if snap.is_complete(Domain, scope):
        return True
    if cell_scope(cell) in unread:
        out.inconclusive(cell_scope(cell), unread[cell_scope(cell)], about)
        return False
    return None


def all_hosts_read(
    snap: Snapshot, out: CheckOutput, kind: FactType = Domain, about: ObjectRef | None = None, walked: bool = False
) -> bool:
    """True when every host that may hold `kind` facts (domains, by default) was read
    completely; otherwise each one that was not is recorded inconclusive: for `about`, an
    object judged by what may be on any host, or, `walked`, for itself (a check whose
    subjects are what it finds on the hosts did not look there)."""
    unread = unread_hosts(snap, kind)
    for scope, why in unread.items():
        out.inconclusive(scope, why, place_ref(scope) if walked else about)
    return not unread
