"""iscsiadm output, recorded from every open-iscsi layout and then cut, spliced, re-indented,
re-encoded: the parsers give facts or IscsiOutputError (one line), and what they give is
what the output says (no session dropped: one fact per SID line); the iSCSI source turns
any agent reply into facts or a partial host, never an exception."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from osfsck.config.settings import HypervisorSettings
from osfsck.model.facts.hypervisor import IscsiNode, IscsiSession, host_scope
from osfsck.model.snapshot import Snapshot
from osfsck.sources.iscsi.parse import IscsiOutputError, parse_nodes, parse_sessions
from osfsck.sources.iscsi.source import IscsiSource
from tests.fuzz.mutate import FUZZ, JSON, PER_EXAMPLE, mutated_text, outcome
from tests.support.agent import FakeChannel
from tests.support.timebox import answers_within

FIXTURES = Path(__file__).parents[1] / "sources" / "fixtures" / "iscsiadm"
SESSIONS = [p.read_text() for p in sorted(FIXTURES.glob("session-*.txt"))]
NODES = [(FIXTURES / "node.txt").read_text()]
TOKENS = [
    "Target: ",
    " (non-flash)",
    "\tCurrent Portal: 192.0.2.10:3260,1\n",
    "\tPersistent Portal: 192.0.2.10:3260,1\n",
    "\t\tSID: ",
    "\t\tAttached SCSI devices:\n",
    "\t\tHost Number: 5\tState: running\n",
    "\t\tscsi5 Channel 00 Id 0 Lun: ",
    "\t\t\tAttached scsi disk sdz\t\tState: running\n",
    "\t\tUnavailable\n",
    "iSCSI Transport Class version 2.0-870\n",
    "\n\n",
    "\t",
    "    ",
    ",",
    ":",
    "[",
    "]",
    "\t\t",
]


def _one_line(e: Exception) -> None:
    assert str(e) and "\n" not in str(e)


def _sid_lines(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.strip(" \t").startswith("SID:"))


@FUZZ
@given(mutated_text(SESSIONS, TOKENS), st.booleans())
# found by CI: a byte-order mark before a disk's name was taken into the device name
@example(SESSIONS[0].replace("Attached scsi disk sd", "Attached scsi disk \ufeffsd", 1), False)
@answers_within(PER_EXAMPLE)
def test_session_output(text, none_found):
    try:
        sessions = parse_sessions("hv1", text, none_found=none_found)
    except IscsiOutputError as e:
        _one_line(e)
        outcome("IscsiOutputError")
        return
    outcome("facts")
    assert sessions or none_found
    assert len(sessions) == _sid_lines(text), "a session was dropped or invented"
    for s in sessions:
        assert isinstance(s, IscsiSession) and isinstance(s.sid, int) and s.target_iqn and s.portal
        assert isinstance(s.tpgt, int) and len(s.luns) == len(s.devices)
        assert all(isinstance(lun, int) for lun in s.luns) and all(d and d.isprintable() for d in s.devices)


@FUZZ
@given(mutated_text(NODES, ["192.0.2.10:3260,1 ", "[2001:db8::1]:3260,1", " iqn.x", ",", "\n"]), st.booleans())
@answers_within(PER_EXAMPLE)
def test_node_output(text, none_found):
    try:
        nodes = parse_nodes("hv1", text, none_found=none_found)
    except IscsiOutputError as e:
        _one_line(e)
        outcome("IscsiOutputError")
        return
    outcome("facts")
    assert len(nodes) == sum(1 for line in text.split("\n") if line.strip())
    assert all(isinstance(n, IscsiNode) and isinstance(n.tpgt, int) for n in nodes)


RC = st.sampled_from([0, 0, 0, 21, 1, 4, 255, -9])


def run(seeds):
    out = st.one_of(st.sampled_from(seeds + [""]), mutated_text(seeds, TOKENS), st.none())
    return st.fixed_dictionaries({"rc": RC, "out": out, "err": st.one_of(st.text(max_size=40), st.none())})


REPLY = st.one_of(
    st.fixed_dictionaries({"installed": st.just(True), "session": run(SESSIONS), "node": run(NODES)}),
    st.fixed_dictionaries({"installed": st.booleans()}),
    JSON,
)


@FUZZ
@given(REPLY)
@answers_within(PER_EXAMPLE)
def test_the_source_makes_facts_or_a_partial_host_of_any_reply(reply):
    src = IscsiSource(HypervisorSettings(extra_hosts=("hv1",)), channel_factory=lambda t: FakeChannel(reply))
    sink = Snapshot(taken_at=dt.datetime(2026, 1, 1))
    (status,) = src.collect({IscsiSession, IscsiNode}, Snapshot(taken_at=None), sink)
    assert status.scope == host_scope("hv1") and status.status in ("ok", "partial")
    outcome(status.status)
    if status.status == "partial":
        assert status.reason.startswith("hv1: ") and "\n" not in status.reason
    else:
        assert sink.is_complete(IscsiSession, host_scope("hv1"))
