"""Cinder's part in a `--cell` run beside the hosts' disks and sessions, as its SELECTs read
it from Cinder's real schema (SQLite, and a real MariaDB, whose comparisons ignore case):
row for row what model/cell_slice.py `slice_facts` says of the whole read, for each cell
of a cloud whose hosts hold each other's volumes (tests/checks/test_scoped_runs.py
`crossed_volumes`, where each lookup is shown needed), and nothing of the rest.

The source reads after the cells' own rows and their hosts (`requires`): what it is given
here is what those sources read in that run (the whole cloud narrowed to the cell)."""

from __future__ import annotations

import secrets

import pytest

from osfsck.config.settings import CinderSettings, Database
from osfsck.model.cell_slice import HOST_KEY_KINDS, KEY_KINDS, cell_keys, slice_facts
from osfsck.model.facts.cinder import CinderAttachment, CinderVolume
from osfsck.model.scope import RunScope
from osfsck.model.snapshot import Snapshot
from osfsck.sources.cinder_db import CinderDatabaseSource
from osfsck_lab import database
from tests.checks.test_scoped_runs import crossed_volumes
from tests.repairs.conftest import mariadb  # noqa: F401 - the repair tests' server, once a session
from tests.repairs.helpers import T0, VOLUME_TYPE, cinder_db
from tests.support.world import iscsi_connection_info

KINDS = {CinderVolume, CinderAttachment}
SPARE = "5fa7e000-0000-4000-8000-00000000f9d1"


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.integration)])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return cinder_db(f"sqlite:///{tmp_path / 'cinder'}.sqlite")
    return cinder_db(f"{request.getfixturevalue('mariadb').url}c{secrets.token_hex(4)}_cinder")


def stored(url: str, whole: Snapshot) -> None:
    """The world's volumes and attachments as Cinder's rows, and a volume nothing else
    names attached to hv1 written as an FQDN in capitals (a connector's host name as some
    deployments give it: read with hv1, which the checks need not, harmlessly)."""
    volumes = [v._asdict() for v in whole.of(CinderVolume)]
    volumes.append({**volumes[0], "id": SPARE})
    database.insert_rows(
        url,
        "volumes",
        [
            {
                **{k: v[k] for k in ("id", "status", "attach_status", "migration_status", "host", "project_id")},
                **{k: v[k] for k in ("size", "multiattach", "use_quota", "deleted", "updated_at")},
                "created_at": T0,
                "volume_type_id": VOLUME_TYPE,
            }
            for v in volumes
        ],
    )
    atts = [
        {
            **{k: getattr(a, k) for k in ("id", "volume_id", "instance_uuid", "attached_host", "attach_status")},
            "connection_info": iscsi_connection_info(a.iscsi_paths),
            "deleted": a.deleted,
            "updated_at": a.updated_at,
            "created_at": T0,
            "attach_mode": "rw",
        }
        for a in whole.of(CinderAttachment)
    ]
    database.insert_rows(url, "volume_attachment", atts)
    spare = {**atts[0], "id": SPARE, "volume_id": SPARE, "attached_host": "HV1.EXAMPLE.ORG", "instance_uuid": None}
    database.insert_rows(url, "volume_attachment", [{**spare, "connection_info": None}])


def read(url: str, known: Snapshot, scope: RunScope | None) -> Snapshot:
    src = CinderDatabaseSource(CinderSettings(database=Database(url)))
    src.within = scope
    sink = Snapshot(taken_at=T0)
    [status] = src.collect(KINDS, known, sink)
    assert status.status == "ok", status.reason
    return sink


def test_a_cell_reads_what_its_rows_and_hosts_name_row_for_row(url):
    world = crossed_volumes()
    stored(url, world)
    whole = read(url, world, None)
    everything = {k: whole.of(k) for k in KINDS}
    for cell in ("cell1", "cell2"):
        scope = RunScope(cells=(cell,))
        known = world.narrowed(scope)  # what the cell's database and hosts gave the run
        src = CinderDatabaseSource(CinderSettings(database=Database(url)))
        src.within = scope
        assert set(src.requires) == {*KEY_KINDS, *HOST_KEY_KINDS}
        part = read(url, known, scope)
        spec = slice_facts(cell_keys(known.facts, known.coverage, {cell}), everything)
        for kind in KINDS:
            assert set(part.of(kind)) == set(spec[kind]), (cell, kind.kind)  # row for row
            assert 0 < len(spec[kind]) < len(everything[kind]), (cell, kind.kind)
            assert part.coverage[(kind.kind, "cinder")].part == f"cells:{cell}"
        # every attachment of every volume read; hv1's connector in capitals read with hv1
        assert {a.volume_id for a in part.of(CinderAttachment)} <= {v.id for v in part.of(CinderVolume)}
        assert (SPARE in {v.id for v in part.of(CinderVolume)}) == (cell == "cell1")
