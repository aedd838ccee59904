"""The release matrix: the database checks' scenarios and the database sources on every
stored release and dialect, from one corpus per (release, dialect) (tests/releases/
corpus.py): one file, so that one xdist worker builds each corpus once.

Scenarios: the corpus holds each found, clean and near-miss case of every database check;
each case must get there exactly the verdict its scenario expects (test_scenarios.py's, on
the World's facts): found -> exactly its findings, clean and near miss -> none, and nothing
undecided.

Sources: the Nova API and cell databases, Cinder, Neutron, Placement, Designate and their
quota rows read back exactly the facts the corpus wrote, every database read completely,
and each database's version table names its release."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest

from osfsck.model.schema_versions import cloud_release, place
from tests.checks.scenario import PARTIAL, scenario_modules
from tests.releases import corpus, matrix
from tests.releases.rename import UUID, owners, shared_uuid

RELEASES = matrix.releases()

# The cases that cannot share the corpus, and why (the start of corpus.Entry.left_out: see
# corpus._apart and rows.NotWritable).  They keep their single run on the World's facts
# (tests/checks/test_scenarios.py).
PARTIAL_WORLD = "its world is read partially"
LEFT_OUT = {
    # a whole cell database down: the corpus's cells are read
    "network.orphan_port:found:a cell is down but the mapping names the cell that was read": PARTIAL_WORLD,
    # no database holds a mapping to a cell uuid: instance_mappings keeps a cell_id
    "nova.orphan_instance_mapping:found:mapping to a cell that no longer exists": "not writable: instance mapping",
    # the hypervisor's domain and RabbitMQ's queues decide these
    "nova.stuck_instance_task:found:a reboot lost 5 h ago, the domain running": "its check reads hv.domain, rabbitmq.queue",
    "nova.stuck_instance_task:found:deleting for days on a dead host, RabbitMQ and the hypervisor unread": PARTIAL_WORLD,
    # Neutron's quota driver from a schema release the world names (or none read): the
    # corpus's Neutron database is each release's own, read
    "quotas.quota_usage_drift:near-miss:no driver configured, a 2024.1 schema: the no-lock default": "its world says which release",
    "quotas.quota_usage_drift:found:no driver configured, a Wallaby schema: the legacy default": "its world says which release",
    "quotas.quota_usage_drift:found:Neutron's quota driver unknown: judged with low confidence": "its Neutron's quota driver is not configured",
}
# Cases whose scenario's `verify` reads what the corpus cannot keep as the scenario has it
# (their verdict is still asserted), and why.
UNVERIFIED = {
    "quotas.duplicate_quota_usage:found:three volumes rows": "it names the usage rows' ids, which are the case's plus its offset",
}


def _cases():
    """Every found, clean and near-miss case of every database check, named without
    building its world (collection stays cheap in every xdist worker)."""
    for modname, mod in scenario_modules().items():
        if not corpus.db_check(mod.CHECK):
            continue
        for case in mod.CASES:
            if case.kind != PARTIAL:
                marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
                name = f"{modname.split('.', 2)[2]}:{case.kind}:{case.name}"
                yield pytest.param(name, id=name, marks=marks)


def _entry(case_id: str) -> corpus.Entry:
    return next(e for e in corpus.corpus().entries if e.id == case_id)


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("case_id", list(_cases()))
def test_case_on_release(built, dialect, release, case_id):
    entry = _entry(case_id)
    b = built(release, dialect)
    why = b.skip_reason(entry)
    if why:
        pytest.skip(why)
    out = corpus.case_output(b, entry)
    got = {(f.code, f.subject.id) for f in out.findings}
    assert got == entry.case.expected(), f"{release} on {dialect}"
    assert [i.scope for i in out.inconclusive_list] == [], "nothing was partial, yet the check could not decide"
    for f in out.findings:
        assert f.subject.id in f.message, "a finding's message names its object"
    if entry.case.verify is not None and entry.id not in UNVERIFIED:
        entry.case.verify(out)


def test_the_cases_left_out_are_listed():
    """A case that cannot share the corpus is a decision, written down with its reason."""
    c = corpus.corpus()
    got = {e.id: e.left_out for e in c.entries if e.left_out}
    assert set(got) == set(LEFT_OUT)
    assert {i: why for i, why in got.items() if not why.startswith(LEFT_OUT[i])} == {}
    assert [e.id for e in c.extras if e.left_out] == []


# Fields whose values may repeat from case to case: states and types, and values no
# database check joins on (checks/network, nova, placement, quotas, volumes: they join on
# uuids, hosts, projects and users); and the shared objects' names and ids.
NOT_JOINED = frozenset(
    {
        "scope", "cell", "status", "attach_status", "migration_status", "vm_state", "task_state",
        "migration_type", "binary", "action", "type", "table", "resource", "resource_class",
        "consumer_type", "device_owner", "vif_type", "port_type", "source_type", "hypervisor_type",
        "managed_plugin_name", "managed_resource_type", "device_name", "connection_info", "request_id",
        "hostname", "display_name", "name", "zone", "cidr", "mac_address", "ip_address",
        "fixed_ip_address", "floating_ip_address", "addresses",
    }
)  # fmt: skip
SHARED_FIELDS = frozenset(
    {
        ("nova.cell", "uuid"),
        ("nova.instance_mapping", "cell_uuid"),
        ("cinder.volume_type", "id"),
        ("quota.cinder_counted", "volume_type_id"),
    }
)


def test_the_cases_share_no_name():
    """What the checks join on -- uuids, hosts, projects, users -- is one case's only: no
    value of any other field than NOT_JOINED and SHARED_FIELDS is in two cases' facts,
    every uuid a fact holds is its case's (or a shared cell's or volume type's), and no
    fact holds another case's names."""
    c = corpus.corpus()
    spaces = c.spaces
    shared = {u for ns in spaces.values() for u in ns.shared.values()}
    whose: dict[tuple, set[str]] = defaultdict(set)
    for e in c.entries + c.extras:
        if e.left_out:
            continue
        for kind, facts in e.facts.items():
            for f in facts:
                assert owners(tuple(f), spaces) <= {e.ns.index}, (e.id, kind, f)
                for name, v in zip(f._fields, f):
                    assert all(u in e.ns.back or u in shared for u in UUID.findall(repr(v))), (e.id, kind, name, v)
                    if v and not isinstance(v, (int, float, dt.datetime)) and name not in NOT_JOINED:
                        whose[kind, name, v].add(e.id)
    repeated = {key: ids for key, ids in whose.items() if len(ids) > 1 and key[:2] not in SHARED_FIELDS}
    assert repeated == {}
    new = [u for ns in spaces.values() for u in ns.back]
    assert len(new) == len(set(new))


@pytest.mark.parametrize("release", RELEASES)
def test_what_was_read_mixes_no_cases(built, dialect, release):
    """Every fact the sources read back holds one case's names (or only shared ones), and
    every finding of the shared runs is one case's."""
    b = built(release, dialect)
    mixed = corpus.by_case(b.snap.facts, corpus.corpus().spaces).get(None, {})
    shared = corpus.SHARED_KINDS | corpus.CONFIG_KINDS
    assert {k: v for k, v in mixed.items() if k not in shared} == {}
    assert corpus.strays(b) == []


# -- the sources --------------------------------------------------------------------------
# kinds of which the corpus writes more rows than the scenarios' facts: the rows a count
# (quota.*_counted) stands for, and the counts of the scenarios' own rows
COUNTED_TOO = frozenset(
    {
        "cinder.volume",
        "quota.cinder_counted",
        "quota.neutron_counted",
        "neutron.network",
        "neutron.subnet",
        "neutron.port",
        "neutron.router",
        "neutron.security_group",
        "neutron.security_group_rule",
        "neutron.floating_ip",
    }
)
SCOPES = {
    "nova_api": "api",
    "nova_cell1": "cell:cell1",
    "nova_cell2": "cell:cell2",
    "cinder": "cinder",
    "neutron": "neutron",
    "placement": "placement",
    "designate": "designate",
}


def as_read(kind: str, fact):
    """A written fact as its source reads it: a deleted instance's network info cache is
    not read (nova_db/queries.py instance_networks), so it has no cache time."""
    if kind == "nova.instance_network" and fact.deleted:
        return fact._replace(cache_updated_at=None)
    return fact


def _missing(b: corpus.Built, source: str) -> str:
    return "; ".join(b.missing[db] for db in corpus.SOURCE_DBS[source] if db in b.missing)


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("source", list(corpus.SOURCE_DBS))
def test_a_source_reads_back_what_was_written(built, dialect, release, source):
    b = built(release, dialect)
    why = _missing(b, source)
    if why:
        pytest.skip(why)
    c = corpus.corpus()
    assert [s for s in b.statuses if s.source == source and s.status != "ok"] == []
    read = corpus.by_case(b.snap.facts, c.spaces)
    compared = Counter()
    for e in c.entries + c.extras:
        if e.left_out:
            continue
        for kind, facts in e.facts.items():
            if corpus.source_of()[kind] != source or kind in corpus.SHARED_KINDS:
                continue
            written = Counter(as_read(kind, f) for f in facts)
            got = Counter(read.get(e.ns.index, {}).get(kind, []))
            if kind in COUNTED_TOO:
                assert written - got == Counter(), (e.id, kind, b.lacking)
            else:
                assert got == written, (e.id, kind, b.lacking)
            compared[kind] += len(facts)
    shared = {
        "nova.cell": {(c, shared_uuid("cell", c)) for c in corpus.CELLS},
        "cinder.volume_type": {(n, i) for n, i in c.rows.types.items()},
    }
    for kind, expected in shared.items():
        if corpus.source_of()[kind] == source:
            got = b.snap.facts.get(kind, [])
            assert len(got) == len(expected) and {(f[2], f[1]) for f in got} == expected
            compared[kind] += len(got)
    provided = {k for k, s in corpus.source_of().items() if s == source and k not in corpus.CONFIG_KINDS}
    assert set(compared) == provided, f"kinds no scenario writes: {sorted(provided - set(compared))}"


@pytest.mark.parametrize("release", RELEASES)
def test_each_database_is_named_its_release(built, dialect, release):
    b = built(release, dialect)
    expected = {scope for db, scope in SCOPES.items() if db not in b.missing}
    assert set(b.snap.schemas) == expected
    for scope, read in b.snap.schemas.items():
        placed = place(read)
        # the versions.json folders are lower case ("xena"), osfsck's names capitalised ("Xena")
        named = [r.lower() for r in placed.position.releases]
        assert placed.state == "release" and release.lower() in named, (scope, placed)
    assert release.lower() in [r.lower() for r in cloud_release(b.snap.schemas.values()).releases]
