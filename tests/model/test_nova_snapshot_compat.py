"""A snapshot written before a Nova fact let go of a field reads back: the field's column
is dropped (BlockDeviceMapping's connection_info, whose iSCSI paths the fact keeps); any
other difference in a kind's fields is still one line naming both lists."""

from __future__ import annotations

import json

import pytest

from osfsck.model.facts.cinder import CinderAttachment
from osfsck.model.facts.nova import BlockDeviceMapping
from osfsck.model.snapshot import Snapshot, SnapshotFormatError
from tests.cli.bad_inputs import small_snapshot

KIND = BlockDeviceMapping.kind
OLD_FIELDS = [
    "cell", "id", "uuid", "instance_uuid", "volume_id", "attachment_id", "device_name", "source_type",
    "boot_index", "connection_info", "iscsi_paths", "created_at", "updated_at",
]  # fmt: skip


def with_column(data: dict, name: str, at: int, value, kind: str = KIND) -> dict:
    block = data["facts"][kind]
    block["fields"].insert(at, name)
    for row in block["rows"]:
        row.insert(at, value)
    return data


def test_a_snapshot_with_the_mappings_connection_info_reads_back_without_it():
    now = Snapshot.from_json(small_snapshot())
    assert now.of(BlockDeviceMapping)
    info = json.dumps({"driver_volume_type": "iscsi", "data": {"target_iqn": "iqn.x", "auth_password": "***"}})
    old = with_column(small_snapshot(), "connection_info", OLD_FIELDS.index("connection_info"), info)
    assert old["facts"][KIND]["fields"] == OLD_FIELDS
    back = Snapshot.from_json(old)
    assert back.facts == now.facts


def test_a_column_no_fact_ever_had_is_still_one_line():
    data = with_column(small_snapshot(), "colour", 3, "blue")
    with pytest.raises(SnapshotFormatError, match=r"facts.nova.block_device_mapping: fields .*'colour'.*expected"):
        Snapshot.from_json(data)


def test_a_retired_column_in_the_wrong_place_is_still_one_line():
    data = with_column(small_snapshot(), "connection_info", 0, None)
    data["facts"][KIND]["fields"].append(data["facts"][KIND]["fields"].pop(1))
    with pytest.raises(SnapshotFormatError, match="fields"):
        Snapshot.from_json(data)


def test_an_old_row_of_the_wrong_length_is_named():
    data = with_column(small_snapshot(), "connection_info", OLD_FIELDS.index("connection_info"), None)
    data["facts"][KIND]["rows"][0].pop()
    with pytest.raises(SnapshotFormatError, match=r"facts.nova.block_device_mapping.rows\[0\]"):
        Snapshot.from_json(data)


def test_a_snapshot_with_cinder_attachments_connection_info_reads_back_without_it():
    """Cinder's attachments let go of the same text (model/facts/cinder.py)."""
    now = Snapshot.from_json(small_snapshot())
    kind = CinderAttachment.kind
    if not now.of(CinderAttachment):
        pytest.skip("the small snapshot holds no Cinder attachment")
    at = list(CinderAttachment._fields).index("iscsi_paths")
    old = with_column(small_snapshot(), "connection_info", at, '{"target_iqn": "iqn.x"}', kind)
    assert Snapshot.from_json(old).facts == now.facts
