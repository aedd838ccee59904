"""The lab's iscsiadm stand-in (no kernel iSCSI here, see osfsck_lab/iscsiadm_standin.py),
run as osfsck runs it: the generated script, as a separate process.  Its output must read
like the real command's (same parser as the recorded open-iscsi fixtures), with the same
exit statuses, and its changes must be logged."""

import json
import subprocess
from pathlib import Path

import pytest

from osfsck.sources.iscsi.parse import NO_OBJECTS, parse_nodes, parse_sessions
from osfsck_lab import iscsiadm_standin as standin

FIXTURES = Path(__file__).parents[1] / "sources" / "fixtures" / "iscsiadm"
A = "iqn.2010-10.org.openstack:volume-0b6e1b2c-1111-4c3a-9d2e-5f1a2b3c4d5e"
B = "iqn.2010-10.org.openstack:volume-7f3a9c10-2222-4b1e-8a7d-0e9f8d7c6b5a"
PORTAL = "192.0.2.10:3260"


def _host(tmp_path, *targets) -> Path:
    """A host whose stand-in has a logged-in session (and node record) per target."""
    state = standin.new_state("hv1", "iqn.2004-10.com.ubuntu:01:hv1", "10.0.0.1")
    for iqn in targets:
        standin.login(state, standin.add_node(state, iqn, PORTAL))
    return Path(standin.install(str(tmp_path / "iscsi"), state))


def iscsiadm(script: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=30)


def logged(script: Path) -> list[tuple]:
    log = script.parent / standin.LOG
    lines = log.read_text().splitlines() if log.exists() else []
    return [(e["op"], e["target_iqn"], e["portal"]) for e in map(json.loads, lines)]


def test_the_read_forms_parse_like_real_output(tmp_path):
    script = _host(tmp_path, A, B)
    sessions = parse_sessions("hv1", iscsiadm(script, "-m", "session", "-P", "3").stdout)
    assert [(s.sid, s.target_iqn, s.portal, s.tpgt, s.iface, s.session_state, s.luns, s.devices) for s in sessions] == [
        (1, A, PORTAL, 1, "default", "LOGGED_IN", (1,), ("sdb",)),
        (2, B, PORTAL, 1, "default", "LOGGED_IN", (1,), ("sdc",)),
    ]
    nodes = parse_nodes("hv1", iscsiadm(script, "-m", "node").stdout)
    assert [(n.target_iqn, n.portal, n.tpgt) for n in nodes] == [(A, PORTAL, 1), (B, PORTAL, 1)]
    listed = iscsiadm(script, "-m", "session")
    assert listed.stdout == f"tcp: [1] {PORTAL},1 {A} (non-flash)\ntcp: [2] {PORTAL},1 {B} (non-flash)\n"


def test_the_session_tree_reads_like_the_recorded_one():
    """The recorded open-iscsi output, rebuilt: two portals of one target under one
    "Target:", two LUNs behind one session, a failed session without disks."""
    state = standin.new_state("hv1", "iqn.1994-05.com.redhat:cmp0042", "192.0.2.42")
    state.update(next_sid=3, next_scsi_host=5, next_disk=2)
    standin.login(state, standin.add_node(state, A, "192.0.2.10:3260"))
    state.update(next_sid=7, next_disk=3)
    standin.login(state, standin.add_node(state, B, "192.0.2.11:3260"), luns=(0, 2))
    state["next_sid"] = 8
    failed = standin.login(state, standin.add_node(state, B, "[2001:db8::11]:3260", tpgt=2), luns=())
    failed["state"] = "FAILED"
    recorded = (FIXTURES / "session-P3-tabs.txt").read_text()
    assert parse_sessions("hv1", standin.render_sessions(state)) == parse_sessions("hv1", recorded)
    assert standin.render_sessions(state).count(f"Target: {B}") == 1
    assert parse_nodes("hv1", standin.render_nodes(state)) == parse_nodes("hv1", (FIXTURES / "node.txt").read_text())


def test_a_host_without_iscsi_answers_with_exit_21(tmp_path):
    script = _host(tmp_path)
    for args, message in (
        (("-m", "session", "-P", "3"), "iscsiadm: No active sessions."),
        (("-m", "session"), "iscsiadm: No active sessions."),
        (("-m", "node"), "iscsiadm: No records found"),
    ):
        p = iscsiadm(script, *args)
        assert (p.returncode, p.stdout, p.stderr.strip()) == (NO_OBJECTS, "", message)


def test_logout_removes_the_session_and_is_logged(tmp_path):
    script = _host(tmp_path, A, B)
    p = iscsiadm(script, "-m", "node", "-T", A, "-p", PORTAL, "--logout")
    assert p.returncode == 0
    assert p.stdout.splitlines() == [
        f"Logging out of session [sid: 1, target: {A}, portal: 192.0.2.10,3260]",
        f"Logout of [sid: 1, target: {A}, portal: 192.0.2.10,3260] successful.",
    ]
    sessions = parse_sessions("hv1", iscsiadm(script, "-m", "session", "-P", "3").stdout)
    assert [s.target_iqn for s in sessions] == [B]
    assert [n.target_iqn for n in parse_nodes("hv1", iscsiadm(script, "-m", "node").stdout)] == [A, B]
    again = iscsiadm(script, "-m", "node", "-T", A, "-p", PORTAL, "--logout")
    assert (again.returncode, again.stderr.strip()) == (NO_OBJECTS, "iscsiadm: No matching sessions found")
    assert logged(script) == [("logout", A, PORTAL)]


def test_logout_by_session_id(tmp_path):
    script = _host(tmp_path, A, B)
    assert iscsiadm(script, "-m", "session", "-r", "2", "-u").returncode == 0
    assert [s.sid for s in parse_sessions("hv1", iscsiadm(script, "-m", "session", "-P", "3").stdout)] == [1]
    assert iscsiadm(script, "-m", "session", "-r", "2", "-u").returncode == NO_OBJECTS
    assert logged(script) == [("logout", B, PORTAL)]


def test_delete_refuses_a_record_in_use_then_removes_it(tmp_path):
    script = _host(tmp_path, A)
    busy = iscsiadm(script, "-m", "node", "-T", A, "-p", PORTAL, "-o", "delete")
    assert busy.returncode == standin.ERR_SESS_EXISTS and "a session is using it" in busy.stderr
    assert iscsiadm(script, "-m", "node", "-T", A, "-p", PORTAL, "--logout").returncode == 0
    # -p in the forms iscsiadm accepts: address only, address:port, address:port,tpgt
    assert iscsiadm(script, "-m", "node", "-T", A, "-p", "192.0.2.10", "-o", "delete").returncode == 0
    assert iscsiadm(script, "-m", "node").returncode == NO_OBJECTS
    assert iscsiadm(script, "-m", "node", "-T", A, "-p", f"{PORTAL},1", "-o", "delete").returncode == NO_OBJECTS
    assert logged(script) == [("logout", A, PORTAL), ("delete", A, PORTAL)]


def test_new_record_then_login_makes_a_session(tmp_path):
    script = _host(tmp_path, A)
    assert iscsiadm(script, "-m", "node", "-T", B, "-p", PORTAL, "--login").returncode == NO_OBJECTS
    new = iscsiadm(script, "-m", "node", "-T", B, "-p", PORTAL, "-o", "new")
    assert (new.returncode, new.stdout) == (
        0,
        f"New iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=default] 192.0.2.10,3260,-1 {B}] added\n",
    )
    login = iscsiadm(script, "-m", "node", "-T", B, "-p", PORTAL, "--login")
    assert login.returncode == 0
    assert (
        login.stdout.splitlines()[-1] == f"Login to [iface: default, target: {B}, portal: 192.0.2.10,3260] successful."
    )
    sessions = parse_sessions("hv1", iscsiadm(script, "-m", "session", "-P", "3").stdout)
    assert [(s.sid, s.target_iqn, s.devices) for s in sessions] == [(1, A, ("sdb",)), (2, B, ("sdc",))]
    twice = iscsiadm(script, "-m", "node", "-T", B, "-p", PORTAL, "--login")
    assert twice.returncode == standin.ERR_SESS_EXISTS
    assert logged(script) == [("new", B, PORTAL), ("login", B, PORTAL)]


def test_a_node_record_prints_its_settings(tmp_path):
    script = _host(tmp_path, A)
    p = iscsiadm(script, "-m", "node", "-T", A, "-p", PORTAL)
    assert p.returncode == 0
    for line in (
        f"node.name = {A}",
        "node.tpgt = 1",
        "node.conn[0].address = 192.0.2.10",
        "node.conn[0].port = 3260",
        "node.startup = automatic",
    ):
        assert line in p.stdout.splitlines()
    assert (
        iscsiadm(
            script, "-m", "node", "-T", A, "-p", PORTAL, "-o", "update", "-n", "node.startup", "-v", "manual"
        ).returncode
        == 0
    )
    assert "node.startup = manual" in iscsiadm(script, "-m", "node", "-T", A, "-p", PORTAL).stdout
    unknown = iscsiadm(script, "-m", "node", "-T", B, "-p", PORTAL)
    assert (unknown.returncode, unknown.stderr.strip()) == (NO_OBJECTS, "iscsiadm: No records found")


def test_what_it_does_not_handle_is_a_usage_error(tmp_path):
    script = _host(tmp_path, A)
    for args in (("-m", "discovery", "-t", "st", "-p", PORTAL), ("-m", "session", "-P", "1"), ("-m", "node", "-x")):
        p = iscsiadm(script, *args)
        assert p.returncode == standin.ERR_INVAL and p.stderr.startswith("iscsiadm: ")
    assert not (script.parent / standin.LOG).exists()


@pytest.mark.parametrize(
    "given, portal",
    [
        ("192.0.2.10", PORTAL),
        (PORTAL, PORTAL),
        (f"{PORTAL},1", PORTAL),
        ("192.0.2.10:3261", "192.0.2.10:3261"),
        ("[2001:db8::11]", "[2001:db8::11]:3260"),
        ("[2001:db8::11]:3260,2", "[2001:db8::11]:3260"),
    ],
)
def test_portals_as_iscsiadm_accepts_them(given, portal):
    assert standin.normalise_portal(given) == portal


def test_disk_names_follow_the_kernel():
    assert [standin.disk_name(i) for i in (0, 1, 25, 26, 27, 701, 702)] == [
        "sda",
        "sdb",
        "sdz",
        "sdaa",
        "sdab",
        "sdzz",
        "sdaaa",
    ]


def test_a_tgt_target_shows_its_controller_lun_without_a_disk_and_logs_in_to_it_again(tmp_path):
    state = standin.new_state("hv1", "iqn.2004-10.com.ubuntu:01:hv1", "10.0.0.1")
    standin.login(state, standin.add_node(state, A, PORTAL, luns=(1,), controller=True))
    script = Path(standin.install(str(tmp_path / "iscsi"), state))
    text = iscsiadm(script, "-m", "session", "-P", "3").stdout
    assert "Lun: 0\n\t\tscsi2 Channel 00 Id 0 Lun: 1\n\t\t\tAttached scsi disk sdb" in text
    [s] = parse_sessions("hv1", text)
    assert (s.luns, s.devices) == ((1,), ("sdb",))
    assert iscsiadm(script, "-m", "node", "-T", A, "-p", PORTAL, "--logout").returncode == 0
    assert iscsiadm(script, "-m", "node", "-T", A, "-p", PORTAL, "--login").returncode == 0
    [s] = parse_sessions("hv1", iscsiadm(script, "-m", "session", "-P", "3").stdout)
    assert (s.luns, s.devices) == ((1,), ("sdc",))  # the same LUN, the next free disk
