"""Faults while repairs are applied: placement-api killed at its first write (before the
write reaches it, and after, with its answer lost), a journal on a full disk (nothing
written, or a record cut off half-way), and writers running at once (two repairs and a
check, then an undo racing a repair)."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from osfsck_lab import services
from tests.faults import labstate
from tests.faults.conftest import after_the_scan, exit_for, judge
from tests.faults.proxy import HttpProxy
from tests.support.cli import journal, osfsck, start_osfsck

pytestmark = pytest.mark.integration

REPAIR = ("repair", "--unsafe", "--yes", "--grace", "0", "--format", "json")


# -- placement-api killed during a repair ------------------------------------------------


def _kill(entry: dict) -> None:
    pid = int(open(entry["pidfile"]).read().split()[0])
    os.kill(pid, signal.SIGKILL)
    while os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] != "Z":
        time.sleep(0.05)


def _through_a_dying_placement(lab, scenario, select: str, after_write: bool):
    """A repair whose Placement API requests pass a proxy that kills placement-api at the
    first write: before forwarding it, or after (its answer lost).  placement-api is
    started again afterwards."""
    entry = lab.info["services"]["placement"]

    def die(method, path, forward):
        if after_write:
            forward()
        _kill(entry)
        return None  # the connection drops, nothing answered

    proxy = HttpProxy(f"http://127.0.0.1:{entry['port']}", around_write=die)
    cfg = lab.variant("placement-killed.toml", (r'endpoint = "http://127\.0\.0\.1:\d+"', f'endpoint = "{proxy.url}"'))
    try:
        with proxy:
            return scenario(*REPAIR, "--select", select, config=cfg)
    finally:
        services.start(entry, lab.path)


def test_placement_api_killed_before_the_first_write_reaches_it(lab, scenario):
    """The Placement API dies as osfsck sends its first write: that repair and every later
    one fails, and Placement's database is as it was.  On the wire this is the same as a
    write made and its answer lost (the request went, no answer came, nothing can be
    re-read), so the first is journaled "uncertain", the later ones (refused at the
    connection) "failed"."""
    run = _through_a_dying_placement(lab, scenario, "PL", after_write=False)
    judge(lab, run, exit_code=exit_for(run))
    outcomes = [r["status"] for r in run.records if r["status"] != "intent"]
    assert not run.applied and outcomes[:1] == ["uncertain"] and set(outcomes[1:]) <= {"failed"}, run.records
    assert not run.changes


def test_placement_api_killed_after_the_first_write(lab, scenario):
    """The Placement API makes osfsck's first write (an instance's missing allocation),
    then dies before answering.  The change is in Placement: the journal must not say that
    nothing was done, but that it may have been ("uncertain"), naming the entry whose
    before-image the operator checks it against."""
    run = _through_a_dying_placement(lab, scenario, "PL102", after_write=True)
    try:
        assert run.changes, "the scenario did not happen: no write reached Placement"
        judge(lab, run, exit_code=exit_for(run))
        uncertain = [r for r in run.records if r["status"] == "uncertain"]
        assert uncertain and f"entry {uncertain[0]['id']}" in run.proc.stdout, run.records
    finally:
        for intent in (
            r for r in run.records if r["status"] == "intent" and r["id"] not in {i["id"] for i in run.applied}
        ):
            _put_back_allocations(lab.info["services"]["placement"], intent)


def _put_back_allocations(entry: dict, intent: dict) -> None:
    """The consumer's allocations as the intent's before-image has them (undo cannot remove
    a consumer whose generation after the write it never learned)."""
    consumer, before = intent["params"]["consumer"], intent["before"]
    owner = before.get("instance") or before
    headers = {"OpenStack-API-Version": "placement 1.38", "X-Auth-Token": "admin"}
    with httpx.Client(base_url=f"http://127.0.0.1:{entry['port']}", headers=headers, timeout=30) as http:
        now = http.get(f"/allocations/{consumer}").json()
        http.put(
            f"/allocations/{consumer}",
            json={
                "allocations": {rp: {"resources": a["resources"]} for rp, a in before["allocations"].items()},
                "consumer_generation": now.get("consumer_generation"),
                "project_id": owner["project_id"],
                "user_id": owner["user_id"],
                "consumer_type": "INSTANCE",
            },
        ).raise_for_status()


# -- the journal's disk is full ------------------------------------------------------------


@contextmanager
def a_small_filesystem(folder: Path):
    """A 1 MiB tmpfs mounted on `folder` for the duration (these tests run as root, as the
    lab does); `fill()` then takes every byte left on it."""
    folder.mkdir(exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(folder)], capture_output=True, text=True
    )
    assert mounted.returncode == 0, f"cannot mount a tmpfs (the suite runs as root): {mounted.stderr}"

    def fill() -> None:
        fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:  # ENOSPC: full
            pass
        finally:
            os.close(fd)

    try:
        yield fill
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_journal_on_a_full_disk(lab, scenario):
    """The journal's filesystem fills up just as the repairs begin (ENOSPC on every
    write): no repair is applied, since none can have its intent journaled first; one
    line names the journal."""
    folder = lab.path / "faults-full"
    cfg = lab.variant(
        "journal-full.toml",
        (r'journal = "[^"]+"', 'journal = "faults-full/journal.jsonl"\nstate_file = "osfsck/state.json"'),
    )

    def fill_it():
        fill()
        return lambda: None

    with a_small_filesystem(folder) as fill:
        run = scenario(*REPAIR, "--select", "QU,NV102,MQ102", config=cfg, inject=after_the_scan(lab, fill_it))
        judge(lab, run, exit_code=8)
        assert (
            run.proc.stderr == f"osfsck: cannot write the journal {folder / 'journal.jsonl'}: No space left on device\n"
        )
        assert (folder / "journal.jsonl").read_bytes() == b""
    assert not run.changes


def _fsize(limit: int):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _repair_limited(cfg, limit: int, *args: str) -> subprocess.CompletedProcess:
    """osfsck repair with every file it writes limited to `limit` bytes (RLIMIT_FSIZE: a
    write past it fails with EFBIG, as a full disk's would with ENOSPC)."""
    argv = [sys.executable, "-m", "osfsck.cli.main", "-c", str(cfg), "repair", "--yes", "--grace", "0", *args]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL, preexec_fn=_fsize(limit)
    )


def _own_journal(lab, name: str):
    folder = lab.path / name
    folder.mkdir(exist_ok=True)
    for f in folder.iterdir():
        f.unlink()
    cfg = lab.variant(
        f"{name}.toml", (r'journal = "[^"]+"', f'journal = "{name}/journal.jsonl"\nstate_file = "{name}/state.json"')
    )
    return folder / "journal.jsonl", cfg


def test_journal_record_cut_off_by_a_full_disk(lab):
    """The disk fills in the middle of an intent record: nothing is applied, and the cut
    record does not stay behind to make the journal unreadable for `journal` and `undo`."""
    path, cfg = _own_journal(lab, "faults-torn")
    before = labstate.capture(lab.path)
    p = _repair_limited(cfg, 1200, "--unsafe", "--select", "MQ102")
    assert labstate.changes(before, labstate.capture(lab.path)) == {}
    assert p.returncode == 8 and p.stderr == f"osfsck: cannot write the journal {path}: File too large\n", p.stderr
    listing = osfsck("journal", config=cfg)
    assert listing.returncode == 0 and listing.stdout == "The journal is empty.\n", listing.stdout + listing.stderr


def test_journal_outcome_cut_off_by_a_full_disk(lab):
    """The disk fills after a repair's intent was journaled and the repair applied: the
    run stops there, and says on stderr that the repair WAS applied, so that no operator
    reads the journal's lone intent as "not done"."""
    path, cfg = _own_journal(lab, "faults-outcome")
    # the same repair once without limit, to learn the size of its intent record
    first = osfsck("repair", "--yes", "--grace", "0", "--select", "MQ102", config=cfg)
    assert first.returncode & 1, first.stdout + first.stderr
    records = [json.loads(line) for line in path.read_text().splitlines()]
    intent = next(r for r in records if r["status"] == "intent")
    assert osfsck("undo", intent["id"], "--yes", config=cfg).returncode == 0
    size = path.stat().st_size
    before = labstate.capture(lab.path)
    p = _repair_limited(cfg, size + len(json.dumps(intent, sort_keys=True, default=str)) + 40, "--select", "MQ102")
    try:
        changed = labstate.changes(before, labstate.capture(lab.path))
        assert p.returncode == 8, p.stdout + p.stderr
        lines = p.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"osfsck: cannot write the journal {path}: File too large")
        last = json.loads(path.read_text().splitlines()[-1])
        assert last["status"] == "intent" and last["code"] == "MQ102"
        assert f"{last['repair']} was applied" in lines[0] and last["id"] in lines[0], lines[0]
        assert changed and all(v & labstate.journal_names([last]) for v in changed.values()), changed
        assert osfsck("journal", config=cfg).returncode == 0
    finally:
        _declare_again(lab, intent)  # the same queue, as it was before either run


def _declare_again(lab, intent: dict) -> None:
    """Put back a queue the test made osfsck delete, from its journaled before-image (the
    journal has no outcome for it, so `osfsck undo` does not offer it)."""
    before = intent["before"]
    rabbit = lab.path / "rabbitmq"
    url = re.search(r'\[rabbitmq\]\nurl = "([^"]+)"', lab.config.read_text()).group(1)
    auth = ("osfsck", (rabbit / "password").read_text().strip())
    vhost, name = quote(before["vhost"], safe=""), quote(before["name"], safe="")
    with httpx.Client(base_url=url, auth=auth, timeout=30) as http:
        if http.get(f"/api/queues/{vhost}/{name}").status_code == 404:
            http.put(
                f"/api/queues/{vhost}/{name}",
                json={
                    "durable": before["durable"],
                    "auto_delete": before["auto_delete"],
                    "arguments": before["arguments"],
                },
            ).raise_for_status()
            for b in before["bindings"]:
                http.post(
                    f"/api/bindings/{vhost}/e/{quote(b['source'], safe='')}/q/{name}",
                    json={"routing_key": b["routing_key"], "arguments": b["arguments"]},
                ).raise_for_status()


# -- writers at once ------------------------------------------------------------------------


@pytest.mark.slow
def test_two_repairs_and_a_check_at_once_then_an_undo_racing_a_repair(lab):
    """Two whole-cloud repairs and a check start together: one repair holds the journal's
    lock, the other waits for nothing and says who holds it; the check needs no lock and
    writes nothing.  Then an undo and a repair start together.  Every repair is journaled
    once, undone once, and every change in the cloud has its journal record."""
    before = labstate.capture(lab.path)
    start = len(journal(lab.path))
    procs = [
        start_osfsck(*REPAIR, config=lab.config),
        start_osfsck(*REPAIR, config=lab.config),
        start_osfsck("check", "--format", "json", config=lab.config),
    ]
    outs = [_finish(p) for p in procs]
    repairs, check = outs[:2], outs[2]
    # what the check reads changes under it: it may find a scope it cannot decide (a domain
    # gone between its listing and its reading), never a source it cannot read
    assert check[0] in (4, 4 | 8) and not check[2], (check[2], json.loads(check[1])["incomplete"])
    assert sorted(code & 1 for code, _, _ in repairs) in ([0, 1], [1, 1]), [(c, e) for c, _, e in repairs]
    for code, _, err in repairs:
        assert "Traceback" not in err
        if not code & 1:
            assert code == 8 and err.startswith("osfsck: another osfsck is writing through "), err
    records = journal(lab.path)[start:]
    intents = Counter(r["fingerprint"] for r in records if r["status"] == "intent")
    assert intents and set(intents.values()) == {1}, intents
    applied = {r["id"] for r in records if r["status"] == "applied"}
    names = labstate.journal_names([r for r in records if r["id"] in applied])
    changed = labstate.changes(before, labstate.capture(lab.path))
    assert changed and not {k for k, v in changed.items() if not v & names}

    both = [
        _finish(p)
        for p in (start_osfsck("undo", "--all", "--yes", config=lab.config), start_osfsck(*REPAIR, config=lab.config))
    ]
    codes, errs = [code for code, _, _ in both], [err for _, _, err in both]
    assert all("Traceback" not in e for e in errs), errs
    assert codes[0] in (0, 8) and codes[1] & ~(1 | 4 | 8) == 0, (codes, errs)
    # whatever ran last, undo what is still applied, once
    assert osfsck("undo", "--all", "--yes", config=lab.config).returncode == 0
    records = journal(lab.path)[start:]
    undone = Counter(r["id"] for r in records if r["status"] == "undone")
    applied = {r["id"] for r in records if r["status"] == "applied"}
    assert set(undone) == applied and set(undone.values()) == {1}, (undone, applied)
    intents = Counter(r["fingerprint"] for r in records if r["status"] == "intent")
    assert max(intents.values()) <= 2, intents  # once per repair run that applied it


def _finish(p: subprocess.Popen) -> tuple[int, str, str]:
    """Its exit code and output, read while it runs (a full pipe would stop it)."""
    out, err = p.communicate(timeout=900)
    return p.returncode, out, err
