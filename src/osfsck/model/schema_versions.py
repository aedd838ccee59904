"""Which OpenStack release each database's schema is: the services' own migration
revisions, in order, with the first release that shipped each (data), and what a
database's version table says about its release (pure functions).

A database records its schema version in one of two tables (docs/design.md, "Schema
versions"):
  * `alembic_version(version_num)`: one row per branch head.  Nova and Cinder from Xena,
    Placement from Stein (its first release as a service of its own), Designate from
    Zed; Neutron always, with two rows: its expand and its contract heads;
  * `migrate_version(repository_id, repository_path, version)`: sqlalchemy-migrate's,
    before alembic.  Xena-2023.1 keep it beside alembic_version (their `db sync` first
    runs the rest of the legacy migrations, then stamps the alembic baseline), 2023.2
    drops it for Nova and Cinder; Designate never drops it.  So alembic_version, when it
    has rows, decides.

The chains were read from each service's migration files (`revision`/`down_revision`)
at the tag of the release's last point release on PyPI (nova 17.0.13 ... 34.0.0, cinder
12.0.10 ... 29.0.0, neutron 12.1.1 ... 29.0.0, openstack-placement 1.1.0 ... 16.0.0,
designate 7.0.1 ... 23.0.0; Designate's Queens from its queens-eol tag: 6.x is not on
PyPI).  Neutron's Queens group holds every revision since Kilo: a database at one of
them that is not Queens' head is older than Queens.  Neutron 29.0.0 removed its dead
VPNaaS/FWaaS migrations; they stay here, where they first shipped.

Release ranges are the releases whose head a revision is: cinder 9c74c1c6971f is the head
of 2024.1 to 2026.2, so a Cinder database at it is one of those.  A revision in a chain
that is no release's head is a database part way through an upgrade.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from osfsck.model.releases import SERIES

# the releases osfsck knows the schemas of, oldest first (model/releases.py orders names)
RELEASES: tuple[str, ...] = (
    *(name.capitalize() for name in SERIES),
    *"2023.1 2023.2 2024.1 2024.2 2025.1 2025.2 2026.1 2026.2".split(),
)
NEWEST = RELEASES[-1]

# the database kinds, as the lab's schemas name them: Nova's API database, a Nova cell
# database (cell0 too), Cinder, Neutron, Placement, Designate
DATABASES = ("nova_api", "nova", "cinder", "neutron", "placement", "designate")
SERVICE = {
    "nova_api": "Nova",
    "nova": "Nova",
    "cinder": "Cinder",
    "neutron": "Neutron",
    "placement": "Placement",
    "designate": "Designate",
}
ALEMBIC_TABLE, MIGRATE_TABLE = "alembic_version", "migrate_version"

# (the release that first shipped them, the revisions in chain order, space-separated)
Chain = tuple[tuple[str, str], ...]

NOVA_API: Chain = (
    ("Xena", "d67eeaabee36"),
    ("Yoga", "b30f573d3377"),
    ("2023.2", "cdeec0c85668"),
)
NOVA: Chain = (
    ("Xena", "8f2f1571d55b"),
    ("Yoga", "16f1fbcab42b"),
    ("Zed", "ccb0fa1a2252"),
    ("2023.1", "960aac0e09ea"),
    ("2023.2", "1b91788ec3a6 1acf2c98e646"),
    ("2024.1", "13863f4e1612"),
    ("2025.1", "d60bddf7a903 2903cd72dc14"),
    ("2026.2", "ab450ba04102"),
)
CINDER: Chain = (
    ("Xena", "921e1a36b076"),
    ("Zed", "c92a3e68beed"),
    ("2023.1", "daa98075b90d"),
    ("2023.2", "89aa6f9639f9"),
    ("2024.1", "b8660621f1b9 9ab1b092a404 b7b88f50aab5 9c74c1c6971f"),
)
NEUTRON_EXPAND: Chain = (
    (
        "Queens",
        "kilo 354db87e3225 599c6a226151 52c5312f6baf 313373c0ffee 8675309a5c4f 45f955889773 "
        "26c371498592 1c844d1677f7 1b4c6e320f79 48153cb5f051 9859ac9c136 34af2b5c5a59 "
        "59cb5b6cf4d 13cfb89f881a 32e5974ada25 ec7fcfbf72ee dce3ec7a25c9 c3a73f615e4 "
        "659bf3d90664 1df244e556f5 19f26505c74f 15be73214821 b4caf27aae4 15e43b934f81 "
        "31ed664953e6 2f9e956e7532 3894bccad37f 0e66c5227a8a 45f8dd33480b 5abc0278ca73 "
        "d3435b514502 30107ab6a3ee c415aab1c048 a963b38d82f4 3d0e74aa7d37 030a959ceafa "
        "a5648cfeeadf 0f5bef0f87d4 67daae611b6e 6b461a21bcfc 5cd92597d11d 929c968efe70 "
        "a9c43481023c 804a3c76314c 2b42d90729da 62c781cb6192 c8c222d42aa9 349b6fd605a6 "
        "7d32f979895f 594422d373ee",
    ),
    ("Rocky", "61663558142c 867d39095bf4"),
    ("Stein", "d72db3e25539 cada2437bf41 195176fb410d fb0167bd9639 0ff9e3881597 9bfad3f1e780"),
    ("Train", "63fd95af7dcd c613d0b82681"),
    (
        "Ussuri",
        "c3e9d13c4367 86274d77933e f4b9654dd40c a010322604bc 263d454a9655 Ibac91d24da2 "
        "2217c4222de6 18a7e90ae768 e4e236b0e1ff e88badaa9591 d8bdf05313f4",
    ),
    ("Victoria", "dfe425060830 fd6107509ccd 1ea5dab0897a 49d8622c5221 I38991de2b4"),
    ("Wallaby", "532aa95457e2 f010820fc498 a964d94b4677 26d1e9f5c766 1e0744e4ffea 6135a7bd4425"),
    ("Xena", "8df53b0d2c0e 1bb3393de75d"),
    ("Yoga", "c181bb1d89e4 ba859d649675 e981acd076d3 76df7844a8c6 1ffef8d6f371 8160f7a9cebb cd9ef14ccf87 34cf8b009713"),
    ("Zed", "I43e0b669096 4e6e655746f6 659cbedf30a1 21ff98fabab1 5881373af7f5"),
    ("2023.1", "fc153938cdc1"),
    ("2023.2", "93f394357a27 6f1145bff34c 682c319773d7 0aefee21cd87 b1199a3adbef c33da356b165 89c58a70ceba"),
    ("2024.1", "054e34dbe6b4 0e6eff810791"),
    ("2024.2", "175fa80908e1 5bcb7b31ec7d"),
    ("2025.1", "ad80a9f07c5c"),
    ("2025.2", "d553edeb540f"),
    ("2026.1", "b1bca967e19d"),
    ("2026.2", "bdae3a00c493 a00aa97899c0 a1b2c3d4e5f6 c7f8d9e0f1a2"),
)
NEUTRON_CONTRACT: Chain = (
    (
        "Queens",
        "kilo 30018084ec99 4ffceebfada 5498d17be016 2a16083502f3 2e5352a0ad4d 11926bcfe72d "
        "4af11ca47297 1b294093239c 8a6d8bdae39 2b4c2465d44b e3278ee65050 c6c112992c9 "
        "5ffceebfada 4ffceebfcdc 7bbb25278f53 89ab9a816d70 c879c5e1ee90 8fd3918ef6f4 "
        "4bcd4df1f426 b67e765a3524 a84ccf28f06a 7d9d8eeec6ad a8b517cff8ab 3b935b28e7a0 "
        "b12a3ef66e62 97c25b0d2353 2e0d7a8a1586 5c85685d616d",
    ),
)
PLACEMENT: Chain = (
    ("Stein", "b4ed3a175331"),
    ("Train", "611cd6dffd7b b5c396305c25"),
    ("Xena", "422ece571366"),
    ("2023.2", "a082b8bb98d0"),
)
DESIGNATE: Chain = (
    (
        "Zed",
        "c9f427f7180a 867a331ce1fc d9a1883e93e9 bfcfc4a07487 f9f969f9d85e a69b45715cc1 "
        "0bcf910ea823 d04819112169 304d41c3847a 15b34ff3ecb8 7977deaa5167 93a00a815f07 "
        "b8999fd10721 91eb1eb7c882 e5e2199ed76e",
    ),
    ("2023.1", "b20189fd288e"),
    ("2023.2", "a005af3aa38e"),
    ("2024.1", "9099de8ae11c"),
    ("2025.2", "f828412479ee"),
    ("2026.2", "d2a4aea32428 b57384b28335 f49c4409c8ba"),
)

# alembic branches per database kind; Neutron's two are labelled expand and contract
ALEMBIC: dict[str, dict[str, Chain]] = {
    "nova_api": {"": NOVA_API},
    "nova": {"": NOVA},
    "cinder": {"": CINDER},
    "neutron": {"expand": NEUTRON_EXPAND, "contract": NEUTRON_CONTRACT},
    "placement": {"": PLACEMENT},
    "designate": {"": DESIGNATE},
}

# sqlalchemy-migrate: the repository_id of each database's repository (its migrate.cfg),
# and the highest version each release's repository reaches
MIGRATE_REPOSITORY = {"nova_api": "nova_api", "nova": "nova", "cinder": "cinder", "designate": "Designate"}
MIGRATE_HEADS: dict[str, tuple[tuple[str, int], ...]] = {
    "nova_api": (
        ("Queens", 52),
        ("Rocky", 61),
        ("Stein", 62),
        ("Train", 67),
        ("Ussuri", 72),
        ("Victoria", 77),
        ("Wallaby", 82),
    ),
    "nova": (
        ("Queens", 378),
        ("Rocky", 390),
        ("Stein", 391),
        ("Train", 402),
        ("Ussuri", 407),
        ("Victoria", 412),
        ("Wallaby", 417),
    ),
    "cinder": (
        ("Queens", 117),
        ("Rocky", 123),
        ("Stein", 128),
        ("Train", 132),
        ("Ussuri", 136),
        ("Victoria", 140),
        ("Wallaby", 141),
    ),
    "designate": (
        ("Queens", 99),
        ("Rocky", 100),
        ("Stein", 102),
        ("Train", 102),
        ("Ussuri", 102),
        ("Victoria", 102),
        ("Wallaby", 102),
        ("Xena", 103),
        ("Yoga", 103),
    ),
}
# where the legacy repositories of Xena-2023.1 end (Nova's `legacy_migrations`, Cinder's):
# migrate_version stays there once the alembic baseline is stamped, until 2023.2 drops it
LEGACY_END = {"nova_api": 87, "nova": 422, "cinder": 145}
LEGACY_UNTIL = "2023.1"


# -- what a database's version table says -------------------------------------------------
@dataclass(frozen=True)
class SchemaRead:
    """What a source read of one database's version table, as read (judged by `place`,
    so a saved snapshot is judged by the osfsck that checks it).

    `scope`: the database's coverage scope ("api", "cell:cell1", "cinder", ...);
    `database`: its kind (DATABASES); `table`: the table that decided (ALEMBIC_TABLE,
    MIGRATE_TABLE, or "" when it has neither); `values`: alembic_version's rows, or
    migrate_version's as "<repository_id>:<version>", each as text."""

    scope: str
    database: str
    table: str
    values: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"scope": self.scope, "database": self.database, "table": self.table, "values": list(self.values)}


@dataclass(frozen=True)
class Position:
    """Where a schema lies among RELEASES (indexes): `exact`, the schema of each release
    from `low` to `high`; else part way from `low` to `high` (an upgrade in progress;
    `low` -1: older than the first release osfsck knows)."""

    low: int
    high: int
    exact: bool

    @property
    def releases(self) -> tuple[str, ...]:
        return RELEASES[self.low : self.high + 1] if self.exact else ()

    @property
    def text(self) -> str:
        if self.exact:
            return RELEASES[self.low] if self.low == self.high else f"{RELEASES[self.low]}–{RELEASES[self.high]}"
        if self.low < 0:
            return f"older than {RELEASES[0]}"
        return f"between {RELEASES[self.low]} and {RELEASES[self.high]}"


@dataclass(frozen=True)
class Placed:
    """A SchemaRead judged: its position (None: a schema osfsck does not know, `problem`
    says why), and anything else worth saying about it (`note`)."""

    read: SchemaRead
    position: Position | None
    problem: str = ""
    note: str = ""

    @property
    def known(self) -> bool:
        return self.position is not None

    @property
    def text(self) -> str:
        return self.position.text if self.position is not None else "unknown"

    @property
    def label(self) -> str:
        return label(self.read)

    @property
    def state(self) -> str:
        """release (a release's own schema), mid-upgrade, older (than RELEASES[0]) or unknown."""
        return _state(self.position)

    def as_dict(self) -> dict[str, object]:
        return {
            **self.read.as_dict(),
            "release": self.text,
            "releases": list(self.position.releases) if self.position else [],
            "state": self.state,
            "problem": self.problem,
            "note": self.note,
        }


def _state(position: Position | None) -> str:
    if position is None:
        return "unknown"
    return "release" if position.exact else ("older" if position.low < 0 else "mid-upgrade")


def label(read: SchemaRead) -> str:
    """The database for people: "Nova API database", "Nova cell database cell1", ..."""
    if read.database == "nova":
        return f"Nova cell database {read.scope.removeprefix('cell:')}"
    if read.database == "nova_api":
        return "Nova API database"
    return f"{SERVICE.get(read.database, read.database)} database"


def release_index(name: str) -> int:
    """The place of release `name` in RELEASES (any case: "zed", "2024.1"); ValueError if unknown."""
    for i, r in enumerate(RELEASES):
        if r.lower() == name.lower():
            return i
    raise ValueError(f"not a release osfsck knows: {name!r}")


def _first_index(chain: Chain) -> dict[str, int]:
    return {rev: release_index(rel) for rel, revs in chain for rev in revs.split()}


def _order(chain: Chain) -> list[str]:
    return [rev for _, revs in chain for rev in revs.split()]


def branch_head(chain: Chain, release: str) -> str | None:
    """The revision a database of `release` is at on this branch (None: the branch did not exist yet)."""
    at = release_index(release)
    first = _first_index(chain)
    shipped = [rev for rev in _order(chain) if first[rev] <= at]
    return shipped[-1] if shipped else None


def alembic_heads(database: str, release: str) -> tuple[str, ...]:
    """alembic_version's rows in a database of `release` made by its own migrations,
    sorted (as the lab's versions.json lists them); () before the service used alembic."""
    heads = (branch_head(chain, release) for chain in ALEMBIC[database].values())
    return tuple(sorted(h for h in heads if h is not None))


def _alembic_position(chain: Chain, revision: str) -> Position | None:
    first = _first_index(chain)
    if revision not in first:
        return None
    heads = [branch_head(chain, r) for r in RELEASES]
    at = [i for i, h in enumerate(heads) if h == revision]
    if at:
        return Position(at[0], at[-1], True)
    return Position(first[revision] - 1, first[revision], False)


def _migrate_position(database: str, version: int) -> Position | None:
    heads = [(release_index(rel), v) for rel, v in MIGRATE_HEADS[database]]
    at = [i for i, v in heads if v == version]
    if at:
        return Position(at[0], at[-1], True)
    last = max(i for i, _ in heads)
    top = max([v for _, v in heads] + [LEGACY_END.get(database, 0)])
    if version > top or version < 1:
        return None
    if version > max(v for _, v in heads):  # Xena's legacy migrations ran, its alembic baseline is not stamped
        return Position(last, last + 1, False)
    above = min(i for i, v in heads if v > version)
    return Position(above - 1, above, False)


def place(read: SchemaRead) -> Placed:
    """What `read` says about its database's release (see the module's docstring)."""
    if read.database not in DATABASES:
        return Placed(read, None, f"a database kind osfsck does not know ({read.database!r})")
    if read.table == ALEMBIC_TABLE:
        return _place_alembic(read)
    if read.table == MIGRATE_TABLE:
        return _place_migrate(read)
    return Placed(
        read,
        None,
        f"it has no {ALEMBIC_TABLE} or {MIGRATE_TABLE} table (or osfsck may not read them), so osfsck "
        f"cannot tell which {SERVICE[read.database]} release's schema it is",
    )


def _unknown_revision(read: SchemaRead, revision: str) -> Placed:
    return Placed(read, None, f"alembic revision {_shown(revision)} is not one osfsck knows (newer than {NEWEST}?)")


def _shown(value: str) -> str:
    text = repr(value) if not value.isprintable() or not value or " " in value else value
    return text if len(text) <= 40 else text[:37] + "..."


def _place_alembic(read: SchemaRead) -> Placed:
    branches = ALEMBIC[read.database]
    if not read.values:
        return Placed(read, None, f"its {ALEMBIC_TABLE} table is empty (its first migration failed?)")
    found: dict[str, tuple[str, Position]] = {}
    for value in read.values:
        matched = [(name, p) for name, chain in branches.items() if (p := _alembic_position(chain, value))]
        if not matched:
            return _unknown_revision(read, value)
        for name, p in matched:
            if name in found:
                rows = ", ".join(_shown(v) for v in read.values)
                keeps = "one row per branch (expand and contract)" if len(branches) > 1 else "one row"
                return Placed(
                    read,
                    None,
                    f"{ALEMBIC_TABLE} has {len(read.values)} rows ({rows}); "
                    f"{SERVICE[read.database]}'s migrations keep {keeps}",
                )
            found[name] = (value, p)
    if len(branches) == 1:
        return Placed(read, found[""][1])
    return _place_branches(read, found)


def _place_branches(read: SchemaRead, found: dict[str, tuple[str, Position]]) -> Placed:
    """Neutron: the expand branch says which tables and columns exist (contract
    migrations only remove), so it decides; a missing row or a contract branch that
    does not fit it is said."""
    if "expand" not in found:
        value, position = found["contract"]
        return Placed(
            read, position, note=f"{ALEMBIC_TABLE} has only its contract row ({value}): the expand row is missing"
        )
    value, position = found["expand"]
    if "contract" not in found:
        return Placed(
            read, position, note=f"{ALEMBIC_TABLE} has only its expand row ({value}): the contract row is missing"
        )
    contract, other = found["contract"]
    if other.exact and position.exact and other.low <= position.low and position.high <= other.high:
        return Placed(read, position)
    return Placed(
        read,
        position,
        note=f"its branches disagree: expand {value} ({position.text}), contract {contract} ({other.text})",
    )


def _place_migrate(read: SchemaRead) -> Placed:
    repository = MIGRATE_REPOSITORY.get(read.database)
    if repository is None:
        return Placed(
            read,
            None,
            f"it has a {MIGRATE_TABLE} table but no {ALEMBIC_TABLE} rows: not a "
            f"{SERVICE[read.database]} schema osfsck knows",
        )
    mine = [v.rpartition(":")[2] for v in read.values if v.rpartition(":")[0] == repository]
    if len(mine) != 1:
        rows = ", ".join(_shown(v) for v in read.values) or "none"
        return Placed(read, None, f"{MIGRATE_TABLE} has no row of repository {repository!r} (rows: {rows})")
    version = mine[0]
    position = _migrate_position(read.database, int(version)) if version.isdigit() else None
    if position is None:
        return Placed(read, None, f"sqlalchemy-migrate version {_shown(version)} is not one osfsck knows")
    legacy = LEGACY_END.get(read.database)
    if legacy is not None and int(version) == legacy:
        return Placed(
            read,
            position,
            note=f"its legacy migrations reached {legacy} (Xena–{LEGACY_UNTIL}) but {ALEMBIC_TABLE} has no row: "
            "the alembic baseline is not stamped",
        )
    return Placed(read, position)


# -- the cloud --------------------------------------------------------------------------
@dataclass(frozen=True)
class CloudRelease:
    """The release every database read fits (`releases`: empty when none does or none is
    known), said for people (`text`), each database judged, and what is worth saying."""

    databases: tuple[Placed, ...]
    releases: tuple[str, ...]
    text: str
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "release": self.text,
            "releases": list(self.releases),
            "notes": list(self.notes),
            "databases": [p.as_dict() for p in self.databases],
        }


def cloud_release(reads: Iterable[SchemaRead]) -> CloudRelease:
    """What the databases read say together: the releases all of them fit (their
    intersection), or which disagree (an upgrade in progress), and every database osfsck
    does not know, that is part way, or whose cells differ."""
    placed = tuple(place(r) for r in sorted(reads, key=lambda r: r.scope))
    known = [p for p in placed if p.position is not None]
    notes = [f"{p.label}: {p.problem}" for p in placed if p.problem]
    notes += [f"{p.label}: {p.note}" for p in placed if p.note]
    notes += [
        f"{p.label} is part way through an upgrade: {p.read.table} says {', '.join(p.read.values)}, {p.text}"
        for p in known
        if p.position is not None and not p.position.exact and p.position.low >= 0 and not p.note
    ]
    notes += _cells_disagree(placed)
    releases: tuple[str, ...] = ()
    if not known:
        text = "unknown" if placed else ""
    elif all(p.position is not None and p.position.exact for p in known):
        common = set.intersection(*(set(p.position.releases) for p in known if p.position is not None))
        releases = tuple(r for r in RELEASES if r in common)
        text = Position(RELEASES.index(releases[0]), RELEASES.index(releases[-1]), True).text if releases else ""
    else:
        text = ""
    if known and not releases:
        text = _spread(known)
    return CloudRelease(placed, releases, text, tuple(notes))


def _spread(known: list[Placed]) -> str:
    """No one release fits every database: say the oldest and the newest of them."""
    oldest = min(known, key=lambda p: (p.position.high, p.position.low) if p.position else (0, 0))
    newest = max(known, key=lambda p: (p.position.low, p.position.high) if p.position else (0, 0))
    return f"mixed (an upgrade in progress?): from {oldest.text} ({oldest.label}) to {newest.text} ({newest.label})"


def _cells_disagree(placed: tuple[Placed, ...]) -> list[str]:
    groups: dict[tuple[str, ...], list[Placed]] = {}
    for p in placed:
        if p.read.database == "nova":
            groups.setdefault(p.read.values, []).append(p)
    if len(groups) < 2:
        return []
    parts = [
        f"{', '.join(p.read.scope.removeprefix('cell:') for p in ps)} at {', '.join(values) or 'no revision'} "
        f"({ps[0].text})"
        for values, ps in sorted(groups.items(), key=lambda kv: kv[1][0].read.scope)
    ]
    return ["Nova cells disagree: " + "; ".join(parts)]
