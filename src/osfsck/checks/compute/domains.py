"""Helpers shared by the checks that look at libvirt domains."""

from __future__ import annotations

import functools
import re
from collections import defaultdict

from osfsck.model.facts.hypervisor import Domain, host_scope
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

# nova.conf [DEFAULT] instance_name_template defaults to "instance-%08x" (nova/conf/compute.py)
DEFAULT_NAME_PATTERN = r"^instance-[0-9a-f]{8}$"

# libvirt virDomainState -> Nova power_state, as nova/virt/libvirt/driver.py maps them
# (LIBVIRT_POWER_STATE): blocked counts as running, shut off as shutdown, pmsuspended as suspended.
LIBVIRT_TO_NOVA_POWER = {0: 0, 1: 1, 2: 1, 3: 3, 4: 4, 5: 4, 6: 6, 7: 7}
NOVA_POWER_NAMES = {0: "nostate", 1: "running", 3: "paused", 4: "shutdown", 6: "crashed", 7: "suspended"}
LIBVIRT_STATE_NAMES = {0: "nostate", 1: "running", 2: "blocked", 3: "paused", 4: "shutting down",
                       5: "shut off", 6: "crashed", 7: "pmsuspended"}


def is_nova_domain(d: Domain, name_pattern: str = DEFAULT_NAME_PATTERN) -> bool:
    """Whether Nova made this domain: its metadata, or failing that its name pattern.
    Domains made by hand (no metadata, another name) are not ours to judge."""
    return d.nova_ns is not None or _pattern(name_pattern).match(d.name) is not None


@functools.lru_cache(maxsize=8)
def _pattern(name_pattern: str) -> re.Pattern:
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


def domain_evidence(d: Domain) -> dict:
    return {"host": d.host, "name": d.name, "uuid": d.uuid,
            "state": LIBVIRT_STATE_NAMES.get(d.state, str(d.state)), "active": d.active,
            "nova_metadata": d.nova_ns, "display_name": d.nova_name,
            "vcpus": d.vcpus, "memory_mb": d.memory_mb}


def hosts_complete(snap: Snapshot, hosts) -> tuple[bool, str, str]:
    """(all complete, first partial scope, its reason) for the domain facts of `hosts`."""
    for h in sorted(hosts):
        scope = host_scope(h)
        if not snap.is_complete(Domain, scope):
            return False, scope, snap.why_incomplete(Domain, scope)
    return True, "", ""


def collected_hosts(snap: Snapshot) -> set[str]:
    """Hosts the hypervisor source attempted (complete or not)."""
    return {s.split(":", 1)[1] for s in snap.scopes(Domain)}
