"""`osfsck serve` end to end on a lab cloud, as an operator runs it: a process of its own
checking every two seconds on a free port, scraped over HTTP.  A fault injected between
two runs (a stale build request written into the API database, as a conductor that died
after creating the instance leaves it) appears in the next scrape: its check's series
goes up and the run-to-run diff calls it new; the HTML report names it.  A round while
the test holds the journal's lock is skipped; a config edited into a mistake fails the
rounds but the last result stays served; SIGTERM ends it with 0.  With --repair-safe the
service repairs the fault (a safe repair, journaled) and nothing unsafe.

Real components: the lab's databases (real schemas), libvirtd per host, BIND,
ovsdb-server, the NSX stand-in, placement-api and RabbitMQ.  The repairing test is last:
it changes the lab."""

from __future__ import annotations

import datetime as dt
import json
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

from osfsck.engine.lock import LockHeld, exclusive
from osfsck_lab.loopback import free_port
from tests.cli.test_serve import get, samples
from tests.support.cli import built_lab, journal, start_osfsck, variant

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NV204 = ("osfsck_findings", (("code", "NV204"), ("name", "stale-build-request"), ("severity", "medium")))
RUNS = "osfsck_serve_runs_total"


@pytest.fixture(scope="module")
def lab():
    with built_lab(19) as out:
        yield out


class Served:
    def __init__(self, proc: subprocess.Popen, port: int) -> None:
        self.proc, self.base = proc, f"http://127.0.0.1:{port}"

    def metrics(self) -> dict:
        return samples(get(self.base + "/metrics")[2].decode())

    def until(self, what: str, ok: Callable[[dict], bool], timeout: float = 180) -> dict:
        """The first scrape for which ok(samples) holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.communicate()
            try:
                got = self.metrics()
            except OSError:  # not listening yet
                got = {}
            try:
                if got and ok(got):
                    return got
            except KeyError:  # no result served yet
                pass
            time.sleep(0.2)
        pytest.fail(f"serve never showed {what}: {got}")

    def runs(self, outcome: str) -> Callable[[dict], float]:
        return lambda got: got[(RUNS, (("outcome", outcome),))]


@contextmanager
def serving(config: Path, *extra: str):
    port = free_port()
    proc = start_osfsck("serve", "--interval", "2s", "--listen", f"127.0.0.1:{port}", *extra, config=config)
    try:
        yield Served(proc, port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def stop(served: Served) -> str:
    served.proc.send_signal(signal.SIGTERM)
    out, err = served.proc.communicate(timeout=60)
    assert served.proc.returncode == 0, err
    assert "Traceback" not in err and "Fatal" not in err
    return err


@contextmanager
def held_lock(journal: Path, timeout: float = 120):
    """The journal's writer lock, taken between two of serve's rounds (it holds it during each)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with exclusive(str(journal), "repair"):
                yield
            return
        except LockHeld:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def stale_build_request(lab: Path) -> str:
    """A build request of an instance that has no mapping, a day old: NV204's finding."""
    new = str(uuid.uuid4())
    day_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    with sqlite3.connect(lab / "db" / "nova_api.sqlite") as db:
        db.execute(
            "INSERT INTO build_requests (created_at, project_id, instance_uuid, instance, block_device_mappings, tags)"
            " SELECT ?, project_id, ?, instance, block_device_mappings, tags FROM build_requests LIMIT 1",
            (day_ago, new),
        )
    return new


def test_serve_shows_a_fault_injected_between_two_runs(lab):
    cfg = variant(lab, "serve.toml", (lab / "osfsck.toml").read_text())
    with serving(cfg) as s:
        first = s.until("a run's result", lambda got: s.runs("ok")(got) >= 1 and NV204 in got)
        assert first[("osfsck_serve_last_run_success", ())] == 1
        assert first[("osfsck_complete", ())] == 1
        planted = first[NV204]
        new = stale_build_request(lab)
        injected_at = time.time()
        after = s.until("the injected fault", lambda got: got[NV204] == planted + 1)
        # the run that first saw it calls it new, unless the scrape came a run later
        doc = json.loads(get(s.base + "/result.json")[2])
        mine = [f for f in doc["findings"] if f["code"] == "NV204" and f["subject"]["id"] == new]
        assert len(mine) == 1 and mine[0]["diff"] in ("new", "persists")
        assert after[("osfsck_findings_new", ())] >= 1 or mine[0]["diff"] == "persists"
        assert after[("osfsck_serve_last_success_timestamp_seconds", ())] > injected_at
        status, headers, page = get(s.base + "/report.html")
        assert status == 200 and headers["Content-Type"].startswith("text/html") and new.encode() in page

        # another osfsck holds the journal's lock (a manual repair): the rounds are skipped
        with held_lock(lab / "osfsck" / "journal.jsonl"):
            skipped = s.until("a skipped round", lambda got: s.runs("skipped")(got) >= 1)
        assert skipped[NV204] == planted + 1  # the last result stays served

        # the config edited into a mistake: the runs fail, the last result stays served
        cfg.write_text(cfg.read_text() + "\n[bogus]\nkey = 1\n")
        failed = s.until("a failed run", lambda got: s.runs("failed")(got) >= 1)
        assert failed[("osfsck_serve_last_run_success", ())] == 0 and failed[NV204] == planted + 1
        good = failed[("osfsck_serve_last_success_timestamp_seconds", ())]
        assert 0 < good < failed[("osfsck_serve_last_run_timestamp_seconds", ())]
        health = json.loads(get(s.base + "/healthz")[2])
        assert health["outcome"] == "failed" and "bogus" in health["error"]
        cfg.write_text((lab / "osfsck.toml").read_text())
        s.until("a good run again", lambda got: got[("osfsck_serve_last_success_timestamp_seconds", ())] > good)
        err = stop(s)
    assert "run failed: " in err and "bogus" in err and "run skipped: another osfsck" in err
    assert not journal(lab)  # it never repairs unless told to


def test_serve_repair_safe_repairs_only_what_is_safe(lab):
    new = stale_build_request(lab)
    with serving(lab / "osfsck.toml", "--repair-safe") as s:
        got = s.until(
            "the injected fault repaired", lambda got: got[("osfsck_repairs", (("outcome", "applied"),))] >= 1
        )
        assert got[("osfsck_serve_repairs_enabled", ())] == 1
        s.until("the repair settled", lambda got: got[("osfsck_findings_fixed", ())] >= 1 or got[NV204] == 0)
        stop(s)
    records = journal(lab)
    intents = {r["id"]: r for r in records if r["status"] == "intent"}
    applied = {r["id"] for r in records if r["status"] == "applied"}
    assert new in {intents[i]["target"]["id"] for i in applied}
    assert {r["safety"] for r in intents.values()} == {"safe"}  # nothing unsafe, ever
    with sqlite3.connect(lab / "db" / "nova_api.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM build_requests WHERE instance_uuid = ?", (new,)).fetchone() == (0,)
