"""The Cinder repairs against Cinder's real schema, on SQLite and on a real MariaDB: each
applies, refuses a second time (the rows are no longer as seen), and undo restores the
rows exactly.  Findings carry the evidence the checks build, from facts the real Cinder
source read from the same database."""

from __future__ import annotations

import pytest

from osfsck.checks.evidence import attachment_evidence, volume_evidence
from osfsck.config.settings import CinderSettings, Database
from osfsck.model.facts.cinder import CinderAttachment, CinderVolume
from osfsck.model.finding import Finding, Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import RepairError
from osfsck.repairs.cinder.attachments import DeleteVolumeAttachment
from osfsck.repairs.cinder.volumes import ResetVolumeState, ResetVolumeStatus
from osfsck.sources.cinder_db import CinderDatabaseSource
from osfsck_lab import database
from tests.repairs.helpers import (
    T0,
    apply,
    attachment,
    cinder_db,
    context,
    execute,
    plan_of,
    refused_again_then_undone,
    rows,
    volume,
)

V1, V2, V3 = ("11111111-aaaa-4000-8000-00000000000%d" % i for i in (1, 2, 3))
GONE, LIVE = "22222222-bbbb-4000-8000-000000000001", "22222222-bbbb-4000-8000-000000000002"


def _facts(url):
    src = CinderDatabaseSource(CinderSettings(database=Database(url)))
    snap = Snapshot(taken_at=T0)
    src.collect(set(src.provides), snap, snap)
    return {v.id: v for v in snap.of(CinderVolume)}, {a.id: a for a in snap.of(CinderAttachment)}


def stale_attachment(url, aid) -> Finding:
    vols, atts = _facts(url)
    a = atts[aid]
    return Finding(
        "VL101",
        "stale-volume-attachment",
        Severity.MEDIUM,
        ObjectRef("volume-attachment", aid, "cinder"),
        "m",
        evidence={"attachment": attachment_evidence(a), "volume": volume_evidence(vols[a.volume_id])},
    )


def volume_finding(url, vid, code="VL101", **evidence) -> Finding:
    vols, _ = _facts(url)
    return Finding(
        code,
        "x",
        Severity.MEDIUM,
        ObjectRef("volume", vid, "cinder"),
        "m",
        evidence={"volume": volume_evidence(vols[vid]), **evidence},
    )


@pytest.fixture
def cinder(new_db):
    url = cinder_db(new_db("cinder"))
    database.insert_rows(
        url,
        "volumes",
        [
            volume(V1, "in-use", "attached"),
            volume(V2, "in-use", "attached", multiattach=1),
            volume(V3, "in-use", "attached"),
        ],
    )
    database.insert_rows(
        url,
        "volume_attachment",
        [
            attachment("a1", V1, GONE),
            attachment("a0", V1, GONE, "detached", deleted=1, deleted_at=T0, detach_time=T0),  # long gone
            attachment("a2", V2, GONE),
            attachment("a3", V2, LIVE, attached_host="hv2"),
        ],
    )
    ctx = context(url)
    yield url, ctx
    ctx.close()


def test_delete_volume_attachment_settles_refuses_twice_and_undoes(cinder):
    url, ctx = cinder
    atts, vols = rows(url, "volume_attachment"), rows(url, "volumes")
    repair = DeleteVolumeAttachment()
    plan = plan_of(repair, stale_attachment(url, "a1"))
    entry = apply(repair, plan, ctx)
    a1, v1 = rows(url, "volume_attachment")["a1"], rows(url, "volumes")[V1]
    assert (a1["deleted"], a1["attach_status"]) == (1, "detached")
    assert a1["deleted_at"] is not None and a1["detach_time"] is not None
    assert a1["updated_at"] == atts["a1"]["updated_at"]  # kept, as Cinder keeps it
    assert (v1["status"], v1["attach_status"], v1["updated_at"]) == ("available", "detached", vols[V1]["updated_at"])
    assert "volume_attachment a1 in cinder" in entry["result"] and "status 'in-use' -> 'available'" in entry["result"]

    with pytest.raises(RepairError, match="no longer the live attached attachment"):
        repair.before_image(plan, ctx)
    assert "restored" in refused_again_then_undone(repair, plan, ctx, entry)
    assert rows(url, "volume_attachment") == atts and rows(url, "volumes") == vols


def test_a_multi_attached_volume_keeps_its_status(cinder):
    url, ctx = cinder
    vols = rows(url, "volumes")
    repair = DeleteVolumeAttachment()
    entry = apply(repair, plan_of(repair, stale_attachment(url, "a2")), ctx)
    assert entry["before"]["holders"] == [["a3", "attached"]] and len(entry["before"]["rows"]) == 1
    assert rows(url, "volume_attachment")["a2"]["deleted"] == 1 and rows(url, "volumes") == vols


def test_a_multi_attached_volume_takes_the_status_cinder_derives_from_its_other_attachments(cinder):
    # cinder.db.api volume_detached: the first attach_status of the others, alphabetically
    url, ctx = cinder
    execute(url, "UPDATE volume_attachment SET attach_status = 'attaching' WHERE id = 'a3'")
    vols = rows(url, "volumes")
    repair = DeleteVolumeAttachment()
    entry = apply(repair, plan_of(repair, stale_attachment(url, "a2")), ctx)
    v2 = rows(url, "volumes")[V2]
    assert (v2["status"], v2["attach_status"], v2["updated_at"]) == ("attaching", "attaching", vols[V2]["updated_at"])
    repair.undo(entry, ctx)
    assert rows(url, "volumes") == vols


def _attached_mode(url, vid, n=1) -> None:
    database.insert_rows(
        url,
        "volume_admin_metadata",
        [
            {
                "id": n,
                "volume_id": vid,
                "key": "attached_mode",
                "value": "rw",
                "deleted": 0,
                "created_at": T0,
                "updated_at": T0,
            }
        ],
    )


def test_delete_volume_attachment_drops_attached_mode_as_finish_detach_does(cinder):
    url, ctx = cinder
    _attached_mode(url, V1)
    before = {t: rows(url, t) for t in ("volumes", "volume_attachment", "volume_admin_metadata")}
    repair = DeleteVolumeAttachment()
    entry = apply(repair, plan_of(repair, stale_attachment(url, "a1")), ctx)
    meta = rows(url, "volume_admin_metadata")[1]
    assert (
        meta["deleted"] == 1
        and meta["deleted_at"] is not None
        and meta["updated_at"] == before["volume_admin_metadata"][1]["updated_at"]
    )  # volume_admin_metadata_delete keeps updated_at
    repair.undo(entry, ctx)
    assert {t: rows(url, t) for t in before} == before


def test_all_or_nothing_when_the_volume_changed_after_the_before_image(cinder):
    url, ctx = cinder
    atts = rows(url, "volume_attachment")
    repair = DeleteVolumeAttachment()
    plan = plan_of(repair, stale_attachment(url, "a1"))
    before = repair.before_image(plan, ctx)
    execute(url, "UPDATE volumes SET status = 'attaching' WHERE id = :id", id=V1)  # an attach began meanwhile
    with pytest.raises(RepairError, match=f"volumes row {V1} is no longer in the state"):
        repair.apply(plan, ctx, before)
    assert rows(url, "volume_attachment") == atts  # the attachment's update was rolled back


def test_a_new_attachment_after_the_before_image_stops_the_repair(cinder):
    url, ctx = cinder
    repair = DeleteVolumeAttachment()
    plan = plan_of(repair, stale_attachment(url, "a1"))
    before = repair.before_image(plan, ctx)
    database.insert_rows(url, "volume_attachment", [attachment("a9", V1, LIVE, "attaching")])
    with pytest.raises(RepairError, match="attachments of volume .* changed since they were read"):
        repair.apply(plan, ctx, before)
    assert rows(url, "volume_attachment")["a1"]["deleted"] == 0


def test_reset_volume_status_sets_available_and_undo_restores_the_update_time(cinder):
    url, ctx = cinder
    vols = rows(url, "volumes")
    repair = ResetVolumeStatus()
    plan = plan_of(repair, volume_finding(url, V3))
    entry = apply(repair, plan, ctx)
    v3 = rows(url, "volumes")[V3]
    assert (v3["status"], v3["attach_status"]) == ("available", "detached") and v3["updated_at"] != vols[V3][
        "updated_at"
    ]
    refused_again_then_undone(repair, plan, ctx, entry)
    assert rows(url, "volumes") == vols


def test_reset_volume_status_refused_once_an_attachment_holds_the_volume(cinder):
    url, ctx = cinder
    finding = volume_finding(url, V3)
    database.insert_rows(url, "volume_attachment", [attachment("a8", V3, LIVE)])
    with pytest.raises(RepairError, match="held by 1 live attachment"):
        ResetVolumeStatus().before_image(plan_of(ResetVolumeStatus(), finding), ctx)


def test_a_volume_updated_since_the_check_is_refused(cinder):
    url, ctx = cinder
    finding = volume_finding(url, V3)
    execute(url, "UPDATE volumes SET updated_at = :t WHERE id = :id", t=T0, id=V3)
    with pytest.raises(RepairError, match="changed since the check saw it"):
        ResetVolumeStatus().before_image(plan_of(ResetVolumeStatus(), finding), ctx)


@pytest.mark.parametrize(
    ("status", "target", "attach_status"), [("creating", "error", "detached"), ("detaching", "available", "detached")]
)
def test_reset_volume_state(new_db, status, target, attach_status):
    url = cinder_db(new_db("cinder"))
    database.insert_rows(url, "volumes", [volume(V1, status, "detaching" if status == "detaching" else "detached")])
    if url.startswith("sqlite"):
        # as SQLAlchemy's DateTime writes it on SQLite, fraction included: the condition
        # must be on the text as stored, not on what it parses to
        execute(url, "UPDATE volumes SET updated_at = '2026-02-27 12:00:00.000000'")
    vols = rows(url, "volumes")
    ctx = context(url)
    repair = ResetVolumeState()
    plan = plan_of(repair, volume_finding(url, V1, "VL103", target_status=target, volume_service_alive=False))
    entry = apply(repair, plan, ctx)
    v1 = rows(url, "volumes")[V1]
    assert (v1["status"], v1["attach_status"]) == (target, attach_status)
    refused_again_then_undone(repair, plan, ctx, entry)
    assert rows(url, "volumes") == vols
    ctx.close()


def test_reset_state_deletes_the_cleanup_worker_and_attached_mode_as_os_reset_status_does(new_db):
    url = cinder_db(new_db("cinder"))
    database.insert_rows(url, "volumes", [volume(V1, "detaching", "detaching")])
    database.insert_rows(
        url,
        "services",
        [{"id": 1, "host": "cv1@lvm", "binary": "cinder-volume", "deleted": 0, "report_count": 1, "created_at": T0}],
    )
    database.insert_rows(
        url,
        "workers",
        [
            {
                "id": 4,
                "resource_type": "VOLUME",
                "resource_id": V1,
                "status": "detaching",
                "service_id": 1,
                "deleted": 0,
                "race_preventer": 0,
                "created_at": T0,
                "updated_at": T0,
            }
        ],
    )
    _attached_mode(url, V1)
    before = {t: rows(url, t) for t in ("volumes", "workers", "volume_admin_metadata")}
    ctx = context(url)
    try:
        repair = ResetVolumeState()
        plan = plan_of(repair, volume_finding(url, V1, "VL103", target_status="available", volume_service_alive=False))
        entry = apply(repair, plan, ctx)
        assert rows(url, "workers") == {} and rows(url, "volume_admin_metadata")[1]["deleted"] == 1
        repair.undo(entry, ctx)
        assert {t: rows(url, t) for t in before} == before
    finally:
        ctx.close()
