"""Every database source on every stored release and dialect: the Nova API and cell
databases, Cinder, Neutron, Placement, Designate and their quota rows read back exactly the
facts the corpus wrote (tests/releases/corpus.py), every database read completely, and each
database's version table naming its release."""

from __future__ import annotations

from collections import Counter

import pytest

from osfsck.model.schema_versions import cloud_release, place
from tests.releases import corpus, matrix
from tests.releases.rename import shared_uuid

RELEASES = matrix.releases()
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
        assert placed.state == "release" and release in placed.position.releases, (scope, placed)
    assert release in cloud_release(b.snap.schemas.values()).releases
