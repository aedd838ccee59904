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

from osfsck.clients import ovsdb_rpc
from osfsck.clients.ovsdb_rpc import Framer, OvnNbError, Spans, map_of, set_of
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
    for table in reversed(ORDER):  # the order of the source's selects, and the one finding nothing after them
        r = {"Logical_Switch": [sw], "Logical_Switch_Port": [lsp]}.get(table, [])
        result.append({"rows": r})
    return [*result, {"rows": []}]


class Scripted:
    """Answers get_schema and _Server as a standalone ovsdb-server does, and the select
    with `select_reply(id)`; with `close_after`, closes the connection after sending it."""

    def __init__(self, tmp_path, select_reply, close_after=False, hold_after=0.0):
        self.close_after, self.hold_after = close_after, hold_after
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
                        time.sleep(self.hold_after)  # the connection open, the rest never sent
                        if self.close_after:
                            return

    def collect(self, timeout=5):
        sink = Snapshot(taken_at=None)
        source = OvnNorthboundSource(OvnSettings(nb_connection=f"unix:{self.path}", timeout=timeout))
        (status,) = source.collect({OvnNbRow}, sink, sink)
        return sink, status

    def close(self):
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def scripted(tmp_path):
    made = []

    def make(select_reply, close_after=False, hold_after=0.0):
        (tmp_path / str(len(made))).mkdir()
        made.append(Scripted(tmp_path / str(len(made)), select_reply, close_after, hold_after))
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
        (
            lambda rid: orjson.dumps({"id": rid, "result": [{"rows": [{"_uuid": 7}]}] * 9, "error": None}),
            "malformed row",
        ),
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


# -- the reply decoded a piece at a time (`_spans`, `_pieces`) ----------------------------
# strings that look like the places where the reply is cut, escaped as JSON escapes them
TRICKY = [',{"a', ']},{"rows":[', '{"rows":[]}', "x,{", '\\"', "\\", "é ☃ \u2028", "", '"},{"_uuid":["uuid","z"]}']


def tricky_rows(n: int) -> list:
    return [
        {"_uuid": ["uuid", f"u{i}"], "name": TRICKY[i % len(TRICKY)], "external_ids": ["map", [[t, t] for t in TRICKY]]}
        for i in range(n)
    ]


def decoded(whole: bytes, rid: int, n: int):
    """Each select's rows as the pieces give them (the last select's first, each one's last
    rows first, as `_select` reads them), or None when `_spans` declines."""
    spans = ovsdb_rpc._spans(bytearray(whole), rid, n)
    if spans is None:
        return None
    assert isinstance(spans, Spans)
    pieces = [list(ovsdb_rpc._pieces(spans.whole, a, b, "t")) for a, b in reversed(spans.spans)]
    assert not spans.whole[spans.spans[0][0] :]  # what was read was let go of
    return [[r for rows in reversed(p) for r in rows] for p in reversed(pieces)]


@pytest.mark.parametrize("piece", [1, 100, 1 << 20])
def test_rows_decoded_in_pieces_are_the_rows_decoded_whole(monkeypatch, piece):
    monkeypatch.setattr(ovsdb_rpc, "PIECE", piece)
    tables = [tricky_rows(30), [], tricky_rows(1), tricky_rows(200)]
    whole = orjson.dumps({"id": 4, "result": [{"rows": t} for t in tables] + [{"rows": []}], "error": None})
    assert decoded(whole, 4, 5) == tables
    # as json.dumps writes it too (another order of members, non-ASCII escaped)
    for order in (["result", "error", "id"], ["error", "id", "result"]):
        msg = {"id": 4, "result": [{"rows": t} for t in tables] + [{"rows": []}], "error": None}
        text = json.dumps({k: msg[k] for k in order}, separators=(",", ":")).encode()
        assert decoded(text, 4, 5) == tables


@pytest.mark.parametrize(
    "whole",
    [
        b'{"id":4,"result":[{"rows":[]},{"rows":[]}],"error":null}',  # one select too few
        b'{"id":4,"result":[{"rows":[]},{"rows":[]},{"rows":[]}],"error":null}{"id":5}',  # another message
        b'{"id":5,"result":[{"rows":[]},{"rows":[]},{"rows":[]}],"error":null}',  # not this request's
        b'{"id":4,"result":[{"rows":[]},{"error":"constraint violation","details":"x"},{"rows":[]}],"error":null}',
        b'{"id":4, "result":[{"rows": []},{"rows":[]},{"rows":[]}],"error":null}',  # spaces
        b'{"id":4,"result":[{"rows":[]},{"rows":[]},{"rows":[{"_uuid":["uuid","a"]}]}],"error":null}',
        b'{"id":"echo","method":"echo","params":[]}{"id":4,"result":[{"rows":[]},{"rows":[]},{"rows":[]}],"error":null}',
        b'{"id":4,"result":[{"rows":[]},{"rows":[]},{"rows":[]}],"error":null,"more":1}',
        b'{"id":4,"result":[{"rows":[{"a":{"rows":[]}}]},{"rows":[]}],"error":null}',  # a row's value an object
        b'{"id":4,"result":[{"rows":[]},{"rows":[]},{"rows":[]}],"error":"\xff"}',
    ],
)
def test_a_reply_not_as_ovsdb_server_writes_it_is_not_cut(whole):
    assert decoded(whole, 4, 3) is None


@pytest.mark.parametrize(
    "rows, says",
    [
        (b' ,{"_uuid":2}', "no row between two commas"),
        (b'{"_uuid":1},,{"_uuid":2}', "malformed reply"),
        (b'{"_uuid":1} x,{"_uuid":2}', "malformed reply"),
        (b'{"_uuid":1},{"_uuid":"\xff\xfe"}', "malformed reply"),  # not UTF-8
        (b'{"_uuid":1},{"_uuid":2},', "malformed reply"),
        (b'{"_uuid":1},{"_uuid":"a,{"_uuid":2}', "malformed reply"),
    ],
)
def test_rows_that_do_not_decode_are_one_line(monkeypatch, rows, says):
    monkeypatch.setattr(ovsdb_rpc, "PIECE", 1)
    whole = b'{"id":4,"result":[{"rows":[%s]},{"rows":[]}],"error":null}' % rows
    spans = ovsdb_rpc._spans(bytearray(whole), 4, 2)
    assert spans is not None  # what is left when they are cut out is a reply as it should be
    with pytest.raises(OvnNbError, match=says) as e:
        list(ovsdb_rpc._pieces(spans.whole, *spans.spans[0], "rows of ACL"))
    assert "\n" not in str(e.value) and str(e.value).startswith("rows of ACL: ")


def big_reply(rid, ports=3000, device_owner="compute:nova"):
    """A reply with `ports` switch ports on one switch, several pieces of rows."""
    lsps = [
        {"_uuid": ["uuid", f"p{i}"], "name": f"{i:08x}-1111-4c3a-9d2e-5f1a2b3c4d5e", "type": "",
         "external_ids": ["map", [["neutron:revision_number", "5"], ["neutron:device_owner", device_owner]]]}
        for i in range(ports)
    ]  # fmt: skip
    sw = {"_uuid": ["uuid", "s1"], "name": f"neutron-{NET}", "ports": ["set", [r["_uuid"] for r in lsps]]}
    sw |= {"acls": ["set", []], "external_ids": ["map", [["neutron:revision_number", "2"]]]}
    tables = {"Logical_Switch": [sw], "Logical_Switch_Port": lsps}
    result = [{"rows": tables.get(t, [])} for t in reversed(ORDER)]
    return orjson.dumps({"id": rid, "result": [*result, {"rows": []}], "error": None})


def test_a_reply_of_many_pieces_is_facts(scripted, monkeypatch):
    monkeypatch.setattr(ovsdb_rpc, "PIECE", 4096)
    pieces = []
    real = ovsdb_rpc._pieces
    monkeypatch.setattr(ovsdb_rpc, "_pieces", lambda *a: (pieces.append(1) or rows for rows in real(*a)))
    sink, status = scripted(big_reply).collect()
    ports = [r for r in sink.of(OvnNbRow) if r.table == "Logical_Switch_Port"]
    assert status.status == "ok" and len(ports) == 3000 and len(pieces) > 50
    assert {p.parent for p in ports} == {f"neutron-{NET}"} and {p.revision for p in ports} == {5}


def test_a_huge_string_is_read_whole(scripted):
    huge = "compute:" + "x" * (3 << 20)  # longer than a piece: the piece is longer
    sink, status = scripted(lambda rid: big_reply(rid, 10, huge)).collect()
    ports = [r for r in sink.of(OvnNbRow) if r.table == "Logical_Switch_Port"]
    assert status.status == "ok" and len(ports) == 10 and {p.device_owner for p in ports} == {huge}


def test_a_reply_cut_anywhere_is_partial_with_no_fact(scripted):
    text = big_reply(1)
    for cut in (len(text) // 3, len(text) // 2, len(text) - 2):
        sink, status = scripted(lambda rid, cut=cut: big_reply(rid)[:cut], close_after=True).collect()
        assert status.status == "partial" and "part way through the answer" in status.reason, status.reason
        assert "\n" not in status.reason and sink.of(OvnNbRow) == []


def test_a_reply_stopping_half_way_times_out_with_no_fact(scripted):
    s = scripted(lambda rid: big_reply(rid)[:100_000], hold_after=3)
    t = time.monotonic()
    sink, status = s.collect(timeout=1)
    assert status.status == "partial" and "no answer to the select of the NB tables in time" in status.reason
    assert time.monotonic() - t < 2.5 and "\n" not in status.reason and sink.of(OvnNbRow) == []


def test_an_error_in_one_select_is_one_line_with_no_fact(scripted):
    def reply(rid):
        result = orjson.loads(whole(rid))["result"]
        # as ovsdb-server answers: the failed operation's error, null for those after it
        acl = [*reversed(ORDER)].index("ACL")
        result[acl:] = [{"error": "resources exhausted", "details": "too big\nsecond line"}] + [None] * (
            len(result) - acl - 1
        )
        return orjson.dumps({"id": rid, "result": result, "error": None})

    sink, status = scripted(reply).collect()
    assert status.status == "partial" and status.reason.endswith("select of ACL: too big"), status.reason
    assert sink.of(OvnNbRow) == []


@pytest.mark.parametrize("where", ["rows", "rest"])
def test_bytes_not_utf8_are_one_line_with_no_fact(scripted, where):
    def reply(rid):
        text = whole(rid)
        if where == "rows":  # inside a port's row: the rows' piece does not decode
            return text.replace(b'"neutron:revision_number","5"', b'"neutron:revision_number","\xff"')
        return text.replace(b'"error":null', b'"error":null,"x":"\xfe"')  # outside: the reply is decoded whole

    sink, status = scripted(reply).collect()
    assert status.status == "partial" and "malformed reply" in status.reason, status.reason
    assert "\n" not in status.reason and "Traceback" not in status.reason and sink.of(OvnNbRow) == []
