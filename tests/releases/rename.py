"""Each scenario case's facts in a namespace of its own, so that every case of every
database check lives in one database set (the corpus) and no case can see another's objects.

What the checks join on is renamed per case: every uuid (also inside other text: a
connection_info, an IQN, a subject id) becomes a fresh one of the case's; host names,
projects and users get the case's prefix (`k017-hv1`: a prefix keeps what the services
derive from a name -- `cinder1@lvm#pool` from `cinder1@lvm`, an FQDN from its host); row ids
get the case's offset.  Two things are shared on purpose and kept by name: the cells (the
corpus has one database per cell name) and Cinder's volume types (quota-usage-drift relates
a usage row's resource to its type by name).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TAG = re.compile(r"k(\d{3})-")
# fields whose values are names the checks join on: a host as Nova, Cinder, Neutron and
# Placement write it, a project, a user
PREFIXED = frozenset(
    {
        "host",
        "node",
        "hypervisor_hostname",
        "source_compute",
        "dest_compute",
        "last_event_host",
        "attached_host",
        "project_id",
        "user_id",
    }
)
# a compute node's resource provider is named after its hypervisor_hostname
PREFIXED_IN = {("placement.resource_provider", "name")}
# integer primary keys the scenarios number from 1, what refers to them (a reservation's
# usage row), and Nova's soft-delete marker (an instance's `deleted` is its id, or 0)
ROW_IDS = frozenset(
    {
        ("nova.instance", "id"),
        ("nova.instance", "deleted"),
        ("nova.instance_network", "deleted"),
        ("nova.migration", "id"),
        ("nova.block_device_mapping", "id"),
        ("quota.cinder_usage", "id"),
        ("quota.cinder_reservation", "id"),
        ("quota.cinder_reservation", "usage_id"),
        ("quota.nova_usage", "id"),
    }
)
ID_STEP = 100_000


def shared_uuid(what: str, name: str) -> str:
    """The corpus's one uuid of a shared object (a cell, a volume type) by its name."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"osfsck-release-corpus/{what}/{name}"))


class Namespace:
    """Case `index`'s names.  `shared`: uuids the case uses for the corpus's shared
    objects (its cells', its volume types'), old -> the corpus's."""

    def __init__(self, index: int, shared: dict[str, str]):
        self.index = index
        self.tag = f"k{index:03d}-"
        self.shared = dict(shared)
        self.uuids: dict[str, str] = {}  # old -> new, the case's own
        self.back: dict[str, str] = {}  # new -> old

    # -- forwards -------------------------------------------------------------------------
    def uuid(self, old: str) -> str:
        if old in self.shared:
            return self.shared[old]
        new = self.uuids.get(old)
        if new is None:
            new = f"{self.index:08x}-ca5e-4000-8000-{len(self.uuids) + 1:012x}"
            self.uuids[old], self.back[new] = new, old
        return new

    def text(self, value: str) -> str:
        return UUID.sub(lambda m: self.uuid(m.group(0)), value)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, tuple):
            return tuple(self.value(v) for v in value)
        return value

    def fact(self, kind: str, fact: Any) -> Any:
        """`fact` (of `kind`) with the case's names."""
        out = {}
        for name, v in zip(fact._fields, fact):
            if isinstance(v, str) and v and (name in PREFIXED or (kind, name) in PREFIXED_IN):
                v = self.tag + self.text(v)
            elif (kind, name) in ROW_IDS and isinstance(v, int) and v:
                v = v + self.index * ID_STEP
            else:
                v = self.value(v)
            out[name] = v
        return type(fact)(**out)

    # -- backwards --------------------------------------------------------------------------
    def original(self, value: Any) -> Any:
        """A value of this case's (a subject id, a message, evidence) in the scenario's own
        names: its uuids back, its prefix dropped."""
        if isinstance(value, str):
            back = {**{new: old for old, new in self.shared.items()}, **self.back}
            return UUID.sub(lambda m: back.get(m.group(0), m.group(0)), value).replace(self.tag, "")
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            return type(value)(*(self.original(v) for v in value))
        if isinstance(value, (list, tuple, set, frozenset)):
            return type(value)(self.original(v) for v in value)
        if isinstance(value, dict):
            return {self.original(k): self.original(v) for k, v in value.items()}
        return value


def owners(value: Any, spaces: dict[int, Namespace]) -> set[int]:
    """The cases whose names appear in `value` (a fact, a subject id, any text)."""
    found: set[int] = set()
    if isinstance(value, str):
        for m in UUID.finditer(value):
            i = int(m.group(0)[:8], 16)
            if m.group(0)[9:13] == "ca5e" and i in spaces and m.group(0) in spaces[i].back:
                found.add(i)
        found |= {int(m.group(1)) for m in TAG.finditer(value) if int(m.group(1)) in spaces}
    elif isinstance(value, (tuple, list)):
        for v in value:
            found |= owners(v, spaces)
    return found
