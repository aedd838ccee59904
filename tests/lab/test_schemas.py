"""The shipped OpenStack schemas load into SQLite, MariaDB and PostgreSQL, carry the version
rows versions.json records (alembic heads; sqlalchemy-migrate's before alembic), and have
what our checks read (the releases before Xena: all but what OLD_LACKS lists)."""

import functools
import re
import sqlite3

import pytest

from osfsck.model import releases as order
from osfsck_lab import schemas

RELEASES = schemas.stored_releases()
# The releases issue 21 asks for at least; each must have been built (or named as not buildable).
BUILT = ("2023.1", "2023.2", "2024.1", "2024.2", "2025.1", "2025.2", "2026.1", "2026.2")
# and back to Train (Queens for Nova): every one built, the series names in lower case
OLD = ("zed", "yoga", "xena", "wallaby", "victoria", "ussuri", "train", "stein", "rocky", "queens")
# Stein, Rocky and Queens are built for Nova only, on these dialects (tools/README.md says why
# not on the others)
NOVA_DIALECTS = {"stein": ("sqlite", "mysql", "postgresql"), "rocky": ("sqlite", "mysql"), "queens": ("mysql",)}
NOVA_ONLY = tuple(NOVA_DIALECTS)
# Neutron dropped PostgreSQL in 26.0.0 (2025.1): no neutron.postgresql.sql from then on.
NEUTRON_PG_LAST = "2024.2"
# Designate's sqlalchemy-migrate repository (up to Yoga) fails on PostgreSQL.
DESIGNATE_MIGRATE_LAST = "yoga"

# db -> table -> columns the checks read (or will read); must exist in every release.
REQUIRED = {
    "nova": {
        "instances": [
            "uuid",
            "id",
            "host",
            "node",
            "vm_state",
            "task_state",
            "power_state",
            "deleted",
            "deleted_at",
            "updated_at",
            "hidden",
            "project_id",
            "user_id",
            "vcpus",
            "memory_mb",
            "root_gb",
        ],
        "shadow_instances": ["uuid", "deleted_at", "host"],
        "migrations": [
            "uuid",
            "instance_uuid",
            "source_compute",
            "dest_compute",
            "status",
            "migration_type",
            "deleted",
        ],
        "services": ["host", "binary", "disabled", "forced_down", "deleted", "updated_at", "last_seen_up"],
        "compute_nodes": ["host", "hypervisor_hostname", "hypervisor_type", "uuid", "deleted"],
    },
    "nova_api": {
        "instance_mappings": ["instance_uuid", "cell_id", "project_id", "queued_for_delete"],
        "cell_mappings": ["uuid", "name", "database_connection", "transport_url", "disabled"],
        "build_requests": ["instance_uuid", "project_id", "created_at"],
    },
    "cinder": {
        "volumes": [
            "id",
            "status",
            "attach_status",
            "migration_status",
            "host",
            "project_id",
            "size",
            "volume_type_id",
            "use_quota",
            "deleted",
        ],
        "volume_attachment": ["id", "volume_id", "instance_uuid", "attached_host", "attach_status", "deleted"],
        "services": ["host", "binary", "disabled", "updated_at", "deleted"],
        "quota_usages": ["project_id", "resource", "in_use", "reserved", "deleted"],
        "reservations": ["uuid", "usage_id", "delta", "expire", "deleted"],
        "snapshots": ["id", "volume_id", "status", "use_quota", "deleted"],
        "backups": ["id", "volume_id", "status", "deleted"],
        "volume_types": ["id", "name", "deleted"],
    },
    "neutron": {
        "ports": [
            "id",
            "network_id",
            "project_id",
            "device_id",
            "device_owner",
            "status",
            "mac_address",
            "standard_attr_id",
        ],
        "ml2_port_bindings": ["port_id", "host", "vif_type", "vnic_type", "status"],
        "ipallocations": ["port_id", "ip_address", "subnet_id", "network_id"],
        "floatingips": ["id", "floating_port_id", "fixed_port_id", "router_id", "status"],
        "routers": ["id", "status", "gw_port_id"],
        "routerports": ["router_id", "port_id", "port_type"],
        "securitygroups": ["id", "project_id", "stateful"],
        "standardattributes": ["id", "resource_type", "created_at", "updated_at", "revision_number"],
        "quotausages": ["project_id", "resource", "in_use", "reserved", "dirty"],
        "networks": ["id", "project_id", "status", "mtu"],
        "subnets": ["id", "network_id", "cidr", "ip_version"],
    },
    "placement": {
        "resource_providers": ["id", "uuid", "name", "generation", "root_provider_id", "parent_provider_id"],
        "inventories": ["resource_provider_id", "resource_class_id", "total", "reserved", "allocation_ratio"],
        "allocations": ["resource_provider_id", "consumer_id", "resource_class_id", "used"],
        "consumers": ["uuid", "project_id", "user_id", "generation", "consumer_type_id"],
        "projects": ["id", "external_id"],
        "users": ["id", "external_id"],
    },
    "designate": {
        "zones": ["id", "name", "status", "action", "serial", "pool_id", "deleted"],
        "recordsets": ["id", "zone_id", "name", "type"],
        "records": ["id", "zone_id", "recordset_id", "data", "status", "action"],
    },
}

# What the releases before Xena lack of REQUIRED, per dialect alike (the migrations that add
# them: cinder and placement in Xena, neutron's securitygroups.stateful in Ussuri, nova's
# instances.hidden in Train (399), nova_api's two in Rocky (058, 061)).  tools/README.md lists
# what osfsck's own reads lack (without stateful, which it does not read).
BEFORE_XENA = {
    "cinder": {"volumes": ["use_quota"], "snapshots": ["use_quota"]},
    "placement": {"consumers": ["consumer_type_id"]},
}
OLD_LACKS = {
    **dict.fromkeys(("wallaby", "victoria", "ussuri"), BEFORE_XENA),
    "train": {**BEFORE_XENA, "neutron": {"securitygroups": ["stateful"]}},
    **dict.fromkeys(("stein", "rocky"), {"nova": {"instances": ["hidden"]}}),
    "queens": {
        "nova_api": {"instance_mappings": ["queued_for_delete"], "cell_mappings": ["disabled"]},
        "nova": {"instances": ["hidden"]},
    },
}


def lacks(release, db, table):
    return set(OLD_LACKS.get(release, {}).get(db, {}).get(table, []))


CREATE_TABLE = re.compile(r"CREATE TABLE `(\w+)` \(")
COLUMN = re.compile(r"^  `(\w+)` ", re.M)
PG_CREATE_TABLE = re.compile(r"CREATE TABLE public\.(\w+) \(")
PG_COLUMN = re.compile(r'^    "?(\w+)"? ', re.M)


def load_sqlite(release, db):
    con = sqlite3.connect(":memory:")
    for stmt in schemas.ddl_statements(release, db, "sqlite"):
        con.execute(stmt)
    con.commit()
    return con


def sqlite_tables(con):
    return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def columns_of(release, db, dialect):
    """table -> column names, read from the CREATE TABLE texts of the dialect's file
    (SHOW CREATE TABLE for mysql, pg_dump for postgresql)."""
    table_re, column_re = {"mysql": (CREATE_TABLE, COLUMN), "postgresql": (PG_CREATE_TABLE, PG_COLUMN)}[dialect]
    out = {}
    for stmt in schemas.ddl_statements(release, db, dialect):
        m = table_re.match(stmt)
        if m:
            out[m.group(1)] = column_re.findall(stmt)
    return out


def mysql_columns(release, db):
    return columns_of(release, db, "mysql")


def pg_columns(release, db):
    return columns_of(release, db, "postgresql")


@functools.cache
def has(release, db, dialect):
    """Whether the release has that file (versions.json's not_built must say why not)."""
    try:
        schemas.ddl_statements(release, db, dialect)
    except LookupError:
        return False
    return True


def has_pg(release, db):
    return has(release, db, "postgresql")


def test_files_where_the_services_run_there():
    """Neutron dropped PostgreSQL in 26.0.0 (2025.1); designate 23.0.0's (2026.2) and
    sqlalchemy-migrate's (up to Yoga) migrations fail there; Stein, Rocky and Queens are Nova
    only (Queens' on MariaDB only); everything else of every release is built on every dialect."""
    missing = {(r, db, d) for r in RELEASES for db in schemas.DBS for d in schemas.DIALECTS if not has(r, db, d)}
    pg = {(r, "neutron") for r in RELEASES if not order.at_least(NEUTRON_PG_LAST, r) and r in BUILT}
    pg |= {("2026.2", "designate")} | {(r, "designate") for r in OLD if order.at_least(DESIGNATE_MIGRATE_LAST, r)}
    nova_only = {(r, db, d) for r in NOVA_ONLY for db in schemas.DBS for d in schemas.DIALECTS}
    nova_built = {(r, db, d) for r, dialects in NOVA_DIALECTS.items() for db in ("nova_api", "nova") for d in dialects}
    assert missing == {(r, db, "postgresql") for r, db in pg} | nova_only - nova_built
    for release, db, dialect in missing:
        with pytest.raises(LookupError):
            schemas.ddl_statements(release, db, dialect)


def heads(release, db):
    return schemas.versions()[release]["alembic_heads"].get(db, [])


def version_inserts(release, db, q):
    """The INSERTs that end a file: migrate_version's row (before alembic), alembic's rows."""
    migrate = [
        f"INSERT INTO {q}migrate_version{q} ({q}repository_id{q}, {q}repository_path{q}, {q}version{q}) "
        f"VALUES ('{m['repository_id']}', '{path}', {m['version']})"
        for m in schemas.versions()[release].get("migrate_versions", {}).get(db, [])
        for path in [MIGRATE_REPOSITORY[db]]
    ]
    return migrate + [
        f"INSERT INTO {q}alembic_version{q} ({q}version_num{q}) VALUES ('{h}')" for h in heads(release, db)
    ]


# where each service's sqlalchemy-migrate repository is, below site-packages
MIGRATE_REPOSITORY = {
    "nova_api": "nova/db/sqlalchemy/api_migrations/migrate_repo",
    "nova": "nova/db/sqlalchemy/migrate_repo",
    "cinder": "cinder/db/sqlalchemy/migrate_repo",
    "designate": "designate/storage/impl_sqlalchemy/migrate_repo",
}


def recorded_rows(release, db):
    """(alembic revisions, migrate_version rows) that versions.json records for `db`."""
    return heads(release, db), schemas.versions()[release].get("migrate_versions", {}).get(db, [])


def loaded_rows(cur, tables):
    """The same, read from a loaded database (a DB-API cursor; `tables`: its table names)."""
    alembic, migrate = [], []
    if "alembic_version" in tables:
        cur.execute("SELECT version_num FROM alembic_version")
        alembic = sorted(r[0] for r in cur.fetchall())
    if "migrate_version" in tables:
        cur.execute("SELECT repository_id, version FROM migrate_version")
        migrate = [{"repository_id": r, "version": v} for r, v in cur.fetchall()]
    return alembic, migrate


def test_every_db_is_covered():
    assert set(REQUIRED) == set(schemas.DBS)


def test_releases_present_newest_first():
    assert set(BUILT) | set(OLD) == set(RELEASES) == set(schemas.versions())
    assert RELEASES == order.newest_first(RELEASES) and RELEASES[-len(OLD) :] == list(OLD)
    # the lab builds clouds of the releases osfsck reads whole: Xena's and later (Wallaby
    # lacks Placement's consumer_types and Cinder's volumes.use_quota)
    assert schemas.releases() == [r for r in RELEASES if r in BUILT or r in ("zed", "yoga", "xena")]


def test_release_order():
    # numbered releases by number, not as text; the named series before them all
    assert order.newest_first(["2023.2", "zed", "2023.10", "2024.1", "queens"]) == [
        "2024.1",
        "2023.10",
        "2023.2",
        "zed",
        "queens",
    ]
    assert order.at_least("2025.1", "2025.1") and order.at_least("2026.2", "2025.1")
    assert not order.at_least("2024.2", "2025.1") and not order.at_least("zed", "2023.1")
    for bad in ("2024", "Zed", "2024.1.1", ""):
        assert not order.is_release(bad)
        with pytest.raises(ValueError):
            order.key(bad)


@pytest.mark.parametrize("release", RELEASES)
def test_versions_record_every_db(release):
    v = schemas.versions()[release]
    assert re.fullmatch(r"3\.\d+\.\d+", v["python"]) and v["postgresql"].startswith("15.")
    uc = v["upper_constraints"]  # the openstack/requirements ref the constraints come from
    assert isinstance(uc, dict) and re.fullmatch(r"[0-9a-f]{40}", uc["commit"]) or release == "2026.2"
    for package in ("SQLAlchemy", "alembic", "oslo.db"):
        assert re.fullmatch(r"\d+(\.\d+)+", v["packages"][package]), (release, package)
    services = {"nova_api": "nova", "nova": "nova", "cinder": "cinder", "neutron": "neutron"}
    services |= {"placement": "openstack-placement", "designate": "designate"}
    for db in schemas.DBS:
        built = [d for d in schemas.DIALECTS if has(release, db, d)]
        # each dialect either built (and how) or not (and why), never both
        assert set(v["how"].get(db, {})) == set(built), (release, db)
        assert set(v["not_built"].get(db, {})) == set(schemas.DIALECTS) - set(built), (release, db)
        assert all(v["not_built"].get(db, {}).values())
        if not built:
            continue
        assert re.fullmatch(r"\d+(\.\d+)+", v["packages"][services[db]]), (release, db)
        if db == "neutron":
            assert re.fullmatch(r"\d+(\.\d+)+", v["packages"]["neutron-lib"]), release
        # a database says its version in alembic_version, or before alembic in migrate_version
        alembic, migrate = recorded_rows(release, db)
        assert bool(alembic) != bool(migrate) and len(alembic) in ((2,) if db == "neutron" else (0, 1))
        assert not migrate or "sqlalchemy-migrate" in v["packages"]
        # Only neutron's SQLite schema comes from models (its migrations fail on SQLite).
        if "sqlite" in built:
            assert ("models" in v["how"][db]["sqlite"]) == (db == "neutron"), (release, db)
        for dialect in set(built) - {"sqlite"}:
            assert "own migrations" in v["how"][db][dialect]


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("db", schemas.DBS)
def test_sqlite_schema_loads_with_required_columns(release, db):
    if not has(release, db, "sqlite"):
        pytest.skip(f"no SQLite schema of {db} in {release} (test_versions_record_every_db says why)")
    con = load_sqlite(release, db)
    tables = sqlite_tables(con)
    for table, columns in REQUIRED[db].items():
        assert table in tables, f"{release} {db}: table {table} missing"
        have = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
        missing = set(columns) - have
        assert missing == lacks(release, db, table), f"{release} {db}.{table}: columns {sorted(missing)} missing"
    # The row(s) that say which revision this schema is (neutron: expand and contract heads).
    assert loaded_rows(con.cursor(), tables) == recorded_rows(release, db)


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("db", schemas.DBS)
def test_mysql_schema_matches_sqlite_tables(release, db):
    if not has(release, db, "mysql"):
        pytest.skip(f"no MariaDB schema of {db} in {release} (test_versions_record_every_db says why)")
    stmts = schemas.ddl_statements(release, db, "mysql")
    assert stmts[0] == "SET FOREIGN_KEY_CHECKS=0"
    assert all(s.startswith(("SET ", "CREATE TABLE ", "INSERT INTO ")) for s in stmts)
    columns = mysql_columns(release, db)
    for table, wanted in REQUIRED[db].items():
        assert table in columns, f"{release} {db}: table {table} missing from the mysql file"
        missing = set(wanted) - set(columns[table])
        assert missing == lacks(release, db, table), f"{release} {db}.{table}: mysql columns {sorted(missing)} missing"
    inserts = version_inserts(release, db, "`")
    assert stmts[-len(inserts) :] == inserts
    if not has(release, db, "sqlite"):
        return
    # Same tables on both dialects, except where versions.json records a difference
    # (tables neutron's migrations create but its models, hence its SQLite schema, lack).
    sqlite_only = sqlite_tables(load_sqlite(release, db)) - set(columns)
    mysql_only = set(columns) - sqlite_tables(load_sqlite(release, db))
    recorded = schemas.versions()[release]["table_differences"].get(db, {})
    assert sorted(mysql_only) == recorded.get("only_in_mysql", [])
    assert sorted(sqlite_only) == recorded.get("only_in_sqlite", [])


def test_cell_db_has_shadow_tables():
    # The migrations (not the models) create one shadow_ table per archivable table.
    con = load_sqlite(RELEASES[0], "nova")
    names = sqlite_tables(con)
    assert len([n for n in names if n.startswith("shadow_")]) > 40


def test_migration_only_columns_present():
    # Columns the cinder migrations create but its models lack: proof the files are migration-built.
    con = load_sqlite(RELEASES[0], "cinder")
    assert "allocated" in {r[1] for r in con.execute("PRAGMA table_info(quotas)")}
    assert "allocated_id" in {r[1] for r in con.execute("PRAGMA table_info(reservations)")}


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError):
        schemas.ddl_statements(RELEASES[0], "nova_cell0", "sqlite")
    with pytest.raises(ValueError):
        schemas.ddl_statements(RELEASES[0], "nova", "oracle")
    with pytest.raises(ValueError):
        schemas.ddl_statements("2024", "nova", "sqlite")
    with pytest.raises(LookupError):
        schemas.ddl_statements("1999.1", "nova", "sqlite")
    with pytest.raises(LookupError):  # Neutron 26.0.0 (2025.1) dropped PostgreSQL
        schemas.ddl_statements("2025.1", "neutron", "postgresql")


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("db", schemas.DBS)
def test_postgresql_schema_matches_mysql_tables(release, db):
    if not has_pg(release, db):
        pytest.skip(f"no PostgreSQL schema of {db} in {release} (test_versions_record_every_db says why)")
    stmts = schemas.ddl_statements(release, db, "postgresql")
    kinds = ("CREATE TYPE ", "CREATE TABLE ", "CREATE SEQUENCE ", "ALTER ", "CREATE INDEX ", "CREATE UNIQUE INDEX ")
    assert all(s.startswith((*kinds, "INSERT INTO ")) for s in stmts)
    columns = pg_columns(release, db)
    # the migrations create the same tables on both servers
    assert set(columns) == set(mysql_columns(release, db))
    for table, wanted in REQUIRED[db].items():
        missing = set(wanted) - set(columns[table])
        assert missing == lacks(release, db, table), f"{release} {db}.{table}: postgresql columns {sorted(missing)}"
    inserts = version_inserts(release, db, '"')
    assert stmts[-len(inserts) :] == inserts


@pytest.mark.integration
@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("db", schemas.DBS)
def test_postgresql_schema_loads_into_postgresql(postgres_server, release, db):
    import psycopg

    if not has_pg(release, db):
        pytest.skip(f"no PostgreSQL schema of {db} in {release}")
    name = f"t{release.replace('.', '_')}_{db}"
    dsn = f"host=127.0.0.1 port={postgres_server.port} user=postgres"
    with psycopg.connect(dsn + " dbname=postgres", autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}"')
        server.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"{dsn} dbname={name}") as conn:
            for stmt in schemas.ddl_statements(release, db, "postgresql"):
                conn.execute(stmt)
            conn.commit()
            tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
            assert tables == set(pg_columns(release, db))
            assert loaded_rows(conn.cursor(), tables) == recorded_rows(release, db)
    finally:
        with psycopg.connect(dsn + " dbname=postgres", autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # the session's server keeps no copy


@pytest.mark.integration
@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("db", schemas.DBS)
def test_mysql_schema_loads_into_mariadb(mariadb_server, release, db):
    import pymysql

    if not has(release, db, "mysql"):
        pytest.skip(f"no MariaDB schema of {db} in {release}")

    name = f"t{release.replace('.', '_')}_{db}"
    conn = pymysql.connect(host="127.0.0.1", port=mariadb_server.port, user="root", autocommit=True)
    try:
        cur = conn.cursor()
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        cur.execute(f"USE `{name}`")
        for stmt in schemas.ddl_statements(release, db, "mysql"):
            cur.execute(stmt)
        cur.execute("SHOW TABLES")
        tables = {r[0] for r in cur.fetchall()}
        assert tables == set(mysql_columns(release, db))
        assert loaded_rows(cur, tables) == recorded_rows(release, db)
    finally:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")  # the session's server keeps no copy
        conn.close()
