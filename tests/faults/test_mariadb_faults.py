"""Faults of a real MariaDB server under a lab cloud built on it (`lab build --db-url`,
cells with Nova's templated URLs): a cell's connection cut in the middle of a streamed
result, and the whole server stopped."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from osfsck_lab.mariadb import MariaDB
from tests.faults.conftest import Lab, exit_for, judge, run_under_fault, undo_applied
from tests.faults.proxy import TcpProxy
from tests.support.cli import built_lab, found, osfsck, truth

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = 16
REPAIR = ("repair", "--unsafe", "--yes", "--grace", "0", "--format", "json")


@pytest.fixture(scope="module")
def mariadb():
    base = Path(tempfile.mkdtemp(prefix="osfsck-test-"))
    base.chmod(0o755)
    db = MariaDB(base / "mariadb", ("--innodb-buffer-pool-size=64M",))
    try:
        yield db
    finally:
        db.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def mlab(mariadb):
    with built_lab(SEED, "--db-url", mariadb.url) as out:
        p = osfsck("check", "--format", "json", config=out / "osfsck.toml")
        assert p.returncode == 4 and found(p) == truth(out), p.stderr
        yield Lab(out, json.loads(p.stdout), truth(out))


def databases(mariadb) -> dict[str, str]:
    """The lab's databases on the server, for the lab's state before and after."""
    engine = create_engine(mariadb.url)
    with engine.connect() as conn:
        names = [n for (n,) in conn.execute(text(f"SHOW DATABASES LIKE 'lab{SEED}\\_%'"))]
    engine.dispose()
    return {n: make_url(mariadb.url).set(database=n).render_as_string(hide_password=False) for n in names}


def cell_url(cell: str, port: int) -> str:
    return f"mysql://root@127.0.0.1:{port}/lab{SEED}_nova_{cell}"


@pytest.fixture(scope="module")
def cell1_read(mlab, mariadb) -> int:
    """How many bytes the server sends on the connection that reads cell1 whole."""
    with TcpProxy(("127.0.0.1", mariadb.port)) as probe:
        cfg = mlab.variant(
            "cell-probe.toml", append=f'\n[nova.cells.cell1]\ndatabase = "{cell_url("cell1", probe.port)}"\n'
        )
        assert osfsck("check", "--select", "NV10", config=cfg).returncode == 4
        return max(probe.relayed)


def test_a_cell_connection_cut_mid_stream(mlab, mariadb, cell1_read):
    """cell1's connection breaks half-way through its rows (a proxy relays the server's
    answer and cuts it after half of what a whole read takes): cell1 is partial, nothing
    of it is repaired, cell2's faults are."""
    proxy = TcpProxy(("127.0.0.1", mariadb.port), cut_after=cell1_read // 2)
    cfg = mlab.variant("cell-cut.toml", append=f'\n[nova.cells.cell1]\ndatabase = "{cell_url("cell1", proxy.port)}"\n')
    engine = create_engine(databases(mariadb)[f"lab{SEED}_nova_cell1"])
    with engine.connect() as conn:
        cell1 = {u for (u,) in conn.execute(text("SELECT uuid FROM instances UNION SELECT uuid FROM shadow_instances"))}
    engine.dispose()
    with proxy:
        run = run_under_fault(mlab, *REPAIR, "--select", "NV,HV10,VL1", config=cfg, db_urls=databases(mariadb))
    try:
        assert proxy.cuts >= 1
        judge(
            mlab,
            run,
            exit_code=exit_for(run),
            # cut inside a result (2013) or between two statements (2006), as the bytes fall
            failed={"nova-db cell:cell1": ("Lost connection", "gone away")},
            protected={"cell:cell1"},
            concerning=cell1,
        )
        assert {i["target"]["scope"] for i in run.applied} & {"cell:cell2"}, "cell2's faults are repaired"
    finally:
        undo_applied(mlab, run)


def test_a_cell_connection_that_goes_silent_mid_stream(mlab, mariadb, cell1_read):
    """cell1's server stops sending half-way through its rows and never closes the
    connection: cell1 must become partial in bounded time, its socket read timing out
    (clients/db.py: 120 s by default, 5 s here through the URL)."""
    proxy = TcpProxy(("127.0.0.1", mariadb.port), cut_after=cell1_read // 2, hold=True)
    url = cell_url("cell1", proxy.port) + "?read_timeout=5"
    cfg = mlab.variant("cell-silent.toml", append=f'\n[nova.cells.cell1]\ndatabase = "{url}"\n')
    with proxy:
        p = osfsck("check", "--select", "NV10", "--format", "json", config=cfg, timeout=60)
    assert p.returncode & 8 and "nova-db cell:cell1: partial" in p.stderr, p.stderr


def test_the_database_server_stops(mlab, mariadb):
    """Every database of the cloud is on the one server, and it is gone: nothing is read,
    nothing repaired, and no check calls anything consistent.  (Last: the server stays down.)"""
    mariadb.stop()
    run = run_under_fault(mlab, *REPAIR, "--select", "NV,VL1,QU,PL,NT", db_urls={})  # no row can be read now
    judge(
        mlab,
        run,
        exit_code=exit_for(run),
        failed={
            "nova-db api": "Can't connect",
            "cinder-db cinder": "Can't connect",
            "neutron-db neutron": "Can't connect",
            "placement-db placement": "Can't connect",
        },
    )
    assert not run.applied
