"""Real OpenStack database schemas, shipped as package data.

Each release folder (e.g. ``2026.2``) holds the DDL of six databases, built by
``tools/build_schemas.py`` from the service releases on PyPI with each service's own
migrations:

    nova_api   Nova's API database           nova       a Nova cell database
    cinder     Cinder                        neutron    Neutron
    placement  Placement                     designate  Designate

as ``<release>/<db>.sqlite.sql``, ``<release>/<db>.mysql.sql`` (MariaDB) and
``<release>/<db>.postgresql.sql``.  Two exceptions: neutron's migrations do not run on SQLite,
so ``neutron.sqlite.sql`` comes from neutron's models (and lacks a few migration-only tables,
listed in versions.json under ``table_differences``); and Neutron dropped PostgreSQL in 2025.1,
so from that release on there is no ``neutron.postgresql.sql`` (versions.json: ``not_built``).

``versions.json`` says how each release was built (package versions, Python, upper-constraints,
alembic heads, method, pins), and per database and dialect why a file is missing (``not_built``).

The series before 2023.1 (``zed`` back to ``train``, and ``stein``, ``rocky`` and ``queens`` for
Nova only) are stored
too, named as ``osfsck.model.releases`` orders them.  Nova and Cinder up to Wallaby and
Designate up to Yoga predate alembic: their files end with the INSERT of their
``migrate_version`` row (sqlalchemy-migrate's), and versions.json lists them under
``migrate_versions``.  The lab builds clouds of ``releases()`` only (``LAB_OLDEST`` on, the
oldest release osfsck reads whole); the older ones are stored for osfsck's version reader.

File format: one statement per ``;`` at the end of a line; lines starting with ``--`` are
comments.  Each file ends with the INSERT of its version table's row(s), so a database
loaded from it carries the real revision(s); neutron has two (its expand and contract heads).
"""

from __future__ import annotations

import json
from importlib import resources

from osfsck.model import releases as order

DBS = ("nova_api", "nova", "cinder", "neutron", "placement", "designate")
DIALECTS = ("sqlite", "mysql", "postgresql")


def _root():
    return resources.files(__name__)


# The oldest release osfsck reads whole and the lab builds clouds of (the release matrix,
# tests/releases, runs from it too): Placement's consumer_types came with Xena (placement
# 6.0.0), Cinder's volumes.use_quota with Xena (cinder 19.0.0).  The lab writes rows of the
# newest releases' shape, which every schema from here on takes (lab database.ADDED_IN
# leaves out the columns added since); Wallaby and older lack tables osfsck reads, and are
# stored for its version reader only.
LAB_OLDEST = "xena"


def stored_releases() -> list[str]:
    """Every release with schemas, newest first, e.g. ``['2026.2', ..., 'zed', ..., 'queens']``."""
    found = [
        p.name
        for p in _root().iterdir()
        if p.is_dir() and order.is_release(p.name) and any(p.joinpath(f"nova.{d}.sql").is_file() for d in DIALECTS)
    ]
    return order.newest_first(found)


def releases() -> list[str]:
    """The releases the lab builds clouds of, newest first, e.g. ``['2026.2', ..., '2023.1']``."""
    return [r for r in stored_releases() if order.at_least(r, LAB_OLDEST)]


def versions() -> dict:
    """The contents of versions.json: per release, how its schemas were built."""
    return json.loads(_root().joinpath("versions.json").read_text(encoding="utf-8"))


def split_statements(text: str) -> list[str]:
    """Split a schema file into statements (without the trailing ``;``), dropping comments."""
    out = []
    for chunk in text.split(";\n"):
        body = "\n".join(line for line in chunk.splitlines() if not line.startswith("--")).strip()
        if body:
            out.append(body)
    return out


def ddl_statements(release: str, db: str, dialect: str) -> list[str]:
    """The statements that rebuild database ``db`` of ``release``.

    ``db`` is one of ``DBS``: 'nova_api', 'nova' (a cell DB), 'cinder', 'neutron',
    'placement' or 'designate'.  ``dialect`` is 'sqlite', 'mysql' (MariaDB; starts with
    SET FOREIGN_KEY_CHECKS=0) or 'postgresql'.  Run them in order on an empty database.
    """
    order.key(release)
    if db not in DBS:
        raise ValueError(f"unknown db {db!r}; expected one of {DBS}")
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {DIALECTS}")
    path = _root().joinpath(release, f"{db}.{dialect}.sql")
    if not path.is_file():
        raise LookupError(f"no {dialect} schema for {db} in release {release}; have {stored_releases()}")
    return split_statements(path.read_text(encoding="utf-8"))
