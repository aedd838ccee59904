"""tools/build_schemas.py's parts that need no PyPI: the vendored constraints, the Python
finder and the PostgreSQL dump (against a real server)."""

import importlib.util
import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("build_schemas", ROOT / "tools" / "build_schemas.py")
bs = importlib.util.module_from_spec(spec)
sys.modules["build_schemas"] = bs
spec.loader.exec_module(bs)

UPPER = """\
# a comment
oslo.db===15.0.0
SQLAlchemy===1.4.51
cryptography===42.0.5;python_version=='3.8'
cryptography===43.0.1;python_version>='3.9'
alembic===1.9.4
"""


def test_constraint_names_are_normalised():
    assert bs.constraint_name("oslo.db===15.0.0") == "oslo-db"
    assert bs.constraint_name("cryptography===42.0.5;python_version=='3.8'") == "cryptography"
    assert bs.constraint_name("Oslo_DB==15.0.0") == "oslo-db"
    assert bs.constraint_name("psycopg2-binary") == "psycopg2-binary"


def test_vendored_constraints_keep_only_what_the_venv_installs(tmp_path, monkeypatch):
    monkeypatch.setattr(bs, "CONSTRAINTS_DIR", tmp_path)
    upper = tmp_path / "uc.txt"
    upper.write_text(UPPER)
    freeze = ["oslo_db==15.0.0", "SQLAlchemy==1.4.51", "cryptography==43.0.1", "nova==29.4.0", "-e git+x#egg=y"]
    bs.vendor_constraints("2024.1", {"upper_constraints": ("2024.1-eom", "0" * 40)}, upper, freeze)
    lines = (tmp_path / "2024.1.txt").read_text().splitlines()
    assert lines[0].startswith("# Upper constraints of OpenStack 2024.1: openstack/requirements 2024.1-eom (000")
    assert "(4 of 5)" in lines[2]
    # both marker lines of an installed package, nothing for alembic (not installed)
    assert [line for line in lines if not line.startswith("#")] == [
        "cryptography===42.0.5;python_version=='3.8'",
        "cryptography===43.0.1;python_version>='3.9'",
        "oslo.db===15.0.0",
        "SQLAlchemy===1.4.51",
    ]
    assert "#   nova==29.4.0" in lines  # installed, not constrained: said so


def test_a_missing_python_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(bs.BuildError, match="python3.99 not found"):
        bs.find_python("3.99")


@pytest.mark.integration
def test_postgresql_dump_reloads_identically(postgres_server, tmp_path):
    """pg_dump's session settings and psql meta-commands are left out; what remains
    reloads (as the lab loads it) into the same dump, alembic row included."""
    log = tmp_path / "log"
    bs.pg_fresh(postgres_server, log, ["b_src", "b_copy"])
    bs.psql(
        postgres_server,
        log,
        "b_src",
        "-c",
        "CREATE TYPE mood AS ENUM ('ok', 'sad'); CREATE TABLE t (id serial PRIMARY KEY, m mood, "
        "on_ boolean DEFAULT false NOT NULL); CREATE INDEX t_m ON t (m); "
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); "
        "INSERT INTO alembic_version VALUES ('abc')",
    )
    ddl, stamp = bs.pg_dump(postgres_server, log, "b_src")
    assert stamp == bs.Stamp(("abc",))
    assert not any(s.startswith(("SET ", "SELECT pg_catalog.set_config", "\\")) for s in ddl)
    assert any(s.startswith("CREATE TYPE public.mood AS ENUM") for s in ddl)
    text = bs.join_statements(["header"], ddl + stamp.inserts('"'))
    for stmt in bs.split_statements(text):
        bs.psql(postgres_server, log, "b_copy", "-c", stmt)
    assert bs.pg_dump(postgres_server, log, "b_copy") == (ddl, stamp)


VENV_REPO = "/tmp/osfsck-schemas-x/train/venv/lib/python3.7/site-packages/nova/db/sqlalchemy/migrate_repo"


def test_a_migrate_version_row_keeps_the_repository_not_the_build_venv():
    """sqlalchemy-migrate stores its repository's absolute path: the build's throw-away venv,
    which is no schema and names this machine; the part below site-packages is kept."""
    stamp = bs.Stamp.of([], [("nova", VENV_REPO, "402")])
    assert stamp.migrate == (("nova", "nova/db/sqlalchemy/migrate_repo", 402),)
    assert stamp.inserts("`") == [
        "INSERT INTO `migrate_version` (`repository_id`, `repository_path`, `version`) "
        "VALUES ('nova', 'nova/db/sqlalchemy/migrate_repo', 402)"
    ]
    assert (
        bs.header("nova", "train", "SQLite", "how", stamp)[2]
        == "sqlalchemy-migrate version (migrate_version): nova 402"
    )


def test_an_alembic_stamp_writes_what_it_always_wrote():
    """The releases built before migrate_version was read keep byte-identical files."""
    stamp = bs.Stamp.of(["c7f8d9e0f1a2", "5c85685d616d"], [])
    assert bs.header("neutron", "2026.2", "x", "how", stamp)[2] == "alembic revisions: 5c85685d616d c7f8d9e0f1a2"
    assert stamp.inserts('"') == bs.alembic_insert(["5c85685d616d", "c7f8d9e0f1a2"], '"')


def test_a_sqlite_dump_with_migrate_version_reloads_identically():
    src = sqlite3.connect(":memory:")
    src.executescript(
        "CREATE TABLE migrate_version (repository_id VARCHAR(250) NOT NULL, repository_path TEXT, "
        "version INTEGER, PRIMARY KEY (repository_id));"
        f"INSERT INTO migrate_version VALUES ('cinder', '{VENV_REPO.replace('nova', 'cinder')}', 132);"
        "CREATE TABLE volumes (id VARCHAR(36) NOT NULL, PRIMARY KEY (id));"
    )
    ddl, stamp = bs.sqlite_dump(src)
    assert stamp == bs.Stamp((), (("cinder", "cinder/db/sqlalchemy/migrate_repo", 132),))
    copy = sqlite3.connect(":memory:")
    for stmt in bs.split_statements(bs.join_statements(["header"], ddl + stamp.inserts('"'))):
        copy.execute(stmt)
    assert bs.sqlite_dump(copy) == (ddl, stamp)


def test_a_database_with_no_version_row_is_not_shipped():
    build = bs.ReleaseBuild.__new__(bs.ReleaseBuild)
    build.release, build.heads = "train", {}
    with pytest.raises(bs.BuildError, match="no alembic revision or migrate version"):
        build.stamped("nova", "mysql", bs.Stamp())
    build.stamped("nova", "mysql", bs.Stamp.of([], [("nova", VENV_REPO, 402)]))
    with pytest.raises(bs.BuildError, match="sqlite ends at"):  # every dialect ends where MariaDB did
        build.stamped("nova", "sqlite", bs.Stamp.of([], [("nova", VENV_REPO, 401)]))
