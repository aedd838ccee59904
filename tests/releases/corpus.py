"""The scenario corpus: every database check's found, clean and near-miss cases in one
database set, each case in a namespace of its own (tests/releases/rename.py), written as the
services keep their rows (rows.py) into the databases of one release on one dialect,
collected once by the real database sources, every database check run once on what was
read, and each case's verdict taken from that shared result.

A case that cannot share the corpus is left out with its reason (LEFT_OUT in
test_matrix_on_releases.py lists them): a fact no database can hold, facts of a system
no database source reads that its check needs, a world read partially.  A case of a run
scoped with --project (or --host) shares the databases and is collected on its own, within
its scope, as such a run reads them; so is a case whose Neutron runs another quota driver
than the corpus's (the legacy one, as the lab's: a setting of the whole run).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import partial

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.scoping import narrow
from osfsck.config.dns import DesignateSettings
from osfsck.config.placement import PlacementSettings
from osfsck.config.settings import CinderSettings, Database, NeutronSettings, NovaSettings
from osfsck.engine import wiring
from osfsck.engine.collect import collect
from osfsck.engine.run import scoped
from osfsck.model.result import SourceStatus
from osfsck.model.scope import RunScope
from osfsck.model.snapshot import Snapshot
from osfsck.rules.neutron_quota import LEGACY_DRIVER
from osfsck.sources.cinder_db import CinderDatabaseSource
from osfsck.sources.designate_db import DesignateDatabaseSource
from osfsck.sources.neutron_db import NeutronDatabaseSource
from osfsck.sources.nova_db import NovaDatabaseSource
from osfsck.sources.placement_db import PlacementDatabaseSource
from tests.checks.scenario import PARTIAL, Case, scenario_modules
from tests.releases import matrix, store
from tests.releases.rename import Namespace, owners, shared_uuid
from tests.releases.rows import DEFAULT_TYPE, NotWritable, Rows, cell_db, schema_of
from tests.support.world import TAKEN_AT, World

CELLS = ("cell1", "cell2")
# each database source and the corpus databases it reads
SOURCE_DBS = {
    "nova-db": ("nova_api", *(cell_db(c) for c in CELLS)),
    "cinder-db": ("cinder",),
    "neutron-db": ("neutron",),
    "placement-db": ("placement",),
    "designate-db": ("designate",),
}
DATABASES = tuple(db for dbs in SOURCE_DBS.values() for db in dbs)
# kinds a source takes from osfsck's configuration, not from a table
CONFIG_KINDS = frozenset({"quota.neutron_driver"})
# kinds of the corpus's shared objects, written once (not per case)
SHARED_KINDS = frozenset({"nova.cell", "cinder.volume_type"})
# the corpus run's [neutron] quota_driver (the lab's)
DRIVER = LEGACY_DRIVER


@functools.cache
def source_of() -> dict[str, str]:
    """Fact kind -> the database source that reads it."""
    return {k.kind: s.name for s in wiring.source_classes() if s.name in SOURCE_DBS for k in s.provides}


def db_check(cls: type[Check]) -> bool:
    """A check whose every needed kind a database source reads."""
    return all(k.kind in source_of() for k in cls.needs)


@dataclass
class Entry:
    """One case in the corpus (or left out of it, `left_out` saying why)."""

    id: str  # as test_scenarios names it: <folder>.<module>:<kind>:<name>
    check: type[Check] | None  # None: a case for the Designate source only
    case: Case
    ns: Namespace
    facts: dict[str, list] = field(default_factory=dict)  # its database facts, renamed
    scope: RunScope | None = None  # a scoped run's scope, renamed
    driver: str = DRIVER  # the [neutron] quota_driver of its run
    databases: frozenset[str] = frozenset()  # the corpus databases it needs
    left_out: str = ""

    @property
    def group(self) -> tuple:
        """Entries judged by one run of their check: same check, same settings."""
        return (self.check.code, repr(sorted((self.case.params or {}).items())))

    @property
    def alone(self) -> bool:
        """Read on its own: a run of another scope, or with another quota driver."""
        return self.scope is not None or self.driver != DRIVER


@dataclass
class Corpus:
    entries: list[Entry]
    extras: list[Entry]  # worlds for the sources' part of the matrix only (no verdict)
    rows: Rows

    @property
    def spaces(self) -> dict[int, Namespace]:
        return {e.ns.index: e.ns for e in self.entries + self.extras}


def _shared(snap: Snapshot) -> dict[str, str]:
    """The case's uuids of the corpus's shared objects: its cells', its volume types'."""
    seeds = {c.uuid: shared_uuid("cell", c.name) for c in snap.facts.get("nova.cell", [])}
    seeds.update({t.id: volume_type(t.name) for t in snap.facts.get("cinder.volume_type", [])})
    return seeds


def volume_type(name: str) -> str:
    return shared_uuid("volume-type", name)


def _apart(cls: type[Check], snap: Snapshot) -> str:
    """Why a case's world cannot share the corpus ("" when it can)."""
    if snap.taken_at != TAKEN_AT:
        return f"its world is taken at {snap.taken_at}, the corpus at {TAKEN_AT}"
    read = {k.kind for k in (*cls.needs, *cls.uses)}
    other = sorted(k for k, v in snap.facts.items() if v and k not in source_of() and k in read)
    if other:
        return f"its check reads {', '.join(other)} of its world, which no database source reads"
    partial = sorted(f"{c.kind} in {c.scope}" for c in snap.coverage.values() if not c.complete)
    if partial:
        return f"its world is read partially ({', '.join(partial)})"
    cells = snap.facts.get("nova.cell", [])
    if any(c.name not in CELLS or c.disabled for c in cells):
        return f"its cells ({', '.join(c.name for c in cells)}) are not the corpus's enabled {', '.join(CELLS)}"
    if snap.schemas:
        return f"its world says which release its databases are ({', '.join(sorted(snap.schemas))}): the corpus's are each release's own"
    if snap.facts.get("quota.neutron_usage") and not snap.facts.get("quota.neutron_driver"):
        return (
            "its Neutron's quota driver is not configured and no version table was read: the corpus's "
            "Neutron database has its release's, whose default driver then decides"
        )
    return ""


def _entry(index: int, modname: str, cls: type[Check] | None, case: Case, snap: Snapshot) -> Entry:
    ns = Namespace(index, _shared(snap))
    entry = Entry(f"{modname.split('.', 2)[2]}:{case.kind}:{case.name}", cls, case, ns)
    entry.facts = {
        kind: [ns.fact(kind, f) for f in facts]
        for kind, facts in snap.facts.items()
        if kind in source_of() and kind not in CONFIG_KINDS and facts
    }
    for d in snap.facts.get("quota.neutron_driver", []):
        entry.driver = d.driver
    if cls is not None:
        entry.left_out = _apart(cls, snap)
        kinds = {k.kind for k in cls.needs} | set(entry.facts)
        entry.databases = frozenset(db for k in kinds if k in source_of() for db in SOURCE_DBS[source_of()[k]])
    if snap.scope:
        s = snap.scope
        entry.scope = RunScope(s.cells, tuple(ns.tag + h for h in s.hosts), tuple(ns.tag + p for p in s.projects))
    return entry


@functools.cache
def corpus() -> Corpus:
    """Every database check's found, clean and near-miss case (and, for the sources, the
    DNS checks' Designate records and the EXTRAS), renamed and made into rows, once per
    process."""
    entries, extras, types = [], [], {DEFAULT_TYPE: volume_type(DEFAULT_TYPE)}
    for modname, mod in scenario_modules().items():
        cls = mod.CHECK
        for case in mod.CASES:
            if case.kind == PARTIAL:
                continue
            snap = case.build()
            types.update({t.name: volume_type(t.name) for t in snap.facts.get("cinder.volume_type", [])})
            if db_check(cls):
                entries.append(_entry(len(entries) + len(extras), modname, cls, case, snap))
            elif snap.facts.get("designate.record") and not _apart_designate(snap):
                # a DNS check reads the DNS servers too: its Designate records only
                e = _entry(len(entries) + len(extras), modname, None, case, snap)
                e.facts = {"designate.record": e.facts["designate.record"]}
                extras.append(e)
    for build in EXTRAS:
        case = Case("clean", build.__doc__.split("\n")[0], build)
        extras.append(_entry(len(entries) + len(extras), "tests.releases.corpus", None, case, case.build()))
    rows = Rows(list(CELLS), types)
    for e in entries + extras:
        if e.left_out:
            continue
        try:
            rows.add(e.ns, e.facts)
        except NotWritable as why:
            e.left_out = f"not writable: {why}"
    return Corpus(entries, extras, rows)


def _apart_designate(snap: Snapshot) -> bool:
    return any(c.kind == "designate.record" and not c.complete for c in snap.coverage.values())


def designate_records() -> Snapshot:
    """Designate's records of each type the source reads.

    Made by designate-sink's handlers for an instance and a floating IP, and by a user
    through the API."""
    w = World()
    w.zone("example.test.", designate=True)
    u = w.instance()
    w.designate_record(w.a_record("vm-1", "10.0.0.2"), resource_id=u)
    w.designate_record(w.a_record("vm-1", "2001:db8::2"), resource_id=u)
    w.designate_record(w.ptr_record("10.0.0.2", "vm-1"), resource_id=u)
    fip = w.new_uuid()
    w.designate_record(
        w.a_record("fip-1", "203.0.113.7"), resource_type="floatingip", resource_id=fip, plugin="neutron_floatingip"
    )
    w.designate_record(w.a_record("www", "192.0.2.80"), resource_type=None)
    return w.snapshot()


def security_groups() -> Snapshot:
    """Neutron's security groups, their rules and the ports bound to them.

    No database check reads them (the OVN and NSX checks do)."""
    w = World()
    u = w.instance()
    web = w.security_group("web", rules=3)
    default = w.security_group("default", rules=1, project_id="project-b")
    w.instance_port(u, security_groups=(web, default))
    return w.snapshot()


EXTRAS = (designate_records, security_groups)


# -- one release on one dialect -------------------------------------------------------------
@dataclass
class Built:
    """The corpus written into the databases of `release` on `dialect`, read, and judged."""

    release: str
    dialect: str
    urls: dict[str, str]
    missing: dict[str, str]  # corpus database -> why this release has none on this dialect
    lacking: list[str]  # "<table>.<column>" the rows give that this release lacks
    snap: Snapshot
    statuses: list[SourceStatus]
    # each check's output over what it read (before a scoped run's narrowing): Entry.group
    # -> the shared run's, Entry.id -> the run of a case read alone (and what it read)
    outputs: dict[tuple, CheckOutput] = field(default_factory=dict)
    alone: dict[str, tuple[CheckOutput, Snapshot]] = field(default_factory=dict)

    def skip_reason(self, entry: Entry) -> str:
        """Why `entry` is not judged on this release and dialect ("" when it is)."""
        if entry.left_out:
            return f"left out of the corpus: {entry.left_out}"
        return "; ".join(self.missing[db] for db in sorted(entry.databases) if db in self.missing)

    def output(self, entry: Entry) -> tuple[CheckOutput, Snapshot]:
        return self.alone[entry.id] if entry.alone else (self.outputs[entry.group], self.snap)


def sources(urls: dict[str, str], driver: str = DRIVER) -> list:
    """The database sources of the databases there are; Neutron's run `driver`."""
    out: list = []
    if all(db in urls for db in SOURCE_DBS["nova-db"]):
        out.append(NovaDatabaseSource(NovaSettings(api_database=Database(urls["nova_api"]))))
    for db, source, settings in (
        ("cinder", CinderDatabaseSource, CinderSettings),
        ("neutron", NeutronDatabaseSource, partial(NeutronSettings, quota_driver=driver)),
        ("placement", PlacementDatabaseSource, PlacementSettings),
        ("designate", DesignateDatabaseSource, DesignateSettings),
    ):
        if db in urls:
            out.append(source(settings(database=Database(urls[db]))))
    return out


def read(
    urls: dict[str, str], within: RunScope | None = None, kinds=None, driver: str = DRIVER
) -> tuple[Snapshot, list[SourceStatus]]:
    """What the database sources read of `urls` (within a run's scope; Neutron's quota
    driver `driver`), at the corpus's instant: the engine's own collection, its clock set
    to the scenarios'."""
    built = sources(urls, driver)
    for src in built:
        src.within = within
    wanted = set(kinds) if kinds is not None else {k for src in built for k in src.provides}
    snap, statuses = collect(built, wanted)
    snap.taken_at = TAKEN_AT
    return scoped(snap, within), statuses


def build(release: str, backend) -> Built:
    """The corpus in `release`'s databases on `backend` (store.SqliteFiles,
    store.ServerDatabases), read and judged; the databases are dropped once read."""
    urls, missing = {}, {}
    for db in DATABASES:
        why = matrix.not_built(release, schema_of(db), backend.name)
        if why:
            missing[db] = why
        else:
            urls[db] = backend.create(release, schema_of(db), db)
    try:
        return _fill_and_read(release, backend, urls, missing)
    finally:
        backend.drop(urls.values())


def _fill_and_read(release: str, backend, urls: dict[str, str], missing: dict[str, str]) -> Built:
    c = corpus()
    c.rows.shared(TAKEN_AT, {name: urls.get(cell_db(name), "") for name in CELLS})
    lacking = []
    for db, url in urls.items():
        lacking += store.fill(url, c.rows.tables.get(db, {}))
    snap, statuses = read(urls)
    built = Built(release, backend.name, urls, missing, sorted(set(lacking)), snap, statuses)
    for e in c.entries:
        if built.skip_reason(e):
            continue
        if e.alone:
            kinds = {*e.check.needs, *e.check.uses}
            alone, _ = read(urls, e.scope, kinds, e.driver)
            built.alone[e.id] = (e.check(e.case.params).evaluate(alone), alone)
        elif e.group not in built.outputs:
            built.outputs[e.group] = e.check(e.case.params).evaluate(snap)
    return built


# -- one case's part of the shared result --------------------------------------------------
def case_output(built: Built, entry: Entry) -> CheckOutput:
    """`entry`'s verdict, as engine/judge.py would give it on its scenario alone: its
    check's findings about its objects, and the scopes undecided for its objects (or for
    no object said), narrowed to a scoped run's scope by the product's own narrowing; in
    its scenario's names."""
    raw, snap = built.output(entry)
    spaces, ns = corpus().spaces, entry.ns
    out = CheckOutput(raw.check)
    out.examined = raw.examined
    out.findings = [f for f in raw.findings if owners(f.subject.id, spaces) == {ns.index}]
    for where, about in raw.grounds.items():
        mine = {a for a in about if a is None or owners(a.id, spaces) == {ns.index}}
        if mine:
            out.grounds[where], out.undecided[where] = mine, raw.undecided[where]
    if snap.scope:
        narrow(out, snap)
    out.findings = [
        replace(
            f,
            subject=ns.original(f.subject),
            related=ns.original(f.related),
            message=ns.original(f.message),
            evidence=ns.original(f.evidence),
        )
        for f in out.findings
    ]
    return out


def strays(built: Built) -> list[str]:
    """Findings and undecided scopes of the shared runs that are no single case's: about
    no case's objects, or about several cases' (which would mean one case saw another)."""
    spaces = corpus().spaces
    out = []
    for output in built.outputs.values():
        for f in output.findings:
            if len(owners(f.subject.id, spaces)) != 1:
                out.append(f"{f.code} {f.subject}: {f.message}")
        for where, about in output.grounds.items():
            out += [
                f"{output.check.code} undecided in {where} about {a}"
                for a in about
                if a is not None and len(owners(a.id, spaces)) != 1
            ]
    return out


def by_case(facts: dict[str, list], spaces: dict[int, Namespace]) -> dict[int | None, dict[str, list]]:
    """Facts sorted by the one case whose names they hold (None: several cases', or none)."""
    out: dict[int | None, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for kind, items in facts.items():
        for f in items:
            who = owners(tuple(f), spaces)
            out[who.pop() if len(who) == 1 else None][kind].append(f)
    return out
