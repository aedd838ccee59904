"""The release table (model/schema_versions.py) and how a database's version table is
judged: heads per release as the services' migrations make them, ranges, upgrades in
progress, sqlalchemy-migrate's numbers, Neutron's two branches, the cloud as a whole."""

import datetime as dt

import pytest

from osfsck.model import schema_versions as sv
from osfsck.model.releases import SERIES
from osfsck.model.schema_versions import RELEASES, SchemaRead, alembic_heads, cloud_release, place
from osfsck.model.snapshot import Snapshot, SnapshotFormatError
from osfsck.model.snapshot_merge import merge
from osfsck_lab import schemas

# The heads of every release (issue 21's plan §2.3, read from each service's migration
# files at the tag of the release's last point release on PyPI): an independent record
# of what the chains above must give.  "m N": sqlalchemy-migrate version N, no alembic.
# Neutron's contract head is 5c85685d616d in every release.
HEADS = """
release  nova_api      nova          cinder        neutron_expand placement     designate
Queens   m52           m378          m117          594422d373ee   -             m99
Rocky    m61           m390          m123          867d39095bf4   -             m100
Stein    m62           m391          m128          9bfad3f1e780   b4ed3a175331  m102
Train    m67           m402          m132          c613d0b82681   b5c396305c25  m102
Ussuri   m72           m407          m136          d8bdf05313f4   b5c396305c25  m102
Victoria m77           m412          m140          I38991de2b4    b5c396305c25  m102
Wallaby  m82           m417          m141          6135a7bd4425   b5c396305c25  m102
Xena     d67eeaabee36  8f2f1571d55b  921e1a36b076  1bb3393de75d   422ece571366  m103
Yoga     b30f573d3377  16f1fbcab42b  921e1a36b076  34cf8b009713   422ece571366  m103
Zed      b30f573d3377  ccb0fa1a2252  c92a3e68beed  5881373af7f5   422ece571366  e5e2199ed76e
2023.1   b30f573d3377  960aac0e09ea  daa98075b90d  fc153938cdc1   422ece571366  b20189fd288e
2023.2   cdeec0c85668  1acf2c98e646  89aa6f9639f9  89c58a70ceba   a082b8bb98d0  a005af3aa38e
2024.1   cdeec0c85668  13863f4e1612  9c74c1c6971f  0e6eff810791   a082b8bb98d0  9099de8ae11c
2024.2   cdeec0c85668  13863f4e1612  9c74c1c6971f  5bcb7b31ec7d   a082b8bb98d0  9099de8ae11c
2025.1   cdeec0c85668  2903cd72dc14  9c74c1c6971f  ad80a9f07c5c   a082b8bb98d0  9099de8ae11c
2025.2   cdeec0c85668  2903cd72dc14  9c74c1c6971f  d553edeb540f   a082b8bb98d0  f828412479ee
2026.1   cdeec0c85668  2903cd72dc14  9c74c1c6971f  b1bca967e19d   a082b8bb98d0  f828412479ee
2026.2   cdeec0c85668  ab450ba04102  9c74c1c6971f  c7f8d9e0f1a2   a082b8bb98d0  f49c4409c8ba
"""
CONTRACT = "5c85685d616d"
_ROWS = [line.split() for line in HEADS.strip().splitlines()]
TABLE = {row[0]: dict(zip(_ROWS[0][1:], row[1:])) for row in _ROWS[1:]}


def expected(release: str, db: str) -> tuple[str, tuple[str, ...]]:
    """(table, values) of a database of `release` made by its own migrations."""
    cell = TABLE[release]["neutron_expand" if db == "neutron" else db]
    if cell == "-":
        return "", ()
    if cell.startswith("m"):
        return sv.MIGRATE_TABLE, (f"{sv.MIGRATE_REPOSITORY[db]}:{cell[1:]}",)
    return sv.ALEMBIC_TABLE, tuple(sorted((cell, CONTRACT))) if db == "neutron" else (cell,)


def read(db, *values, table=sv.ALEMBIC_TABLE, scope=None):
    return SchemaRead(scope or db, db, table, tuple(values))


def test_the_table_covers_every_release_in_order():
    assert list(TABLE) == list(RELEASES)
    assert [sv.release_index(r) for r in RELEASES] == list(range(len(RELEASES)))
    assert sv.release_index("zed") == sv.release_index("Zed") == 9
    with pytest.raises(ValueError, match="not a release osfsck knows"):
        sv.release_index("2027.1")


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("db", sv.DATABASES)
def test_each_releases_heads_are_the_migrations_own(release, db):
    table, values = expected(release, db)
    if table == sv.ALEMBIC_TABLE:
        assert alembic_heads(db, release) == values
    elif table == sv.MIGRATE_TABLE:
        assert alembic_heads(db, release) == ()
        assert dict(sv.MIGRATE_HEADS[db])[release] == int(values[0].split(":")[1])
    else:
        assert alembic_heads(db, release) == () and db not in sv.MIGRATE_HEADS


@pytest.mark.parametrize("release", [r for r in schemas.stored_releases() if r not in SERIES])
@pytest.mark.parametrize("db", schemas.DBS)
def test_the_heads_are_those_of_every_schema_the_lab_stores(release, db):
    """The product's table against the lab's versions.json (the heads its own builds of
    the services' migrations reached), for every numbered release the lab stores (every
    database of them under alembic; the series' are the test above's)."""
    assert alembic_heads(db, release) == tuple(sorted(schemas.versions()[release]["alembic_heads"][db]))


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("db", sv.DATABASES)
def test_a_database_of_each_release_is_placed_on_it(release, db):
    table, values = expected(release, db)
    if not table:
        return  # Placement had no database of its own before Stein
    placed = place(read(db, *values, table=table))
    assert placed.known and not placed.problem and not placed.note
    assert release in placed.position.releases
    assert placed.state == "release"


@pytest.mark.parametrize(
    "db, revision, text",
    [
        ("cinder", "9c74c1c6971f", "2024.1–2026.2"),
        ("nova_api", "cdeec0c85668", "2023.2–2026.2"),
        ("placement", "a082b8bb98d0", "2023.2–2026.2"),
        ("placement", "b5c396305c25", "Train–Wallaby"),
        ("nova", "ab450ba04102", "2026.2"),
        ("designate", "9099de8ae11c", "2024.1–2025.1"),
    ],
)
def test_a_revision_that_several_releases_share_is_their_range(db, revision, text):
    assert place(read(db, revision)).text == text


@pytest.mark.parametrize(
    "db, revision, text",
    [
        ("nova", "1b91788ec3a6", "between 2023.1 and 2023.2"),  # drop_legacy_migrate_version_table
        ("nova", "d60bddf7a903", "between 2024.2 and 2025.1"),
        ("cinder", "b7b88f50aab5", "between 2023.2 and 2024.1"),
        ("designate", "b57384b28335", "between 2026.1 and 2026.2"),
        ("placement", "611cd6dffd7b", "between Stein and Train"),
    ],
)
def test_a_revision_that_is_no_releases_head_is_an_upgrade_in_progress(db, revision, text):
    placed = place(read(db, revision))
    assert (placed.text, placed.state, placed.position.releases) == (text, "mid-upgrade", ())
    (note,) = cloud_release([placed.read]).notes
    assert "part way through an upgrade" in note and revision in note and text in note


def test_neutrons_oldest_revisions_are_older_than_the_first_release_known():
    placed = place(read("neutron", "354db87e3225", CONTRACT))  # liberty's first expand migration
    assert (placed.text, placed.state) == ("older than Queens", "older")


@pytest.mark.parametrize(
    "db, version, text, state",
    [
        ("nova", 417, "Wallaby", "release"),
        ("nova", 400, "between Stein and Train", "mid-upgrade"),
        ("nova", 300, "older than Queens", "older"),
        ("nova_api", 87, "between Wallaby and Xena", "mid-upgrade"),  # legacy done, no alembic baseline
        ("cinder", 145, "between Wallaby and Xena", "mid-upgrade"),
        ("designate", 102, "Stein–Wallaby", "release"),
        ("designate", 103, "Xena–Yoga", "release"),
    ],
)
def test_sqlalchemy_migrate_versions(db, version, text, state):
    placed = place(read(db, f"{sv.MIGRATE_REPOSITORY[db]}:{version}", table=sv.MIGRATE_TABLE))
    assert (placed.text, placed.state) == (text, state)
    assert ("alembic baseline is not stamped" in placed.note) == (version == sv.LEGACY_END.get(db))


@pytest.mark.parametrize(
    "rows, problem",
    [
        (("nova:423",), "sqlalchemy-migrate version 423 is not one osfsck knows"),
        (("nova:0",), "sqlalchemy-migrate version 0 is not one osfsck knows"),
        (("nova:x1",), "sqlalchemy-migrate version x1 is not one osfsck knows"),
        (("nova:-5",), "sqlalchemy-migrate version -5 is not one osfsck knows"),
        (("nova_api:82",), "migrate_version has no row of repository 'nova' (rows: nova_api:82)"),
        ((), "migrate_version has no row of repository 'nova' (rows: none)"),
    ],
)
def test_a_migrate_version_osfsck_does_not_know(rows, problem):
    placed = place(read("nova", *rows, table=sv.MIGRATE_TABLE, scope="cell:cell1"))
    assert (placed.known, placed.problem, placed.text) == (False, problem, "unknown")


def test_a_database_without_migrate_repository_has_none_to_fall_back_on():
    placed = place(read("placement", "placement:1", table=sv.MIGRATE_TABLE))
    assert not placed.known and "not a Placement schema osfsck knows" in placed.problem


@pytest.mark.parametrize(
    "db, values, problem",
    [
        ("nova", ("ffffffffffff",), "alembic revision ffffffffffff is not one osfsck knows (newer than 2026.2?)"),
        ("nova", ("13863f4e1612", "2903cd72dc14"), "alembic_version has 2 rows (13863f4e1612, 2903cd72dc14); "),
        ("nova", (), "its alembic_version table is empty"),
        ("nova", ("0xff00fe",), "alembic revision 0xff00fe is not one osfsck knows"),
        ("nova", ("a\x1b[31mb",), "alembic revision 'a\\x1b[31mb' is not one osfsck knows"),
        ("nova", ("x" * 300,), f"alembic revision {'x' * 37}... is not one osfsck knows"),
        ("neutron", ("0e6eff810791", "5bcb7b31ec7d", CONTRACT), "alembic_version has 3 rows"),
        (
            "neutron",
            ("0e6eff810791", "5bcb7b31ec7d"),  # two expand revisions
            "alembic_version has 2 rows (0e6eff810791, 5bcb7b31ec7d); Neutron's migrations keep one row per branch",
        ),
        ("cinder", ("2903cd72dc14",), "alembic revision 2903cd72dc14 is not one osfsck knows"),  # nova's
    ],
)
def test_alembic_versions_osfsck_does_not_know(db, values, problem):
    placed = place(read(db, *values))
    assert not placed.known and placed.problem.startswith(problem), placed.problem
    assert placed.state == "unknown" and placed.text == "unknown"


def test_no_version_table_is_unknown():
    placed = place(read("nova_api", table=""))
    assert not placed.known
    assert placed.problem.startswith("it has no alembic_version or migrate_version table")


def test_neutron_with_one_row_is_placed_by_it_and_says_which_is_missing():
    expand = place(read("neutron", "0e6eff810791"))
    assert expand.text == "2024.1" and "only its expand row (0e6eff810791): the contract row is missing" in expand.note
    contract = place(read("neutron", CONTRACT))
    assert contract.text == "Queens–2026.2" and "the expand row is missing" in contract.note
    both = place(read("neutron", CONTRACT, "0e6eff810791"))
    assert both.text == "2024.1" and not both.note


def test_the_cloud_is_the_releases_every_database_fits():
    found = cloud_release(
        [
            read("cinder", "9c74c1c6971f"),
            read("nova_api", "cdeec0c85668", scope="api"),
            read("nova", "2903cd72dc14", scope="cell:cell1"),
            read("neutron", CONTRACT, "d553edeb540f"),
        ]
    )
    assert (found.text, found.releases, found.notes) == ("2025.2", ("2025.2",), ())
    assert [p.read.scope for p in found.databases] == ["api", "cell:cell1", "cinder", "neutron"]
    assert cloud_release([read("cinder", "9c74c1c6971f")]).text == "2024.1–2026.2"
    assert cloud_release([]).text == "" and not cloud_release([]).databases


def test_cells_that_disagree_are_said_and_the_cloud_is_mixed():
    found = cloud_release(
        [
            read("nova", "2903cd72dc14", scope="cell:cell0"),
            read("nova", "2903cd72dc14", scope="cell:cell1"),
            read("nova", "13863f4e1612", scope="cell:cell2"),
        ]
    )
    assert found.releases == ()
    assert found.text == (
        "mixed (an upgrade in progress?): from 2024.1–2024.2 (Nova cell database cell2) "
        "to 2025.1–2026.1 (Nova cell database cell0)"
    )
    assert found.notes == (
        "Nova cells disagree: cell0, cell1 at 2903cd72dc14 (2025.1–2026.1); cell2 at 13863f4e1612 (2024.1–2024.2)",
    )


def test_an_unknown_database_is_said_and_left_out_of_the_clouds_release():
    found = cloud_release([read("cinder", "9c74c1c6971f"), read("nova", "ffffffffffff", scope="cell:cell2")])
    assert found.text == "2024.1–2026.2"
    assert found.notes[0] == (
        "Nova cell database cell2: alembic revision ffffffffffff is not one osfsck knows (newer than 2026.2?)"
    )
    assert cloud_release([read("nova", "ffffffffffff", scope="cell:cell2")]).text == "unknown"


def test_an_upgrade_in_progress_makes_the_cloud_mixed():
    found = cloud_release([read("cinder", "9c74c1c6971f"), read("nova", "1b91788ec3a6", scope="cell:cell1")])
    assert found.releases == () and found.text.startswith("mixed (an upgrade in progress?): from between 2023.1")


# -- carried by snapshots -------------------------------------------------------------------
def _snapshot(*reads):
    snap = Snapshot(taken_at=dt.datetime(2026, 3, 1, 12, 0, 0))
    snap.schemas = {r.scope: r for r in reads}
    return snap


def test_a_snapshot_keeps_each_databases_version_table_as_read():
    snap = _snapshot(read("cinder", "9c74c1c6971f"), read("nova", "nova:417", table=sv.MIGRATE_TABLE, scope="cell:c1"))
    back = Snapshot.from_json(snap.to_json())
    assert back.schemas == snap.schemas


def test_a_snapshot_written_before_osfsck_read_versions_loads_with_none():
    data = _snapshot().to_json()
    assert "schemas" not in data  # none read: the file is as an older osfsck wrote it
    assert Snapshot.from_json(data).schemas == {}
    assert cloud_release(Snapshot.from_json(data).schemas.values()).text == ""


@pytest.mark.parametrize(
    "entry, error",
    [
        ("nova", "schemas[0]: expected an object, not a string"),
        ({"scope": "x", "database": "keystone", "table": "", "values": []}, "schemas[0].database: 'keystone' is not"),
        ({"scope": "x", "database": "nova", "table": "versions", "values": []}, "schemas[0].table: expected"),
        ({"scope": "x", "database": "nova", "table": "", "values": [1]}, "schemas[0].values: expected a list of str"),
        ({"scope": "x", "database": "nova", "table": ""}, "schemas[0].values: missing"),
        ({"scope": 3, "database": "nova", "table": "", "values": []}, "schemas[0].scope: expected a string"),
    ],
)
def test_a_damaged_schemas_entry_is_one_clear_error(entry, error):
    data = _snapshot().to_json()
    data["schemas"] = [entry]
    with pytest.raises(SnapshotFormatError) as e:
        Snapshot.from_json(data)
    assert str(e.value).startswith(error), str(e.value)


def test_a_database_listed_twice_is_an_error():
    data = _snapshot(read("cinder", "9c74c1c6971f")).to_json()
    data["schemas"] *= 2
    with pytest.raises(SnapshotFormatError, match=r"schemas\[1\].scope: 'cinder' twice"):
        Snapshot.from_json(data)


def test_merged_snapshots_take_the_newest_read_and_say_where_they_disagree():
    old = _snapshot(read("nova_api", "cdeec0c85668", scope="api"), read("nova", "13863f4e1612", scope="cell:cell1"))
    new = _snapshot(read("nova_api", "cdeec0c85668", scope="api"), read("nova", "2903cd72dc14", scope="cell:cell2"))
    new.taken_at += dt.timedelta(seconds=60)
    agreeing = merge([old, new], 600, ["a.gz", "b.gz"])
    assert set(agreeing.schemas) == {"api", "cell:cell1", "cell:cell2"} and agreeing.schema_notes == []
    newer = _snapshot(read("nova_api", "b30f573d3377", scope="api"))
    newer.taken_at += dt.timedelta(seconds=120)
    merged = merge([old, newer, new], 600, ["a.gz", "c.gz", "b.gz"])
    assert merged.schemas["api"].values == ("b30f573d3377",)  # the newest snapshot's
    assert merged.schema_notes == [
        "the snapshots disagree on the Nova API database (api): alembic_version cdeec0c85668 in a.gz, b.gz; "
        "alembic_version b30f573d3377 in c.gz"
    ]


def test_the_releases_are_in_the_one_release_order():
    from osfsck.model import releases
    from osfsck.model.schema_versions import RELEASES

    assert list(RELEASES) == sorted(RELEASES, key=lambda r: releases.key(r.lower()))
