#!/usr/bin/env python3
"""osfsck's orphan-allocation (PL101) beside `nova-manage placement audit`, on the same data.

    .venv/bin/python tools/bench_placement_audit.py                   # M profile, private MariaDB
    .venv/bin/python tools/bench_placement_audit.py --profile L
    .venv/bin/python tools/bench_placement_audit.py --reuse DIR --db-url mysql://root@127.0.0.1:PORT/

Both run as an operator runs them, each in its own process, against one lab cloud on MariaDB
and the lab's real Placement service (openstack-placement, started by `lab build`):

  * `osfsck check --select PL101`: reads the Placement database and Nova's databases once
    (API and every cell) and judges every consumer;
  * `nova-manage placement audit --verbose` (read-only: no `--delete`), Nova's own tool from
    its PyPI package in `.venv-nova` (made here when missing): per resource provider, one
    Placement API call for its allocations, a scatter-gather over every cell for its compute
    node, and one query for the node's instances and one for its migrations.

It prints both wall times, their ratio, and which consumers each flagged: nova-manage also
flags what osfsck deliberately does not (a build scheduled but not yet claimed on its host,
an allocation on the wrong provider, which is PL103's subject), so the two lists are shown,
not asserted equal.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from osfsck.clients.db import make_engine
from osfsck.config.load import load_settings
from osfsck.sources.nova_db.cell_urls import resolve_cell_url
from osfsck.sources.nova_db.source import read_cells
from osfsck_lab import build as lab_build
from osfsck_lab.mariadb import MariaDB

ROOT = Path(__file__).resolve().parent.parent
NOVA_VERSION = "34.0.0"
NOVA_VENV = ROOT / ".venv-nova"
SERVER_OPTIONS = ("--innodb-buffer-pool-size=2G", "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0")
ORPHAN_LINE = re.compile(r"Allocations for consumer UUID (\S+) on Resource Provider (\S+) can be deleted")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="M", choices=["small", "M", "L"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db-url", help="a MariaDB server to use (default: start a private one)")
    ap.add_argument("--reuse", type=Path, help="a lab folder already built by `osfsck lab build` on --db-url")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()
    if args.reuse and not args.db_url:
        ap.error("--reuse needs the --db-url the lab was built on")
    nova_manage = ensure_nova()
    server = None
    lab = None
    figures: dict = {"profile": args.profile, "seed": args.seed}
    try:
        if args.db_url:
            db_url = args.db_url
        else:
            server = MariaDB(Path(tempfile.mkdtemp(prefix="osfsck-audit-db-")), SERVER_OPTIONS)
            db_url = server.url
        lab = args.reuse or Path(tempfile.mkdtemp(prefix="osfsck-audit-lab-"))
        if not args.reuse:
            t = time.perf_counter()
            info = lab_build.build(lab, args.profile, args.seed, db_url)
            say(
                f"built the {args.profile} lab in {time.perf_counter() - t:.0f} s: {info['hosts']} hypervisors, "
                f"{info['instances']:,} instance rows"
            )
        settings = load_settings(str(lab / "osfsck.toml"))
        endpoint = getattr(settings.placement, "endpoint", None)
        if not endpoint:
            raise SystemExit("the lab has no Placement API (scripts/setup makes .venv-placement): nothing to compare")
        conf = nova_conf(lab, settings, endpoint)
        compare(lab, nova_manage, conf, figures)
    finally:
        if lab is not None and not args.reuse and (lab / "lab.json").exists():
            lab_build.stop(lab)  # its servers (placement-api, named, the broker...)
        if server is not None:
            server.stop()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def say(text: str) -> None:
    print(text, flush=True)


def ensure_nova() -> Path:
    """nova-manage from Nova's PyPI package, in its own virtualenv (Nova's dependencies do
    not mix with osfsck's)."""
    exe = NOVA_VENV / "bin" / "nova-manage"
    if not exe.exists():
        say(f"installing nova {NOVA_VERSION} into {NOVA_VENV.name} (once)")
        subprocess.run([sys.executable, "-m", "venv", str(NOVA_VENV)], check=True)
        subprocess.run(
            [str(NOVA_VENV / "bin" / "pip"), "install", "-q", f"nova=={NOVA_VERSION}", "PyMySQL"], check=True
        )
    return exe


def _pymysql(url: str) -> str:
    """Nova's SQLAlchemy URL for a lab URL: the PyMySQL driver, whatever the lab wrote with."""
    return re.sub(r"^mysql(\+\w+)?://", "mysql+pymysql://", url)


def nova_user(url: str) -> str:
    """The lab's cell URLs are Nova's templates ({username}:{password}@...), and Nova fills an
    empty password in as a wrong one: give nova-manage a user with a password."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE USER IF NOT EXISTS 'nova'@'127.0.0.1' IDENTIFIED BY 'nova'"))
        conn.execute(text("GRANT ALL ON *.* TO 'nova'@'127.0.0.1'"))
    engine.dispose()
    return re.sub(r"://[^@/]*@", "://nova:nova@", url)


def nova_conf(lab: Path, settings, endpoint: str) -> Path:
    """A nova.conf that points nova-manage at the lab: the API database (cells come from its
    cell_mappings, whose templated URLs are formatted from [database] connection) and the
    Placement API, which the lab runs with noauth2 (the "admin" token)."""
    api = settings.nova.api_database.url
    base = nova_user(settings.nova.cell_url_base.url if settings.nova.cell_url_base else api)
    conf = "\n".join(
        [
            "[DEFAULT]",
            "transport_url = fake:/",
            "",
            "[api_database]",
            f"connection = {_pymysql(api)}",
            "",
            "[database]",
            f"connection = {_pymysql(base)}",
            "",
            "[placement]",
            "auth_type = admin_token",
            f"endpoint = {endpoint}",
            "token = admin",
            f"endpoint_override = {endpoint}",
            "",
        ]
    )
    path = lab / "nova-audit.conf"
    path.write_text(conf)
    return path


def compare(lab: Path, nova_manage: Path, conf: Path, figures: dict) -> None:
    osfsck = [
        str(ROOT / ".venv" / "bin" / "osfsck"),
        "-c",
        str(lab / "osfsck.toml"),
        "check",
        "--select",
        "PL101",
        "--format",
        "json",
    ]
    t = time.perf_counter()
    ours = subprocess.run(osfsck, capture_output=True, text=True, cwd=lab)
    ours_s = time.perf_counter() - t
    if ours.returncode not in (0, 4):
        raise SystemExit(f"osfsck failed ({ours.returncode}): {ours.stderr.strip().splitlines()[-1:]}")
    flagged_ours = sorted({f["subject"]["id"] for f in json.loads(ours.stdout)["findings"]})

    t = time.perf_counter()
    theirs = subprocess.run(
        [str(nova_manage), "--config-file", str(conf), "placement", "audit", "--verbose"],
        capture_output=True,
        text=True,
        cwd=lab,
    )
    theirs_s = time.perf_counter() - t
    if theirs.returncode not in (0, 3):
        tail = (theirs.stderr or theirs.stdout).strip().splitlines()[-3:]
        raise SystemExit(f"nova-manage placement audit failed ({theirs.returncode}): {' | '.join(tail)}")
    flagged_theirs = sorted({m.group(1) for m in ORPHAN_LINE.finditer(theirs.stdout)})
    figures.update(
        osfsck_s=ours_s,
        nova_manage_s=theirs_s,
        ratio=theirs_s / ours_s,
        osfsck_flagged=flagged_ours,
        nova_manage_flagged=flagged_theirs,
    )
    say("\norphan allocations, the same lab, each tool in its own process:")
    say(f"  osfsck check --select PL101                  {ours_s:8.1f} s   {len(flagged_ours)} consumers")
    say(f"  nova-manage placement audit (read-only)      {theirs_s:8.1f} s   {len(flagged_theirs)} consumers")
    say(f"  ratio nova-manage / osfsck                   {theirs_s / ours_s:8.1f}")
    only_theirs = sorted(set(flagged_theirs) - set(flagged_ours))
    only_ours = sorted(set(flagged_ours) - set(flagged_theirs))
    truth = {t["subject"]: t for t in json.loads((lab / "truth.json").read_text())["faults"]}
    rows = describe(load_settings(str(lab / "osfsck.toml")), only_theirs + only_ours)
    for label, ids in (("flagged by nova-manage only", only_theirs), ("flagged by osfsck only", only_ours)):
        for cid in ids:
            fault = truth.get(cid)
            say(f"  {label}: {cid} " + (f"({fault['code']}: {fault['note']})" if fault else rows.get(cid, "")))


def describe(settings, ids: list[str]) -> dict[str, str]:
    """What Nova's cell databases say of each consumer: the instance row's state and host."""
    out = {}
    engine = make_engine(settings.nova.api_database.url)
    with engine.connect() as conn:
        cells = read_cells(conn)
    engine.dispose()
    for cell in cells:
        engine = make_engine(resolve_cell_url(settings.nova, cell)[0])
        with engine.connect() as conn:
            for uuid in ids:
                row = conn.execute(
                    text("SELECT vm_state, task_state, host, deleted, created_at FROM instances WHERE uuid = :u"),
                    {"u": uuid},
                ).first()
                if row is not None:
                    out[uuid] = (
                        f"(instance in {cell['name']}: {row[0]}, task {row[1]}, host {row[2]}, "
                        f"{'deleted' if row[3] else 'live'}, created {row[4]})"
                    )
        engine.dispose()
    return out


if __name__ == "__main__":
    sys.exit(main())
