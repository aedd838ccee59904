"""connection_info as the services store it (tests/sources/fixtures/connection_info, see its
README for the upstream writer of every key): Cinder's volume_attachment keeps the driver's
answer flattened, Nova's block_device_mapping keeps it nested under "data".  Both must give
the same target, path by path, and no credential may reach a fact."""

import datetime as dt
import json
from pathlib import Path

import pytest

from osfsck.config.settings import CinderSettings, Database, NovaSettings
from osfsck.model.facts.cinder import CinderAttachment
from osfsck.model.facts.nova import BlockDeviceMapping
from osfsck.model.snapshot import Snapshot
from osfsck.sources.cinder_db import CinderDatabaseSource
from osfsck.sources.connection_info import kernel_lun, volume_target
from osfsck.sources.nova_db import NovaDatabaseSource
from osfsck_lab import database, schemas

FIXTURES = Path(__file__).parent / "fixtures" / "connection_info"
CASES = {p.stem: json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))}
T0 = dt.datetime(2026, 3, 1, 12, 0, 0)
INSTANCE = "9f0b7c52-3d4e-4b8a-a1f2-6c7d8e9f0a1b"
CELL1 = "11111111-1111-4111-8111-111111111111"
# what a credential looks like in the fixtures: CHAP passwords and a Ceph keyring's key
SECRETS = ("CHAPpass", "AQBrk0Zl")


def _paths(case) -> tuple:
    return tuple(tuple(p) for p in case["paths"])


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("column", ["attachment_connection_info", "bdm_connection_info"])
def test_both_shapes_give_the_targets_os_brick_connects(name, column):
    case = CASES[name]
    text = case[column]
    if text is None:
        assert volume_target(text) is None
        return
    target = volume_target(text)
    assert target.paths == _paths(case)
    assert target.iqns == tuple(dict.fromkeys(p[1] for p in case["paths"]))
    if case["paths"]:
        assert target.driver_volume_type == "iscsi"
        assert (target.target_portal, target.target_iqn) == tuple(case["paths"][0][:2])
    elif text != "{}":
        assert target.driver_volume_type in ("rbd", "nfs") and target.name


def test_the_fixtures_cover_every_shape_the_issue_names():
    backends = " ".join(c["backend"] for c in CASES.values())
    for what in ("LVM, tgtadm", "LIO", "Pure", "ONTAP", "RBD", "NFS", "shelve-offload"):
        assert what in backends
    assert {c["release"] for c in CASES.values()} >= {"2024.1", "2026.2"}
    # Cinder 26.0.0 (2025.1) added enforce_multipath to what _connection_create returns
    for c in CASES.values():
        if c["attachment_connection_info"] and c["attachment_connection_info"] != "{}":
            stored = json.loads(c["attachment_connection_info"])
            assert "data" not in stored and stored["attachment_id"] == c["attachment_id"]
            assert ("enforce_multipath" in stored) == (c["release"] == "2026.2")
        if c["bdm_connection_info"]:
            assert json.loads(c["bdm_connection_info"])["serial"] == c["volume_id"]


@pytest.mark.parametrize(
    "lun, mode, kernel",
    [
        (1, None, 1),
        (0, "SAM", 0),
        (255, "SAM2", 255),
        (256, "SAM2", 16640),
        (1, "SAM3-flat", 16385),
        (1, "transparent", 1),
        (1, "SAM4", None),
        ("1", None, None),
        (True, None, None),
        (-1, None, None),
        (3, ["SAM2"], None),
    ],
)
def test_the_kernel_numbers_luns_as_os_brick_addresses_them(lun, mode, kernel):
    assert kernel_lun(lun, mode) == kernel


def test_a_pure_lun_above_255_is_flat_addressed():
    conn = json.loads(CASES["pure-shared-iqn-multipath-2026.2"]["attachment_connection_info"])
    conn["target_luns"] = [300] * len(conn["target_luns"])
    assert {lun for _, _, lun in volume_target(json.dumps(conn)).paths} == {16684}


def _store(tmp_path, release):
    """Every fixture's texts in the real columns of both services' schemas."""
    urls = database.database_urls(tmp_path, None, "t", ["cinder", "nova_api", "nova_cell1"])
    database.create(urls["cinder"], "cinder", release)
    database.insert_rows(
        urls["cinder"],
        "volume_types",
        [{"id": "vt-1", "name": "t", "deleted": False, "is_public": True, "created_at": T0}],
    )
    database.insert_rows(
        urls["cinder"],
        "volumes",
        [
            {
                "id": c["volume_id"],
                "status": "in-use",
                "attach_status": "attached",
                "deleted": False,
                "size": 1,
                "volume_type_id": "vt-1",
                "use_quota": True,
                "created_at": T0,
            }
            for c in CASES.values()
        ],
    )
    database.insert_rows(
        urls["cinder"],
        "volume_attachment",
        [
            {
                "id": c["attachment_id"] or f"legacy-{n}",
                "volume_id": c["volume_id"],
                "instance_uuid": INSTANCE,
                "attached_host": "hv1",
                "attach_status": "attached",
                "connection_info": c["attachment_connection_info"],
                "deleted": False,
                "created_at": T0,
            }
            for n, c in enumerate(CASES.values())
        ],
    )
    database.create(urls["nova_api"], "nova_api", release)
    database.create(urls["nova_cell1"], "nova", release)
    database.insert_rows(
        urls["nova_api"],
        "cell_mappings",
        [
            {
                "id": 1,
                "uuid": CELL1,
                "name": "cell1",
                "transport_url": "none:///",
                "database_connection": urls["nova_cell1"],
                "disabled": False,
                "created_at": T0,
            }
        ],
    )
    database.insert_rows(
        urls["nova_cell1"],
        "block_device_mapping",
        [
            {
                "id": n,
                "uuid": f"b{n}",
                "instance_uuid": INSTANCE,
                "volume_id": c["volume_id"],
                "attachment_id": c["attachment_id"],
                "source_type": "volume",
                "destination_type": "volume",
                "connection_info": c["bdm_connection_info"],
                "deleted": 0,
                "created_at": T0,
            }
            for n, c in enumerate(CASES.values(), 1)
        ],
    )
    return urls


@pytest.mark.parametrize("release", schemas.releases())
def test_read_from_both_databases_the_targets_agree_and_no_secret_survives(tmp_path, release):
    urls = _store(tmp_path, release)
    snap = Snapshot(taken_at=T0)
    for src in (
        CinderDatabaseSource(CinderSettings(database=Database(urls["cinder"]))),
        NovaDatabaseSource(NovaSettings(api_database=Database(urls["nova_api"]))),
    ):
        assert all(s.status == "ok" for s in src.collect({CinderAttachment, BlockDeviceMapping}, snap, snap))
    atts = {a.volume_id: a for a in snap.of(CinderAttachment)}
    bdms = {b.volume_id: b for b in snap.of(BlockDeviceMapping)}
    assert len(atts) == len(bdms) == len(CASES)
    for name, c in CASES.items():
        att, bdm = atts[c["volume_id"]], bdms[c["volume_id"]]
        # both keep the paths only, never the text with its credentials
        assert not any(s in text for text in (repr(att), repr(bdm)) for s in SECRETS), name
        assert bdm.iscsi_paths == _paths(c), name
        if c["attachment_connection_info"] and c["attachment_connection_info"] != "{}":
            assert att.iscsi_paths == volume_target(c["attachment_connection_info"]).paths, name
