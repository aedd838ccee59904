"""One SELECT per fact kind; each returns the fact's fields in order, so a row becomes a fact
with one tuple allocation and nothing else (the scope is a literal column).  Flags come as
stored (0/1, and `instances.deleted` as Nova's marker): no per-row conversion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, func, literal, or_, select

from osfsck.model.cell_slice import CellKeys
from osfsck.model.facts.base import FactType
from osfsck.model.facts.nova import (
    API_SCOPE,
    ArchivedInstance,
    BlockDeviceMapping,
    BuildRequest,
    ComputeNode,
    ComputeService,
    Instance,
    InstanceMapping,
    InstanceNetwork,
    Migration,
)
from osfsck.model.facts.rpc import InstanceAction
from osfsck.sources.db_read import batched
from osfsck.sources.nova_db import tables as t
from osfsck.sources.nova_db.quota_queries import QUOTA_API_KINDS, QUOTA_CELL_KINDS


def instance_mappings():
    im, cm = t.instance_mappings, t.cell_mappings
    return select(
        literal(API_SCOPE),
        im.c.instance_uuid,
        cm.c.uuid,
        im.c.project_id,
        im.c.queued_for_delete,
        im.c.created_at,
        im.c.updated_at,
    ).select_from(im.outerjoin(cm, im.c.cell_id == cm.c.id))


def instance_mappings_part(keys: CellKeys) -> list:
    """The mappings a run of `keys.cells` reads (model/cell_slice.py): those to its cells or
    to no cell yet, then -- the second pass -- those of its own instances, wherever they
    point (a wrong-cell mapping must not look like none), by uuid."""
    im, cm = t.instance_mappings, t.cell_mappings
    ids = select(cm.c.id).where(cm.c.uuid.in_(sorted(keys.cell_uuids)))
    out = [instance_mappings().where(or_(im.c.cell_id.in_(ids), im.c.cell_id.is_(None)))]
    return out + [instance_mappings().where(im.c.instance_uuid.in_(uuids)) for uuids in batched(keys.instances)]


def build_requests():
    b = t.build_requests
    return select(literal(API_SCOPE), b.c.instance_uuid, b.c.project_id, b.c.created_at, b.c.updated_at)


def instances(cell: str):
    i = t.instances
    return select(
        literal(cell),
        i.c.uuid,
        i.c.id,
        i.c.host,
        i.c.node,
        i.c.vm_state,
        i.c.task_state,
        i.c.power_state,
        i.c.deleted,
        i.c.hidden,
        i.c.project_id,
        i.c.vcpus,
        i.c.memory_mb,
        i.c.root_gb,
        i.c.created_at,
        i.c.updated_at,
        i.c.deleted_at,
    )


def archived_instances(cell: str):
    s = t.shadow_instances
    return select(literal(cell), s.c.uuid, s.c.host, s.c.deleted_at)


def migrations(cell: str):
    m = t.migrations
    return select(
        literal(cell),
        m.c.id,
        m.c.uuid,
        m.c.instance_uuid,
        m.c.migration_type,
        m.c.status,
        m.c.source_compute,
        m.c.dest_compute,
        m.c.created_at,
        m.c.updated_at,
    ).where(m.c.deleted == 0)


def compute_services(cell: str):
    s = t.services
    return select(
        literal(cell),
        s.c.host,
        s.c.disabled,
        s.c.forced_down,
        s.c.updated_at,
        s.c.last_seen_up,
    ).where(s.c.binary == "nova-compute", s.c.deleted == 0)


def compute_nodes(cell: str):
    n = t.compute_nodes
    return select(literal(cell), n.c.uuid, n.c.host, n.c.hypervisor_hostname, n.c.hypervisor_type).where(
        n.c.deleted == 0
    )


def block_device_mappings(cell: str):
    b = t.block_device_mapping
    return select(
        literal(cell),
        b.c.id,
        b.c.uuid,
        b.c.instance_uuid,
        b.c.volume_id,
        b.c.attachment_id,
        b.c.device_name,
        b.c.source_type,
        b.c.boot_index,
        b.c.connection_info,
        b.c.created_at,
        b.c.updated_at,
    ).where(b.c.deleted == 0, b.c.destination_type == "volume")


def instance_networks(cell: str):
    """Every instance's names; a live one's network info cache too (a deleted instance's
    cache is not read: nothing would use it)."""
    i, c = t.instance_names, t.instance_info_caches
    return select(
        literal(cell),
        i.c.uuid,
        i.c.deleted,
        i.c.hostname,
        i.c.display_name,
        c.c.network_info,
        c.c.updated_at,
    ).select_from(i.outerjoin(c, (c.c.instance_uuid == i.c.uuid) & (i.c.deleted == 0)))


def instance_actions(cell: str):
    """The last action of each live instance that has a task_state, with its last event.
    instance_actions is never read whole: it keeps every action of every instance ever
    (instance_destroy leaves it), so the few instances in a task lead, and Nova's index on
    instance_actions.instance_uuid finds their actions."""
    i, a, e = t.instances, t.instance_actions, t.instance_actions_events
    later = t.instance_actions.alias("later")
    last = select(func.max(later.c.id)).where(later.c.instance_uuid == i.c.uuid).scalar_subquery()

    def last_event(col):
        return select(col).where(e.c.action_id == a.c.id).order_by(e.c.id.desc()).limit(1).scalar_subquery()

    return (
        select(
            literal(cell),
            a.c.instance_uuid,
            a.c.action,
            a.c.request_id,
            a.c.start_time,
            a.c.finish_time,
            last_event(e.c.event),
            last_event(func.coalesce(e.c.finish_time, e.c.start_time)),
            last_event(e.c.host),
        )
        .select_from(i.join(a, a.c.instance_uuid == i.c.uuid))
        .where(i.c.deleted == 0, i.c.task_state.isnot(None), a.c.id == last)
    )


API_KINDS: dict[FactType, Callable[..., Select[Any]]] = {
    InstanceMapping: instance_mappings,
    BuildRequest: build_requests,
    **QUOTA_API_KINDS,
}
CELL_KINDS: dict[FactType, Callable[..., Select[Any]]] = {
    Instance: instances,
    ArchivedInstance: archived_instances,
    Migration: migrations,
    ComputeService: compute_services,
    ComputeNode: compute_nodes,
    BlockDeviceMapping: block_device_mappings,
    InstanceNetwork: instance_networks,
    InstanceAction: instance_actions,
    **QUOTA_CELL_KINDS,
}
