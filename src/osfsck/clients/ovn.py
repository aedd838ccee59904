"""The OVN northbound database through python-ovs's IDL and ovsdbapp: a complete, atomic
read for the source, and conditional row deletes (and their undo) for the repairs.

The one rule that matters: nothing may be compared before the IDL holds the server's
*whole* initial dump.  A sync that ran against a half-loaded NB database re-created ports
that existed and corrupted a production network (research/external-systems.md §B.2).  The
IDL receives the dump as a single reply to its monitor request and applies it in one
`run()`, after which, and only after which, it enters IDL_S_MONITORING.  `load` waits for
exactly that state; a connected socket, a bumped change_seqno (a lock grant bumps it too,
before any data) or a timeout prove nothing.  Every failure is one line (OvnNbError).
"""

from __future__ import annotations

import errno
import os
import time
import uuid as _uuid

import ovs.jsonrpc
import ovs.poller
import ovs.stream
from ovs.db import idl as ovs_idl
from ovsdbapp.backend.ovs_idl import command as ovsdbapp_command
from ovsdbapp.backend.ovs_idl.connection import Connection
from ovsdbapp.schema.ovn_northbound import impl_idl

from osfsck.clients import ovn_json
from osfsck.clients.ovsdb_rpc import OvnNbError  # one error for the reader and the writer

SCHEMA = "OVN_Northbound"
ovn_json.install()


class RowChanged(OvnNbError):
    """The row is not (any more) what was seen: nothing was written."""


# -- connecting --------------------------------------------------------------------------
def _ssl(settings) -> None:
    # python-ovs keeps the SSL files process-wide; set them before any ssl: stream opens
    if settings.uses_ssl:
        ovs.stream.Stream.ssl_set_private_key_file(settings.private_key)
        ovs.stream.Stream.ssl_set_certificate_file(settings.certificate)
        ovs.stream.Stream.ssl_set_ca_cert_file(settings.ca_cert)


def _remaining_ms(deadline: float) -> int:
    return max(0, int((deadline - time.monotonic()) * 1000))


def fetch_schema(remote: str, deadline: float) -> dict:
    """The NB schema as the server has it (get_schema), within the deadline.  ovsdbapp's
    own fetch blocks without a limit on a server that accepts and never answers."""
    err, stream = ovs.stream.Stream.open_block(ovs.stream.Stream.open(remote), _remaining_ms(deadline))
    if err:
        raise OvnNbError(f"OVN NB {remote}: cannot connect: {os.strerror(err)}")
    rpc = ovs.jsonrpc.Connection(stream)
    try:
        request = ovs.jsonrpc.Message.create_request("get_schema", [SCHEMA])
        err = rpc.send(request)
        while not err:
            rpc.run()
            err, reply = rpc.recv()
            if reply is not None and reply.id == request.id:
                break
            if err == errno.EAGAIN:
                if time.monotonic() >= deadline:
                    raise OvnNbError(f"OVN NB {remote}: no answer to get_schema in time")
                poller = ovs.poller.Poller()
                rpc.wait(poller)
                rpc.recv_wait(poller)
                poller.timer_wait(_remaining_ms(deadline))
                poller.block()
                err = 0
        if err:
            raise OvnNbError(f"OVN NB {remote}: connection lost: {os.strerror(err) if err > 0 else 'end of stream'}")
        if reply.type == ovs.jsonrpc.Message.T_ERROR or reply.error:
            raise OvnNbError(
                f"OVN NB {remote}: the server has no {SCHEMA} database (is this the southbound "
                f"or another ovsdb-server?): {_one_line(reply.error)}"
            )
        schema = reply.result
    finally:
        rpc.close()
    if not isinstance(schema, dict) or schema.get("name") != SCHEMA:
        raise OvnNbError(f"OVN NB {remote}: the server's schema is not {SCHEMA}")
    return schema


def _one_line(error) -> str:
    if isinstance(error, dict):
        error = error.get("details") or error.get("error") or error
    return str(error).splitlines()[0] if error else "error"


def helper_for(settings, columns: dict | None, deadline: float) -> ovs_idl.SchemaHelper:
    """A schema helper registering `columns` ({table: [column, ...]}), or every table when
    None.  Only what is registered is monitored, sent and parsed: the IDL's cost is per
    cell of the dump (tools/bench_ovn.py)."""
    _ssl(settings)
    errors: list[OvnNbError] = []
    for remote in settings.nb_connection.split(","):
        try:
            schema = fetch_schema(remote, deadline)
            break
        except OvnNbError as e:
            errors.append(e)
    else:
        raise errors[-1]
    helper = ovs_idl.SchemaHelper(None, schema)
    if columns is None:
        helper.register_all()
        return helper
    for table, cols in columns.items():
        have = schema["tables"].get(table)
        if have is None:
            raise OvnNbError(
                f"OVN NB {settings.nb_connection}: the {SCHEMA} schema ({schema.get('version')}) has no table {table}"
            )
        helper.register_columns(table, [c for c in cols if c in have["columns"]])
    return helper


def load(settings, columns: dict | None, timeout: float | None = None) -> ovs_idl.Idl:
    """An IDL holding the complete initial dump of `columns`, or OvnNbError.  The IDL is
    never run again by this function's caller for reading: its rows are one atomic
    snapshot of the server's database."""
    deadline = time.monotonic() + (timeout if timeout is not None else settings.timeout)
    helper = helper_for(settings, columns, deadline)
    # python-ovs's Idl, not ovsdbapp's OvsdbIdl: that one sleeps(0) after every row of the
    # dump to let eventlet's threads run (0.1 ms each: 11 s for 110,000 rows)
    idl = ovs_idl.Idl(settings.nb_connection, helper)
    try:
        wait_for_dump(idl, deadline, settings.nb_connection)
    except BaseException:
        idl.close()
        raise
    return idl


def wait_for_dump(idl, deadline: float, remote: str) -> None:
    while True:
        idl.run()
        if dump_complete(idl):
            return
        if time.monotonic() >= deadline:
            raise OvnNbError(
                f"OVN NB {remote}: the initial dump did not arrive in time "
                f"({'connected' if idl._session.is_connected() else 'not connected'}); "
                "nothing was compared"
            )
        poller = ovs.poller.Poller()
        idl.wait(poller)
        poller.timer_wait(min(_remaining_ms(deadline), 1000))
        poller.block()


def dump_complete(idl) -> bool:
    """True only once the monitor reply (the whole database) has been applied."""
    return idl.state == ovs_idl.Idl.IDL_S_MONITORING and idl.has_ever_connected()


# -- rows as the journal keeps them -------------------------------------------------------
# A container's strong references to non-root rows: deleting the container deletes them
# (OVSDB garbage-collects unreferenced non-root rows), so they are part of its image.
CHILD_COLUMNS = {
    "Logical_Switch": ("ports", "acls", "qos_rules"),
    "Logical_Router": ("ports", "nat", "static_routes", "policies"),
    "Port_Group": ("acls",),
}
# where a non-root row hangs: (parent table, column)
PARENTS = {
    "Logical_Switch_Port": (("Logical_Switch", "ports"),),
    "Logical_Router_Port": (("Logical_Router", "ports"),),
    "ACL": (("Port_Group", "acls"), ("Logical_Switch", "acls")),
    "NAT": (("Logical_Router", "nat"),),
    "Logical_Router_Static_Route": (("Logical_Router", "static_routes"),),
    "Logical_Router_Policy": (("Logical_Router", "policies"),),
    "QoS": (("Logical_Switch", "qos_rules"),),
}


def row_image(tables, row, *, children: bool = True) -> dict:
    """A row as JSON: every column in OVSDB's wire notation (the before-image), where it
    hangs, and the rows that go with it."""
    table = row._table.name
    image = {"table": table, "uuid": str(row.uuid), "columns": {c: row._data[c].to_json() for c in sorted(row._data)}}
    parent = _parent_of(tables, table, row)
    if parent is not None:
        prow, column = parent
        image["parent"] = {
            "table": prow._table.name,
            "uuid": str(prow.uuid),
            "column": column,
            "name": getattr(prow, "name", ""),
        }
    if children:
        image["children"] = [
            row_image(tables, child, children=False)
            for column in CHILD_COLUMNS.get(table, ())
            if column in row._data
            for child in getattr(row, column)
        ]
    return image


def _parent_of(tables, table: str, row):
    for ptable, column in PARENTS.get(table, ()):
        for prow in tables[ptable].rows.values():
            if row in getattr(prow, column):
                return prow, column
    return None


def owned_marks(external_ids: dict) -> dict:
    """The keys that make a row Neutron's (DHCP_Options' `subnet_id` has no prefix)."""
    return {k: v for k, v in external_ids.items() if k.startswith("neutron:") or k in ("subnet_id", "port_id")}


# -- the writer (repairs) -----------------------------------------------------------------
class _ReadImage(ovsdbapp_command.ReadOnlyCommand):
    def __init__(self, api, table: str, uuid: str):
        super().__init__(api)
        self.table, self.uuid = table, uuid

    def run_idl(self, txn):
        row = self.api.tables[self.table].rows.get(_uuid.UUID(self.uuid))
        self.result = None if row is None else row_image(self.api.tables, row)


class _DeleteIfUnchanged(ovsdbapp_command.BaseCommand):
    """Delete one row (and, through OVSDB's garbage collection, its children) only if it
    is still exactly the row of the before-image: same name and external_ids, same
    children.  `verify` makes the server itself refuse the transaction if either column
    changed after this IDL saw it (ovsdbapp then retries, and the check runs again)."""

    def __init__(self, api, image: dict):
        super().__init__(api)
        self.image = image

    def run_idl(self, txn):
        img = self.image
        tables = self.api.tables
        row = tables[img["table"]].rows.get(_uuid.UUID(img["uuid"]))
        if row is None:
            raise RowChanged(f"{img['table']} row {img['uuid']} no longer exists; nothing changed")
        now = row_image(tables, row)
        for column in ("name", "external_ids"):
            if column in img["columns"] and now["columns"].get(column) != img["columns"][column]:
                raise RowChanged(
                    f"{img['table']} row {img['uuid']}: its {column} changed since it was seen; nothing changed"
                )
            if column in row._data:
                row.verify(column)
        seen = sorted(c["uuid"] for c in img.get("children", ()))
        if sorted(c["uuid"] for c in now.get("children", ())) != seen:
            raise RowChanged(f"{img['table']} row {img['uuid']} now holds other rows than were seen; nothing changed")
        for column in CHILD_COLUMNS.get(img["table"], ()):
            if column in row._data:
                row.verify(column)
        parent = _parent_of(tables, img["table"], row)
        if parent is not None:
            prow, column = parent
            prow.delvalue(column, row)
        row.delete()


class _Recreate(ovsdbapp_command.BaseCommand):
    """Insert a row from its image, its children with it, and hang it back on its parent.
    Each row gets back its own _uuid (OVSDB 2.13+ honours a client-chosen uuid on insert),
    so findings, the journal and references by uuid name the same row again; a uuid taken
    in the meantime gets a new one."""

    def __init__(self, api, image: dict):
        super().__init__(api)
        self.image = image

    def run_idl(self, txn):
        tables = self.api.tables
        img = self.image
        parent = None
        if img.get("parent"):
            p = img["parent"]
            parent = tables[p["table"]].rows.get(_uuid.UUID(p["uuid"])) or next(
                (r for r in tables[p["table"]].rows.values() if p["name"] and r.name == p["name"]), None
            )
            if parent is None:
                raise OvnNbError(f"its {p['table']} {p['name'] or p['uuid']} no longer exists: recreate that first")
        row = self._insert(txn, img, skip=CHILD_COLUMNS.get(img["table"], ()))
        for child in img.get("children", ()):
            made = self._insert(txn, child, skip=())
            row.addvalue(child["parent"]["column"], made)
        if parent is not None:
            parent.addvalue(img["parent"]["column"], row)
        self.result = row

    def post_commit(self, txn):
        self.result = txn.get_insert_uuid(self.result.uuid)

    def _insert(self, txn, img: dict, skip):
        table = self.api.tables[img["table"]]
        was = _uuid.UUID(img["uuid"])
        taken = any(was in t.rows for t in self.api.tables.values())
        row = txn.insert(table) if taken else txn.insert(table, new_uuid=was, persist_uuid=True)
        for column, wire in img["columns"].items():
            if column not in skip and column in table.columns:
                setattr(row, column, self._python(wire))
        return row

    def _python(self, wire):
        """OVSDB wire notation to the IDL's Python values.  References to rows that still
        exist (a port group's ports, a port's DHCP options) are restored; those to rows
        gone since are dropped."""
        if isinstance(wire, list) and wire and wire[0] == "set":
            return [v for v in (self._python(a) for a in wire[1]) if v is not None]
        if isinstance(wire, list) and wire and wire[0] == "map":
            pairs = ((self._python(k), self._python(v)) for k, v in wire[1])
            return {k: v for k, v in pairs if k is not None and v is not None}
        if isinstance(wire, list) and len(wire) == 2 and wire[0] == "uuid":
            u = _uuid.UUID(wire[1])
            return next((t.rows[u] for t in self.api.tables.values() if u in t.rows), None)
        return wire


class NbWriter:
    """An ovsdbapp connection for repairs: `image`, `delete_if_unchanged`, `recreate`."""

    def __init__(self, settings, timeout: float | None = None):
        self.timeout = timeout if timeout is not None else settings.timeout
        idl = load(settings, None, self.timeout)
        # ovsdbapp's Backend keeps its connection in a *class* attribute, set once: a
        # class of our own per connection keeps two servers (tests, undo) apart
        api_class = type("OsfsckNbApi", (impl_idl.OvnNbApiIdlImpl,), {})
        self.connection = Connection(idl, int(max(1, self.timeout)))
        # no custom indexes: python-ovs fails to un-index a freshly inserted row whose
        # indexed column is an empty optional (an ACL without a name) at commit
        self.api = api_class(self.connection, auto_index=False)

    def image(self, table: str, uuid: str) -> dict | None:
        return _ReadImage(self.api, table, uuid).execute(check_error=True, log_errors=False)

    def delete_if_unchanged(self, image: dict) -> None:
        self._run(_DeleteIfUnchanged(self.api, image))

    def recreate(self, image: dict) -> str:
        made = self._run(_Recreate(self.api, image))
        return str(made) if made is not None else "?"

    def _run(self, cmd):
        try:
            return cmd.execute(check_error=True, log_errors=False)
        except OvnNbError:
            raise
        except Exception as e:  # noqa: BLE001 - ovsdbapp raises RuntimeError, TimeoutException...
            text = str(e).strip().splitlines()
            raise OvnNbError(f"OVN NB transaction failed: {text[0] if text else type(e).__name__}") from None

    def close(self) -> None:
        self.connection.stop(timeout=5)
