#!/usr/bin/env python3
"""Build the REAL Nova database schemas with Nova's own migrations.

For each release in RELEASES this script

  1. creates a throw-away venv and pip-installs tools/schema-requirements/<release>.txt
     (an exact nova release from PyPI plus the few pins it needs),
  2. runs `nova-manage api_db sync` then `nova-manage db sync` against SQLite files
     and against a private, temporary MariaDB server,
  3. dumps the resulting DDL to src/osfsck/lab/schemas/<release>/{nova_api,nova}.{sqlite,mysql}.sql,
  4. reloads every dump into a fresh database and checks it comes back identical,

and finally records what was built in src/osfsck/lab/schemas/versions.json.

Why migrations and not Nova's SQLAlchemy models: the models describe only part of the
schema (no shadow_* tables, no legacy tables, fewer indexes), so only `nova-manage ... sync`
gives the schema a real deployment has.

Usage (Python 3.11, mariadbd/mariadb-install-db on PATH, PyPI reachable):

    python3.11 tools/build_schemas.py                  # all releases
    python3.11 tools/build_schemas.py --release 2024.1 # just one

Only the standard library is used here; everything OpenStack runs inside the venvs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))   # the lab's MariaDB helper (stdlib only, like this script)
from osfsck.lab.mariadb import MariaDB, MariaDBError  # noqa: E402
REQ_DIR = ROOT / "tools" / "schema-requirements"
OUT_DIR = ROOT / "src" / "osfsck" / "lab" / "schemas"

# Release name -> how to build it.  Newest first.
#   requirements: file in tools/schema-requirements/ installed into the venv.
#   revisions:    optional {db: alembic revision} to stop at.  Only needed for a release
#                 whose own nova package no longer installs: then use a newer package and
#                 stop at the revisions that were head in that release ("revision-sync").
#                 Without it the package's own heads are used ("pip-release").
RELEASES: dict[str, dict] = {
    "2026.2": {"requirements": "2026.2.txt"},
    "2024.1": {"requirements": "2024.1.txt"},
    # Fallback kept as an example (checked once: identical SQLite DDL to the pip-release build):
    # "2024.1": {"requirements": "2026.2.txt",
    #            "revisions": {"nova_api": "cdeec0c85668", "nova": "13863f4e1612"}},
}

# API DB first: `db sync` looks up cell_mappings in the API DB (to also sync cell0), and
# fails if that table does not exist yet.
DBS = ("nova_api", "nova")
SYNC_COMMAND = {"nova_api": "api_db", "nova": "db"}

# Packages whose versions shape the DDL; recorded in versions.json.
KEY_PACKAGES = ("nova", "SQLAlchemy", "alembic", "oslo.db", "PyMySQL")

# Runs inside a venv (which has PyMySQL): executes statements and/or dumps one MariaDB
# database.  Request and answer are JSON on stdin/stdout.
MYSQL_HELPER = r'''
import json, sys, pymysql
req = json.load(sys.stdin)
conn = pymysql.connect(host="127.0.0.1", port=req["port"], user="root",
                       database=req.get("db"), charset="utf8mb4", autocommit=True)
cur = conn.cursor()
for stmt in req.get("exec", []):
    cur.execute(stmt)
out = {}
if req.get("dump"):
    cur.execute("SHOW FULL TABLES")
    out["views"] = sorted(name for name, kind in cur.fetchall() if kind != "BASE TABLE")
    cur.execute("SHOW TABLES")
    tables = {}
    for (name,) in sorted(cur.fetchall()):
        cur.execute("SHOW CREATE TABLE `%s`" % name)
        tables[name] = cur.fetchone()[1]
    out["tables"] = tables
    out["alembic"] = []
    if "alembic_version" in tables:
        cur.execute("SELECT version_num FROM alembic_version ORDER BY version_num")
        out["alembic"] = [r[0] for r in cur.fetchall()]
json.dump(out, sys.stdout)
'''


class BuildError(Exception):
    pass


def log(msg: str) -> None:
    print(msg, flush=True)


def run(cmd: list[str], logfile: Path, env: dict | None = None, input: str | None = None) -> str:
    """Run a command, keeping its noise in a log file; on failure show the log's tail."""
    with open(logfile, "a") as err:
        err.write("\n$ " + " ".join(cmd) + "\n")
        err.flush()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env, input=input)
    if proc.returncode != 0:
        tail = logfile.read_text(errors="replace").splitlines()[-25:]
        raise BuildError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n  " + "\n  ".join(tail))
    return proc.stdout


def split_statements(text: str) -> list[str]:
    """The file format's contract (same rule as osfsck.lab.schemas.ddl_statements):
    statements end with ';' at the end of a line; '--' lines are comments."""
    out = []
    for chunk in text.split(";\n"):
        body = "\n".join(l for l in chunk.splitlines() if not l.startswith("--")).strip()
        if body:
            out.append(body)
    return out


def join_statements(header: list[str], statements: list[str]) -> str:
    for s in statements:
        # A ";\n" inside a statement would break the split rule the loader relies on.
        if ";\n" in s or s.endswith(";"):
            raise BuildError(f"statement cannot be written in the split-on-';\\n' format: {s[:80]}")
    return "".join(f"-- {h}\n" for h in header) + "".join(f"{s};\n\n" for s in statements).rstrip("\n") + "\n"


def read_requirements(name: str) -> list[str]:
    lines = (REQ_DIR / name).read_text().splitlines()
    return [l.split("#")[0].strip() for l in lines if l.split("#")[0].strip()]


# ---------------------------------------------------------------- MariaDB


def mariadb_url(server: MariaDB, db: str) -> str:
    return f"mysql+pymysql://root@127.0.0.1:{server.port}/{db}?charset=utf8mb4"


def mariadb_call(server: MariaDB, python: Path, logfile: Path, **req) -> dict:
    out = run([str(python), "-c", MYSQL_HELPER], logfile, input=json.dumps({"port": server.port, **req}))
    return json.loads(out)


# ---------------------------------------------------------------- dumps


def sqlite_dump(con: sqlite3.Connection) -> tuple[list[str], list[str]]:
    """(DDL statements in a stable order, alembic revisions) of one SQLite DB."""
    rows = con.execute("SELECT type, name, sql FROM sqlite_master "
                       "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'").fetchall()
    # Tables by name, then indexes, views and triggers by name: migrations create indexes
    # in set order, so sqlite_master's own order changes from run to run.
    kinds = ["table", "index", "view", "trigger"]
    rows.sort(key=lambda r: (kinds.index(r[0]), r[1]))
    revs = [r[0] for r in con.execute("SELECT version_num FROM alembic_version ORDER BY 1")]
    return [r[2].strip() for r in rows], revs


def stable_create_table(ddl: str) -> str:
    """SHOW CREATE TABLE output made stable from run to run.

    MariaDB lists secondary keys in the order they were created, and the migrations create
    them by iterating a Python set, so that order changes between two identical builds.
    Sorting them by name (unique keys, then keys, then constraints, as MariaDB groups them)
    changes no meaning.  Columns and the primary key keep their real order.
    AUTO_INCREMENT=n is table state, not schema, so it is dropped.
    """
    lines = ddl.splitlines()
    head, body, tail = lines[0], [l.rstrip(",") for l in lines[1:-1]], lines[-1]
    fixed = [l for l in body if l.lstrip().startswith(("`", "PRIMARY KEY"))]
    rank = lambda l: next((i for i, p in enumerate(("UNIQUE KEY", "KEY", "CONSTRAINT")) if l.lstrip().startswith(p)), 3)
    rest = sorted((l for l in body if l not in fixed), key=lambda l: (rank(l), l))
    if fixed != body[:len(fixed)]:
        raise BuildError(f"unexpected SHOW CREATE TABLE layout: {head}")
    tail = re.sub(r" AUTO_INCREMENT=\d+", "", tail)
    return "\n".join([head, ",\n".join(fixed + rest), tail])


def mysql_statements(dump: dict) -> list[str]:
    return [stable_create_table(ddl) for _, ddl in sorted(dump["tables"].items())]


def alembic_insert(revs: list[str], quote: str) -> list[str]:
    t, c = f"{quote}alembic_version{quote}", f"{quote}version_num{quote}"
    return [f"INSERT INTO {t} ({c}) VALUES ('{r}')" for r in revs]


# ---------------------------------------------------------------- one release


def build_release(release: str, spec: dict, python: str, mariadb: MariaDB, work: Path, built_on: str) -> dict:
    rdir = work / release
    rdir.mkdir()
    logfile = rdir / "build.log"
    times: dict[str, float] = {}
    pins = read_requirements(spec["requirements"])
    revisions = spec.get("revisions")

    t = time.monotonic()
    venv = rdir / "venv"
    run([python, "-m", "venv", str(venv)], logfile)
    vpy, manage = venv / "bin" / "python", venv / "bin" / "nova-manage"
    run([str(vpy), "-m", "pip", "install", "--quiet", "-r", str(REQ_DIR / spec["requirements"])], logfile)
    run([str(vpy), "-m", "pip", "check"], logfile)  # a broken dependency set is not a real release
    freeze = dict(l.split("==", 1) for l in run([str(vpy), "-m", "pip", "freeze"], logfile).splitlines() if "==" in l)
    lower = {k.lower().replace("_", "-").replace(".", "-"): v for k, v in freeze.items()}
    key_versions = {p: lower.get(p.lower().replace(".", "-"), "?") for p in KEY_PACKAGES}
    pyver = run([str(vpy), "-c", "import sys, sqlite3; print(sys.version.split()[0], sqlite3.sqlite_version)"], logfile).split()
    times["venv + pip install"] = time.monotonic() - t
    log(f"[{release}] installed nova {key_versions['nova']} on Python {pyver[0]}")

    # A fixed PYTHONHASHSEED removes one source of run-to-run noise (str-keyed set/dict order in
    # the migrations).  Index creation order still varies (sets of Index objects hash by id),
    # which is why the dumps sort indexes/keys by name.
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONWARNINGS": "ignore"}

    def sync(urls: dict[str, str], tag: str) -> None:
        conf = rdir / f"nova-{tag}.conf"
        conf.write_text(f"[DEFAULT]\n[database]\nconnection = {urls['nova']}\n"
                        f"[api_database]\nconnection = {urls['nova_api']}\n")
        for db in DBS:
            cmd = [str(manage), "--config-file", str(conf), SYNC_COMMAND[db], "sync"]
            run(cmd + ([revisions[db]] if revisions else []), logfile, env=env)

    if revisions:
        how = (f"revision-sync: nova {key_versions['nova']} synced to the {release} heads "
               f"(nova_api {revisions['nova_api']}, nova {revisions['nova']})")
    else:
        how = f"pip-release: nova {key_versions['nova']} installed from PyPI, synced to its own heads"
    outdir = OUT_DIR / release
    outdir.mkdir(parents=True, exist_ok=True)
    heads: dict[str, str] = {}

    # --- SQLite
    t = time.monotonic()
    sq = {db: rdir / f"{db}.sqlite" for db in DBS}
    sync({db: f"sqlite:///{p}" for db, p in sq.items()}, "sqlite")
    for db in DBS:
        con = sqlite3.connect(sq[db])
        ddl, revs = sqlite_dump(con)
        con.close()
        if len(revs) != 1:
            raise BuildError(f"{release} {db}: expected one alembic revision, got {revs}")
        heads[db] = revs[0]
        header = [f"{db} schema of OpenStack {release}, SQLite ({len(ddl)} statements).",
                  f"Built with Nova's own migrations ({how}).",
                  f"alembic revision: {revs[0]}",
                  "Generated by tools/build_schemas.py; do not edit."]
        path = outdir / f"{db}.sqlite.sql"
        path.write_text(join_statements(header, ddl + alembic_insert(revs, '"')))
        # Reload check: a fresh DB loaded from the file must match the migrated one.
        fresh = sqlite3.connect(":memory:")
        for stmt in split_statements(path.read_text()):
            fresh.execute(stmt)
        reloaded = sqlite_dump(fresh)
        fresh.close()
        if reloaded != (ddl, revs):
            raise BuildError(f"{path.name}: reloaded SQLite schema differs from the migrated one")
    times["sqlite sync + dump"] = time.monotonic() - t

    # --- MariaDB
    t = time.monotonic()
    names = {db: f"r{release.replace('.', '_')}_{db}" for db in DBS}
    mariadb_call(mariadb, vpy, logfile, exec=[f"DROP DATABASE IF EXISTS `{n}`" for n in names.values()] +
                 [f"CREATE DATABASE `{n}` CHARACTER SET utf8mb4" for n in names.values()])
    sync({db: mariadb_url(mariadb, n) for db, n in names.items()}, "mysql")
    for db in DBS:
        dump = mariadb_call(mariadb, vpy, logfile, db=names[db], dump=True)
        if dump["views"]:
            raise BuildError(f"{release} {db}: views are not handled: {dump['views']}")
        if dump["alembic"] != [heads[db]]:
            raise BuildError(f"{release} {db}: MariaDB revision {dump['alembic']} != SQLite {heads[db]}")
        ddl = mysql_statements(dump)
        header = [f"{db} schema of OpenStack {release}, MariaDB {mariadb.version} "
                  f"(SHOW CREATE TABLE, {len(ddl)} tables; secondary keys sorted by name).",
                  f"Built with Nova's own migrations ({how}).",
                  f"alembic revision: {heads[db]}",
                  "Generated by tools/build_schemas.py; do not edit."]
        stmts = ["SET FOREIGN_KEY_CHECKS=0", *ddl, "SET FOREIGN_KEY_CHECKS=1", *alembic_insert(dump["alembic"], "`")]
        path = outdir / f"{db}.mysql.sql"
        path.write_text(join_statements(header, stmts))
        # Reload check into a fresh database.
        check = f"reload_{names[db]}"
        mariadb_call(mariadb, vpy, logfile, exec=[f"DROP DATABASE IF EXISTS `{check}`",
                                         f"CREATE DATABASE `{check}` CHARACTER SET utf8mb4"])
        mariadb_call(mariadb, vpy, logfile, db=check, exec=split_statements(path.read_text()))
        again = mariadb_call(mariadb, vpy, logfile, db=check, dump=True)
        if mysql_statements(again) != ddl or again["alembic"] != dump["alembic"]:
            raise BuildError(f"{path.name}: reloaded MariaDB schema differs from the migrated one")
    times["mariadb sync + dump"] = time.monotonic() - t

    for step, secs in times.items():
        log(f"[{release}] {step}: {secs:.1f}s")
    return {
        "nova": key_versions["nova"],
        "python": pyver[0],
        "sqlite": pyver[1],
        "mariadb": mariadb.version,
        "built_by": "revision-sync" if revisions else "pip-release",
        "how": how,
        "alembic_heads": heads,
        "built_on": built_on,
        "requirements": f"tools/schema-requirements/{spec['requirements']}",
        "pins": pins,
        "key_packages": key_versions,
    }


def release_key(release: str) -> tuple[int, int]:
    year, _, half = release.partition(".")
    return int(year), int(half)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--release", action="append", choices=sorted(RELEASES), help="build only this release (repeatable)")
    ap.add_argument("--python", default=sys.executable, help="interpreter for the venvs (default: this one)")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (venvs, DB files, logs)")
    args = ap.parse_args()

    for tool in ("mariadbd", "mariadb-install-db"):
        if shutil.which(tool) is None:
            print(f"error: {tool} not found on PATH (install mariadb-server, e.g. apt-get install mariadb-server)",
                  file=sys.stderr)
            return 2
    if sys.version_info[:2] != (3, 11) and args.python == sys.executable:
        log(f"warning: Python {sys.version.split()[0]}; the pins were worked out on 3.11")

    releases = args.release or list(RELEASES)
    built_on = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    work = Path(tempfile.mkdtemp(prefix="osfsck-schemas-"))
    start = time.monotonic()
    results = {}
    mariadb = None
    try:
        t = time.monotonic()
        mariadb = MariaDB(work / "mariadb")
        log(f"MariaDB {mariadb.version} up on 127.0.0.1:{mariadb.port} ({time.monotonic() - t:.1f}s)")
        for release in releases:
            results[release] = build_release(release, RELEASES[release], args.python, mariadb, work, built_on)
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except MariaDBError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        if mariadb is not None:
            mariadb.stop()
        if args.keep_tmp:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    vfile = OUT_DIR / "versions.json"
    versions = json.loads(vfile.read_text()) if vfile.exists() else {}
    versions.update(results)
    versions = dict(sorted(versions.items(), key=lambda kv: release_key(kv[0]), reverse=True))
    vfile.write_text(json.dumps(versions, indent=2) + "\n")
    log(f"done in {time.monotonic() - start:.1f}s; wrote {OUT_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
