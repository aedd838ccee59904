"""iscsiadm output -> IscsiSession / IscsiNode facts (layouts of research B.6)."""

from pathlib import Path

import pytest

from osfsck.sources.iscsi.parse import IscsiOutputError, parse_nodes, parse_sessions

FIXTURES = Path(__file__).parent / "fixtures" / "iscsiadm"
A = "iqn.2010-10.org.openstack:volume-0b6e1b2c-1111-4c3a-9d2e-5f1a2b3c4d5e"
B = "iqn.2010-10.org.openstack:volume-7f3a9c10-2222-4b1e-8a7d-0e9f8d7c6b5a"


@pytest.mark.parametrize("layout", ["session-P3-tabs.txt", "session-P3-spaces.txt"])
def test_sessions_in_both_indentations(layout):
    sessions = parse_sessions("hv1", (FIXTURES / layout).read_text())
    by_sid = {s.sid: s for s in sessions}
    assert sorted(by_sid) == [3, 7, 8]
    a = by_sid[3]
    assert (a.host, a.target_iqn, a.portal, a.tpgt, a.iface) == ("hv1", A, "192.0.2.10:3260", 1, "default")
    assert (a.session_state, a.connection_state, a.luns, a.devices) == ("LOGGED_IN", "LOGGED IN", (1,), ("sdc",))
    b = by_sid[7]   # two LUNs behind one session
    assert (b.target_iqn, b.luns, b.devices) == (B, (0, 2), ("sdd", "sde"))
    c = by_sid[8]   # the same target's second portal: a failed session with no disks left
    assert (c.target_iqn, c.portal, c.tpgt) == (B, "[2001:db8::11]:3260", 2)
    assert (c.session_state, c.connection_state, c.luns, c.devices) == ("FAILED", "TRANSPORT WAIT", (), ())


def test_no_sessions_is_an_empty_list():
    assert parse_sessions("hv1", "") == []
    assert parse_sessions("hv1", "iscsiadm: No active sessions.\n") == []


def test_nodes():
    nodes = parse_nodes("hv1", (FIXTURES / "node.txt").read_text())
    assert [(n.portal, n.tpgt, n.target_iqn) for n in nodes] == [
        ("192.0.2.10:3260", 1, A), ("192.0.2.11:3260", 1, B), ("[2001:db8::11]:3260", 2, B)]


@pytest.mark.parametrize("text, where", [
    ("\tCurrent Portal: 192.0.2.10:3260,1\n", "line 1"),                    # no Target: first
    (f"Target: {A}\n\tCurrent Portal: 192.0.2.10\n", "line 2"),              # no tpgt
    (f"Target: {A}\n\tCurrent Portal: 192.0.2.10:3260,1\n\t\tSID: x\n", "line 3"),
    (f"Target: {A}\n\tCurrent Portal: 192.0.2.10:3260,1\n", "no SID"),
])
def test_malformed_session_output_says_where(text, where):
    with pytest.raises(IscsiOutputError, match=where):
        parse_sessions("hv1", text)


def test_malformed_node_line_says_where():
    with pytest.raises(IscsiOutputError, match="line 2"):
        parse_nodes("hv1", f"192.0.2.10:3260,1 {A}\nnot a record at all\n")
