"""delete-ovn-row's plan and ownership (pure), and the OVN runbooks; applying and undoing
are tested against a real ovsdb-server in tests/integration/test_ovn_nb.py."""

import pytest

from osfsck.checks.ovn.missing_ovn_object import MissingOvnObject
from osfsck.checks.ovn.orphan_ovn_object import OrphanOvnObject
from osfsck.checks.ovn.ovn_revision_drift import OvnRevisionDrift
from osfsck.model.plan import RepairPlan, Safety
from osfsck.repairs.base import NotOwned
from osfsck.repairs.ovn.rows import DeleteOvnRow, external_ids, marked
from osfsck.repairs.runbooks.ovn import MissingOvnObjectRunbook, OvnRevisionDriftRunbook
from tests.checks.ovn import missing_ovn_object, orphan_ovn_object, ovn_revision_drift


def findings(check, build):
    snap = build()
    return snap, check().evaluate(snap).findings


def test_plan_names_the_row_and_what_goes_with_it():
    snap, (f,) = findings(OrphanOvnObject, orphan_ovn_object.orphan_switch_with_its_ports)
    plan = DeleteOvnRow().plan(f, snap)
    assert isinstance(plan, RepairPlan) and plan.safety is Safety.UNSAFE
    assert plan.params["table"] == "Logical_Switch" and len(plan.params["children"]) == 2
    assert "and the 2 row(s) it holds" in plan.action
    DeleteOvnRow().ownership(plan, snap)


def test_a_container_holding_a_row_neutron_still_uses_is_not_owned():
    snap, (f,) = findings(OrphanOvnObject, orphan_ovn_object.orphan_switch_holding_a_live_port)
    plan = DeleteOvnRow().plan(f, snap)
    with pytest.raises(NotOwned, match="still uses"):
        DeleteOvnRow().ownership(plan, snap)


def test_only_ovn_findings_are_planned():
    snap, (f,) = findings(MissingOvnObject, missing_ovn_object.missing_port)
    assert isinstance(DeleteOvnRow().plan(f, snap), str)


def test_marks_in_an_image():
    image = {"columns": {"external_ids": ["map", [["neutron:fip_id", "x"]]]}}
    assert external_ids(image) == {"neutron:fip_id": "x"} and marked(external_ids(image))
    assert not marked({"owner": "ops"}) and marked({"subnet_id": "s"})


def test_missing_runbook_gives_the_commands():
    snap, fs = findings(MissingOvnObject, missing_ovn_object.missing_of_each_kind)
    texts = {f.subject.id: MissingOvnObjectRunbook().plan(f, snap).runbook for f in fs}
    port = next(t for i, t in texts.items() if i.startswith("00000000-0000-4007"))
    assert "openstack router set --tag osfsck-resync" in port and "ovn-nbctl find Logical_Router name=neutron-" in port
    fip = next(t for i, t in texts.items() if i.startswith("00000000-0000-f1b0"))
    assert 'external_ids:"neutron:fip_id"=' in fip and "--ovn-neutron_sync_mode=log" in fip


def test_drift_runbook_names_both_revisions():
    snap, (f,) = findings(OvnRevisionDrift, ovn_revision_drift.port_behind)
    text = OvnRevisionDriftRunbook().plan(f, snap).runbook
    assert "at revision 6, Neutron at 7" in text and "openstack port set --tag osfsck-resync" in text
