"""What the release matrix runs on: every release versions.json lists, on each dialect, and
for each (release, database, dialect) whether its schema is stored, or why not.

A release another build adds to versions.json (an older one, a newer one) joins the matrix
by itself; a database it could not build there is skipped with the reason versions.json
gives (`not_built`), or, with no reason given, as "no DDL stored"."""

from __future__ import annotations

import functools

from osfsck.model import releases as order
from osfsck_lab import schemas

# the lab's schema dialects, as the matrix names them: MariaDB's DDL files are `mysql`
DIALECTS = {"sqlite": "sqlite", "mariadb": "mysql", "postgresql": "postgresql"}
# The oldest release whose schemas hold every table the database sources read (the lab's
# oldest too, where schemas.LAB_OLDEST says why); Wallaby and older are stored for the
# version reader (tests/sources/test_schema_version.py), and osfsck does not read them whole.
OLDEST_READ = schemas.LAB_OLDEST


def releases() -> list[str]:
    """Every release versions.json describes from OLDEST_READ on, newest first."""
    return order.newest_first(r for r in schemas.versions() if order.is_release(r) and order.at_least(r, OLDEST_READ))


@functools.cache
def not_built(release: str, db: str, dialect: str) -> str | None:
    """Why `db` of `release` has no stored schema on `dialect` (a key of DIALECTS), or
    None when it has one."""
    kind = DIALECTS[dialect]
    try:
        schemas.ddl_statements(release, db, kind)
    except LookupError:
        why = schemas.versions().get(release, {}).get("not_built", {}).get(db, {}).get(kind)
        return f"{db} of {release} on {dialect}: " + (why or "no DDL stored (versions.json gives no reason)")
    return None
