"""iscsiadm output -> IscsiSession / IscsiNode facts (layouts of research B.6 and open-iscsi's
usr/session_info.c), and output osfsck cannot fully read -> IscsiOutputError, never a
partial list taken for the whole (issue 15, defect 8)."""

from pathlib import Path

import pytest

from osfsck.sources.iscsi.parse import IscsiOutputError, parse_nodes, parse_sessions

FIXTURES = Path(__file__).parent / "fixtures" / "iscsiadm"
A = "iqn.2010-10.org.openstack:volume-0b6e1b2c-1111-4c3a-9d2e-5f1a2b3c4d5e"
B = "iqn.2010-10.org.openstack:volume-7f3a9c10-2222-4b1e-8a7d-0e9f8d7c6b5a"
TABS = (FIXTURES / "session-P3-tabs.txt").read_text()  # open-iscsi 2.1.8


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.mark.parametrize("layout", ["session-P3-tabs.txt", "session-P3-spaces.txt"])
def test_sessions_in_both_indentations(layout):
    sessions = parse_sessions("hv1", fixture(layout))
    by_sid = {s.sid: s for s in sessions}
    assert sorted(by_sid) == [3, 7, 8]
    a = by_sid[3]
    assert (a.host, a.target_iqn, a.portal, a.tpgt, a.iface) == ("hv1", A, "192.0.2.10:3260", 1, "default")
    assert (a.session_state, a.connection_state, a.luns, a.devices) == ("LOGGED_IN", "LOGGED IN", (1,), ("sdc",))
    b = by_sid[7]  # two LUNs behind one session
    assert (b.target_iqn, b.luns, b.devices) == (B, (0, 2), ("sdd", "sde"))
    c = by_sid[8]  # the same target's second portal: a failed session with no disks left
    assert (c.target_iqn, c.portal, c.tpgt) == (B, "[2001:db8::11]:3260", 2)
    assert (c.session_state, c.connection_state, c.luns, c.devices) == ("FAILED", "TRANSPORT WAIT", (), ())


def test_the_2011_layout_without_node_type_timeouts_or_chap():
    sessions = parse_sessions("hv1", fixture("session-P3-2.0-872.txt"))
    assert [(s.sid, s.target_iqn, s.portal, s.luns, s.devices) for s in sessions] == [
        (3, A, "192.0.2.10:3260", (1,), ("sdc",)),
        (7, B, "192.0.2.11:3260", (0, 2), ("sdd", "sde")),
    ]


def test_two_sessions_to_one_portal_share_its_lines():
    # iscsiadm prints an empty line instead of the portal lines for the second session to a
    # portal (two ifaces), and a LUN whose block device is not there has no disk line
    sessions = parse_sessions("hv1", fixture("session-P3-2.0-873.txt"))
    assert [(s.sid, s.target_iqn, s.portal, s.iface, s.luns, s.devices) for s in sessions] == [
        (3, A, "192.0.2.10:3260", "iface0", (1,), ("sdc",)),
        (4, A, "192.0.2.10:3260", "iface1", (1,), ("sdf",)),
        (7, B, "192.0.2.11:3260", "iface0", (0,), ("sdd",)),
    ]


@pytest.mark.parametrize("text", ["", fixture("session-P3-none-2.0-874.txt")])
def test_no_session_is_what_exit_21_says(text):
    # 2.0-873 to 2.0-875 print the version header before they exit 21; later ones nothing
    assert parse_sessions("hv1", text, none_found=True) == []


def test_nodes():
    nodes = parse_nodes("hv1", fixture("node.txt"))
    assert [(n.portal, n.tpgt, n.target_iqn) for n in nodes] == [
        ("192.0.2.10:3260", 1, A),
        ("192.0.2.11:3260", 1, B),
        ("[2001:db8::11]:3260", 2, B),
    ]
    assert parse_nodes("hv1", "", none_found=True) == []


def session(
    sid: int,
    portal: str = "\tCurrent Portal: 192.0.2.10:3260,1\n\tPersistent Portal: 192.0.2.10:3260,1\n",
    devices: str = "\t\tHost Number: 5\tState: running\n\t\tscsi5 Channel 00 Id 0 Lun: 1\n"
    "\t\t\tAttached scsi disk sdc\t\tState: running\n",
) -> str:
    return (
        f"{portal}\t\tIface Name: default\n\t\tSID: {sid}\n\t\tiSCSI Session State: LOGGED_IN\n"
        f"\t\t************************\n\t\tAttached SCSI devices:\n\t\t************************\n{devices}"
    )


HEADER = "iSCSI Transport Class version 2.0-870\nversion 2.1.8\n"
COMPLETE = f"{HEADER}Target: {A} (non-flash)\n{session(3)}"


def test_the_minimal_complete_session_parses():
    (s,) = parse_sessions("hv1", COMPLETE)
    assert (s.sid, s.target_iqn, s.luns, s.devices) == (3, A, (1,), ("sdc",))


@pytest.mark.parametrize(
    "text, why",
    [
        # defect 8: a Target: with no portal was taken as a target with no session
        (f"{HEADER}Target: {A} (non-flash)\nTarget: {B} (non-flash)\n{session(7)}", "line 3: .* has no session"),
        (f"{COMPLETE}Target: {B} (non-flash)\n", "line 15: .* has no session"),
        (f"Target: {A}\n\t\tIface Name: default\n\t\tSID: 3\n", "line 2: .*no Current Portal"),
        (f"Target: {A}\n\tCurrent Portal: 192.0.2.10:3260,1\n\t\tSID: 3\n", "line 3: .*Persistent Portal"),
        (f"Target: {A}\n\tPersistent Portal: 192.0.2.10:3260,1\n", "line 2"),
        # defect 8: header only, or nothing, with exit status 0 is not "no session"
        (HEADER, "no session .* exit status 0"),
        ("", "no session .* exit status 0"),
        ("\n\n", "no session .* exit status 0"),
        # a session block cut in the middle: its disks are unknown
        (f"Target: {A}\n" + session(3)[: session(3).index("\t\tSID")], "has no SID"),
        (f"Target: {A}\n" + session(3)[: session(3).index("\t\t****")], "SCSI devices"),
        (f"Target: {A}\n" + session(3)[: session(3).index("\t\tHost Number")], "SCSI devices"),
        (f"Target: {A}\n" + session(3)[:-4], "line 12"),  # cut inside the last line
        (f"Target: {A}\n" + session(3, devices="\t\tUnavailable\n"), "line 10: .*Unavailable"),
        (
            f"Target: {A}\n" + session(3, devices="\t\tHost Number: 5\tState: running\n\t\t\tAttached scsi disk sdc\n"),
            "line 11: .*no LUN line",
        ),
        # two sessions run together without their separating lines
        (f"Target: {A}\n" + session(3) + session(4)[session(4).index("\t\tIface") :], "line 13"),
        (f"Target: {A}\n" + session(3).replace("\t\tSID: 3\n", "\t\tSID: 3\n\t\tSID: 4\n"), "line 6: .*second SID"),
        # unknown indentation
        ("".join(line.lstrip("\t") + "\n" for line in COMPLETE.splitlines()), "line 4"),
        (COMPLETE.replace("Target:", "\tTarget:"), "line 3"),
        (COMPLETE.replace("\t\tSID", "    \tSID"), "line 7: .*indent"),
        (COMPLETE.replace("\t\tSID", "\t\t\t\tSID"), "line 7"),
        (COMPLETE.replace("\tCurrent Portal", "\t\tCurrent Portal"), "line 4"),
        # not text at all
        ("\x00\x01\x7fELF\x02\x01\x01\n" * 3, "line 1: not text"),
        (COMPLETE.replace("sdc", "sd\udcff"), "line 14: not text"),  # a non-UTF-8 byte, surrogateescape'd
        (COMPLETE.replace("sdc", "sd\ufffd"), "line 14: not text"),  # ... or replaced
        ("iscsiadm: No active sessions.\n", "line 1"),
        (COMPLETE.replace("SID: 3", "SID: \u0663"), "line 7: SID"),  # an Arabic-Indic three
        (COMPLETE.replace("3260,1", "3260,\u00b9"), "line 4: portal"),  # a superscript one
        (COMPLETE.replace("Lun: 1", "Lun: \u00b9"), "line 13"),
        ("Target: \n" + session(3), "line 1"),
    ],
)
def test_output_osfsck_cannot_fully_read_says_where(text, why):
    with pytest.raises(IscsiOutputError, match=why):
        parse_sessions("hv1", text)


@pytest.mark.parametrize("text", [COMPLETE, f"Target: {A}\n"])
def test_sessions_listed_with_exit_21_contradict_it(text):
    with pytest.raises(IscsiOutputError, match="exit status 21"):
        parse_sessions("hv1", text, none_found=True)


@pytest.mark.parametrize(
    "text, none_found, why",
    [
        (f"192.0.2.10:3260,1 {A}\nnot a record at all\n", False, "line 2"),
        ("", False, "no node record .* exit status 0"),
        (f"192.0.2.10:3260,1 {A}\n", True, "exit status 21"),
        (f"192.0.2.10:3260 {A}\n", False, "line 1: portal"),
        (f"192.0.2.10:3260,1 {A}\x00\n", False, "line 1: not text"),
        (f"192.0.2.10:3260,\u00b2 {A}\n", False, "line 1: portal"),
    ],
)
def test_malformed_node_output_says_where(text, none_found, why):
    with pytest.raises(IscsiOutputError, match=why):
        parse_nodes("hv1", text, none_found=none_found)
