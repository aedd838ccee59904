"""Planning the volume repairs, pure: every finding the volume checks' scenarios produce gets a
plan (automatic or runbook) from the check's own repairs, in the order the engine tries
them; the reasons a repair gives to pass a finding on; ownership; runbook texts."""

from __future__ import annotations

import pytest

from osfsck.config.settings import Settings
from osfsck.engine.repair import choose_plan
from osfsck.model.finding import Finding, Severity
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.refs import ObjectRef
from osfsck.repairs.base import NotOwned
from osfsck.repairs.cinder.attachments import DeleteVolumeAttachment
from osfsck.repairs.cinder.volumes import ResetVolumeState, ResetVolumeStatus
from osfsck.repairs.iscsi.sessions import LogoutIscsiSession, parse_record
from osfsck.repairs.nova_cell.block_device_mappings import SoftDeleteBlockDeviceMapping
from osfsck.repairs.registry import all_repairs
from tests.checks.scenario import FOUND, scenario_modules

REPAIRS = {name: cls() for name, cls in all_repairs().items()}
VOLUME_SCENARIOS = [m for name, m in scenario_modules().items() if name.startswith("tests.checks.volumes.")]
V = "11111111-aaaa-4000-8000-000000000001"
U = "22222222-bbbb-4000-8000-000000000001"


def _found():
    for mod in VOLUME_SCENARIOS:
        for case in mod.CASES:
            if case.kind == FOUND and not case.bug:
                yield pytest.param(mod.CHECK, case, id=f"{mod.CHECK.code}:{case.name}")


def test_every_repair_a_volume_check_names_exists():
    assert VOLUME_SCENARIOS
    for mod in VOLUME_SCENARIOS:
        assert set(mod.CHECK.repairs) <= set(REPAIRS), mod.CHECK.code


@pytest.mark.parametrize(("cls", "case"), list(_found()))
def test_every_found_finding_gets_a_plan(cls, case):
    check = cls(case.params)
    snap = case.build()
    findings = check.evaluate(snap).findings
    assert findings
    for f in findings:
        plan = choose_plan(check, f, snap, REPAIRS, Settings())
        assert isinstance(plan, RepairPlan), plan
        assert plan.repair in cls.repairs and plan.target == f.subject
        assert plan.runbook if plan.safety is Safety.MANUAL else plan.action


def _finding(code, kind, evidence, subject_id=V, scope="cinder"):
    return Finding(code, "x", Severity.MEDIUM, ObjectRef(kind, subject_id, scope), "m", evidence=evidence)


VOLUME = {
    "id": V,
    "status": "in-use",
    "attach_status": "attached",
    "migration_status": None,
    "host": "cv1@lvm#lvm",
    "updated_at": "2026-02-27T12:00:00",
    "deleted": False,
}
ATTACHMENT = {
    "id": "a1",
    "volume_id": V,
    "instance_uuid": U,
    "attached_host": "hv1",
    "attach_status": "attached",
    "deleted": False,
    "updated_at": "2026-02-26T12:00:00",
}


def test_an_in_use_volume_without_attachment_passes_to_reset_volume_status():
    f = _finding("VL101", "volume", {"volume": VOLUME})
    assert "removes attachments" in DeleteVolumeAttachment().plan(f, None)
    check = type("C", (), {"params": {}, "repairs": ("delete-volume-attachment", "reset-volume-status")})()
    plan = choose_plan(check, f, None, REPAIRS, Settings())
    assert plan.repair == "reset-volume-status" and plan.params["status"] == "available"


def test_an_attachment_is_not_reset_as_a_volume():
    f = _finding("VL101", "volume-attachment", {"attachment": ATTACHMENT, "volume": VOLUME}, "a1")
    assert "resets volumes" in ResetVolumeStatus().plan(f, None)
    assert DeleteVolumeAttachment().plan(f, None).params == {
        "attachment_id": "a1",
        "volume_id": V,
        "attach_status": "attached",
        "volume_status": "in-use",
    }


def test_reset_volume_status_only_for_in_use():
    f = _finding("VL101", "volume", {"volume": {**VOLUME, "status": "available"}})
    assert "not in-use" in ResetVolumeStatus().plan(f, None)


def test_stuck_volume_without_agreement_gets_the_runbook():
    f = _finding(
        "VL103",
        "volume",
        {
            "volume": {**VOLUME, "status": "detaching"},
            "target_status": None,
            "volume_service_alive": True,
            "places": {},
        },
    )
    assert "stuck-volume-runbook" in ResetVolumeState().plan(f, None)
    check = type("C", (), {"params": {}, "repairs": ("reset-volume-state", "stuck-volume-runbook")})()
    plan = choose_plan(check, f, None, REPAIRS, Settings())
    assert plan.repair == "stuck-volume-runbook" and "cinder reset-state --state available" in plan.runbook


def test_stuck_volume_runbook_per_status_and_service():
    def text(status, alive=True):
        f = _finding(
            "VL103",
            "volume",
            {
                "volume": {**VOLUME, "status": status},
                "target_status": None,
                "volume_service_alive": alive,
                "places": {"attachments": [{}]},
            },
        )
        return REPAIRS["stuck-volume-runbook"].text(f)

    assert f"cinder force-delete {V}" in text("error_deleting") and "rbd info" in text("deleting")
    assert f"cinder reset-state --state error {V}" in text("creating")
    assert f"cinder reset-state --state in-use --attach-status attached {V}" in text("attaching")
    assert f"cinder attachment-list --volume-id {V}" in text("reserved") and "1 attachment(s)" in text("reserved")
    assert "cv1@lvm is down" in text("attaching", alive=False) and "start it first" in text("attaching", alive=False)
    assert "start it first" not in text("attaching")


def test_a_boot_volume_mapping_is_left_to_the_runbook():
    bdm = {
        "cell": "cell1",
        "id": 7,
        "uuid": "b-1",
        "instance_uuid": U,
        "volume_id": V,
        "attachment_id": None,
        "device_name": "/dev/vda",
        "boot_index": 0,
    }
    f = _finding(
        "VL102",
        "block-device-mapping",
        {"block_device_mapping": bdm, "instance": {"uuid": U, "host": "hv1"}, "volume": None, "attachment": None},
        "b-1",
        "cell:cell1",
    )
    assert "boot volume" in SoftDeleteBlockDeviceMapping().plan(f, None)
    check = type(
        "C", (), {"params": {}, "repairs": ("soft-delete-block-device-mapping", "dangling-root-volume-runbook")}
    )()
    plan = choose_plan(check, f, None, REPAIRS, Settings())
    assert plan.repair == "dangling-root-volume-runbook"
    assert "no longer has" in plan.runbook and f"cinder backup-list --volume-id {V}" in plan.runbook
    data = SoftDeleteBlockDeviceMapping().plan(
        _finding(
            "VL102", "block-device-mapping", {"block_device_mapping": {**bdm, "boot_index": None}}, "b-1", "cell:cell1"
        ),
        None,
    )
    assert data.params == {"db": "cell:cell1", "id": 7, "instance_uuid": U, "volume_id": V, "attachment_id": None}


def test_a_root_volume_cinder_still_has_is_refreshed():
    f = _finding(
        "VL102",
        "block-device-mapping",
        {
            "block_device_mapping": {"instance_uuid": U, "volume_id": V, "boot_index": 0},
            "instance": {"uuid": U, "host": "hv1"},
            "volume": {**VOLUME, "status": "available"},
        },
    )
    text = REPAIRS["dangling-root-volume-runbook"].text(f)
    assert f"nova-manage volume_attachment refresh {U} {V} connector.json" in text


SESSION = {
    "host": "hv1",
    "sid": 3,
    "target_iqn": f"iqn.2010-10.org.openstack:volume-{V}",
    "portal": "192.0.2.10:3260",
    "tpgt": 1,
    "iface": "default",
    "session_state": "LOGGED_IN",
    "connection_state": "LOGGED IN",
    "luns": [1],
    "devices": ["sdc"],
}


def test_logout_plan_and_its_ownership_guard():
    f = _finding(
        "VL203",
        "iscsi-session",
        {"session": SESSION, "node_record": True, "devices_in_use": []},
        f"{SESSION['target_iqn']}@{SESSION['portal']}",
        "host:hv1",
    )
    plan = LogoutIscsiSession().plan(f, None)
    assert plan.params == {
        "host": "hv1",
        "target_iqn": SESSION["target_iqn"],
        "portal": "192.0.2.10:3260",
        "sid": 3,
        "devices": ["sdc"],
    }
    LogoutIscsiSession().ownership(plan, None)
    used = _finding("VL203", "iscsi-session", {**f.evidence, "devices_in_use": ["sdc"]}, f.subject.id, "host:hv1")
    with pytest.raises(NotOwned, match="uses sdc"):
        LogoutIscsiSession().ownership(LogoutIscsiSession().plan(used, None), None)


def test_node_record_parsing_drops_passwords():
    text = (
        "# BEGIN RECORD 2.1.8\nnode.name = iqn.x\nnode.startup = automatic\n"
        "node.session.auth.authmethod = CHAP\nnode.session.auth.password = ********\n"
        "node.session.auth.password_in = ********\n# END RECORD\n"
    )
    assert parse_record(text) == {
        "node.name": "iqn.x",
        "node.startup": "automatic",
        "node.session.auth.authmethod": "CHAP",
    }


def test_runbooks_name_the_objects_and_the_commands():
    conn = _finding(
        "VL204",
        "volume-connection",
        {
            "instance": {"uuid": U, "host": "hv1"},
            "block_device_mapping": {"volume_id": V},
            "target_iqns": [SESSION["target_iqn"]],
            "portal": "192.0.2.10:3260",
        },
        f"{U}/{V}",
        "host:hv1",
    )
    text = REPAIRS["missing-iscsi-session-runbook"].text(conn)
    assert f"iscsiadm -m node -T {SESSION['target_iqn']} -p 192.0.2.10:3260 --login" in text
    assert f"openstack server reboot --hard {U}" in text and "iscsiadm -m discovery -t sendtargets" in text

    missing = _finding(
        "VL201",
        "domain-volume",
        {"instance": {"uuid": U, "host": "hv1"}, "block_device_mapping": {"volume_id": V, "device_name": "/dev/vdb"}},
        f"{U}/{V}",
        "host:hv1",
    )
    text = REPAIRS["volume-domain-runbook"].text(missing)
    assert (
        f"openstack server reboot --hard {U}" in text
        and f"openstack server add volume --device /dev/vdb {U} {V}`" in text
    )

    disk = {"host": "hv1", "domain_uuid": U, "serial": V, "source": "volumes/volume-x", "target_dev": "vdc"}
    text = REPAIRS["unexpected-volume-runbook"].text(
        _finding(
            "VL202",
            "domain-volume",
            {"disk": disk, "volume": {**VOLUME, "status": "available"}},
            f"{U}/{V}",
            "host:hv1",
        )
    )
    assert f"virsh detach-disk {U} vdc --live --config" in text and "shows it available" in text

    mismatch = _finding(
        "VL104",
        "volume-attachment",
        {
            "attachment": {**ATTACHMENT, "attached_host": "hv2"},
            "instance": {"uuid": U, "host": "hv1"},
            "session_hosts": ["hv1"],
        },
        "a1",
    )
    text = REPAIRS["attachment-host-mismatch-runbook"].text(mismatch)
    assert "on hv1 `nova-manage volume_attachment get_connector --json > connector.json`" in text
    assert f"nova-manage volume_attachment refresh {U} {V} connector.json" in text and "hv2" in text


def test_a_shared_targets_lost_lun_and_stale_lun_never_touch_the_session():
    """VL204 on a shared target whose session serves other volumes: no login (refused, the
    session exists), the rescan runbook.  VL205: a runbook that never logs out."""
    from tests.checks.volumes.missing_iscsi_session import MissingIscsiSession, lun_lost_under_a_shared_session
    from tests.checks.volumes.stale_iscsi_lun import StaleIscsiLun, two_paths

    snap = lun_lost_under_a_shared_session()
    [f] = MissingIscsiSession().evaluate(snap).findings
    plan = choose_plan(MissingIscsiSession(), f, snap, REPAIRS, Settings())
    assert plan.repair == "missing-iscsi-session-runbook" and "--rescan" in plan.runbook
    assert "--login" not in plan.runbook
    snap = two_paths()
    [f] = StaleIscsiLun().evaluate(snap).findings
    plan = choose_plan(StaleIscsiLun(), f, snap, REPAIRS, Settings())
    assert plan.safety is Safety.MANUAL and "echo 1 > /sys/block/" in plan.runbook
    assert "--logout" not in plan.runbook and "Do NOT log hv1 out" in plan.runbook
    assert (
        REPAIRS["logout-iscsi-session"].plan(f, snap) == "logout-iscsi-session logs out iSCSI sessions, not a iscsi-lun"
    )
