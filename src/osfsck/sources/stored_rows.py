"""Rows whose stored columns a fact does not take as they are: JSON text to read (an
instance's network info cache, a volume's connection_info) and Designate's undashed ids.
Every other kind's query gives its fact's fields in order (tests/sources/test_*_db_source.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from osfsck.model.facts.base import FactType, kind_of
from osfsck.model.facts.cinder import CinderAttachment
from osfsck.model.facts.dns import DesignateRecord, absolute
from osfsck.model.facts.nova import BlockDeviceMapping, InstanceNetwork
from osfsck.sources.connection_info import iscsi_paths
from osfsck.sources.dns.mapping import record_data
from osfsck.sources.network_info import network_info_ports

Row = tuple[Any, ...]


def instance_network(row: Row) -> InstanceNetwork:
    """(cell, uuid, deleted, hostname, display_name, network_info, updated_at) -> fact."""
    cell, uuid_, deleted, hostname, display_name, info, updated = row
    if display_name == hostname:  # as Nova derives one from the other: one object
        display_name = hostname
    ports, addresses = network_info_ports(info) if info and not deleted else ((), ())
    return tuple.__new__(InstanceNetwork, (cell, uuid_, deleted, hostname, display_name, ports, addresses, updated))


def with_iscsi_paths(kind: FactType) -> Callable[[Row], Any]:
    """A row with its connection_info where the fact has `iscsi_paths` -> the fact: the paths
    read from that text, the text let go of (model/facts/nova.py, cinder.py)."""
    at = kind._fields.index("iscsi_paths")

    def make(row: Row) -> Any:
        return tuple.__new__(kind, (*row[:at], iscsi_paths(row[at]), *row[at + 1 :]))

    return make


def dashed(hex_id: str | uuid.UUID | None) -> str | None:
    """Designate's CHAR(32) uuid -> the dashed form Nova and Neutron use; other text as is.
    On PostgreSQL Designate's ids are native `uuid`s, which the driver gives as uuid.UUID."""
    if isinstance(hex_id, uuid.UUID):
        return str(hex_id)
    if not hex_id:
        return hex_id
    try:
        return str(uuid.UUID(hex_id))
    except ValueError:
        return hex_id


def designate_record(row: Row) -> DesignateRecord:
    """A row of the query (ids as Designate stores them, 32 hex digits) -> fact."""
    (
        scope,
        rid,
        rsid,
        zid,
        zone,
        name,
        rtype,
        ttl,
        data,
        mtype,
        mid,
        plugin,
        extra,
        status,
        action,
        created,
        updated,
    ) = row
    rtype = (rtype or "").upper()
    return tuple.__new__(
        DesignateRecord,
        (
            scope,
            dashed(rid),
            dashed(rsid),
            dashed(zid),
            absolute(zone),
            absolute(name),
            rtype,
            ttl,
            record_data(rtype, data),
            mtype,
            dashed(mid) if mid else None,
            plugin,
            extra,
            status,
            action,
            created,
            updated,
        ),
    )


CONVERTERS: dict[FactType, Callable[[Row], Any]] = {
    InstanceNetwork: instance_network,
    BlockDeviceMapping: with_iscsi_paths(BlockDeviceMapping),
    CinderAttachment: with_iscsi_paths(CinderAttachment),
    DesignateRecord: designate_record,
}


def as_fact(kind: FactType) -> Callable[[Row], Any]:
    """row -> fact, with no Python frame per row where the row is the fact (`kind._make`
    has one)."""
    return CONVERTERS.get(kind) or partial(tuple.__new__, kind)


# Fields whose values repeat across many rows: a cell, a host, a project, a state, a
# flavor's size.  The driver makes a new object for every row's value; one object per
# distinct value keeps the facts of a large cloud much smaller (an instance row of the L
# lab: 739 -> ~420 bytes; tools/bench.py's peak RSS).  Ids and timestamps, nearly all
# distinct, are left alone: a table of them would cost more than it saves.
REPEATED = frozenset(
    {
        "scope", "cell", "host", "node", "hypervisor_hostname", "hypervisor_type", "binary",
        "vm_state", "task_state", "status", "attach_status", "migration_status", "action",
        "project_id", "user_id", "cell_uuid", "network_id", "subnet_id", "router_id",
        "security_group_id", "floating_network_id", "volume_type_id", "device_owner",
        "vif_type", "attached_host", "source_compute", "dest_compute", "migration_type",
        "source_type", "resource_class", "provider_uuid", "root_provider_uuid",
        "consumer_type", "resource", "zone", "type", "managed_resource_type",
        "managed_plugin_name", "last_event", "last_event_host",
        "vcpus", "memory_mb", "root_gb", "size", "used",
    }
)  # fmt: skip


# Ids that several kinds of one database read hold: an instance's uuid is in its row, its
# network info cache, its block device mappings, migrations and actions; a Placement
# consumer's in each of its allocations; a Neutron port's id in its bindings, addresses
# and security groups.  One object per id within the read (its table is dropped after).
SAME_ID = {
    ("nova.instance_mapping", "instance_uuid"): "instance",  # the API database's: see NovaDatabaseSource
    ("nova.instance", "uuid"): "instance",
    ("nova.instance_network", "uuid"): "instance",
    ("nova.block_device_mapping", "instance_uuid"): "instance",
    ("nova.migration", "instance_uuid"): "instance",
    ("nova.instance_action", "instance_uuid"): "instance",
    # oslo.db's soft_delete sets deleted = id: a deleted instance's marker is its id
    ("nova.instance", "id"): "instance row",
    ("nova.instance", "deleted"): "instance row",
    ("nova.instance_network", "deleted"): "instance row",
    ("placement.consumer", "uuid"): "consumer",
    ("placement.allocation", "consumer_uuid"): "consumer",
    ("neutron.port", "id"): "port",
    ("neutron.port_binding", "port_id"): "port",
    ("neutron.ip_allocation", "port_id"): "port",
    ("neutron.port_security_group", "port_id"): "port",
}


def id_table(same: str) -> str:
    """The name of the table of the ids SAME_ID calls `same` (no field is named so)."""
    return "id of " + same


# Kinds whose times repeat within a row and across rows: Nova's delete saves the instance,
# then soft-deletes it (updated_at and deleted_at one second at MySQL's precision,
# docs/write-paths.md), and instances built together share their times.  One table of times
# per read for every time field of these kinds (~48 bytes per repeat; 4 of 5 instance rows of
# a large cloud are deleted ones).
SHARED_TIMES = frozenset(
    {
        "nova.instance", "nova.archived_instance", "nova.instance_network", "nova.instance_mapping",
        "nova.build_request", "nova.block_device_mapping", "nova.migration", "nova.instance_action",
    }
)  # fmt: skip


def repeated_fields(kind: FactType) -> list[tuple[int, str]]:
    """(position, the name of its table of shared values) of each field of `kind` whose
    values repeat."""
    out = []
    times = kind._datetime_fields if kind_of(kind) in SHARED_TIMES else ()
    for i, name in enumerate(kind._fields):
        same = SAME_ID.get((kind_of(kind), name))
        if same is not None:
            out.append((i, id_table(same)))
        elif name in times:
            out.append((i, "time of nova"))  # nor so
        elif name in REPEATED:
            out.append((i, name))
    return out


def facts_of(kind: FactType, shared: dict[str, dict[Any, Any]]) -> Callable[[list[Row]], list[Any]]:
    """A batch of rows -> their facts, the values of the kind's repeated fields taken from
    `shared` (one per database read, a table per field name: equal values become one
    object; per name, as 1 == True == Decimal(1) must not turn one column's value into
    another's type).  Column-wise, in C: no Python frame per row or value (a million rows
    cost well under a second more)."""
    make = as_fact(kind)
    at = repeated_fields(kind)
    if not at:
        return lambda rows: list(map(make, rows))
    new = partial(tuple.__new__, kind)
    tables = [(i, shared.setdefault(name, {})) for i, name in at]
    converted = kind in CONVERTERS  # else a row is the fact's fields in order

    def facts(rows: list[Row]) -> list[Any]:
        if not rows:
            return []
        columns: list[Any] = list(zip(*(map(make, rows) if converted else rows)))
        for i, table in tables:
            columns[i] = map(table.setdefault, columns[i], columns[i])
        return list(map(new, zip(*columns)))

    return facts
