"""The safety promise as an operator meets it (issue 15), on one lab cloud, osfsck run as
a separate process: grace protects findings without a change time, a selected check
reads every host it needs, an incomplete run says so first, a runbook says why, undo
asks as repair does, one writer at a time, and check writes nothing but its own state.

Real components: the lab's databases (real schemas), one libvirtd per host, BIND,
ovsdb-server, the NSX stand-in, placement-api and RabbitMQ.  The tests run in file order:
those that repair come last.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import stat
from collections import Counter
from pathlib import Path

import pytest

from tests.support.cli import built_lab, found, journal, osfsck, start_osfsck, truth, variant

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def lab():
    with built_lab(5) as out:
        yield out


def config(lab: Path) -> Path:
    return lab / "osfsck.toml"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def databases(lab: Path) -> dict[str, str]:
    """A digest of every row of every lab database, but the services' heartbeats (the
    lab's stand-in for the live services refreshes them every few seconds)."""
    digests = {}
    for path in sorted((lab / "db").glob("*.sqlite")):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        h = hashlib.sha256()
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            if table != "services":
                h.update(repr(sorted(map(repr, conn.execute(f'SELECT * FROM "{table}"')))).encode())
        conn.close()
        digests[path.name] = h.hexdigest()
    return digests


def test_check_writes_nothing_but_its_own_private_state(lab, tmp_path):
    before = databases(lab)
    p = osfsck("check", "--format", "json", config=config(lab))
    assert p.returncode == 4, p.stderr
    assert found(p) == truth(lab)
    assert databases(lab) == before
    own = lab / "osfsck"
    assert mode(own) == 0o700 and mode(own / "state.json") == 0o600
    assert not (own / "journal.jsonl").exists()
    snap = tmp_path / "snap.json.gz"
    assert osfsck("collect", "-o", str(snap), config=config(lab)).returncode == 0
    assert mode(snap) == 0o600


def test_grace_holds_back_what_carries_no_change_time(lab):
    """Issue 15 #1: with grace = "3650d", repair --unsafe still undefined an unknown domain,
    deleted an OVN row, DNS records and an RPC queue and logged out an iSCSI session."""
    cfg = variant(lab, "grace.toml", config(lab).read_text().replace('grace = "30m"', 'grace = "3650d"'))
    before = databases(lab)
    p = osfsck("repair", "--unsafe", "--yes", "--format", "json", config=cfg)
    assert p.returncode == 4, p.stdout[-2000:] + p.stderr
    assert journal(lab) == [] and databases(lab) == before
    repairs = json.loads(p.stdout)["repairs"]
    assert not [r for r in repairs if r["outcome"] == "applied"]
    held = {r["code"] for r in repairs if r["outcome"] == "skipped" and r["reason"].startswith("first seen")}
    assert {"HV102", "OV101", "DN101", "MQ102", "VL203"} <= held, held
    assert all(
        "repairable in" in r["reason"] and r["repairable_at"]
        for r in repairs
        if r["outcome"] == "skipped" and r["reason"].startswith(("first seen", "changed"))
    )


def _without_host_sections(lab: Path, **hypervisors: str) -> str:
    """The lab's config with its hosts given by a URI template alone (as most clouds do)."""
    original = config(lab).read_text()
    # each host's libvirtd socket at a path that names the host (the lab's own may not)
    sockets = lab / "sockets"
    sockets.mkdir(exist_ok=True)
    for host, uri in re.findall(r'\[hypervisors\.hosts\."([^"]+)"\]\nuri = "[^"]+socket=([^"]+)"', original):
        if not (sockets / host).exists():
            (sockets / host).symlink_to(uri)
    text = re.sub(r'\n\[hypervisors\.hosts\."[^"]+"\]\n(?:[^\[\n][^\n]*\n)*', "\n", original)
    extra = "".join(f"{k} = {v}\n" for k, v in hypervisors.items())
    template = f'uri_template = "qemu+unix:///session?socket={sockets}/{{host}}"\n'
    return text.replace("[hypervisors]\n", "[hypervisors]\n" + template + extra)


def test_a_selected_check_reads_every_host_it_needs(lab):
    """Issue 15 #4: `check --select HV101` with a uri_template and no per-host sections
    examined 0 objects and called the cloud consistent."""
    cfg = variant(lab, "template.toml", _without_host_sections(lab))
    assert "[hypervisors.hosts." not in cfg.read_text()
    p = osfsck("check", "--select", "HV101", "--format", "json", config=cfg)
    assert p.returncode == 4, p.stdout[-2000:] + p.stderr
    assert found(p) == {t for t in truth(lab) if t[0] == "HV101"}
    assert json.loads(p.stdout)["checks"][0]["examined"] > 0


def test_no_host_to_read_is_undecided_not_consistent(lab):
    cfg = variant(lab, "nohost.toml", _without_host_sections(lab, hypervisor_types='["xen"]'))
    p = osfsck("check", "--select", "HV101,NV101", config=cfg)
    assert p.returncode == 8, p.stdout + p.stderr
    assert p.stdout.startswith("INCOMPLETE:") and "No inconsistencies found in what could be read." in p.stdout
    assert "HV101, NV101 could not decide *: libvirt found nothing to read (no compute host" in p.stdout


def _one_host_unreachable(lab: Path) -> Path:
    text = re.sub(
        r'(\[hypervisors\.hosts\."c1-hv001"\]\nuri = ")[^"]+"',
        r'\1qemu+unix:///session?socket=/nonexistent/sock"',
        config(lab).read_text(),
    )
    assert "/nonexistent/sock" in text
    return variant(lab, "unreachable.toml", text)


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "prometheus"])
def test_an_incomplete_run_says_so_first_in_every_format(lab, fmt):
    """Issue 15 #10: a failed source exited 8 but the report led with "No inconsistencies
    found" and stderr was silent."""
    p = osfsck("check", "--select", "HV101,NV101", "--format", fmt, config=_one_host_unreachable(lab))
    assert p.returncode == 4 | 8, p.stdout[-2000:] + p.stderr
    assert p.stderr.startswith("osfsck: libvirt host:c1-hv001: partial: ") and p.stderr.count("\n") == 1
    if fmt == "table":
        assert p.stdout.startswith("INCOMPLETE: 1 source scope(s) not read completely, ")
        assert re.search(r"(HV101, )?NV101 could not decide host:c1-hv001", p.stdout), p.stdout
    elif fmt == "json":
        d = json.loads(p.stdout)
        assert d["complete"] is False and d["incomplete"][0]["what"] == "libvirt host:c1-hv001"
    elif fmt == "jsonl":
        first = json.loads(p.stdout.splitlines()[0])
        assert first["type"] == "incomplete" and first["what"] == "libvirt host:c1-hv001"
        assert json.loads(p.stdout.splitlines()[-1])["complete"] is False
    else:
        assert re.search(r"\nosfsck_complete 0(\.0)?\n", p.stdout), p.stdout  # prometheus_client writes 0.0


def test_a_runbook_says_why_the_repair_before_it_could_not_run(lab):
    """Issue 15 #15: the lab has no Neutron API, so orphan ports get their runbook; the
    reason was dropped."""
    p = osfsck("check", "--select", "NT101", "--format", "json", config=config(lab))
    repairs = json.loads(p.stdout)["repairs"]
    assert repairs and all(r["outcome"] == "manual" for r in repairs)
    assert all(r["fallback"].startswith("delete-port: [neutron] has no Networking API settings") for r in repairs)
    assert all("no automatic repair here: delete-port: [neutron] has no Networking API" in r["reason"] for r in repairs)
    table = osfsck("check", "--select", "NT101", config=config(lab)).stdout
    assert "(not automatic here: delete-port: [neutron] has no Networking API settings" in table


def test_undo_asks_as_repair_does(lab):
    """Issue 15 #14: `undo --all` reverted everything without asking, and `--yes` was
    rejected as an unknown argument."""
    p = osfsck("repair", "--yes", "--grace", "0", "--select", "QU", "--format", "json", config=config(lab))
    assert p.returncode & 1, p.stdout[-2000:] + p.stderr
    applied = [r for r in journal(lab) if r["status"] == "applied"]
    assert applied
    refused = osfsck("undo", "--all", config=config(lab))
    assert refused.returncode == 16 and "refusing to undo unattended" in refused.stderr
    assert osfsck("undo", "--all", "--interactive", config=config(lab)).returncode == 16
    assert not [r for r in journal(lab) if r["status"] == "undone"]
    done = osfsck("undo", "--all", "--yes", config=config(lab))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"{len(applied)} repair(s) to undo, newest first:")
    assert Counter(r["id"] for r in journal(lab) if r["status"] == "undone") == Counter(r["id"] for r in applied)


def test_one_writer_at_a_time(lab):
    """Issue 15 #3: two repairs at once journaled one iSCSI login twice; two `undo --all`
    at once republished every saved RPC message twice."""
    from osfsck.engine.lock import exclusive

    path = str(lab / "osfsck" / "journal.jsonl")
    with exclusive(path, "repair-unsafe"):
        for argv in (("repair", "--yes"), ("undo", "--all", "--yes"), ("purge-quarantine", "--yes")):
            p = osfsck(*argv, config=config(lab))
            assert p.returncode == 8 and p.stderr.count("\n") == 1, (argv, p.stderr)
            assert f"another osfsck is writing through {path}: pid {os.getpid()}" in p.stderr
        assert osfsck("check", "--select", "VL204", config=config(lab)).returncode == 4  # check needs no lock
    runs = [
        start_osfsck("repair", "--unsafe", "--yes", "--grace", "0", "--select", "VL204", config=config(lab))
        for _ in range(2)
    ]
    codes = sorted(r.wait(600) for r in runs)
    assert codes[0] == 1 and codes[1] in (0, 1, 8), codes
    intents = Counter(r["fingerprint"] for r in journal(lab) if r["status"] == "intent" and r["code"] == "VL204")
    assert intents and set(intents.values()) == {1}, intents
    undos = [start_osfsck("undo", "--all", "--yes", config=config(lab)) for _ in range(2)]
    assert sorted(u.wait(600) for u in undos)[0] == 0
    undone = Counter(r["id"] for r in journal(lab) if r["status"] == "undone")
    assert set(undone.values()) == {1}, undone
