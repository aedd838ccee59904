"""Rows whose stored columns a fact does not take as they are: JSON text to read (an
instance's network info cache, a volume's connection_info) and Designate's undashed ids.
Every other kind's query gives its fact's fields in order (tests/sources/test_*_db_source.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from osfsck.model.facts.base import FactType
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
    ports, addresses = network_info_ports(info) if info and not deleted else ((), ())
    return tuple.__new__(InstanceNetwork, (cell, uuid_, deleted, hostname, display_name, ports, addresses, updated))


def with_iscsi_paths(kind: FactType) -> Callable[[Row], Any]:
    """A row with its connection_info -> the fact, `iscsi_paths` read from that text."""
    at = kind._fields.index("connection_info")
    assert kind._fields[at + 1] == "iscsi_paths"

    def make(row: Row) -> Any:
        return tuple.__new__(kind, (*row[: at + 1], iscsi_paths(row[at]), *row[at + 1 :]))

    return make


def dashed(hex_id: str | None) -> str | None:
    """Designate's CHAR(32) uuid -> the dashed form Nova and Neutron use; other text as is."""
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
