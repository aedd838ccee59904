#!/usr/bin/env python3
"""The benchmark: osfsck on a large lab cloud, on MariaDB, with ratios measured in one run.

    .venv/bin/python tools/bench.py                     # L profile, private MariaDB
    .venv/bin/python tools/bench.py --profile M --rounds 5
    .venv/bin/python tools/bench.py --profile XL --rounds 1 --out DIR   # ~10x L: hours, ~40 GB
    .venv/bin/python tools/bench.py --reuse DIR --db-url mysql://root@127.0.0.1:PORT/

What it prints (figures, not pass/fail; the targets are from the issue):

  * database side: the time osfsck takes to collect the Nova databases (API + every cell)
    and every service database configured (Cinder, Neutron, ...), and run the checks that need only them, over the time merely to stream the same
    SELECTs with the same driver through a raw DB-API server-side cursor, rows discarded.
    Both are measured in this process, alternately, `--rounds` times; medians are used.
    Target: ratio <= 1.5.  The time of all checks on the full snapshot (hypervisors too)
    is shown beside it.
  * every source alone: the time each configured source (the databases, DNS by AXFR from
    BIND, OVN's northbound ovsdb-server, the NSX stand-in, RabbitMQ, the hypervisors)
    takes to read all it provides, by itself; the slowest of them is the floor of a run
    whose sources run concurrently.
  * hypervisors: hosts read per second at the configured concurrency, for libvirt
    (the lab's test-driver files: this measures osfsck, not a network), for the
    instance-folder agent (a local `python3` per host: process start-up, no ssh) and for
    the iSCSI sessions (the same agent running the lab's `iscsiadm` stand-in).
  * the whole run as an operator runs it: `osfsck check` in a separate process, its wall
    time over the slowest source alone (target <= 1.3), its peak RSS (target <= 1.5 GB at
    L, 6 GB at XL), and whether its findings are exactly the faults in truth.json and the
    near misses ripened by the run's snapshot time (truth.json's "ripening": a port
    seconds old has no OVN row, a finding 10 min later).  It runs first, the lab as young
    as it can be, so that the fewest near misses have ripened.

The private MariaDB gets a 2 GB buffer pool so the data is in memory: the figures are
osfsck's CPU, not this machine's disk.  Needs: `scripts/setup` (MariaDB, mysqlclient).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from osfsck.clients.db import make_engine, stream
from osfsck.config.load import load_settings
from osfsck.engine import wiring
from osfsck.engine.collect import collect, cyclic_gc_paused
from osfsck.engine.run import evaluate
from osfsck.model.result import RunResult
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import NotConfigured, utcnow
from osfsck.sources.hostfs.source import HostFolderSource
from osfsck.sources.iscsi.source import IscsiSource
from osfsck.sources.libvirt.source import LibvirtSource
from osfsck.sources.nova_db import NovaDatabaseSource, queries
from osfsck.sources.nova_db.cell_urls import resolve_cell_url
from osfsck.sources.nova_db.source import read_cells
from osfsck.sources.ovn_nb.source import COLUMNS, SCHEMA
from osfsck.sources.service_db import ServiceDatabaseSource
from osfsck_lab import truth as lab_truth
from osfsck_lab.mariadb import MariaDB

PARTS = ("whole", "database", "sources", "hosts", "cell")
SERVER_OPTIONS = ("--innodb-buffer-pool-size=2G", "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="L", choices=["M", "L", "XL"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db-url", help="a MariaDB server to use (default: start a private one)")
    ap.add_argument("--reuse", type=Path, help="a lab folder already built by `osfsck lab build` on --db-url")
    ap.add_argument("--out", type=Path, help="where to build the lab (default: a temporary folder)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, help="hypervisor concurrency (default: the lab's config)")
    ap.add_argument(
        "--agent-python",
        default=real_python(),
        help="the interpreter the host agent runs with (default: this Python's own binary, not a wrapper)",
    )
    ap.add_argument("--database-only", action="store_true", help="measure only the database side")
    ap.add_argument(
        "--no-whole-run", action="store_true", help="leave out the whole run (one already measured on --reuse's lab)"
    )
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="which parts of the full mode to run, comma-separated (default: all): "
        + ", ".join(PARTS)
        + " (at XL every host source alone takes ~10 min: `--parts whole,database,cell` measures the rest)",
    )
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    if parts - set(PARTS):
        ap.error(f"--parts: unknown {', '.join(sorted(parts - set(PARTS)))} (known: {', '.join(PARTS)})")
    if args.database_only:
        parts = {"database"}
    if args.no_whole_run:
        parts.discard("whole")
    if args.reuse and not args.db_url:
        ap.error("--reuse needs the --db-url the lab was built on")

    server = None
    figures: dict = {"profile": args.profile, "seed": args.seed}
    try:
        if args.db_url:
            db_url = args.db_url
        else:
            server = MariaDB(Path(tempfile.mkdtemp(prefix="osfsck-bench-db-")), SERVER_OPTIONS)
            db_url = server.url
            figures["mariadb"] = server.version
        lab = args.reuse or args.out or Path(tempfile.mkdtemp(prefix="osfsck-bench-lab-"))
        if not args.reuse:
            info = build_lab(lab, args.profile, args.seed, db_url, figures)
            say(
                f"built the {args.profile} lab in {figures['build_s']:.0f} s (builder's peak RSS "
                f"{figures['build_peak_rss_mb'] / 1024:.2f} GB): {info['hosts']} hypervisors, "
                f"{info['instances']:,} instance rows (+{info['archived']:,} archived), {info['faults']} faults"
            )
        config = bench_config(lab, args.agent_python, args.concurrency)
        figures["agent_python"] = args.agent_python
        say(f"host agents run with {args.agent_python}")
        os.chdir(lab)  # the lab's config names its files relative to the lab
        settings = load_settings(str(config))
        if "whole" in parts:
            whole_run(lab, config, figures)
        if "database" in parts:
            database_side(settings, args.rounds, figures)
        if "sources" in parts:
            sources_alone(settings, figures)
            run_over_slowest(figures)
        if "hosts" in parts:
            hypervisor_side(settings, figures)
        if "cell" in parts:
            one_cell_run(lab, config, figures)
    finally:
        if server is not None:
            server.stop()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0


def build_lab(lab: Path, profile: str, seed: int, db_url: str, figures: dict) -> dict:
    """`lab build` in a process of its own, so that none of the builder's memory (GBs at XL)
    is this process's when it measures; its wall time and peak RSS are figures."""
    lab.mkdir(parents=True, exist_ok=True)
    info = lab / "bench-build.json"
    code = (
        "import json, sys; from pathlib import Path; from osfsck_lab import build; "
        "a = sys.argv[1:]; Path(a[4]).write_text(json.dumps(build.build(Path(a[0]), a[1], int(a[2]), a[3])))"
    )
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, str(lab), profile, str(seed), db_url, str(info)])
    _, status, usage = os.wait4(proc.pid, 0)
    figures.update(build_s=time.perf_counter() - t, build_peak_rss_mb=usage.ru_maxrss / 1024)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: the {profile} lab's build failed (exit {os.waitstatus_to_exitcode(status)})")
    return json.loads(info.read_text())


def say(text: str) -> None:
    print(text, flush=True)


def real_python() -> str:
    """The interpreter binary behind this one (a venv's base, not `python3` on PATH): a
    hypervisor runs its /usr/bin/python3 directly, while `python3` here may be a pyenv shim,
    a bash script that costs ~10x a Python start per host (measured: 1.11 s against 0.12 s
    under load), which would be timed as osfsck's."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def bench_config(lab: Path, agent_python: str | None, concurrency: int | None) -> Path:
    """The lab's config, with the interpreter and concurrency asked for on the command line."""
    text = (lab / "osfsck.toml").read_text()
    if concurrency:
        text = text.replace("concurrency = 8", f"concurrency = {concurrency}")
    if agent_python:
        text = text.replace("[hypervisors]\n", f'[hypervisors]\npython = "{agent_python}"\n', 1)
    path = lab / "osfsck.bench.toml"
    path.write_text(text)
    return path


# -- database side -----------------------------------------------------------------------
def service_databases(settings) -> list[ServiceDatabaseSource]:
    """Every service database the config names (Cinder, Neutron, ...)."""
    out = []
    for cls in wiring.source_classes():
        if issubclass(cls, ServiceDatabaseSource):
            try:
                out.append(cls(getattr(settings, cls.settings_attr)))
            except NotConfigured:
                pass
    return out


def database_sources(settings) -> list:
    return [NovaDatabaseSource(settings.nova), *service_databases(settings)]


def database_side(settings, rounds: int, figures: dict) -> None:
    db_kinds = {k for src in database_sources(settings) for k in src.provides}
    checks = [c for c in wiring.build_checks(settings) if set(c.needs) <= db_kinds]
    kinds = wiring.needed_kinds(checks)
    raw_s, collect_s, check_s = [], [], []
    for _ in range(rounds):
        t = time.perf_counter()
        rows = stream_raw(settings, kinds)
        raw_s.append(time.perf_counter() - t)

        t = time.perf_counter()
        snap, _ = collect(database_sources(settings), kinds)
        collect_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        result = RunResult(mode="check", taken_at=snap.taken_at, sources=[])
        evaluate(checks, snap, result)
        check_s.append(time.perf_counter() - t)
        facts = sum(len(v) for v in snap.facts.values())
        del snap, result
    raw, col, chk = (statistics.median(x) for x in (raw_s, collect_s, check_s))
    figures.update(rounds={"stream_s": raw_s, "collect_s": collect_s, "check_s": check_s})
    figures.update(
        rows=rows,
        facts=facts,
        stream_s=raw,
        collect_s=col,
        check_db_s=chk,
        ratio=(col + chk) / raw,
        db_checks=[c.code for c in checks],
        driver=make_engine(settings.nova.api_database.url).dialect.driver,
    )
    say(f"\ndatabase side ({figures['driver']}, median of {rounds}, {rows:,} rows, {facts:,} facts):")
    say(f"  stream the same SELECTs, raw cursor, rows discarded   {raw:6.2f} s")
    say(f"  osfsck collect                                        {col:6.2f} s")
    say(f"  osfsck check ({', '.join(figures['db_checks'])})          {chk:6.2f} s")
    say("  rounds: " + "; ".join(f"{r:.2f} / {c:.2f} + {k:.2f}" for r, c, k in zip(raw_s, collect_s, check_s)))
    say(f"  ratio (collect + check) / stream                      {figures['ratio']:6.2f}   (target <= 1.5)")


def stream_raw(settings, kinds) -> int:
    """Stream the SELECTs osfsck makes for `kinds`, with the same driver and cursor,
    keeping nothing."""
    n = 0
    api_url = settings.nova.api_database.url
    engine = make_engine(api_url)
    with engine.connect() as conn:
        cells = read_cells(conn)
        n += _drain(conn, [q() for k, q in queries.API_KINDS.items() if k in kinds])
    engine.dispose()
    for cell in cells:
        url, _ = resolve_cell_url(settings.nova, cell)
        engine = make_engine(url)
        with engine.connect() as conn:
            n += _drain(conn, [q(cell["name"]) for k, q in queries.CELL_KINDS.items() if k in kinds])
        engine.dispose()
    for src in service_databases(settings):
        engine = make_engine(src.settings.database.url)
        with engine.connect() as conn:
            n += _drain(conn, [q() for k, q in src.KINDS.items() if k in kinds])
        engine.dispose()
    return n


def _drain(conn, statements) -> int:
    return sum(len(rows) for stmt in statements for rows in stream(conn, stmt))


# -- the floors a source is measured against (the database sources': database_side) ----------
def ovsdb_client_select(ovn) -> None:
    """The OVN source's one select, by ovsdb-client."""
    select = [SCHEMA] + [
        {"op": "select", "table": t, "where": [], "columns": ["_uuid", *c]} for t, c in COLUMNS.items()
    ]
    remote = ovn.nb_connection.split(",")[0]
    tls = [
        f"--{k}={v}"
        for k, v in (("private-key", ovn.private_key), ("certificate", ovn.certificate), ("ca-cert", ovn.ca_cert))
        if v
    ]
    subprocess.run(
        ["ovsdb-client", *tls, "transact", remote, json.dumps(select)], stdout=subprocess.DEVNULL, check=True
    )


def dig_axfr(dns) -> None:
    """Every configured zone by `dig axfr`, with its TSIG key."""
    for z in dns.zones:
        key = ["-y", f"{z.key.algorithm}:{z.key.name}:{z.key.secret}"] if z.key else []
        subprocess.run(
            ["dig", "-p", str(z.port), *key, f"@{z.host}", "axfr", z.zone], stdout=subprocess.DEVNULL, check=True
        )


# source name -> (what the floor is, how to run it on the source's settings); NSX and
# RabbitMQ against bare HTTP: tools/bench_paging.py
FLOORS = {
    "ovn-nb": ("ovsdb-client transact, the same select", ovsdb_client_select),
    "dns": ("dig axfr, the same zones", dig_axfr),
}


def timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


# -- every source alone --------------------------------------------------------------------
def sources_alone(settings, figures: dict) -> None:
    """How long each source the config names takes to read everything it provides, alone
    (the hypervisor sources given Nova's host list): the slowest of them is what the whole
    run, its sources running concurrently, is measured against."""
    say("\nevery source alone (all it provides):")
    known, _ = collect([NovaDatabaseSource(settings.nova)], set(NovaDatabaseSource.provides))
    for cls in wiring.source_classes():
        try:
            source = cls(getattr(settings, cls.settings_attr))
        except NotConfigured:
            continue
        sink = Snapshot(taken_at=utcnow())
        t = time.perf_counter()
        with cyclic_gc_paused() if source.bulk else contextlib.nullcontext():
            statuses = source.collect(set(source.provides), known, sink)
        seconds = time.perf_counter() - t
        facts = sum(len(v) for v in sink.facts.values())
        partial = [st.reason for st in statuses if st.status != "ok"]
        floor = FLOORS.get(source.name)
        floor_s = timed(floor[1], source.settings) if floor else None
        figures.setdefault("sources", []).append(
            {"source": source.name, "facts": facts, "seconds": seconds, "partial": len(partial), "floor_s": floor_s}
        )
        say(
            f"  {source.name:28} {facts:10,} facts in {seconds:6.1f} s = {facts / max(seconds, 1e-9):9,.0f}/s"
            + (f"  ({len(partial)} scope(s) partial: {partial[0]})" if partial else "")
        )
        if floor:
            say(f"    floor: {floor[0]:40} {floor_s:6.1f} s, ratio {seconds / floor_s:.2f}")
        del sink
    slowest = max(figures["sources"], key=lambda f: f["seconds"])
    figures["slowest_source"] = slowest
    say(f"  slowest: {slowest['source']}, {slowest['seconds']:.1f} s")


# -- hypervisors ---------------------------------------------------------------------------
def hypervisor_side(settings, figures: dict) -> None:
    """Hosts per second for each hypervisor source; then every check on the full snapshot."""
    hv = settings.hypervisors
    sources = database_sources(settings)
    snap, _ = collect(sources, {k for src in sources for k in src.provides})
    say(f"\nhypervisors (concurrency {hv.concurrency}):")
    runs = (
        ("libvirt, test-driver files", LibvirtSource(hv), snap),
        (f"instance folders, agent via {hv.transport} `{hv.python}`", HostFolderSource(hv), None),
        (
            "instance folders, agent in this process",
            HostFolderSource(dataclasses.replace(hv, transport="inprocess")),
            snap,
        ),
        (f"iSCSI sessions, agent via {hv.transport} `{hv.python}`", IscsiSource(hv), snap),
    )
    for label, source, sink in runs:
        sink = sink if sink is not None else Snapshot(taken_at=utcnow())
        t = time.perf_counter()
        statuses = source.collect(set(source.provides), snap, sink)
        seconds = time.perf_counter() - t
        ok = sum(s.status == "ok" for s in statuses)
        figures.setdefault("hypervisors", []).append(
            {
                "what": label,
                "hosts": len(statuses),
                "ok": ok,
                "seconds": seconds,
                "hosts_per_s": len(statuses) / seconds,
            }
        )
        say(
            f"  {label:55} {len(statuses):,} hosts ({ok:,} ok) in {seconds:6.1f} s = "
            f"{len(statuses) / seconds:7.0f} hosts/s"
        )
    checks = wiring.build_checks(settings)
    t = time.perf_counter()
    result = RunResult(mode="check", taken_at=snap.taken_at, sources=[])
    evaluate(checks, snap, result)
    figures["check_all_s"] = time.perf_counter() - t
    say(
        f"  all {len(checks)} checks on the full snapshot ({sum(len(v) for v in snap.facts.values()):,} facts): "
        f"{figures['check_all_s']:.2f} s, {len(result.findings)} findings"
    )


# -- the whole run -------------------------------------------------------------------------
def check_process(lab: Path, config: Path, *extra: str):
    """`osfsck check -f json` in its own process: (result, wall s, rusage, exit, stderr)."""
    out = lab / "bench-check.json"
    t = time.perf_counter()
    with open(out, "wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "osfsck.cli.main", "-c", str(config), "check", "--format", "json", *extra],
            stdout=f,
            stderr=subprocess.PIPE,
        )
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    stderr = proc.stderr.read().decode(errors="replace")
    return json.loads(out.read_text()), wall, usage, os.waitstatus_to_exitcode(status), stderr


def pass_seconds(result: dict) -> dict[str, float]:
    """Each source's pass time in a run (its scopes share it), in one walk of the statuses
    (8,050 hosts make tens of thousands of them)."""
    out: dict[str, float] = {}
    for x in result["sources"]:
        out[x["name"]] = max(out.get(x["name"], 0.0), x["seconds"] or 0.0)
    return out


def objects_read(result: dict) -> int:
    return sum(s["objects"] or 0 for s in result["sources"])


def one_cell_run(lab: Path, config: Path, figures: dict) -> None:
    """What a run scoped to one cell reads beside the whole run's (target <= 1/50)."""
    result, wall, _, code, _ = check_process(lab, config, "--cell", "cell7")
    figures.update(one_cell_objects=objects_read(result), one_cell_s=wall)
    if "run_objects" not in figures:  # no whole run this time (--parts)
        say(f"  a one-cell run (--cell cell7): {figures['one_cell_objects']:,} objects read, {wall:.1f} s, exit {code}")
        return
    share = figures["one_cell_objects"] / figures["run_objects"]
    say(
        f"  a one-cell run (--cell cell7): {figures['one_cell_objects']:,} objects read of "
        f"{figures['run_objects']:,} = 1/{1 / share:.0f} (target <= 1/50), {wall:.1f} s, exit {code}"
    )


def whole_run(lab: Path, config: Path, figures: dict) -> None:
    """`osfsck check` as an operator runs it, in its own process: wall time, peak RSS,
    findings against truth.json.  Every check is selected."""
    result, wall, usage, code, stderr = check_process(lab, config)
    truth = json.loads((lab / "truth.json").read_text())
    found = {(f["code"], f["subject"]["id"]) for f in result["findings"]}
    faults, ripe = lab_truth.faults(truth), lab_truth.ripened(truth, result["taken_at"])
    want = faults | ripe
    partial = [s for s in result["sources"] if s["status"] != "ok"]
    checks_s = {c["code"]: c for c in result.get("checks", [])}
    figures.update(
        run_sources_s=pass_seconds(result),
        run_s=wall,
        run_objects=objects_read(result),
        run_exit=code,
        peak_rss_mb=usage.ru_maxrss / 1024,
        findings=len(found),
        truth=len(want),
        faults=len(faults),
        ripened=len(ripe),
        missed=len(want - found),
        extra=len(found - want),
        partial_sources=len(partial),
    )
    say(f"\nwhole run: `osfsck check` in its own process, {len(checks_s)} checks, exit {code}")
    say(f"  wall {wall:.1f} s, peak RSS {usage.ru_maxrss / 1024**2:.2f} GB (target <= 1.5 GB at L, 6 GB at XL)")
    for name, seconds in sorted(figures["run_sources_s"].items(), key=lambda kv: -kv[1]):
        say(f"    {name:28} {seconds:6.1f} s inside the run (concurrently)")
    say(
        f"  findings {len(found)} = truth.json's {len(faults)} faults + {len(ripe)} ripened near misses: "
        f"exact {found == want} (missed {len(want - found)}, extra {len(found - want)}); partial sources {len(partial)}"
    )
    say(
        f"  ripened: {len(ripe)} of the {len(truth.get('ripening', ()))} near misses truth.json lists as "
        f"legitimate only while young, by the run's snapshot ({result['taken_at']})"
    )
    if stderr.strip():
        say("  stderr: " + stderr.strip().splitlines()[-1])


def run_over_slowest(figures: dict) -> None:
    """The whole run's wall time over the slowest source alone's (measured after it)."""
    slowest = figures["slowest_source"]
    if "run_s" not in figures:
        return  # no whole run this time (--no-whole-run)
    figures["run_over_slowest"] = figures["run_s"] / slowest["seconds"]
    say(
        f"\nratio whole run / slowest source alone ({slowest['source']}, {slowest['seconds']:.1f} s)"
        f"  {figures['run_over_slowest']:.2f}   (target <= 1.3)"
    )


if __name__ == "__main__":
    sys.exit(main())
