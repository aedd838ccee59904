"""mark-ovn-revision-stale against Neutron's real schema (SQLite, and MariaDB in the
integration run): OV102 and OV103 findings from the real checks over the scenario files'
facts; the repair writes the object's ovn_revision_numbers row conditionally, never
above what is stored, inserts a missing row, writes nothing when Neutron has the object
queued already, and undo puts the number back (or says Neutron has moved on).  That
Neutron's maintenance task then re-creates or updates the OVN row is shown against the
real neutron-server in tests/integration/test_neutron_ovn.py."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from osfsck.checks.ovn.missing_ovn_object import MissingOvnObject
from osfsck.checks.ovn.ovn_revision_drift import OvnRevisionDrift
from osfsck.config.settings import Database, NeutronSettings
from osfsck.model.plan import Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import RepairError
from osfsck.repairs.neutron.ovn_revisions import MarkOvnRevisionStale
from osfsck_lab import database, schemas
from tests.checks.ovn import missing_ovn_object, ovn_revision_drift
from tests.repairs.helpers import apply, context, execute, plan_of

PORT = "00000000-0000-9087-0000-000000000001"  # the scenarios' port (Neutron at revision 3 / 7)
SA = 41


def finding(check, build):
    snap = build()
    (f,) = check().evaluate(snap).findings
    return f


@pytest.fixture(params=schemas.releases())
def neutron(request, new_db):
    """(url, ctx, set_revision, revision) on a Neutron database holding the scenarios' port."""
    url = new_db("neutron")
    database.create(url, "neutron", request.param)
    database.insert_rows(
        url,
        "standardattributes",
        [
            {"id": SA, "resource_type": "ports", "revision_number": 7},
            {"id": SA + 1, "resource_type": "networks", "revision_number": 2},
        ],
    )
    database.insert_rows(url, "networks", [{"id": "net", "standard_attr_id": SA + 1}])
    database.insert_rows(
        url,
        "ports",
        [
            {
                "id": PORT,
                "network_id": "net",
                "mac_address": "fa:16:3e:00:00:01",
                "admin_state_up": 1,
                "status": "ACTIVE",
                "device_id": "d",
                "device_owner": "compute:nova",
                "standard_attr_id": SA,
            }
        ],
    )

    def revision():
        e = create_engine(url, poolclass=NullPool)
        with e.connect() as conn:
            got = conn.execute(
                text(
                    "SELECT revision_number FROM ovn_revision_numbers WHERE resource_uuid = :u AND resource_type = 'ports'"
                ),
                {"u": PORT},
            ).scalar()
        e.dispose()
        return got

    def set_revision(n: int) -> None:
        database.insert_rows(
            url,
            "ovn_revision_numbers",
            [
                {
                    "resource_uuid": PORT,
                    "resource_type": "ports",
                    "standard_attr_id": SA,
                    "revision_number": n,
                    "created_at": dt.datetime(2026, 11, 1),
                }
            ],
        )

    ctx = context(neutron=NeutronSettings(database=Database(url)))
    return url, ctx, set_revision, revision


def test_a_missing_row_is_marked_minus_one_then_undone(neutron):
    url, ctx, set_revision, revision = neutron
    set_revision(3)  # Neutron's bookkeeping says OVN has revision 3, as Neutron does
    repair = MarkOvnRevisionStale()
    plan = plan_of(repair, finding(MissingOvnObject, missing_ovn_object.missing_port))
    assert plan.safety is Safety.SAFE and plan.params["stale"] == -1
    entry = apply(repair, plan, ctx)
    assert revision() == -1
    with pytest.raises(RepairError, match="no longer in the state that was seen"):
        repair.write(ctx, entry["before"])  # the same write again: the row is not as seen
    assert "restored revision_number" in repair.undo(entry, ctx)
    assert revision() == 3


def test_a_row_behind_is_marked_at_the_nb_revision(neutron):
    url, ctx, set_revision, revision = neutron
    set_revision(7)
    repair = MarkOvnRevisionStale()
    plan = plan_of(repair, finding(OvnRevisionDrift, ovn_revision_drift.port_behind))
    assert plan.params["stale"] == 6  # the LSP's revision: below Neutron's 7, never -1
    apply(repair, plan, ctx)
    assert revision() == 6


def test_already_queued_writes_nothing(neutron):
    """ovn_revision_numbers already behind Neutron: its task has the object; never raised."""
    url, ctx, set_revision, revision = neutron
    set_revision(5)
    repair = MarkOvnRevisionStale()
    plan = plan_of(repair, finding(OvnRevisionDrift, ovn_revision_drift.port_behind))  # would mark 6
    entry = apply(repair, plan, ctx)
    assert "has it queued; nothing written" in entry["result"]
    assert revision() == 5
    repair.undo(entry, ctx)
    assert revision() == 5


def test_a_missing_bookkeeping_row_is_inserted_and_undo_deletes_it(neutron):
    url, ctx, _, revision = neutron
    repair = MarkOvnRevisionStale()
    plan = plan_of(repair, finding(MissingOvnObject, missing_ovn_object.missing_port))
    entry = apply(repair, plan, ctx)
    assert revision() == -1
    assert "removed the row osfsck added" in repair.undo(entry, ctx)
    assert revision() is None


def test_undo_after_neutron_resynced_changes_nothing(neutron):
    url, ctx, set_revision, revision = neutron
    set_revision(3)
    repair = MarkOvnRevisionStale()
    entry = apply(repair, plan_of(repair, finding(MissingOvnObject, missing_ovn_object.missing_port)), ctx)
    # Neutron's maintenance task re-created the LSP and bumped the row to its revision
    execute(url, "UPDATE ovn_revision_numbers SET revision_number = 7 WHERE resource_uuid = :u", u=PORT)
    with pytest.raises(RepairError, match="no longer in the state that was seen"):
        repair.undo(entry, ctx)
    assert revision() == 7


def test_a_port_gone_from_neutron_is_refused(neutron):
    url, ctx, _, revision = neutron
    execute(url, "DELETE FROM ports WHERE id = :u", u=PORT)
    repair = MarkOvnRevisionStale()
    with pytest.raises(RepairError, match="gone from Neutron"):
        apply(repair, plan_of(repair, finding(MissingOvnObject, missing_ovn_object.missing_port)), ctx)
    assert revision() is None


def test_nothing_to_mark_when_ovn_is_not_behind():
    f = finding(OvnRevisionDrift, ovn_revision_drift.port_behind)
    ahead = dataclasses.replace(f, evidence={**f.evidence, "row": {**f.evidence["row"], "revision": 7}})
    assert "is not behind" in MarkOvnRevisionStale().plan(ahead, Snapshot(taken_at=dt.datetime(2026, 12, 1)))
