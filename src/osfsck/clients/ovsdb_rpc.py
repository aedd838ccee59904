"""A read of chosen columns of an OVSDB database over bare JSON-RPC (RFC 7047), without
python-ovs: one `transact` of one `select` per table, which the server answers from one
consistent state of the database (all operations of a transaction see the same
database, RFC 7047 §5.2), its reply decoded by orjson about 1 MB of rows at a time.

The reply is held as bytes until it has all arrived, then decoded a piece at a time from
its end, each piece's bytes let go of once decoded (`_spans`, `_pieces`): its rows as
orjson's dicts and lists took 5-6 times the bytes, and the whole reply decoded at once
was most of the source's peak memory (108,000 switch ports: 611 MB above its start,
for 110 MB of facts; tools/bench_ovn.py).

Why not python-ovs's IDL: its monitor keeps a Python object per row and per cell, and
that (not the server, not the socket) was most of the time to read 40,000 switch ports
(tools/bench_ovn.py).  This reader keeps what the IDL promised the source: nothing is
returned unless the server's whole reply arrived and parsed; a connection lost half way,
a malformed reply, an error reply or a timeout is one line (OvnNbError), never rows.

A clustered database is read only from a server that is connected to its cluster and is
its leader, as python-ovs's IDL does by default (`leader_only`): a follower cut off from
the cluster answers from a stale log.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Callable
from typing import NamedTuple

import orjson

from osfsck.clients import gcpause


class OvnNbError(Exception):
    """The NB database could not be read: one line."""


class _Lost(OvnNbError):
    """The connection broke or timed out (another remote may still answer)."""


# Bracket counting, in C: escapes (only ever inside strings) are dropped first, then
# every byte but quotes and brackets, then empty strings (`""`: what most strings become;
# taking out a closing and an opening quote that meet moves no bracket in or out of a
# string).  What quotes are left belong to strings with brackets in them (an ACL's match)
# or to one left open at the end of a piece, and those few are taken out by a pattern.
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_SYNTAX = bytes(b for b in range(256) if b not in b'"[]{}')
_STRING = re.compile(rb'"[^"]*"')
_CLOSED = re.compile(rb'[^"]*(?:"[^"]*"[^"]*)*')


class Framer:
    """JSON-RPC messages (JSON objects one after another, RFC 7047 §4) from a byte stream
    fed in pieces.  Brackets are counted per piece (above); the messages are decoded by
    orjson only when every bracket is closed at the end of a piece, which is where a
    server that has said all it has to say leaves the stream."""

    def __init__(self) -> None:
        # when set, given each whole buffer first: what it returns (not None) stands for it
        self.claim: Callable[[bytearray], object | None] | None = None
        # one buffer grown in place: a list of pieces joined at the end held the reply twice
        self._buf = bytearray()
        self._open = b""  # a string not closed yet: its quote and its brackets
        self._escape = False  # the piece ended in the backslash of an escape
        self._depth = 0

    def feed(self, data: bytes) -> list:
        self._buf += data
        if self._escape:
            data, self._escape = b"\\" + data, False
        if b"\\" in data:
            data = _ESCAPE.sub(b"", data)
            if data.endswith(b"\\"):
                data, self._escape = data[:-1], True
        syntax = (self._open + data.translate(None, _NOT_SYNTAX)).replace(b'""', b"")
        self._open = b""
        if b'"' in syntax:
            m = _CLOSED.match(syntax)
            end = m.end() if m else 0  # the pattern matches the empty string: m is never None
            self._open = syntax[end:]
            syntax = _STRING.sub(b"", syntax[:end])
        self._depth += syntax.count(b"{") + syntax.count(b"[") - syntax.count(b"}") - syntax.count(b"]")
        if self._depth < 0:
            raise OvnNbError("malformed reply: a bracket closes that was never opened")
        if self._depth or self._open or self._escape:
            return []
        whole, self._buf = self._buf, bytearray()
        claimed = self.claim(whole) if self.claim is not None else None
        if claimed is not None:
            return [claimed]
        return [] if whole.isspace() or not whole else _messages(whole)

    @property
    def pending(self) -> bool:
        return bool(self._depth or self._open or self._escape or (self._buf and not self._buf.isspace()))


def _messages(whole: bytearray) -> list:
    """The messages in `whole`, which ends where one ends: most often exactly one."""
    try:
        with gcpause.paused():
            return [_message(orjson.loads(whole))]
    except orjson.JSONDecodeError as e:
        if not e.msg.startswith("unexpected content after document"):
            raise OvnNbError(f"malformed reply: {e.msg} at character {e.pos}") from None
    # more than one message: orjson says where the first ends, in characters
    out, text = [], whole.decode("utf-8", errors="replace")
    while text.strip():
        try:
            out.append(_message(orjson.loads(text)))
            break
        except orjson.JSONDecodeError as e:
            if not e.msg.startswith("unexpected content after document"):
                raise OvnNbError(f"malformed reply: {e.msg}") from None
            out.append(_message(orjson.loads(text[: e.pos])))
            text = text[e.pos :]
    return out


def _message(value):
    if not isinstance(value, dict):
        raise OvnNbError(f"malformed reply: a {type(value).__name__} where a JSON-RPC message (an object) belongs")
    return value


# -- connecting --------------------------------------------------------------------------
def _connect(remote: str, settings, deadline: float) -> socket.socket:
    kind, _, where = remote.partition(":")
    remaining = max(0.001, deadline - time.monotonic())
    try:
        if kind == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(remaining)
            sock.connect(where)
            return sock
        host, _, port = where.rpartition(":")
        sock = socket.create_connection((host.strip("[]"), int(port)), timeout=remaining)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if kind != "ssl":
            return sock
        # OVS's own SSL: the peer's certificate must chain to the CA; no name is checked
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(settings.ca_cert)
        ctx.load_cert_chain(settings.certificate, settings.private_key)
        return ctx.wrap_socket(sock)
    except TimeoutError:
        raise _Lost(f"OVN NB {remote}: cannot connect: timed out") from None
    except ssl.SSLError as e:
        raise _Lost(f"OVN NB {remote}: TLS failed: {e.reason or e}") from None
    except OSError as e:
        raise _Lost(f"OVN NB {remote}: cannot connect: {e.strerror or e}") from None


class Rpc:
    """One JSON-RPC connection: requests answered in turn, echo requests answered."""

    def __init__(self, sock: socket.socket, remote: str, deadline: float):
        self.sock, self.remote, self.deadline = sock, remote, deadline
        self._framer = Framer()
        self._inbox: list = []
        self._next = 0

    def call(self, method: str, params: list, what: str, claim: Callable[[bytearray, int], object] | None = None):
        """The result of `method`; with `claim(buffer, id)`, what it makes of the reply's
        bytes when it takes them (else the reply is decoded whole, as without it)."""
        self._next += 1
        rid = self._next
        self._send({"id": rid, "method": method, "params": params})
        self._framer.claim = (lambda whole: claim(whole, rid)) if claim else None
        try:
            return self._reply(rid, what)
        finally:
            self._framer.claim = None

    def _reply(self, rid: int, what: str):
        while True:
            msg = self._receive(what)
            if isinstance(msg, Spans):
                return msg
            if msg.get("method") == "echo" and "id" in msg:  # the server's inactivity probe
                self._send({"id": msg["id"], "result": msg.get("params"), "error": None})
                continue
            if msg.get("id") != rid:
                continue  # a notification: nothing this reader asked for
            if msg.get("error") is not None:
                raise OvnNbError(f"OVN NB {self.remote}: {what}: {_one_line(msg['error'])}")
            if "result" not in msg:
                raise OvnNbError(f"OVN NB {self.remote}: {what}: malformed reply: no result")
            return msg["result"]

    def _send(self, msg: dict) -> None:
        self.sock.settimeout(max(0.001, self.deadline - time.monotonic()))
        try:
            self.sock.sendall(orjson.dumps(msg))
        except TimeoutError:
            raise _Lost(f"OVN NB {self.remote}: timed out sending") from None
        except OSError as e:
            raise _Lost(f"OVN NB {self.remote}: connection lost: {e.strerror or e}") from None

    def _receive(self, what: str):
        while not self._inbox:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise _Lost(f"OVN NB {self.remote}: no answer to {what} in time; nothing was compared")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(1 << 20)
            except TimeoutError:
                raise _Lost(f"OVN NB {self.remote}: no answer to {what} in time; nothing was compared") from None
            except OSError as e:
                raise _Lost(f"OVN NB {self.remote}: connection lost: {e.strerror or e}") from None
            if not data:
                cut = " part way through the answer" if self._framer.pending else ""
                raise _Lost(
                    f"OVN NB {self.remote}: connection closed by the server{cut} ({what}); nothing was compared"
                )
            try:
                self._inbox.extend(self._framer.feed(data))
            except OvnNbError as e:
                raise OvnNbError(f"OVN NB {self.remote}: {what}: {e}") from None
        return self._inbox.pop(0)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _one_line(error) -> str:
    if isinstance(error, dict):
        error = error.get("details") or error.get("error") or error
    return str(error).splitlines()[0] if error else "error"


# -- reading -----------------------------------------------------------------------------
def select(settings, database: str, columns: dict, take: Callable[[str, list], None], timeout: float | None = None):
    """`take(table, rows)` for the rows of `columns` ({table: [column, ...]}, each row with
    its `_uuid`) read in one transaction, table after table in `columns`' order, a table's
    rows a MB or so at a time from its last rows to its first (`_pieces`), from the first
    remote of `settings.nb_connection` that answers (and, for a clustered database, leads
    its cluster).  Only once the whole reply has arrived; a row that does not decode is an
    OvnNbError after some `take`s: keep nothing of them then.  Columns the server's schema
    lacks are not asked for (an older schema); a table it lacks is an error."""
    _first_answer(settings, timeout, lambda rpc: _select(rpc, database, columns, take))


def select_where(settings, database: str, wanted: dict, timeout: float | None = None) -> dict:
    """{table: [row, ...]} of the rows of each table matching any of its conditions
    (`wanted`: {table: ([column, ...], [condition, ...])}), as `select` returns them, in
    one consistent state of the database.

    Read through `monitor_cond`'s initial state, not `select`: a select takes one
    condition list (its conditions ANDed), so many values take one select each, and
    ovsdb-server scans the table for each (1,000 `name ==` selects of 40,000 switch
    ports: 7.6 s; the whole table: 2.1 s), while a monitor's conditions are ORed and its
    `==` conditions looked up through a hash (3,000 names of 40,000: 0.19 s; the whole
    table 1.35 s).  `includes` is not hashed (3,000 of 40,000: 8.1 s): ask for few.  A
    table with no condition is not asked for (no rows); `[True]` asks for every row."""
    return _first_answer(settings, timeout, lambda rpc: _monitor(rpc, database, wanted))


def _first_answer(settings, timeout: float | None, read):
    """`read(rpc)` from the first remote that answers (and leads its cluster)."""
    deadline = time.monotonic() + (timeout if timeout is not None else settings.timeout)
    errors: list[OvnNbError] = []
    for remote in settings.nb_connection.split(","):
        try:
            rpc = Rpc(_connect(remote, settings, deadline), remote, deadline)
        except _Lost as e:
            errors.append(e)
            continue
        try:
            return read(rpc)
        except (_Lost, _Follower) as e:
            errors.append(e)
        finally:
            rpc.close()
    raise errors[-1]


class _Follower(OvnNbError):
    """A clustered server that is not (or not connected to) its cluster's leader."""


def _columns(rpc: Rpc, schema: dict, database: str, table: str, cols: list) -> list:
    """Those of `cols` the server's schema has for `table`; OvnNbError when it has no such table."""
    have = schema["tables"].get(table)
    if not isinstance(have, dict):
        raise OvnNbError(f"OVN NB {rpc.remote}: the {database} schema ({schema.get('version')}) has no table {table}")
    return [c for c in cols if c in have.get("columns", ())]


def _select(rpc: Rpc, database: str, columns: dict, take) -> None:
    schema = _schema(rpc, database)
    _check_leader(rpc, database)
    ops, tables = [], []
    # asked for last first: the reply is read from its end (`_pieces`)
    for table, cols in reversed(columns.items()):
        wanted = ["_uuid", *_columns(rpc, schema, database, table, cols)]
        ops.append({"op": "select", "table": table, "where": [], "columns": wanted})
        tables.append(table)
    # a select that finds nothing after them: where the last table's rows end (`_spans`)
    ops.append(
        {"op": "select", "table": tables[0], "where": [["_uuid", "==", ["uuid", _NO_ROW]]], "columns": ["_uuid"]}
    )
    claim = lambda whole, rid: _spans(whole, rid, len(ops))  # noqa: E731
    result = rpc.call("transact", [database, *ops], "the select of the NB tables", claim)
    if isinstance(result, Spans):
        with gcpause.paused():
            for table, (start, end) in reversed(list(zip(tables, result.spans))):
                for rows in _pieces(result.whole, start, end, f"OVN NB {rpc.remote}: rows of {table}"):
                    take(table, rows)
        return
    # not as `_spans` expects it (an error in it, or an echo request sent with it): whole
    if not isinstance(result, list) or len(result) < len(ops):
        raise OvnNbError(f"OVN NB {rpc.remote}: malformed reply to the select: not one result per table")
    for table, r in zip(tables, result):
        if not isinstance(r, dict) or "error" in r or not isinstance(r.get("rows"), list):
            what = _one_line(r) if isinstance(r, dict) and "error" in r else "no rows"
            raise OvnNbError(f"OVN NB {rpc.remote}: select of {table}: {what}")
    for table, r in reversed(list(zip(tables, result))):
        take(table, r["rows"])


_NO_ROW = "00000000-0000-0000-0000-000000000000"
_ROWS = b'{"rows":['  # how ovsdb-server writes a select's result (compact, its only member)
_NONE = b'{"rows":[]}'
# Where a row starts after a comma: `,{"` then a key's first character.  A `{` followed by
# `"` inside a string would need that quote to close the string, and a closing quote is
# followed by `,` `]` `}` `:` or a space, never a name; and OVSDB's notation has no
# objects in a row's values (RFC 7047 §5.1), so the comma is the one between two rows.
_ROW_AFTER = b',{"'
_NAME_START = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
PIECE = 1 << 20  # bytes of rows decoded at once: ~6 MB of dicts and lists


class Spans(NamedTuple):
    """A reply to a transact of selects, its rows not decoded: whole[start:end] for
    (start, end) in spans are the rows of each select, between the brackets of "rows"."""

    whole: bytearray
    spans: list[tuple[int, int]]


def _spans(whole: bytearray, rid: int, n: int) -> Spans | None:
    """Where the rows of each of `n` selects (the last one finding nothing) are in
    `whole` when it is the reply `rid` as ovsdb-server writes it; None when not (an error
    in it, another message with it, another writer): then it is decoded whole.

    What is left when the rows are cut out is decoded here, what is cut out by `_pieces`,
    and nothing a decoder of the whole would refuse passes: the rest, with `"rows":[]`
    where the rows were, decodes as this reply only if each `{"rows":[` it was cut after
    starts a select's result (inside a string, that quote would end the string, and a
    name cannot follow a string), and `_pieces` decodes every byte cut out as rows
    separated by commas."""
    starts: list[int] = []
    at = whole.find(_ROWS)
    while at >= 0 and len(starts) <= n:
        starts.append(at)
        at = whole.find(_ROWS, at + len(_ROWS))
    if len(starts) != n or not whole.startswith(_NONE, starts[-1]):
        return None
    spans = []
    for start, following in zip(starts, starts[1:]):
        if whole[following - 3 : following] != b"]},":
            return None
        spans.append((start + len(_ROWS), following - 3))
    edges = [0, *(i for span in spans for i in span), len(whole)]
    try:
        with gcpause.paused(), memoryview(whole) as view:  # let go of: `_pieces` shortens `whole`
            rest = orjson.loads(b"".join(view[a:b] for a, b in zip(edges[::2], edges[1::2])))
    except orjson.JSONDecodeError:
        return None
    if not (
        isinstance(rest, dict)
        and rest.keys() == {"id", "result", "error"}
        and rest["id"] == rid
        and rest["error"] is None
        and rest["result"] == [{"rows": []}] * n
    ):
        return None
    return Spans(whole, spans)


def _pieces(whole: bytearray, start: int, end: int, what: str):
    """The rows in whole[start:end] (rows separated by commas) about PIECE bytes at a
    time, from the last: each piece is cut off the end of `whole` once decoded, so that
    the reply's bytes shrink as what is made of its rows grows (CPython gives a bytearray's
    memory back once it is under half its allocation)."""
    while end > start:
        begin = _row_before(whole, start, end - PIECE) if end - start > PIECE else start
        try:
            rows = orjson.loads(b"[" + whole[begin:end] + b"]")
        except orjson.JSONDecodeError as e:
            raise OvnNbError(f"{what}: malformed reply: {e.msg}") from None
        if not rows:  # `[ ]`: nothing between two commas
            raise OvnNbError(f"{what}: malformed reply: no row between two commas")
        del whole[begin:]
        yield rows
        if begin == start:
            return
        end = begin - 1  # the comma before this piece: the next one ends there
        if end == start:  # the rows began with that comma
            raise OvnNbError(f"{what}: malformed reply: no row before a comma")


def _row_before(whole: bytearray, start: int, limit: int) -> int:
    """Where the last row that starts after a comma before `limit` in whole[start:]
    starts; `start` when none does."""
    at = whole.rfind(_ROW_AFTER, start, limit)
    while at >= 0 and whole[at + 3] not in _NAME_START:
        at = whole.rfind(_ROW_AFTER, start, at + 2)
    return at + 1 if at >= 0 else start


def _monitor(rpc: Rpc, database: str, wanted: dict) -> dict:
    schema = _schema(rpc, database)
    _check_leader(rpc, database)
    requests, defaults = {}, {}
    for table, (cols, conditions) in wanted.items():
        have = _columns(rpc, schema, database, table, cols)
        defaults[table] = {c: _default(schema["tables"][table]["columns"][c]) for c in have}
        if conditions:
            requests[table] = [{"columns": have, "where": conditions}]
    out: dict = {table: [] for table in wanted}
    if not requests:
        return out
    what = "the NB rows of the cells' part (monitor_cond)"
    result = rpc.call("monitor_cond", [database, "osfsck", requests], what)
    if not isinstance(result, dict):
        raise OvnNbError(f"OVN NB {rpc.remote}: malformed reply to {what}: not a table of updates")
    for table, updates in result.items():
        if table not in out or not isinstance(updates, dict):
            raise OvnNbError(f"OVN NB {rpc.remote}: malformed reply to {what}: table {str(table)[:40]!r}")
        for uuid, update in updates.items():
            row = update.get("initial") if isinstance(update, dict) else None
            if not isinstance(row, dict):
                raise OvnNbError(f"OVN NB {rpc.remote}: malformed reply to {what}: row {str(uuid)[:40]} has no initial")
            # the initial state leaves out what holds its column's default
            out[table].append({**defaults[table], **row, "_uuid": ["uuid", uuid]})
    return out


_ATOM_DEFAULTS = {"string": "", "integer": 0, "real": 0.0, "boolean": False}


def _default(column) -> object:
    """A column's default in the JSON notation (RFC 7047 §5.1): a scalar's atom default
    ("" for a string, enum or not), else the empty set (which map_of also reads as an
    empty map)."""
    kind = column.get("type") if isinstance(column, dict) else None
    if isinstance(kind, dict) and kind.get("min", 1) == 1 and kind.get("max", 1) == 1 and "value" not in kind:
        kind = kind.get("key")
        kind = kind.get("type") if isinstance(kind, dict) else kind
    return _ATOM_DEFAULTS.get(kind, ["set", []]) if isinstance(kind, str) else ["set", []]


def _schema(rpc: Rpc, database: str) -> dict:
    try:
        schema = rpc.call("get_schema", [database], "get_schema")
    except _Lost:
        raise
    except OvnNbError as e:
        raise OvnNbError(
            f"OVN NB {rpc.remote}: the server has no {database} database (is this the southbound "
            f"or another ovsdb-server?): {str(e).rpartition(': ')[2]}"
        ) from None
    if not isinstance(schema, dict) or schema.get("name") != database or not isinstance(schema.get("tables"), dict):
        raise OvnNbError(f"OVN NB {rpc.remote}: the server's schema is not {database}")
    return schema


def _check_leader(rpc: Rpc, database: str) -> None:
    """Refuse a clustered server that is not connected or not the leader (the _Server
    database, OVSDB 2.9+; a server without it is standalone)."""
    op = {"op": "select", "table": "Database", "where": [["name", "==", database]]}
    try:
        (r,) = rpc.call("transact", ["_Server", {**op, "columns": ["model", "connected", "leader"]}], "_Server")[:1]
    except _Lost:
        raise
    except (OvnNbError, ValueError, TypeError):
        return  # no _Server database: an ovsdb-server older than 2.9, never clustered
    rows = r.get("rows") if isinstance(r, dict) else None
    if not rows or rows[0].get("model") != "clustered":
        return
    if not rows[0].get("connected"):
        raise _Follower(f"OVN NB {rpc.remote}: this cluster member is not connected to its cluster")
    if not rows[0].get("leader"):
        raise _Follower(f"OVN NB {rpc.remote}: this cluster member is not the leader")


# -- OVSDB's JSON notation (RFC 7047 §5.1) ------------------------------------------------
def set_of(value) -> list:
    """A <set>: ["set", [...]] or, for one member, the member itself."""
    if isinstance(value, list) and value and value[0] == "set":
        return value[1]
    return [value]


def map_of(value) -> dict:
    """A <map>: ["map", [[key, value], ...]]."""
    return dict(value[1])
