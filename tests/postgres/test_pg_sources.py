"""Every database source on a real PostgreSQL server, on every release whose schemas the
lab builds there: the lab's small cloud (its faults included) written once to SQLite and
once to PostgreSQL gives the same facts, value for value and type for type.  A snapshot,
a report or a journal made from PostgreSQL is therefore the one SQLite would give, and
every database check judges PostgreSQL's rows as it judges SQLite's (the checks'
scenarios run on facts: tests/checks)."""

from __future__ import annotations

import datetime as dt

import pytest

from osfsck.config.dns import DesignateSettings
from osfsck.config.placement import PlacementSettings
from osfsck.config.settings import CinderSettings, Database, NeutronSettings, NovaSettings
from osfsck.engine.collect import collect
from osfsck.sources.cinder_db import CinderDatabaseSource
from osfsck.sources.designate_db import DesignateDatabaseSource
from osfsck.sources.neutron_db import NeutronDatabaseSource
from osfsck.sources.nova_db import NovaDatabaseSource
from osfsck.sources.placement_db import PlacementDatabaseSource
from osfsck_lab import build, database, schemas, services, volumes
from tests.sources.db_fixture import fixture, load
from tests.support.databases import drop_databases
from tests.support.pg import on_postgresql

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 6, 1, 12, 0, 0)
RELEASES = [r for r in schemas.releases() if on_postgresql(r, "nova")]


def lab_databases(release: str, out, server: str | None, prefix: str, monkeypatch) -> dict[str, str]:
    """The database part of `lab build --release R` (seed 3, small): nova's API and cell
    databases, cinder's, placement's, neutron's where PostgreSQL has it, and a designate
    database holding the recorded rows of Designate's sink and PTR API."""
    c = build.spec("small", 3, NOW, release)
    volumes.for_release(c, release)
    services.ovn_northbound(c)  # neutron's ovn_revision_numbers rows
    if server and not on_postgresql(release, "neutron"):
        # no PostgreSQL schema of that neutron: the lab writes its database on SQLite, unread
        where = database.database_urls

        def beside(folder, server_url, prefix, names):
            urls = where(folder, server_url, prefix, names)
            return {**urls, **where(folder, None, prefix, ["neutron"])} if "neutron" in urls else urls

        monkeypatch.setattr(database, "database_urls", beside)
    urls = build._write_databases(c, out, server, prefix, release)
    monkeypatch.undo()
    if server and not on_postgresql(release, "neutron"):
        del urls["neutron"]
    if on_postgresql(release, "designate"):
        urls["designate"] = database.database_urls(out, server, prefix, ["designate"])["designate"]
        database.create(urls["designate"], "designate", release)
        load(urls["designate"], fixture("designate/sink-and-floatingip-ptr.json")["tables"])
    return urls


def sources(urls: dict[str, str], cell_url_base: str | None) -> list:
    found = [
        NovaDatabaseSource(
            NovaSettings(
                api_database=Database(urls["nova_api"]),
                cell_url_base=Database(cell_url_base) if cell_url_base else None,
            )
        ),
        CinderDatabaseSource(CinderSettings(database=Database(urls["cinder"]))),
        PlacementDatabaseSource(PlacementSettings(database=Database(urls["placement"]))),
    ]
    if "neutron" in urls:
        found.append(NeutronDatabaseSource(NeutronSettings(database=Database(urls["neutron"]))))
    if "designate" in urls:
        found.append(DesignateDatabaseSource(DesignateSettings(database=Database(urls["designate"]))))
    return found


def read(urls: dict[str, str], cell_url_base: str | None = None):
    src = sources(urls, cell_url_base)
    snap, statuses = collect(src, {k for s in src for k in s.provides})
    assert statuses and all(s.status == "ok" for s in statuses), [(s.scope, s.reason) for s in statuses]
    return snap


def typed(snap) -> dict[str, list[str]]:
    """Each kind's facts as the repr of their values (1 is not True, nor Decimal('1'), nor
    '1'; a datetime is not its text), in one order."""
    return {kind: sorted(repr(tuple(f)) for f in facts) for kind, facts in snap.facts.items()}


@pytest.mark.parametrize("release", RELEASES)
def test_postgresql_gives_the_facts_sqlite_gives(release, postgres_server, tmp_path, monkeypatch):
    prefix = f"s{release.replace('.', '')}"
    on_pg = lab_databases(release, tmp_path, postgres_server.url, prefix, monkeypatch)
    on_sqlite = lab_databases(release, tmp_path / "sqlite", None, prefix, monkeypatch)
    if "neutron" not in on_pg:
        del on_sqlite["neutron"]
    # the lab writes Nova's templated cell URLs on a server: credentials from cell_url_base
    pg, lite = typed(read(on_pg, postgres_server.url)), typed(read(on_sqlite))
    assert set(pg) == set(lite)
    different = {kind: (pg[kind], lite[kind]) for kind in pg if pg[kind] != lite[kind]}
    assert not different, {k: (a[:2], b[:2]) for k, (a, b) in different.items()}
    # what the comparison covers: every kind the sources read, rows in the lab's kinds
    assert all(pg[kind] for kind in ("nova.instance", "cinder.volume", "placement.allocation")), sorted(pg)
    assert ("neutron.port" in pg) == on_postgresql(release, "neutron")
    assert bool(pg.get("designate.record")) == on_postgresql(release, "designate")
    drop_databases(postgres_server, prefix)
