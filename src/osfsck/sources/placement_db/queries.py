"""One SELECT per Placement fact kind, the fact's fields in order (see nova_db/queries.py).

Placement stores integer ids where its API shows names: resource classes, providers,
projects and users are resolved here with JOINs, so the 10^5-10^6 allocation rows of a
large cloud become facts with no Python work per row.

Resource class names: Placement's own cache (`placement/attribute_cache.py`) reads them from
`resource_classes`, whose standard rows Placement inserts at start-up with the id of the
class's position in os-resource-classes' STANDARDS (0 = VCPU, 1 = MEMORY_MB, ...;
`resource_class._resource_classes_sync`); custom classes have ids from 10000.  A database
that Placement has not served since `db sync` lacks those standard rows, so a class id
with no row is named from the same list: an allocation is never lost to a missing name.
"""

from __future__ import annotations

from sqlalchemy import DateTime, Float, Integer, String, case, column, func, literal, or_, select, table

from osfsck.model.cell_slice import CellKeys
from osfsck.model.facts.placement import (
    PLACEMENT_SCOPE,
    STANDARD_CLASSES,
    Allocation,
    Consumer,
    Inventory,
    ResourceProvider,
)
from osfsck.sources.db_read import batched

resource_providers = table(
    "resource_providers",
    column("id", Integer),
    column("uuid", String),
    column("name", String),
    column("generation", Integer),
    column("root_provider_id", Integer),
    column("parent_provider_id", Integer),
    column("created_at", DateTime),
    column("updated_at", DateTime),
)
inventories = table(
    "inventories",
    column("resource_provider_id", Integer),
    column("resource_class_id", Integer),
    column("total", Integer),
    column("reserved", Integer),
    column("min_unit", Integer),
    column("max_unit", Integer),
    column("step_size", Integer),
    column("allocation_ratio", Float),
)
allocations = table(
    "allocations",
    column("resource_provider_id", Integer),
    column("consumer_id", String),
    column("resource_class_id", Integer),
    column("used", Integer),
)
consumers = table(
    "consumers",
    column("uuid", String),
    column("project_id", Integer),
    column("user_id", Integer),
    column("generation", Integer),
    column("consumer_type_id", Integer),
    column("created_at", DateTime),
    column("updated_at", DateTime),
)
consumer_types = table("consumer_types", column("id", Integer), column("name", String))
projects = table("projects", column("id", Integer), column("external_id", String))
users = table("users", column("id", Integer), column("external_id", String))
resource_classes = table("resource_classes", column("id", Integer), column("name", String))


def _class_name(rows, rc):
    """The class's name from resource_classes, else its standard name by id."""
    standard = case({i: name for i, name in enumerate(STANDARD_CLASSES)}, value=rows.c.resource_class_id)
    return func.coalesce(rc.c.name, standard)


def placement_providers():
    rp = resource_providers
    root, parent = rp.alias("root"), rp.alias("parent")
    return select(
        literal(PLACEMENT_SCOPE),
        rp.c.uuid,
        rp.c.name,
        rp.c.generation,
        root.c.uuid,
        parent.c.uuid,
        rp.c.created_at,
        rp.c.updated_at,
    ).select_from(
        rp.outerjoin(root, rp.c.root_provider_id == root.c.id).outerjoin(parent, rp.c.parent_provider_id == parent.c.id)
    )


def placement_inventories():
    i, rp, rc = inventories, resource_providers, resource_classes
    return select(
        literal(PLACEMENT_SCOPE),
        rp.c.uuid,
        _class_name(i, rc),
        i.c.total,
        i.c.reserved,
        i.c.min_unit,
        i.c.max_unit,
        i.c.step_size,
        i.c.allocation_ratio,
    ).select_from(i.join(rp, i.c.resource_provider_id == rp.c.id).outerjoin(rc, i.c.resource_class_id == rc.c.id))


def placement_allocations():
    a, rp, rc = allocations, resource_providers, resource_classes
    return select(literal(PLACEMENT_SCOPE), a.c.consumer_id, rp.c.uuid, _class_name(a, rc), a.c.used).select_from(
        a.join(rp, a.c.resource_provider_id == rp.c.id).outerjoin(rc, a.c.resource_class_id == rc.c.id)
    )


def placement_consumers():
    c, p, u, t = consumers, projects, users, consumer_types
    return select(
        literal(PLACEMENT_SCOPE),
        c.c.uuid,
        p.c.external_id,
        u.c.external_id,
        c.c.generation,
        t.c.name,
        c.c.created_at,
        c.c.updated_at,
    ).select_from(
        c.outerjoin(p, c.c.project_id == p.c.id)
        .outerjoin(u, c.c.user_id == u.c.id)
        .outerjoin(t, c.c.consumer_type_id == t.c.id)
    )


KINDS = {
    ResourceProvider: placement_providers,
    Inventory: placement_inventories,
    Allocation: placement_allocations,
    Consumer: placement_consumers,
}


def cells_part(keys: CellKeys, kinds) -> dict:
    """The SELECTs for a run of `keys.cells` (model/cell_slice.py): the allocations on the
    providers of their compute nodes (by uuid, else by name, and those nested under them)
    and of their instances and migrations; the providers of their nodes and of those
    allocations, their inventories, and those consumers.  Nothing unless providers and
    allocations are both read."""
    if ResourceProvider not in kinds or Allocation not in kinds:
        return {}
    rp, a, c = resource_providers, allocations, consumers

    def nodes_ids(column, values):
        """The ids of the providers of these nodes (by uuid or by name), and of the
        providers nested under them."""
        node = rp.alias("node")
        matched = select(node.c.id).where(getattr(node.c, column).in_(values))
        return select(rp.c.id).where(or_(rp.c.id.in_(matched), rp.c.root_provider_id.in_(matched)))

    on_nodes = [nodes_ids("uuid", b) for b in batched(keys.nodes)]
    on_nodes += [nodes_ids("name", b) for b in batched(keys.node_names)]
    allocated = [placement_allocations().where(a.c.resource_provider_id.in_(q)) for q in on_nodes]
    allocated += [placement_allocations().where(a.c.consumer_id.in_(b)) for b in batched(keys.consumers)]

    def providers(got) -> list:
        used = {x.provider_uuid for x in got[Allocation]}
        return [placement_providers().where(rp.c.id.in_(q)) for q in on_nodes] + [
            placement_providers().where(rp.c.uuid.in_(b)) for b in batched(used)
        ]

    part = {Allocation: allocated, ResourceProvider: providers}
    if Inventory in kinds:
        part[Inventory] = lambda got: [
            placement_inventories().where(rp.c.uuid.in_(b)) for b in batched({p.uuid for p in got[ResourceProvider]})
        ]
    if Consumer in kinds:
        part[Consumer] = lambda got: [
            placement_consumers().where(c.c.uuid.in_(b))
            for b in batched(keys.consumers | {x.consumer_uuid for x in got[Allocation]})
        ]
    return part
