"""What the repair tests share: databases built from the real schemas, a repair context on
them, and the engine's steps (plan, before-image, apply, journal, undo) run one by one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, table, text
from sqlalchemy.pool import NullPool

from osfsck.config.settings import CinderSettings, Database, NovaSettings, Settings
from osfsck.engine.context import RepairContext
from osfsck.engine.journal import Journal
from osfsck.engine.repair import apply_one
from osfsck.model.plan import Outcome, PlanResult, RepairPlan
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import RepairError
from osfsck_lab import database, schemas
from tests.support.evidence import tracked, undeclared_reads

T0 = dt.datetime(2026, 3, 1, 12, 0, 0)
RELEASE = schemas.releases()[0]
VOLUME_TYPE = "5d2c9a40-0c1e-4b7a-8f3d-6e5f4a3b2c1d"


def cinder_db(url: str) -> str:
    database.create(url, "cinder", RELEASE)
    database.insert_rows(
        url,
        "volume_types",
        [{"id": VOLUME_TYPE, "name": "__DEFAULT__", "deleted": 0, "is_public": 1, "created_at": T0}],
    )
    return url


def volume(vid: str, status: str, attach_status: str, **kw) -> dict:
    return {
        "id": vid,
        "status": status,
        "attach_status": attach_status,
        "deleted": 0,
        "size": 1,
        "project_id": "p1",
        "host": "cv1@lvm#lvm",
        "multiattach": 0,
        "use_quota": 1,
        "volume_type_id": VOLUME_TYPE,
        "created_at": T0 - dt.timedelta(days=20),
        "updated_at": T0 - dt.timedelta(days=2),
        **kw,
    }


def attachment(aid: str, vid: str, instance: str, attach_status: str = "attached", **kw) -> dict:
    return {
        "id": aid,
        "volume_id": vid,
        "instance_uuid": instance,
        "attached_host": "hv1",
        "attach_status": attach_status,
        "attach_mode": "rw",
        "deleted": 0,
        "attach_time": T0 - dt.timedelta(days=20),
        "created_at": T0 - dt.timedelta(days=20),
        "updated_at": T0 - dt.timedelta(days=3),
        **kw,
    }


def rows(url: str, name: str) -> dict:
    """Every row of `name` by id, every column, as the driver returns it."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        found = {r["id"]: dict(r) for r in conn.execute(select(text("*")).select_from(table(name))).mappings()}
    engine.dispose()
    return found


def execute(url: str, sql: str, **params) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text(sql), params)
    engine.dispose()


def context(cinder_url: str | None = None, api_url: str | None = None, **settings) -> RepairContext:
    return RepairContext(
        Settings(
            cinder=CinderSettings(database=Database(cinder_url) if cinder_url else None),
            nova=NovaSettings(api_database=Database(api_url) if api_url else None),
            **settings,
        ),
        None,
    )


def plan_of(repair, finding, snap: Snapshot | None = None) -> RepairPlan:
    plan = repair.plan(finding, snap or Snapshot(taken_at=T0))
    assert isinstance(plan, RepairPlan), plan
    return plan


def apply(repair, plan: RepairPlan, ctx) -> dict:
    """The engine's own step (engine.repair.apply_one: before-image, journaled intent,
    apply, journaled outcome) into a journal of its own; returns the entry as undo reads it
    back.  A repair that did not apply raises RepairError with the engine's reason.  The
    repair may read only what the finding's check declares of its evidence."""
    watched, evidence = tracked(plan.finding)
    plan = dataclasses.replace(plan, finding=watched)
    pr = PlanResult(plan.finding, plan, Outcome.PLANNED)
    with tempfile.TemporaryDirectory(prefix="osfsck-repair-test-") as folder:
        journal = Journal(str(Path(folder) / "journal.jsonl"))
        apply_one(pr, repair, ctx, journal, "repair-unsafe")
        if pr.outcome is not Outcome.APPLIED:
            raise RepairError(f"{pr.outcome.value}: {pr.reason}")
        (entry,) = journal.entries()
    assert undeclared_reads(watched, evidence) == set(), f"{plan.repair} read undeclared evidence"
    assert entry["status"] == "applied" and entry["id"] == pr.journal_id
    return entry


def refused_again_then_undone(repair, plan: RepairPlan, ctx, entry: dict) -> str:
    """A second apply of the same plan is refused (its rows are no longer as seen); then
    `osfsck undo` of the first; returns undo's message."""
    with pytest.raises(RepairError, match="no longer in the state that was seen"):
        repair.apply(plan, ctx, entry["before"])
    return repair.undo(entry, ctx)
