"""The matrix's releases come from versions.json, and a database a release has no schema
for on a dialect is named with the reason versions.json gives."""

from __future__ import annotations

from osfsck.model import releases as order
from osfsck_lab import schemas
from tests.releases import matrix


def test_every_release_of_versions_json_from_xena_on_is_in_the_matrix():
    got = matrix.releases()
    stored = {r for r in schemas.versions() if order.is_release(r)}
    assert set(got) == {r for r in stored if order.at_least(r, matrix.OLDEST_READ)} >= set(schemas.releases())
    assert got == order.newest_first(got)


def test_a_schema_that_was_not_built_is_named_with_its_reason():
    found = [
        (r, db, d, why)
        for r in matrix.releases()
        for db in schemas.DBS
        for d in matrix.DIALECTS
        for why in [matrix.not_built(r, db, d)]
        if why
    ]
    for release, db, dialect, why in found:
        told = schemas.versions()[release].get("not_built", {}).get(db, {}).get(matrix.DIALECTS[dialect])
        assert why.startswith(f"{db} of {release} on {dialect}: ") and (told or "no DDL stored") in why
    # Neutron dropped PostgreSQL in 2025.1 (versions.json says so): the matrix must skip it
    assert any(db == "neutron" and d == "postgresql" for _, db, d, _ in found)
