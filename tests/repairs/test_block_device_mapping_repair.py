"""soft-delete-block-device-mapping against Nova's real schema (an API database whose
cell_mappings names the cell database), on SQLite and on a real MariaDB."""

from __future__ import annotations

import pytest

from osfsck.checks.evidence import bdm_evidence
from osfsck.model.facts.nova import BlockDeviceMapping
from osfsck.model.finding import Finding, Severity
from osfsck.model.refs import ObjectRef
from osfsck.repairs.base import RepairError
from osfsck.repairs.nova_cell.block_device_mappings import SoftDeleteBlockDeviceMapping
from osfsck_lab import database
from tests.repairs.helpers import (
    RELEASE,
    T0,
    apply,
    context,
    execute,
    plan_of,
    refused_again_then_undone,
    rows,
)

U = "22222222-bbbb-4000-8000-000000000001"
V1, V2 = "11111111-aaaa-4000-8000-000000000001", "11111111-aaaa-4000-8000-000000000002"


def _bdm(id_, volume_id, attachment_id, device):
    return {
        "id": id_,
        "uuid": f"bdm-{id_}",
        "instance_uuid": U,
        "volume_id": volume_id,
        "attachment_id": attachment_id,
        "device_name": device,
        "source_type": "volume",
        "destination_type": "volume",
        "boot_index": None,
        "deleted": 0,
        "created_at": T0,
        "updated_at": T0,
    }


@pytest.fixture
def nova(new_db):
    api, cell = new_db("nova_api"), new_db("nova_cell1")
    database.create(api, "nova_api", RELEASE)
    database.create(cell, "nova", RELEASE)
    database.insert_rows(
        api,
        "cell_mappings",
        [
            {
                "uuid": "c1",
                "name": "cell1",
                "transport_url": "none:///",
                "database_connection": cell,
                "disabled": 0,
                "created_at": T0,
            }
        ],
    )
    database.insert_rows(cell, "instances", [{"uuid": U, "deleted": 0, "host": "hv1", "created_at": T0}])
    database.insert_rows(
        cell, "block_device_mapping", [_bdm(1, V1, "att-1", "/dev/vdb"), _bdm(2, V2, None, "/dev/vdc")]
    )
    ctx = context(api_url=api)
    yield cell, ctx
    ctx.close()


def _finding(row: dict) -> Finding:
    given = {"cell": "cell1", "iscsi_paths": (), "created_at": T0, "updated_at": T0}
    b = BlockDeviceMapping(**given, **{k: row[k] for k in BlockDeviceMapping._fields if k not in given})
    return Finding(
        "VL102",
        "dangling-block-device-mapping",
        Severity.MEDIUM,
        ObjectRef("block-device-mapping", b.uuid, "cell:cell1"),
        "m",
        evidence={"block_device_mapping": bdm_evidence(b)},
    )


@pytest.mark.parametrize("bdm_id", [1, 2], ids=["with-attachment-id", "pre-queens-null-attachment-id"])
def test_soft_delete_settles_refuses_twice_and_undoes(nova, bdm_id):
    cell, ctx = nova
    before = rows(cell, "block_device_mapping")
    repair = SoftDeleteBlockDeviceMapping()
    plan = plan_of(repair, _finding(before[bdm_id]))
    entry = apply(repair, plan, ctx)
    after = rows(cell, "block_device_mapping")
    assert after[bdm_id]["deleted"] == bdm_id and after[bdm_id]["deleted_at"] is not None
    assert after[bdm_id]["updated_at"] == before[bdm_id]["updated_at"]  # oslo.db's soft_delete keeps it
    assert all(after[i] == before[i] for i in before if i != bdm_id)
    refused_again_then_undone(repair, plan, ctx, entry)
    assert rows(cell, "block_device_mapping") == before


def test_a_mapping_that_now_names_another_attachment_is_left_alone(nova):
    cell, ctx = nova
    before = rows(cell, "block_device_mapping")
    repair = SoftDeleteBlockDeviceMapping()
    plan = plan_of(repair, _finding(before[1]))
    execute(cell, "UPDATE block_device_mapping SET attachment_id = 'att-new' WHERE id = 1")  # re-attached meanwhile
    with pytest.raises(RepairError, match="block_device_mapping row 1,.* no longer in the state"):
        apply(repair, plan, ctx)
    assert rows(cell, "block_device_mapping")[1]["deleted"] == 0
