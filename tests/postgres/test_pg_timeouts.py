"""A PostgreSQL server that stops answering cannot hold a run: libpq has no read timeout
(MySQL's drivers have one, clients/db.py), so osfsck bounds every wait on the server
itself, and asks libpq for TCP keepalives and tcp_user_timeout against a dead network.
Each case runs its read in a thread and fails if the read is still waiting long after
its timeout."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import threading
import time

import pytest
from sqlalchemy import column, select, text

from osfsck.clients.db import IO_TIMEOUT, DatabaseError, make_engine, stream
from osfsck.config.settings import CinderSettings, Database
from osfsck.model.facts.cinder import CINDER_SCOPE, CinderVolume
from osfsck.model.snapshot import Snapshot
from osfsck.sources.cinder_db import CinderDatabaseSource
from osfsck_lab import database
from tests.faults.proxy import TcpProxy

pytestmark = pytest.mark.integration

SERIES = select(column("n")).select_from(text("generate_series(1, 200000) AS n"))


def bounded(work, within: float):
    """(what `work()` returned or raised, seconds it took); fails if it takes longer than
    `within` (the thread is then left to the fixture that unblocks it)."""
    out: dict = {}

    def run():
        started = time.monotonic()
        try:
            out["value"] = work()
        except Exception as e:  # noqa: BLE001 - the caller asserts on it
            out["error"] = e
        out["took"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(within)
    assert not thread.is_alive(), f"still waiting after {within} s"
    return out.get("error", out.get("value")), out["took"]


def test_the_libpq_settings_against_a_dead_network(postgres_server):
    """Keepalives (found when nothing is in flight) and tcp_user_timeout (when what was
    sent stays unacknowledged), as the connection really has them."""
    engine = make_engine(postgres_server.url + "postgres")
    with engine.connect() as conn:
        got = conn.connection.dbapi_connection.info.get_parameters()
    engine.dispose()
    keepalives = tuple(got[k] for k in ("keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count"))
    assert keepalives == ("1", "30", "10", "3")
    assert got["tcp_user_timeout"] == str(IO_TIMEOUT * 1000) and got["connect_timeout"] == "10"


def test_the_urls_own_libpq_settings_win(postgres_server):
    engine = make_engine(postgres_server.url + "postgres?keepalives_idle=5&tcp_user_timeout=7000")
    with engine.connect() as conn:
        got = conn.connection.dbapi_connection.info.get_parameters()
    engine.dispose()
    assert (got["keepalives_idle"], got["tcp_user_timeout"]) == ("5", "7000")


def test_a_server_that_accepts_and_never_answers():
    """A listener that takes the connection and says nothing: the connect times out."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"postgresql://nova@127.0.0.1:{listener.getsockname()[1]}/nova"
        got, took = bounded(lambda: make_engine(url, connect_timeout=2).connect(), 20)
    assert "timeout" in str(got).lower() and took < 10, (got, took)


@pytest.fixture
def frozen(postgres_server):
    """Processes of the server to freeze with SIGSTOP: thawed and ended after the test."""
    stopped: list[int] = []

    def freeze(pid: int) -> None:
        os.kill(pid, signal.SIGSTOP)
        stopped.append(pid)

    yield freeze
    for pid in stopped:
        os.kill(pid, signal.SIGCONT)


def test_a_frozen_postmaster_refuses_in_bounded_time(postgres_server, frozen):
    """The postmaster stopped (SIGSTOP): the kernel still completes new connections, and
    nobody answers them."""
    frozen(postgres_server.proc.pid)
    got, took = bounded(lambda: make_engine(postgres_server.url + "postgres", connect_timeout=2).connect(), 20)
    assert "timeout" in str(got).lower() and took < 10, (got, took)


def test_a_backend_frozen_mid_stream_fails_the_read(postgres_server, frozen):
    """The server process serving the connection stops (SIGSTOP) while a result streams:
    its host's kernel keeps the connection open and answers keepalives, so only osfsck's
    own read timeout (the URL's read_timeout here, 120 s by default) ends the wait."""
    engine = make_engine(postgres_server.url + "postgres?read_timeout=2")
    conn = engine.connect()
    pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    batches = stream(conn, SERIES, batch=1000)
    assert len(next(batches)) == 1000
    frozen(pid)
    got, took = bounded(lambda: sum(len(b) for b in batches), 30)
    assert isinstance(got, DatabaseError) and "no answer from the server within 2 s (read_timeout)" in str(got)
    assert 2 <= took < 10, took
    conn.close()  # the connection was closed with the timeout: closing again is harmless
    engine.dispose()


def test_a_source_whose_server_goes_silent_is_partial_in_one_line(postgres_server, pg_db):
    """Cinder's database behind a proxy that relays half of what a whole read takes, then
    holds the connection open and passes nothing more: the source is partial, its one line
    says why, and no fact of it is kept."""
    url = pg_db("cinder")
    database.insert_rows(url, "volume_types", [{"id": "vt", "name": "lvm", "deleted": 0, "is_public": 1}])
    row = {"status": "available", "attach_status": "detached", "deleted": 0, "size": 1, "use_quota": 1}
    database.insert_rows(url, "volumes", [{**row, "id": f"v{i:05}", "volume_type_id": "vt"} for i in range(3000)])
    via = lambda port: url.replace(f":{postgres_server.port}/", f":{port}/") + "?read_timeout=2"  # noqa: E731

    def read(proxy_url: str):
        src = CinderDatabaseSource(CinderSettings(database=Database(proxy_url)))
        snap = Snapshot(taken_at=dt.datetime(2026, 3, 1))
        (status,) = src.collect({CinderVolume}, snap, snap)
        return snap, status

    with TcpProxy(("127.0.0.1", postgres_server.port)) as probe:
        snap, status = read(via(probe.port))
        whole = max(probe.relayed)
    assert status.status == "ok" and len(snap.of(CinderVolume)) == 3000
    with TcpProxy(("127.0.0.1", postgres_server.port), cut_after=whole // 2, hold=True) as proxy:
        (snap, status), took = bounded(lambda: read(via(proxy.port)), 30)
    assert proxy.cuts == 1 and status.status == "partial" and snap.of(CinderVolume) == []
    assert status.reason.startswith("Cinder database: ") and "\n" not in status.reason
    assert "no answer from the server within 2 s (read_timeout)" in status.reason and took < 10
    assert not snap.is_complete(CinderVolume, CINDER_SCOPE)
