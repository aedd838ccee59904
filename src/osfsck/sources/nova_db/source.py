"""Nova's API database and every cell database, read-only."""

from __future__ import annotations

from sqlalchemy import select

from osfsck.clients.db import DatabaseError, SQLAlchemyError, describe, make_engine, stream
from osfsck.config.settings import ConfigError, NovaSettings
from osfsck.model.cell_slice import NEVER_INSIDE, NONE, cell_keys
from osfsck.model.facts import kind_of
from osfsck.model.facts.nova import API_SCOPE, Cell, InstanceMapping, cell_scope
from osfsck.model.result import SourceStatus
from osfsck.model.secrets import redact_url
from osfsck.model.snapshot import ANYWHERE, Snapshot
from osfsck.sources.base import NotConfigured, Source, cover_all, utcnow
from osfsck.sources.db_read import narrowed, read_database
from osfsck.sources.hosts import HOST_LIST_KINDS
from osfsck.sources.nova_db import queries, tables
from osfsck.sources.nova_db.cell_urls import resolve_cell_url
from osfsck.sources.parallel import run_bounded
from osfsck.sources.schema_version import VERSION_TABLES, UnknownSchema, known_schema, schema_said
from osfsck.sources.stored_rows import facts_of, id_table


def read_cells(conn) -> list[dict]:
    """cell_mappings rows as {"id", "uuid", "name", "url", "disabled"}."""
    cm = tables.cell_mappings
    rows = conn.execute(
        select(cm.c.id, cm.c.uuid, cm.c.name, cm.c.database_connection, cm.c.disabled).order_by(cm.c.id)
    ).all()
    return [
        {"id": id_, "uuid": uuid, "name": name or uuid, "url": db, "disabled": bool(disabled)}
        for id_, uuid, name, db, disabled in rows
    ]


class NovaDatabaseSource(Source):
    name = "nova-db"
    settings_attr = "nova"
    provides = (Cell, *queries.API_KINDS, *queries.CELL_KINDS)
    bulk = True
    # the host list, read of every cell before the rest and handed over with the cells:
    # the hypervisor sources start then, not after every Nova row (28 s of a 300 s run at
    # L); each cell is connected to twice, the second time for the rest of its rows
    early_kinds = HOST_LIST_KINDS
    CELLS_AT_ONCE = 8
    CELL_TIMEOUT = 300.0  # a backstop: the driver's own timeouts answer first

    def __init__(self, settings: NovaSettings):
        if settings.api_database is None:
            raise NotConfigured("[nova] api_database (or nova_conf) is not configured")
        self.settings = settings
        self.api_database = settings.api_database

    def reads(self) -> list[str]:
        return [
            f"SELECT on the Nova API database ({self.api_database.redacted()}): "
            "cell_mappings, instance_mappings, build_requests, quota_usages (Nova's legacy usage rows), "
            + VERSION_TABLES,
            "SELECT on every cell database (cell0 included): instances, shadow_instances, "
            "migrations, services, compute_nodes, block_device_mapping, instance_actions and "
            "instance_actions_events (of instances with a task_state only), quota_usages, " + VERSION_TABLES,
        ]

    # -----------------------------------------------------------------------------------
    def collect(self, kinds, known: Snapshot, sink: Snapshot, scopes=None) -> list[SourceStatus]:
        want_api = scopes is None or API_SCOPE in scopes
        api_url = self.api_database.url
        api_kinds = [k for k in queries.API_KINDS if k in kinds] if want_api else []
        schema = None
        # an instance's uuid is one string in its mapping and in its cell's rows (~100 bytes
        # an instance; the table goes with this call)
        ids: dict[str, dict] = {id_table("instance"): {}}
        try:
            engine = make_engine(api_url)
            with engine.connect() as conn:
                # the cells are listed here: an API database osfsck does not know lists none
                schema = known_schema(conn, "nova_api", API_SCOPE, sink)
                at = utcnow()
                cells = self._cells(conn)
                named = self._named(cells)
                if named is None:  # a whole run reads the API database's kinds now, whole
                    shared = dict(ids)
                    for kind in api_kinds:
                        make = facts_of(kind, shared)
                        for rows in stream(conn, narrowed(kind, queries.API_KINDS[kind](), self.within)):
                            sink.add(kind.kind, make(rows))
            engine.dispose()
        except (DatabaseError, SQLAlchemyError, UnknownSchema) as e:
            reason = describe(e, api_url) if isinstance(e, SQLAlchemyError) else e.args[0]
            reason += schema_said(schema)  # a SELECT an old release's schema cannot answer names it
            # the cells are listed in the API database: none of them can be read now.  Their
            # kinds are partial everywhere (a re-check: in the scopes it asked for), else a
            # check would take "no cell known" for "every cell read" (and log out a live
            # instance's iSCSI session as leaked)
            cell_kinds = [k for k in queries.CELL_KINDS if k in kinds]
            why = f"no cell could be read: API database: {reason}"
            for scope in (ANYWHERE,) if scopes is None else sorted(s for s in scopes if s.startswith(cell_scope(""))):
                cover_all(sink, cell_kinds, scope, self.name, False, why)
            if scopes is not None and not want_api:
                # a re-check of cells only: the API DB being down now is a plain failure
                return [SourceStatus(self.name, API_SCOPE, "failed", f"API database: {reason}")]
            return [cover_all(sink, [Cell, *queries.API_KINDS], API_SCOPE, self.name, False, f"API database: {reason}")]
        todo = [
            c
            for c in cells
            # outside the run's scope: not read, not even connected to
            if not (scopes is not None and cell_scope(c["name"]) not in scopes)
            and not (named is not None and c["name"] not in named)
        ]
        hosts = self._host_list(todo, [k for k in self.early_kinds if k in kinds], sink)
        if want_api:
            sink.add(kind_of(Cell), (Cell(API_SCOPE, c["uuid"], c["name"], c["disabled"]) for c in cells))
            cover_all(sink, [Cell], API_SCOPE, self.name, True, at=at)
        early = Snapshot(taken_at=sink.taken_at)
        early.extend(sink, {kind_of(k) for k in (Cell, *self.early_kinds)})
        self.hand_over(early)
        rest = [k for k in queries.CELL_KINDS if k in kinds and k not in self.early_kinds]
        statuses = []
        for i, c in enumerate(todo):
            first, scope = hosts.get(i), cell_scope(c["name"])
            if first is not None and first.status != "ok":  # read again, it would fail again: the time once
                cover_all(sink, rest, scope, self.name, False, first.reason)
                statuses.append(first)
            elif rest or first is None:
                statuses.append(self._collect_cell(c, rest, sink, scope, ids))
            else:
                statuses.append(first)
        if want_api:
            if named is None:
                statuses.append(cover_all(sink, api_kinds, API_SCOPE, self.name, True, at=at))
            else:
                statuses.append(self._api_part(api_kinds, known.replace_scopes(sink), named, sink, ids))
        return statuses

    def _host_list(self, cells: list[dict], kinds, sink: Snapshot) -> dict[int, SourceStatus]:
        """The cells' compute hosts (services, compute_nodes) first, CELLS_AT_ONCE cells at
        a time, each into a part of its own merged in the cells' order (so the snapshot
        does not depend on which answered first): connecting is most of a cell's time
        here (0.2 s for two small tables at L; 16 s for its 71 cells one after another)."""
        if not kinds:
            return {}
        # by position: Nova does not make cell names unique
        parts = [Snapshot(taken_at=sink.taken_at) for _ in cells]
        done = run_bounded(
            range(len(cells)),
            lambda i: self._collect_cell(cells[i], kinds, parts[i], cell_scope(cells[i]["name"]), {}),
            concurrency=self.CELLS_AT_ONCE,
            timeout=self.CELL_TIMEOUT,
        )
        statuses = {}
        for i, outcome in done.items():
            name = cells[i]["name"]
            if outcome.ok:
                sink.extend(parts[i], share=True)
                statuses[i] = outcome.value
            else:  # its part is left to its thread: nothing of it is kept
                statuses[i] = cover_all(
                    sink, kinds, cell_scope(name), self.name, False, f"cell {name}: {outcome.reason}"
                )
        return statuses

    def _api_part(self, kinds, cells_read: Snapshot, named: set[str], sink: Snapshot, ids: dict) -> SourceStatus:
        """The API database's kinds in a --cell run, after its cells (`cells_read`): what
        concerns them (model/cell_slice.py), read whole when their instances were not."""
        keys = cell_keys(cells_read.facts, cells_read.coverage, named)
        never = [k for k in kinds if NEVER_INSIDE.get(k) == API_SCOPE] if keys is not None else []
        cover_all(sink, never, API_SCOPE, self.name, True, part=NONE)
        statements = {k: narrowed(k, queries.API_KINDS[k](), self.within) for k in kinds if k not in never}
        parts, said = {}, ""
        if keys is not None and InstanceMapping in statements:
            statements[InstanceMapping] = queries.instance_mappings_part(keys)
            parts = {InstanceMapping: keys.part}
            said = (
                f"instance mappings: to {keys.part[6:]} or to no cell, and of its {len(keys.instances)} "
                "instance(s) wherever they point"
            )
        if never:
            said += f"{'; ' if said else ''}{', '.join(k.kind for k in never)}: not read (no row lies in a cell)"
        return read_database(
            self.api_database.url,
            statements,
            sink,
            API_SCOPE,
            self.name,
            "API database",
            None,  # its schema version was read with its cell list
            parts=parts,
            reason=said,
            shared=ids,
        )

    def _cells(self, conn) -> list[dict]:
        return read_cells(conn)

    def _named(self, cells: list[dict]) -> set[str] | None:
        """The names of the cells a run scoped with --cell reads (None: every cell); a
        --cell that names no cell of cell_mappings is the operator's mistake."""
        if self.within is None or not self.within.cells:
            return None
        pairs = [(c["name"], c["uuid"]) for c in cells]
        unknown = self.within.unknown_cells(pairs)
        if unknown:
            known = ", ".join(sorted(name for name, _ in pairs)) or "none"
            raise ConfigError(f"--cell {unknown[0]}: no cell of that name or uuid in cell_mappings (cells: {known})")
        return self.within.cells_named(pairs)

    def _collect_cell(self, c: dict, kinds, sink: Snapshot, scope: str, ids: dict) -> SourceStatus:
        url, why = resolve_cell_url(self.settings, c)
        if url is None:
            return cover_all(sink, kinds, scope, self.name, False, f"cell {c['name']}: {why}")
        statements = {k: narrowed(k, queries.CELL_KINDS[k](c["name"]), self.within) for k in kinds}
        return read_database(url, statements, sink, scope, self.name, f"cell {c['name']}", "nova", shared=ids)


__all__ = ["NovaDatabaseSource", "redact_url"]
