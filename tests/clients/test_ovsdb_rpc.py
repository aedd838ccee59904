"""The bare JSON-RPC reader of the OVN source (clients/ovsdb_rpc.py): its framing gives
what a JSON decoder reads from the whole stream however the stream is cut, and the source
is partial, with one line and no fact, when a server misbehaves in ways the real
ovsdb-server cannot be made to on demand: a reply cut off half way, a malformed reply, an
echo probe in the middle.  (The real server's answers, a stopped and a hung server are in
tests/integration/test_ovn_nb.py.)"""

from __future__ import annotations

import json
import socket
import threading
import time

import orjson
import pytest

from osfsck.clients.ovsdb_rpc import Framer, OvnNbError, map_of, set_of
from osfsck.config.ovn import OvnSettings
from osfsck.model.facts.ovn import OVN_NB_SCOPE, OvnNbRow
from osfsck.model.snapshot import Snapshot
from osfsck.sources.ovn_nb.source import COLUMNS, ORDER, SCHEMA, OvnNorthboundSource
from tests.clients.test_ovn_json import MESSAGES

STREAM = "".join(json.dumps(m, ensure_ascii=False) for m in MESSAGES).encode()


def framed(pieces) -> list:
    f, out = Framer(), []
    for p in pieces:
        out.extend(f.feed(p))
    assert not f.pending
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, len(STREAM)])
def test_same_messages_however_cut(size):
    pieces = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    assert framed(pieces) == MESSAGES


def test_every_single_cut():
    """Cut once at every byte: inside escapes, multi-byte characters, strings with brackets."""
    for i in range(len(STREAM) + 1):
        assert framed([STREAM[:i], STREAM[i:]]) == MESSAGES, i


def test_an_escaped_backslash_before_a_quote_ends_the_string():
    msg = {"id": 1, "result": ["a\\", "]", '\\"{', "\\\\"]}
    text = orjson.dumps(msg)
    for i in range(len(text) + 1):
        assert framed([text[:i], text[i:]]) == [msg], i


def test_nothing_before_the_last_bracket_closes():
    one = orjson.dumps(MESSAGES[0])
    f = Framer()
    assert f.feed(one[:-1]) == [] and f.pending
    assert f.feed(one[-1:]) == [MESSAGES[0]] and not f.pending


@pytest.mark.parametrize(
    "text, says",
    [
        (b'{"id": 1, "result": [1,]}', "malformed reply"),
        (b'{"id": 1}]', "never opened"),
        (b"[1, 2]", "a list where a JSON-RPC message"),
        (b'{"id": 1} 17 {"id": 2}', "malformed reply"),
        (b"[" * 2000 + b"]" * 2000, "malformed reply"),
    ],
)
def test_a_malformed_stream_is_one_line(text, says):
    with pytest.raises(OvnNbError, match=says) as e:
        framed([text])
    assert "\n" not in str(e.value)


def test_ovsdb_notation():
    assert set_of(["uuid", "a"]) == [["uuid", "a"]]
    assert set_of(["set", [["uuid", "a"], ["uuid", "b"]]]) == [["uuid", "a"], ["uuid", "b"]]
    assert set_of(["set", []]) == []
    assert map_of(["map", [["k", "v"]]]) == {"k": "v"}


# -- a scripted server on loopback --------------------------------------------------------
SCHEMA_REPLY = {
    "name": SCHEMA,
    "version": "7.3.0",
    "tables": {t: {"columns": {c: {} for c in cols}} for t, cols in COLUMNS.items()},
}
PORT = "0b6e1b2c-1111-4c3a-9d2e-5f1a2b3c4d5e"
NET = "1b6e1b2c-1111-4c3a-9d2e-5f1a2b3c4d5e"


def rows(port_ids=("neutron:revision_number", "5")) -> list:
    sw = {"_uuid": ["uuid", "s1"], "name": f"neutron-{NET}", "ports": ["uuid", "p1"], "acls": ["set", []]}
    sw["external_ids"] = ["map", [["neutron:revision_number", "2"]]]
    lsp = {"_uuid": ["uuid", "p1"], "name": PORT, "type": "", "external_ids": ["map", [list(port_ids)]]}
    result = []
    for table in ORDER:  # the order of the source's selects, and the one finding nothing after them
        r = {"Logical_Switch": [sw], "Logical_Switch_Port": [lsp]}.get(table, [])
        result.append({"rows": r})
    return [*result, {"rows": []}]


class Scripted:
    """Answers get_schema and _Server as a standalone ovsdb-server does, and the select
    with `select_reply(id)`; with `close_after`, closes the connection after sending it."""

    def __init__(self, tmp_path, select_reply, close_after=False):
        self.close_after = close_after
        self.path = str(tmp_path / "nb.sock")
        self.select_reply = select_reply
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.got: list = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.sock.accept()
        with conn:
            f = Framer()
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                for req in f.feed(data):
                    self.got.append(req)
                    if req.get("method") == "get_schema":
                        conn.sendall(orjson.dumps({"id": req["id"], "result": SCHEMA_REPLY, "error": None}))
                    elif req.get("params", [None])[0] == "_Server":
                        row = {"model": "standalone", "connected": True, "leader": True}
                        conn.sendall(orjson.dumps({"id": req["id"], "result": [{"rows": [row]}], "error": None}))
                    elif req.get("method") == "transact":
                        conn.sendall(self.select_reply(req["id"]))
                        if self.close_after:
                            return

    def collect(self):
        sink = Snapshot(taken_at=None)
        source = OvnNorthboundSource(OvnSettings(nb_connection=f"unix:{self.path}", timeout=5))
        (status,) = source.collect({OvnNbRow}, sink, sink)
        return sink, status

    def close(self):
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def scripted(tmp_path):
    made = []

    def make(select_reply, close_after=False):
        made.append(Scripted(tmp_path, select_reply, close_after))
        return made[-1]

    yield make
    for s in made:
        s.close()


def whole(rid):
    return orjson.dumps({"id": rid, "result": rows(), "error": None})


def test_a_whole_reply_is_facts(scripted):
    sink, status = scripted(whole).collect()
    assert status.status == "ok"
    (port,) = [r for r in sink.of(OvnNbRow) if r.table == "Logical_Switch_Port"]
    assert port.neutron_id == PORT and port.revision == 5 and port.parent == f"neutron-{NET}"


def test_an_echo_probe_in_between_is_answered(scripted):
    s = scripted(lambda rid: b'{"id": "echo", "method": "echo", "params": []}' + whole(rid))
    sink, status = s.collect()
    assert status.status == "ok" and sink.of(OvnNbRow)
    # the server's thread records what it read: the reply may reach it after collect returns
    deadline = time.monotonic() + 10
    while {"id": "echo", "result": [], "error": None} not in s.got and time.monotonic() < deadline:
        time.sleep(0.01)
    assert {"id": "echo", "result": [], "error": None} in s.got


def test_a_connection_lost_part_way_is_partial_with_no_fact(scripted):
    sink, status = scripted(lambda rid: whole(rid)[:-40], close_after=True).collect()
    assert status.status == "partial" and "part way through the answer" in status.reason, status.reason
    assert "\n" not in status.reason and sink.of(OvnNbRow) == [] and not sink.is_complete(OvnNbRow, OVN_NB_SCOPE)


@pytest.mark.parametrize(
    "reply, says",
    [
        (lambda rid: b'{"id": %d, "result": [{"rows": [1,]}], "error": null}' % rid, "malformed reply"),
        (lambda rid: orjson.dumps({"id": rid, "result": [{"rows": [{"_uuid": 7}]}] * 8, "error": None}), "malformed"),
        (lambda rid: orjson.dumps({"id": rid, "result": [{"rows": []}], "error": None}), "not one result per table"),
        (
            lambda rid: orjson.dumps({"id": rid, "result": None, "error": {"error": "resources exhausted"}}),
            "resources exhausted",
        ),
        (lambda rid: orjson.dumps({"id": rid, "result": rows(("neutron:x",)), "error": None}), "malformed row"),
    ],
)
def test_a_malformed_or_error_reply_is_one_line_and_no_fact(scripted, reply, says):
    sink, status = scripted(reply).collect()
    assert status.status == "partial" and says in status.reason, status.reason
    assert "\n" not in status.reason and "Traceback" not in status.reason and sink.of(OvnNbRow) == []
