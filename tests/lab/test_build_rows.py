"""The lab is a function of its profile and seed: every row `lab build` writes, its truth,
its DNS zones, OVN northbound rows and NSX objects.  fixtures/lab_rows.json holds a digest
of each, recorded by the builder that still held every row of the cloud in memory; the
builder that generates the soft-deleted and archived rows at write time must write the
same (a change of generation order changes uuids, ids and ages, and so the digests).

Regenerate the fixture (only when a change of the lab's rows is intended) with
`python tests/lab/test_build_rows.py`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import sys
from pathlib import Path

import pytest

from osfsck_lab import build, profiles, schemas, services, volumes
from osfsck_lab.profiles import Profile

NOW = dt.datetime(2026, 11, 24, 12, 0)
FIXTURE = Path(__file__).parent / "fixtures" / "lab_rows.json"
# several cells, a fractional number of deleted and archived rows per live one (the last
# round over the live instances stops part way through a cell)
TINY = Profile(
    "tiny",
    cells=3,
    hosts_per_cell=3,
    live_per_host=4,
    deleted_per_live=3.4,
    archived_per_live=0.7,
    hypervisors="testfiles",
    attached_per_live=0.5,
    spare_per_live=0.2,
    gone_per_live=0.3,
)
CASES = {"small seed 1": ("small", 1), "small seed 5": ("small", 5), "tiny seed 2": ("tiny", 2)}


def _digest(lines) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def written(profile: str, seed: int, folder: Path) -> dict[str, list]:
    """{what: [count, digest]} for every non-empty table of every database the lab writes on
    SQLite (rows sorted: their ids keep the order they were written in), its truth, zones,
    northbound rows and NSX objects, built in the order build._build builds them."""
    release = schemas.releases()[0]
    c = build.spec(profile, seed, NOW, release)
    volumes.for_release(c, release)
    drawn = c.rng.getstate()
    urls = build._write_drawn(c, folder, None, "t", release, True)
    assert c.rng.getstate() == drawn  # what goes before DNS, OVN and NSX draws nothing
    zones = services.dns_zone_records(c)
    nb = services.ovn_northbound(c)
    nsx = services.nsx_manager(c)
    build._write_drawing(c, urls, release, True)
    here = str(folder.resolve())
    out: dict[str, list] = {}
    for name, url in sorted(urls.items()):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in sorted(tables):
                # a cell's database_connection names the lab's folder
                rows = sorted(repr(tuple(r)).replace(here, "<lab>") for r in conn.execute(f'SELECT * FROM "{table}"'))
                if rows:
                    out[f"{name}.{table}"] = [len(rows), _digest(rows)]
    truth = {
        "faults": c.truth,
        "near_misses": c.notes,
        "ripening": sorted(({**r, "at": r["at"].isoformat()} for r in c.ripening), key=json.dumps),
    }
    out["truth"] = [len(c.truth), _digest([json.dumps(truth, sort_keys=True)])]
    records = sorted(repr((zone, r)) for zone, rs in zones.items() for r in rs)
    out["dns"] = [len(records), _digest(records)]
    nb_rows = [repr((r.table, r.uuid, r.row, {k: [x.uuid for x in v] for k, v in r.refs.items()})) for r in nb.rows]
    out["ovn"] = [len(nb_rows), _digest(nb_rows)]
    out["nsx"] = [len(nsx.to_json()), _digest([json.dumps(nsx.to_json(), sort_keys=True, default=str)])]
    return out


@pytest.fixture(autouse=True)
def tiny(monkeypatch):
    monkeypatch.setitem(profiles.PROFILES, "tiny", TINY)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_lab_writes_the_rows_it_always_wrote(case, tmp_path):
    want = json.loads(FIXTURE.read_text())[case]
    got = written(*CASES[case], tmp_path)
    assert {k: v for k, v in got.items() if v != want.get(k)} == {}
    assert sorted(got) == sorted(want)


if __name__ == "__main__":  # record the fixture
    import tempfile

    profiles.PROFILES["tiny"] = TINY
    record = {}
    for case, (profile, seed) in sorted(CASES.items()):
        with tempfile.TemporaryDirectory() as folder:
            record[case] = written(profile, seed, Path(folder))
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    sys.exit(0)
