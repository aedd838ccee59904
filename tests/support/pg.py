"""A private PostgreSQL server for a test session (one per xdist worker), started on first
use and stopped by its PID; skipped where PostgreSQL is not installed."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from osfsck_lab import schemas
from osfsck_lab.postgres import PostgreSQL, PostgreSQLError, bindir

# the newest release whose six databases all have PostgreSQL schemas (Neutron dropped
# PostgreSQL in 2025.1, Designate's 2026.2 migrations fail there: versions.json not_built)
PG_RELEASE = next(r for r in schemas.releases() if not schemas.versions()[r].get("not_built"))


def on_postgresql(release: str, db: str) -> bool:
    """Whether the lab has `db`'s PostgreSQL schema of `release`."""
    return "postgresql" not in schemas.versions()[release].get("not_built", {}).get(db, {})


@pytest.fixture(scope="session")
def postgres_server():
    try:
        bindir()
    except PostgreSQLError as e:
        pytest.skip(str(e))
    # pytest's own temporary folders are private (0700): the server, as user postgres, could
    # not reach one, so it gets a folder of its own that others may pass through.
    folder = Path(tempfile.mkdtemp(prefix="osfsck-pg-"))
    folder.chmod(0o755)
    try:
        with PostgreSQL(folder / "server") as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)
