#!/usr/bin/env python3
"""Build the REAL OpenStack database schemas with each service's own migrations.

Services: nova (nova_api + nova), cinder, neutron, placement and designate; see SERVICES.
For each release in RELEASES this script

  1. creates a throw-away venv with that release's Python and pip-installs
     tools/schema-requirements/<release>.txt (the service releases from PyPI) under
     tools/schema-requirements/constraints/<release>.txt (the release's upper-constraints,
     vendored: the lines of openstack/requirements' file for the packages installed),
  2. runs every service's own sync command (`nova-manage api_db sync`, `cinder-manage db sync`,
     ...) against SQLite files and against private, temporary MariaDB and PostgreSQL servers,
  3. dumps the resulting DDL to lab/src/osfsck_lab/schemas/<release>/<db>.{sqlite,mysql,postgresql}.sql,
  4. reloads every dump into a fresh database and checks it comes back identical,
  5. deletes the venv,

and finally records what was built in lab/src/osfsck_lab/schemas/versions.json.

Why migrations and not the SQLAlchemy models: the models describe only part of the schema
(nova's lack the shadow_* and legacy tables and many indexes, cinder's lack columns, ...),
so only the sync commands give the schema a real deployment has.  One exception: neutron's
migrations cannot run on SQLite, so its SQLite schema comes from its models (as neutron's own
unit tests do) and is stamped with the real heads; versions.json says so.

Usage (mariadbd/mariadb-install-db on PATH, PostgreSQL's server programs, each release's
Python as python3.X on PATH or under pyenv, PyPI reachable):

    python3 tools/build_schemas.py                     # all releases, one after the other
    python3 tools/build_schemas.py --release 2024.1    # just one
    python3 tools/build_schemas.py --release 2025.1 --constraints-from upper-constraints.txt
        # (re)vendor the release's constraints from openstack/requirements' file
    python3 tools/build_schemas.py --release train --keep-going --work DIR
        # a failing service/dialect is said and recorded under not_built; the venv stays in DIR

Only the standard library is used here; everything OpenStack runs inside the venvs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The lab's server helpers and the product's release order (standard library only, like this script).
sys.path[:0] = [str(ROOT / "lab" / "src"), str(ROOT / "src")]
from osfsck.model import releases as order  # noqa: E402
from osfsck_lab.mariadb import MariaDB, MariaDBError  # noqa: E402
from osfsck_lab.postgres import PostgreSQL, PostgreSQLError  # noqa: E402

REQ_DIR = ROOT / "tools" / "schema-requirements"
OUT_DIR = ROOT / "lab" / "src" / "osfsck_lab" / "schemas"


@dataclass(frozen=True)
class Database:
    name: str  # output file stem and versions.json key, e.g. "nova_api"
    section: str  # config section whose `connection` points the sync at this DB
    sync: tuple[str, ...]  # arguments of the service's manage command
    # Same, stopping at alembic revision {rev} (see RELEASES "revisions"); () = not supported.
    sync_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Service:
    name: str  # as written in the dump headers ("Nova's own migrations")
    package: str  # PyPI distribution; its version goes to versions.json
    manage: str  # console script in the venv that runs the migrations
    databases: tuple[Database, ...]  # in sync order
    # Only when the migrations cannot run on SQLite: a function returning the models'
    # MetaData, whose create_all() builds the SQLite DB instead; `sqlite_stamp` (manage
    # arguments) then records the heads in alembic_version, as the migrations would have.
    sqlite_models: str = ""
    sqlite_stamp: tuple[str, ...] = ()


# Runs inside a venv: argv[1] = "module.function" returning a MetaData, argv[2] = DB URL.
MODELS_CREATE = r"""
import importlib, sys, sqlalchemy
module, _, function = sys.argv[1].rpartition(".")
metadata = getattr(importlib.import_module(module), function)()
metadata.create_all(sqlalchemy.create_engine(sys.argv[2]))
"""

SERVICES: tuple[Service, ...] = (
    Service(
        "Nova",
        "nova",
        "nova-manage",
        (
            # API DB first: `db sync` looks up cell_mappings in the API DB (to also sync cell0),
            # and fails if that table does not exist yet.
            Database("nova_api", "api_database", ("api_db", "sync"), ("api_db", "sync", "{rev}")),
            Database("nova", "database", ("db", "sync"), ("db", "sync", "{rev}")),
        ),
    ),
    # `cinder-manage db sync` takes only integer versions, hence no sync_to.
    Service("Cinder", "cinder", "cinder-manage", (Database("cinder", "database", ("db", "sync")),)),
    # `upgrade heads`: neutron has two alembic branches (expand and contract); both go to head.
    # Its migrations fail on SQLite ("No support for ALTER of constraints in SQLite dialect",
    # mitaka 1df244e556f5); neutron's own unit tests build SQLite DBs from the models instead.
    Service(
        "Neutron",
        "neutron",
        "neutron-db-manage",
        (Database("neutron", "database", ("upgrade", "heads")),),
        sqlite_models="neutron.db.migration.models.head.get_metadata",
        sqlite_stamp=("stamp", "heads"),
    ),
    Service(
        "Placement",
        "openstack-placement",
        "placement-manage",
        (Database("placement", "placement_database", ("db", "sync")),),
    ),
    Service(
        "Designate",
        "designate",
        "designate-manage",
        (Database("designate", "storage:sqlalchemy", ("database", "sync")),),
    ),
)

DIALECTS = ("sqlite", "mysql", "postgresql")  # the files' order, as the lab names them
DIALECT_NAME = {"sqlite": "SQLite", "mysql": "MariaDB", "postgresql": "PostgreSQL"}
# MariaDB first: it is what old clouds run, so its version tables are the ones every
# other dialect of a release must end at.
BUILD_ORDER = ("mysql", "sqlite", "postgresql")

# Release name -> how to build it.  Newest first.  Each release is built in its own venv.
#   python:       "3.X", the interpreter its services were made for (see find_python).
#   requirements: file in tools/schema-requirements/: the services' releases and the DB drivers.
#   upper_constraints: (ref, commit) of openstack/requirements whose upper-constraints.txt
#                 the vendored tools/schema-requirements/constraints/<release>.txt was cut
#                 from; None where no stable branch exists yet (the file then holds what pip
#                 resolved, frozen, and says so).
#   no_postgresql: optional {package: why} of services not built on PostgreSQL.
#   not_built:    optional {package: {dialect: why}} of the other services and dialects not
#                 built (a package none of whose dialects is built is not installed).
#   pip:          optional requirement to upgrade the venv's own pip to first (Python 3.6's
#                 pip 18.1 picks sdists where wheels exist).
#   mysql_charset: optional {package: (charset, why)}: the MariaDB database's default
#                 character set for that service, where utf8mb4 (the default) fails.
#   services:     optional subset of SERVICES (by package) to build; default all.
#   revisions:    optional {db: alembic revision} to stop at.  Only needed for a release
#                 whose own packages no longer install: then use a newer package and stop
#                 at the revisions that were head in that release ("revision-sync").
#                 Only databases with a `sync_to` support it.  Without it each package's
#                 own heads are used ("pip-release").
# Neutron dropped PostgreSQL in 26.0.0 (2025.1): release note drop-postgresql-support, commit
# 16e4f0af89 "Remove postgresql code".  26.0.6's migrations still run there, 27.0.0's fail
# (--try neutron:postgresql shows it), so no neutron schema on PostgreSQL from 2025.1 on.
NEUTRON_DROPPED_PG = (
    "Neutron dropped PostgreSQL support in 26.0.0 (2025.1): release note "
    "drop-postgresql-support-d666f15fa7394e9e, commit 16e4f0af89"
)
NEUTRON_NO_PG_2025_1 = {
    "neutron": f"{NEUTRON_DROPPED_PG}. Its migrations still run there (tried: migrations, dump and reload "
    "check pass), but Neutron no longer supports running on it, so no schema is shipped"
}
NEUTRON_NO_PG = {
    "neutron": f"{NEUTRON_DROPPED_PG}, and from 27.0.0 (2025.2) on its migrations fail there: "
    "d553edeb540f_tag_case_sensitive runs MySQL's ALTER TABLE tags CONVERT TO CHARACTER SET utf8mb4 "
    '(psycopg2 SyntaxError at or near "CONVERT")'
}
# Designate 23.0.0's f49c4409c8ba_add_stopped_service_status alters service_statuses.status to
# an enum it names "service_statuses": on PostgreSQL that name is the table's own row type.
DESIGNATE_23_NO_PG = {
    "designate": "designate 23.0.0's migration f49c4409c8ba_add_stopped_service_status fails on PostgreSQL: "
    "it alters service_statuses.status to an enum named service_statuses, the name of the table's own row "
    "type (ALTER TABLE service_statuses ALTER COLUMN status TYPE service_statuses: composite type "
    "service_statuses cannot be made a member of itself)"
}
# Designate before 18.0.0 creates shared_zones without a charset, so in a utf8mb4 database its
# foreign key to the utf8 zones table fails ("errno: 150 Foreign key constraint is incorrectly
# formed"): bug #2043701, fixed by designate 1f045ee6 in 18.0.0 (2024.1) and not backported.
# Deployments of those releases made the database utf8, as devstack does.
DESIGNATE_UTF8 = {
    "designate": (
        "utf8",
        "designate before 18.0.0 fails on utf8mb4 (bug #2043701, fixed by 1f045ee6), "
        "so deployments created its database utf8, as devstack does",
    )
}
# Designate's sqlalchemy-migrate repository (up to Yoga) cannot run on PostgreSQL.
DESIGNATE_MIGRATE_NO_PG = {
    "designate": {
        "postgresql": "designate's sqlalchemy-migrate migration 101_support_naptr_records (Stein on) alters "
        "recordsets.type to an Enum without a name, which SQLAlchemy cannot create on PostgreSQL "
        "(CompileError: PostgreSQL ENUM type requires a name)"
    }
}
# The series before 2023.1: their designate migrations run on utf8mb4 too, but kolla-ansible of those releases ran MariaDB with character-set-server = utf8, so
# that is what their clouds have (the table charsets of Zed's alembic migrations follow it).
DESIGNATE_UTF8_KOLLA = {
    "designate": (
        "utf8",
        "kolla-ansible (Train to 2023.1) runs MariaDB with character-set-server = utf8 "
        "(ansible/roles/mariadb/templates/galera.cnf.j2), so clouds of these releases have a utf8 designate "
        "database; designate's migrations also run on utf8mb4 (tried: Yoga's 14.0.4, Zed's 15.0.2)",
    )
}
# Queens: Nova only, on MariaDB (issue 21: back to Train, or to Queens for Nova).
OLD_NOVA_ONLY = "not built: {release} is built for Nova only (issue 21 goes back to Train, and to Queens for Nova)"
QUEENS_ONLY_NOVA = OLD_NOVA_ONLY.format(release="Queens")
QUEENS_NOT_BUILT = {
    "nova": {
        "sqlite": "nova 17.0.13's sqlalchemy-migrate migrations (sqlalchemy-migrate 0.11.0) fail on SQLite 3.40.1: "
        "216_havana's _create_shadow_tables raises NoSuchTableError: migration_tmp",
        "postgresql": "SQLAlchemy 1.2.1 (Queens' upper-constraints) reflects CHECK constraints through "
        "pg_constraint.consrc, which PostgreSQL 12 removed: nova-manage api_db sync fails on PostgreSQL 15 "
        "(column cons.consrc does not exist)",
    },
    "cinder": dict.fromkeys(DIALECTS, QUEENS_ONLY_NOVA),
    "neutron": dict.fromkeys(DIALECTS, QUEENS_ONLY_NOVA),
    "openstack-placement": dict.fromkeys(
        DIALECTS,
        "Placement has no database of its own before Stein: Queens keeps the placement tables in the Nova "
        "API database (nova_api's files have them)",
    ),
    "designate": dict.fromkeys(
        DIALECTS, "designate 6.x (Queens) is not on PyPI: its releases there go from 5.0.3 (Pike) to 7.0.1 (Rocky)"
    ),
}
# Rocky and Stein: Nova only, like Queens.
ROCKY_NOT_BUILT = {
    "nova": {
        "postgresql": "SQLAlchemy 1.2.10 (Rocky's upper-constraints) reflects CHECK constraints through "
        "pg_constraint.consrc, which PostgreSQL 12 removed: nova-manage api_db sync fails on PostgreSQL 15 "
        "(column cons.consrc does not exist); Stein's SQLAlchemy 1.2.18 runs there",
    },
    "cinder": dict.fromkeys(DIALECTS, OLD_NOVA_ONLY.format(release="Rocky")),
    "neutron": dict.fromkeys(DIALECTS, OLD_NOVA_ONLY.format(release="Rocky")),
    "openstack-placement": dict.fromkeys(
        DIALECTS,
        "Placement has no database of its own before Stein: Rocky keeps the placement tables in the Nova "
        "API database (nova_api's files have them)",
    ),
    "designate": dict.fromkeys(DIALECTS, OLD_NOVA_ONLY.format(release="Rocky")),
}
STEIN_NOT_BUILT = {
    package: dict.fromkeys(DIALECTS, OLD_NOVA_ONLY.format(release="Stein"))
    for package in ("cinder", "neutron", "openstack-placement", "designate")
}
RELEASES: dict[str, dict] = {
    "2026.2": {
        "python": "3.11",
        "requirements": "2026.2.txt",
        "upper_constraints": None,
        "no_postgresql": {**NEUTRON_NO_PG, **DESIGNATE_23_NO_PG},
    },
    "2026.1": {
        "python": "3.11",
        "requirements": "2026.1.txt",
        "upper_constraints": ("stable/2026.1", "0190a07f0add94372d529cbddae77bdc22f3c96c"),
        "no_postgresql": NEUTRON_NO_PG,
    },
    "2025.2": {
        "python": "3.11",
        "requirements": "2025.2.txt",
        "upper_constraints": ("stable/2025.2", "0e88245f541e4c82e3b0cf4b63cf50d7b7322d46"),
        "no_postgresql": NEUTRON_NO_PG,
    },
    "2025.1": {
        "python": "3.11",
        "requirements": "2025.1.txt",
        "upper_constraints": ("stable/2025.1", "19088b84dc74c8f1e31f2547b8c3d5de81a6695e"),
        "no_postgresql": NEUTRON_NO_PG_2025_1,
    },
    "2024.2": {
        "python": "3.11",
        "requirements": "2024.2.txt",
        "upper_constraints": ("2024.2-eol", "9cc6272c9527bc175aedc478acb8e5fca4567ba7"),
    },
    "2024.1": {
        "python": "3.11",
        "requirements": "2024.1.txt",
        "upper_constraints": ("2024.1-eom", "0cbeda0d64ed79d76ad0c24ca4d16bad7313aae6"),
    },
    "2023.2": {
        "python": "3.10",
        "requirements": "2023.2.txt",
        "upper_constraints": ("2023.2-eol", "5df9e1dc718f0b1f719d32fc445160911c99470f"),
        "mysql_charset": DESIGNATE_UTF8,
    },
    "2023.1": {
        "python": "3.10",
        "requirements": "2023.1.txt",
        "upper_constraints": ("2023.1-eom", "838389db5a48e9bc6450e1ea51c4b36dd3d3f88f"),
        "mysql_charset": DESIGNATE_UTF8,
    },
    # The series before the numbered releases (lower-case names, as model/releases.py orders
    # them), each on a Python its release was tested on, under its eol/eom tag's constraints.
    "zed": {
        "python": "3.9",
        "requirements": "zed.txt",
        "upper_constraints": ("zed-eom", "9c379d80fceba448eebe6c3121184435b49c48ec"),
        "mysql_charset": DESIGNATE_UTF8_KOLLA,
    },
    "yoga": {
        "python": "3.8",
        "requirements": "yoga.txt",
        "upper_constraints": ("yoga-eom", "7708c793ab67cd579f3576196a3b510e6c226996"),
        "mysql_charset": DESIGNATE_UTF8_KOLLA,
        "not_built": DESIGNATE_MIGRATE_NO_PG,
    },
    "xena": {
        "python": "3.8",
        "requirements": "xena.txt",
        "upper_constraints": ("xena-eol", "b53e02c75bd4f5e7802a076e204defba924ef300"),
        "mysql_charset": DESIGNATE_UTF8_KOLLA,
        "not_built": DESIGNATE_MIGRATE_NO_PG,
    },
    "wallaby": {
        "python": "3.8",
        "requirements": "wallaby.txt",
        "upper_constraints": ("wallaby-eol", "7e8c973dce0b460d62c7c4a5041cacace670d99e"),
        "mysql_charset": DESIGNATE_UTF8_KOLLA,
        "not_built": DESIGNATE_MIGRATE_NO_PG,
    },
    "victoria": {
        "python": "3.8",
        "requirements": "victoria.txt",
        "upper_constraints": ("victoria-eol", "b5edee25cbc19763b08dc3f7f2e3ef1127e8ff5d"),
        "mysql_charset": DESIGNATE_UTF8_KOLLA,
        "not_built": DESIGNATE_MIGRATE_NO_PG,
    },
    "ussuri": {
        "python": "3.7",
        "requirements": "ussuri.txt",
        "upper_constraints": ("ussuri-eol", "02ef245c6ee3d16c2982abf4b9e1ad4b929cf340"),
        "mysql_charset": DESIGNATE_UTF8_KOLLA,
        "not_built": DESIGNATE_MIGRATE_NO_PG,
    },
    "train": {
        "python": "3.7",
        "requirements": "train.txt",
        "upper_constraints": ("train-eol", "c5e371c0153b5d22200c810d1c84e88d6df9f072"),
        "mysql_charset": DESIGNATE_UTF8_KOLLA,
        "not_built": DESIGNATE_MIGRATE_NO_PG,
    },
    "stein": {
        "python": "3.6",
        "requirements": "stein.txt",
        "upper_constraints": ("stein-eol", "8ca8e28da38bbbc9f66c683f2ad71f34cdc6337a"),
        "not_built": STEIN_NOT_BUILT,
    },
    "rocky": {
        "python": "3.6",
        # Rocky's upper-constraints pins cmd2 (cliff's) for Python 2.7 to 3.5 only, so it is
        # resolved freely; Python 3.6's pip 18.1 then takes an importlib-metadata for 3.10 (and
        # "pip<22" would not upgrade it: 18.1 satisfies it).
        "pip": "pip==21.3.1",
        "requirements": "rocky.txt",
        "upper_constraints": ("rocky-eol", "a619ac22d69ad07da7a1b5000613f263a2680afa"),
        "not_built": ROCKY_NOT_BUILT,
    },
    "queens": {
        "python": "3.6",
        "pip": "pip<22",
        "requirements": "queens.txt",
        "upper_constraints": ("queens-eol", "d6b99013d345e0d231971a6376a2f89b7ded4890"),
        "not_built": QUEENS_NOT_BUILT,
    },
    # Fallback kept as an example (checked for nova: SQLite and MariaDB DDL identical to the
    # pip-release build of nova 29.4.0).  Only nova's databases support revisions, so the
    # other services would still need a pip-release of their own.
    # "2024.1": {"python": "3.11", "requirements": "2026.2.txt", "upper_constraints": None,
    #            "services": ("nova",), "revisions": {"nova_api": "cdeec0c85668", "nova": "13863f4e1612"}},
}
CONSTRAINTS_DIR = REQ_DIR / "constraints"

# Packages whose versions shape the DDL, besides the services; recorded in versions.json
# where the release installs them.
# neutron-lib: neutron's models (its SQLite schema) are partly defined there.
LIBRARIES = ("neutron-lib", "SQLAlchemy", "alembic", "oslo.db", "PyMySQL", "psycopg2-binary")
# The same, for the releases before alembic, which migrate with it.
OLD_LIBRARIES = ("sqlalchemy-migrate",)


# Runs inside a venv (which has PyMySQL): executes statements and/or dumps one MariaDB
# database.  Request and answer are JSON on stdin/stdout.
MYSQL_HELPER = r"""
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
    out["alembic"] = out["migrate"] = []
    if "alembic_version" in tables:
        cur.execute("SELECT version_num FROM alembic_version ORDER BY version_num")
        out["alembic"] = [r[0] for r in cur.fetchall()]
    if "migrate_version" in tables:
        cur.execute("SELECT repository_id, repository_path, version FROM migrate_version ORDER BY repository_id")
        out["migrate"] = [list(r) for r in cur.fetchall()]
json.dump(out, sys.stdout)
"""


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
        with open(logfile, "a") as err:  # some commands say why on stdout (designate-manage)
            err.write(proc.stdout)
        tail = logfile.read_text(errors="replace").splitlines()[-25:]
        raise BuildError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n  " + "\n  ".join(tail))
    return proc.stdout


def split_statements(text: str) -> list[str]:
    """The file format's contract (same rule as osfsck_lab.schemas.ddl_statements):
    statements end with ';' at the end of a line; '--' lines are comments."""
    out = []
    for chunk in text.split(";\n"):
        body = "\n".join(line for line in chunk.splitlines() if not line.startswith("--")).strip()
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
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def norm(package: str) -> str:
    """PyPI name normalisation, so "oslo.db" finds pip freeze's "oslo.db" / "oslo_db"."""
    return re.sub(r"[-_.]+", "-", package).lower()


def find_python(version: str) -> str:
    """The interpreter `python<version>`: on PATH, else the newest pyenv build of it."""
    name = f"python{version}"
    found = shutil.which(name)
    if found and subprocess.run([found, "-c", ""], capture_output=True).returncode == 0:
        return found  # (a pyenv shim for a version not selected exists but fails)
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    builds = sorted(root.glob(f"{version}.*/bin/{name}"), key=lambda p: [int(x) for x in p.parts[-3].split(".")])
    if not builds:
        raise BuildError(f"{name} not found (on PATH or under pyenv): it builds this release")
    return str(builds[-1])


def constraint_name(line: str) -> str:
    """The package a requirement/constraint line is about ("oslo.db===1; python_version..." -> "oslo-db")."""
    return norm(re.split(r"[\s;<>=!~\[]", line.strip(), maxsplit=1)[0])


def vendor_constraints(release: str, spec: dict, upper: Path, freeze: list[str]) -> None:
    """Write constraints/<release>.txt: the lines of `upper` (openstack/requirements'
    upper-constraints.txt) for the packages the venv installed, by name, and say which
    installed packages it does not constrain."""
    installed = {constraint_name(line): line for line in freeze if "==" in line}
    lines = [line for line in upper.read_text().splitlines() if line.strip() and not line.startswith("#")]
    kept = sorted((line for line in lines if constraint_name(line) in installed), key=str.lower)
    free = sorted((v for k, v in installed.items() if k not in {constraint_name(line) for line in kept}), key=str.lower)
    ref, commit = spec["upper_constraints"]
    text = [
        f"# Upper constraints of OpenStack {release}: openstack/requirements {ref} ({commit}),",
        "# file upper-constraints.txt: only its lines for the packages the release's venv installs",
        f"# ({len(kept)} of {len(lines)}).  Version facts; written by tools/build_schemas.py --constraints-from.",
        "# Installed, not in upper-constraints (pinned by the requirements file, or resolved freely):",
        *(f"#   {v}" for v in free),
        *kept,
    ]
    CONSTRAINTS_DIR.mkdir(parents=True, exist_ok=True)
    (CONSTRAINTS_DIR / f"{release}.txt").write_text("\n".join(text) + "\n")


def freeze_constraints(release: str, freeze: list[str]) -> None:
    """For a release without a stable branch of openstack/requirements: freeze what pip resolved."""
    pins = sorted((line for line in freeze if "==" in line), key=str.lower)
    text = [
        f"# OpenStack {release} has no stable/{release} branch of openstack/requirements (so no",
        "# upper-constraints of its own) when this was written: these are the versions pip resolved",
        f"# for tools/schema-requirements/{release}.txt on {datetime.date.today().isoformat()}, frozen so the build",
        "# stays reproducible.  Written by tools/build_schemas.py --freeze-constraints.",
        *pins,
    ]
    CONSTRAINTS_DIR.mkdir(parents=True, exist_ok=True)
    (CONSTRAINTS_DIR / f"{release}.txt").write_text("\n".join(text) + "\n")


@dataclass(frozen=True)
class Stamp:
    """What a database's version tables say: alembic_version's revisions (sorted; neutron
    has two, its expand and contract heads), and, for the releases before alembic,
    sqlalchemy-migrate's migrate_version rows (repository_id, repository_path, version),
    by repository_id.  The path is cut to the part below site-packages: the migrations
    store the absolute path of the build's throw-away venv there, which is not schema."""

    alembic: tuple[str, ...] = ()
    migrate: tuple[tuple[str, str, int], ...] = ()

    @classmethod
    def of(cls, alembic, migrate) -> Stamp:
        rows = sorted((str(r), re.sub(r"^.*/site-packages/", "", str(p or "")), int(v)) for r, p, v in migrate)
        return cls(tuple(sorted(alembic)), tuple(rows))

    def lines(self) -> list[str]:
        """For the file header."""
        out = [f"sqlalchemy-migrate version (migrate_version): {r} {v}" for r, _, v in self.migrate]
        if self.alembic:
            label = "alembic revision" if len(self.alembic) == 1 else "alembic revisions"
            out.append(f"{label}: {' '.join(self.alembic)}")
        return out

    def inserts(self, quote: str) -> list[str]:
        """The INSERTs that end a file, so a database loaded from it says its version."""
        q = quote
        migrate = [
            f"INSERT INTO {q}migrate_version{q} ({q}repository_id{q}, {q}repository_path{q}, {q}version{q}) "
            f"VALUES ('{r}', '{p}', {v})"
            for r, p, v in self.migrate
        ]
        return migrate + alembic_insert(list(self.alembic), quote)


def header(db: str, release: str, what: str, how: str, stamp: Stamp) -> list[str]:
    return [
        f"{db} schema of OpenStack {release}, {what}.",
        how,
        *stamp.lines(),
        "Generated by tools/build_schemas.py; do not edit.",
    ]


# ---------------------------------------------------------------- MariaDB


def mariadb_url(server: MariaDB, db: str) -> str:
    return f"mysql+pymysql://root@127.0.0.1:{server.port}/{db}?charset=utf8mb4"


def mariadb_call(server: MariaDB, python: Path, logfile: Path, **req) -> dict:
    out = run([str(python), "-c", MYSQL_HELPER], logfile, input=json.dumps({"port": server.port, **req}))
    return json.loads(out)


def mariadb_fresh(server: MariaDB, python: Path, logfile: Path, names: list[str], charset: str = "utf8mb4") -> None:
    mariadb_call(
        server,
        python,
        logfile,
        exec=[f"DROP DATABASE IF EXISTS `{n}`" for n in names]
        + [f"CREATE DATABASE `{n}` CHARACTER SET {charset}" for n in names],
    )


# ---------------------------------------------------------------- PostgreSQL
# Through the server's own psql and pg_dump (same major version as the server), so the
# builder needs no driver outside the venvs; the services use psycopg2 (SQLAlchemy 1.4,
# of the older releases, has no psycopg 3 dialect).


def pg_url(server: PostgreSQL, db: str) -> str:
    return f"postgresql+psycopg2://postgres@127.0.0.1:{server.port}/{db}"


def psql(server: PostgreSQL, logfile: Path, db: str, *args: str) -> str:
    base = [str(server.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"]
    return run([*base, "-p", str(server.port), "-U", "postgres", "-d", db, *args], logfile)


def pg_fresh(server: PostgreSQL, logfile: Path, names: list[str]) -> None:
    for n in names:
        psql(server, logfile, "postgres", "-c", f'DROP DATABASE IF EXISTS "{n}"', "-c", f'CREATE DATABASE "{n}"')


def pg_query(server: PostgreSQL, logfile: Path, db: str, sql: str) -> list[str]:
    return psql(server, logfile, db, "-A", "-t", "-c", sql).splitlines()


# pg_dump's preamble: session settings for its own restore, not schema.
PG_PREAMBLE = re.compile(r"^(SET |SELECT pg_catalog\.set_config\()")


def pg_dump(server: PostgreSQL, logfile: Path, db: str) -> tuple[list[str], Stamp]:
    """(DDL statements in pg_dump's order, its version tables) of one PostgreSQL database.
    pg_dump orders objects by kind and name, so the order is stable from run to run."""
    out = run(
        [str(server.bin / "pg_dump"), "--schema-only", "--no-owner", "--no-privileges",
         "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", db],
        logfile,
    )  # fmt: skip
    # psql meta-commands (\restrict with a random key, since 15.14) are not SQL.
    text = "\n".join(line for line in out.splitlines() if not line.startswith("\\")) + "\n"
    ddl = [stmt for stmt in split_statements(text) if not PG_PREAMBLE.match(stmt)]
    tables = pg_tables(server, logfile, db)
    revs = (
        pg_query(server, logfile, db, "SELECT version_num FROM alembic_version") if "alembic_version" in tables else []
    )
    migrate = []
    if "migrate_version" in tables:
        rows = pg_query(server, logfile, db, "SELECT repository_id, repository_path, version FROM migrate_version")
        migrate = [row.split("|") for row in rows]
    return ddl, Stamp.of(revs, migrate)


def pg_tables(server: PostgreSQL, logfile: Path, db: str) -> set[str]:
    return set(pg_query(server, logfile, db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))


# ---------------------------------------------------------------- dumps


SQLITE_CONSTRAINTS = ("PRIMARY KEY", "UNIQUE", "CHECK", "FOREIGN KEY")


def stable_sqlite_table(sql: str) -> str:
    """A CREATE TABLE of SQLite with its table constraints in a stable order.

    When alembic's batch mode recreates a SQLite table (cinder, designate), it emits the
    table's constraints in set order, so two identical builds differ.  Columns keep their
    real order; the constraints after them are sorted by kind (as MariaDB groups keys) and
    text.  That changes no meaning (only the numbering of sqlite_autoindex_* names).
    The layout is SQLAlchemy's, one item per tab-indented line; anything else is left as is.
    """
    lines = sql.split("\n")
    body = [line.rstrip(", ") for line in lines[1:-1]]
    if not (lines[0].endswith(" (") and lines[-1] == ")" and all(line.startswith("\t") for line in body)):
        return sql

    def kind(item: str) -> int | None:
        item = re.sub(r"^CONSTRAINT \S+ ", "", item.strip())
        return next((i for i, k in enumerate(SQLITE_CONSTRAINTS) if re.match(k + r" ?\(", item)), None)

    columns = [line for line in body if kind(line) is None]
    if columns != body[: len(columns)]:
        return sql  # constraints between columns: not SQLAlchemy's layout
    constraints = sorted(body[len(columns) :], key=lambda line: (kind(line), line))
    return "\n".join([lines[0], ", \n".join(columns + constraints), ")"])


def sqlite_dump(con: sqlite3.Connection) -> tuple[list[str], Stamp]:
    """(DDL statements in a stable order, its version tables) of one SQLite DB."""
    rows = con.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    # Tables by name, then indexes, views and triggers by name: migrations create indexes
    # in set order, so sqlite_master's own order changes from run to run.
    kinds = ["table", "index", "view", "trigger"]
    rows.sort(key=lambda r: (kinds.index(r[0]), r[1]))
    tables = {name for kind, name, _ in rows if kind == "table"}
    revs = [r[0] for r in con.execute("SELECT version_num FROM alembic_version")] if "alembic_version" in tables else []
    migrate = []
    if "migrate_version" in tables:
        migrate = con.execute("SELECT repository_id, repository_path, version FROM migrate_version").fetchall()
    ddl = [stable_sqlite_table(sql.strip()) if kind == "table" else sql.strip() for kind, _, sql in rows]
    return ddl, Stamp.of(revs, migrate)


def sqlite_tables(con: sqlite3.Connection) -> set[str]:
    return {
        r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    }


def stable_create_table(ddl: str) -> str:
    """SHOW CREATE TABLE output made stable from run to run.

    MariaDB lists secondary keys in the order they were created, and the migrations create
    them by iterating a Python set, so that order changes between two identical builds.
    Sorting them by name (unique keys, then keys, then constraints, as MariaDB groups them)
    changes no meaning.  Columns and the primary key keep their real order.
    AUTO_INCREMENT=n is table state, not schema, so it is dropped.
    """
    lines = ddl.splitlines()
    head, body, tail = lines[0], [line.rstrip(",") for line in lines[1:-1]], lines[-1]
    fixed = [line for line in body if line.lstrip().startswith(("`", "PRIMARY KEY"))]

    def rank(line):
        return next((i for i, p in enumerate(("UNIQUE KEY", "KEY", "CONSTRAINT")) if line.lstrip().startswith(p)), 3)

    rest = sorted((line for line in body if line not in fixed), key=lambda line: (rank(line), line))
    if fixed != body[: len(fixed)]:
        raise BuildError(f"unexpected SHOW CREATE TABLE layout: {head}")
    tail = re.sub(r" AUTO_INCREMENT=\d+", "", tail)
    return "\n".join([head, ",\n".join(fixed + rest), tail])


def mysql_statements(dump: dict) -> list[str]:
    return [stable_create_table(ddl) for _, ddl in sorted(dump["tables"].items())]


def alembic_insert(revs: list[str], quote: str) -> list[str]:
    t, c = f"{quote}alembic_version{quote}", f"{quote}version_num{quote}"
    return [f"INSERT INTO {t} ({c}) VALUES ('{r}')" for r in revs]


# ---------------------------------------------------------------- one release


# The front of an oslo.log line ("2026-12-06 12:54:32.840 20321 ERROR designate "), not the error.
OSLO_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d [\d:.]+ \d+ [A-Z]+ \S+ ")


class ReleaseBuild:
    """One release: its venv, its sync runs, its dump files."""

    def __init__(
        self,
        release: str,
        spec: dict,
        python: str,
        mariadb: MariaDB,
        postgres: PostgreSQL,
        work: Path,
        keep_venv: bool = False,
    ):
        self.release, self.spec, self.mariadb, self.postgres = release, spec, mariadb, postgres
        self.revisions: dict[str, str] = spec.get("revisions", {})
        # (package, dialect) -> why it is not built: declared in RELEASES, or (--keep-going) how it failed
        self.skipped = {
            **{(p, "postgresql"): why for p, why in spec.get("no_postgresql", {}).items()},
            **{(p, d): why for p, dialects in spec.get("not_built", {}).items() for d, why in dialects.items()},
        }
        wanted = spec.get("services")
        self.services = [
            s
            for s in SERVICES
            if (wanted is None or s.package in wanted) and not all((s.package, d) in self.skipped for d in DIALECTS)
        ]
        for db in self.revisions:
            if not any(d.name == db and d.sync_to for s in self.services for d in s.databases):
                raise BuildError(f"{release}: cannot stop {db} at a revision (no sync_to for it)")
        self.dir = work / release
        self.dir.mkdir(exist_ok=True)
        self.keep_venv = keep_venv
        self.logfile = self.dir / "build.log"
        self.outdir = OUT_DIR / release
        # A fixed PYTHONHASHSEED removes one source of run-to-run noise (str-keyed set/dict
        # order in the migrations).  Index creation order still varies (sets of Index objects
        # hash by id), which is why the dumps sort indexes/keys by name.
        self.env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONWARNINGS": "ignore"}
        self.python = python
        self.venv = self.dir / "venv"
        self.vpy = self.venv / "bin" / "python"
        self.versions: dict[str, str] = {}
        self.heads: dict[str, Stamp] = {}  # db -> its version tables, as the first dialect built left them
        self.how: dict[str, dict[str, str]] = {}
        self.tables: dict[str, dict[str, set[str]]] = {}  # db -> dialect -> table names

    # --- venv

    def install(self, upper: Path | None = None, freeze_new: bool = False) -> None:
        """The venv, under the vendored constraints; or, to (re)write them, under
        openstack/requirements' whole upper-constraints file `upper` / under none (`freeze_new`).
        A venv left by an earlier run with --work is used as it is."""
        req = REQ_DIR / self.spec["requirements"]
        constraints = CONSTRAINTS_DIR / f"{self.release}.txt"
        if upper is None and not freeze_new and not constraints.exists():
            raise BuildError(f"{self.release}: no {constraints.relative_to(ROOT)}; write it with --constraints-from")
        if not self.vpy.exists():
            run([self.python, "-m", "venv", str(self.venv)], self.logfile)
            if self.spec.get("pip"):
                run([str(self.vpy), "-m", "pip", "install", "--quiet", self.spec["pip"]], self.logfile)
            limit = [] if freeze_new else ["-c", str(upper or constraints)]
            run([str(self.vpy), "-m", "pip", "install", "--quiet", *limit, "-r", str(req)], self.logfile)
        run([str(self.vpy), "-m", "pip", "check"], self.logfile)  # a broken dependency set is not a real release
        freeze = run([str(self.vpy), "-m", "pip", "freeze"], self.logfile).splitlines()
        if upper is not None:
            vendor_constraints(self.release, self.spec, upper, freeze)
        elif freeze_new:
            freeze_constraints(self.release, freeze)
        installed = {norm(name): v for name, _, v in (line.partition("==") for line in freeze if "==" in line)}
        for package in [s.package for s in self.services]:
            self.versions[package] = installed.get(norm(package), "?")
        for package in LIBRARIES + OLD_LIBRARIES:  # where installed (Queens' Nova alone has no neutron-lib)
            if norm(package) in installed:
                self.versions[package] = installed[norm(package)]
        out = run(
            [str(self.vpy), "-c", "import sys, sqlite3; print(sys.version.split()[0], sqlite3.sqlite_version)"],
            self.logfile,
        )
        self.python_version, self.sqlite_version = out.split()

    # --- running the services' own commands

    def describe(self, service: Service) -> str:
        """How one service's migrations were run, for headers and versions.json."""
        version = self.versions[service.package]
        revs = {d.name: self.revisions[d.name] for d in service.databases if d.name in self.revisions}
        if revs:
            stops = ", ".join(f"{db} {rev}" for db, rev in revs.items())
            return f"revision-sync: {service.package} {version} synced to the {self.release} heads ({stops})"
        return f"pip-release: {service.package} {version} installed from PyPI, synced to its own heads"

    def sync(self, service: Service, urls: dict[str, str], dialect: str) -> None:
        """Migrate the service's databases at `urls` with its own manage command."""
        conf = self.dir / f"{service.package}-{dialect}.conf"
        sections = "".join(f"[{d.section}]\nconnection = {urls[d.name]}\n" for d in service.databases)
        conf.write_text("[DEFAULT]\n" + sections)
        manage = [str(self.venv / "bin" / service.manage), "--config-file", str(conf)]
        if dialect == "sqlite" and service.sqlite_models:
            (db,) = service.databases  # the models path assumes one database per service
            run([str(self.vpy), "-c", MODELS_CREATE, service.sqlite_models, urls[db.name]], self.logfile, env=self.env)
            run(manage + list(service.sqlite_stamp), self.logfile, env=self.env)
            return
        for d in service.databases:
            rev = self.revisions.get(d.name)
            args = [a.format(rev=rev) for a in d.sync_to] if rev else list(d.sync)
            run(manage + args, self.logfile, env=self.env)

    def how_built(self, service: Service, dialect: str) -> str:
        if dialect == "sqlite" and service.sqlite_models:
            version = self.versions[service.package]
            return (
                f"Built from {service.name}'s models, because its migrations fail on SQLite "
                f"({service.package} {version} installed from PyPI; {service.sqlite_models}()"
                f".create_all(engine), then `{service.manage} {' '.join(service.sqlite_stamp)}`)."
            )
        return f"Built with {service.name}'s own migrations ({self.describe(service)})."

    def stamped(self, db: str, dialect: str, stamp: Stamp) -> None:
        """Check that `db` ends at the same versions on every dialect; the first one built sets them."""
        if not stamp.alembic and not stamp.migrate:
            raise BuildError(f"{self.release} {db}: no alembic revision or migrate version recorded on {dialect}")
        first = self.heads.setdefault(db, stamp)
        if stamp != first:
            raise BuildError(f"{self.release} {db}: {dialect} ends at {stamp}, another dialect at {first}")

    # --- SQLite

    def build_sqlite(self, service: Service) -> None:
        files = {d.name: self.dir / f"{d.name}.sqlite" for d in service.databases}
        for file in files.values():
            file.unlink(missing_ok=True)  # (a --work folder may hold an earlier run's)
        self.sync(service, {db: f"sqlite:///{p}" for db, p in files.items()}, "sqlite")
        how = self.how_built(service, "sqlite")
        for db, file in files.items():
            con = sqlite3.connect(file)
            ddl, stamp = sqlite_dump(con)
            self.tables.setdefault(db, {})["sqlite"] = sqlite_tables(con)
            con.close()
            self.stamped(db, "sqlite", stamp)
            self.how.setdefault(db, {})["sqlite"] = how
            path = self.outdir / f"{db}.sqlite.sql"
            lines = header(db, self.release, f"SQLite ({len(ddl)} statements)", how, stamp)
            path.write_text(join_statements(lines, ddl + stamp.inserts('"')))
            # Reload check: a fresh DB loaded from the file must match the migrated one.
            fresh = sqlite3.connect(":memory:")
            for stmt in split_statements(path.read_text()):
                fresh.execute(stmt)
            reloaded = sqlite_dump(fresh)
            fresh.close()
            if reloaded != (ddl, stamp):
                raise BuildError(f"{path.name}: reloaded SQLite schema differs from the migrated one")

    # --- MariaDB

    def build_mysql(self, service: Service) -> None:
        names = {d.name: f"r{self.release.replace('.', '_')}_{d.name}" for d in service.databases}
        charset, why = self.spec.get("mysql_charset", {}).get(service.package, ("utf8mb4", ""))
        mariadb_fresh(self.mariadb, self.vpy, self.logfile, list(names.values()), charset)
        self.sync(service, {db: mariadb_url(self.mariadb, n) for db, n in names.items()}, "mysql")
        how = self.how_built(service, "mysql") + (f" In a {charset} database: {why}." if why else "")
        for db, name in names.items():
            dump = mariadb_call(self.mariadb, self.vpy, self.logfile, db=name, dump=True)
            if dump["views"]:
                raise BuildError(f"{self.release} {db}: views are not handled: {dump['views']}")
            stamp = Stamp.of(dump["alembic"], dump["migrate"])
            self.stamped(db, "mysql", stamp)
            self.tables.setdefault(db, {})["mysql"] = set(dump["tables"])
            self.how.setdefault(db, {})["mysql"] = how
            ddl = mysql_statements(dump)
            lines = header(
                db,
                self.release,
                f"MariaDB {self.mariadb.version} (SHOW CREATE TABLE, {len(ddl)} tables; secondary keys sorted by name)",
                how,
                stamp,
            )
            stmts = ["SET FOREIGN_KEY_CHECKS=0", *ddl, "SET FOREIGN_KEY_CHECKS=1", *stamp.inserts("`")]
            path = self.outdir / f"{db}.mysql.sql"
            path.write_text(join_statements(lines, stmts))
            # Reload check into a fresh database.
            check = f"reload_{name}"
            mariadb_fresh(self.mariadb, self.vpy, self.logfile, [check])
            mariadb_call(self.mariadb, self.vpy, self.logfile, db=check, exec=split_statements(path.read_text()))
            again = mariadb_call(self.mariadb, self.vpy, self.logfile, db=check, dump=True)
            if mysql_statements(again) != ddl or Stamp.of(again["alembic"], again["migrate"]) != stamp:
                raise BuildError(f"{path.name}: reloaded MariaDB schema differs from the migrated one")

    # --- PostgreSQL

    def build_postgresql(self, service: Service) -> None:
        names = {d.name: f"r{self.release.replace('.', '_')}_{d.name}" for d in service.databases}
        pg_fresh(self.postgres, self.logfile, list(names.values()))
        self.sync(service, {db: pg_url(self.postgres, n) for db, n in names.items()}, "postgresql")
        how = self.how_built(service, "postgresql")
        for db, name in names.items():
            ddl, stamp = pg_dump(self.postgres, self.logfile, name)
            self.stamped(db, "postgresql", stamp)
            self.tables.setdefault(db, {})["postgresql"] = pg_tables(self.postgres, self.logfile, name)
            self.how.setdefault(db, {})["postgresql"] = how
            lines = header(
                db,
                self.release,
                f"PostgreSQL {self.postgres.version} (pg_dump --schema-only --no-owner --no-privileges, "
                f"{len(ddl)} statements, its session settings left out)",
                how,
                stamp,
            )
            path = self.outdir / f"{db}.postgresql.sql"
            path.write_text(join_statements(lines, ddl + stamp.inserts('"')))
            # Reload check into a fresh database (one transaction).
            check = f"reload_{name}"
            pg_fresh(self.postgres, self.logfile, [check])
            psql(self.postgres, self.logfile, check, "-1", "-f", str(path))
            if pg_dump(self.postgres, self.logfile, check) != (ddl, stamp):
                raise BuildError(f"{path.name}: reloaded PostgreSQL schema differs from the migrated one")

    def table_differences(self) -> dict[str, dict[str, list[str]]]:
        """Tables present in only one dialect.  Migrations create the same tables on every
        dialect; a models-built SQLite schema may lack some (e.g. neutron's bgp_* tables)."""
        out = {}
        models_built = {d.name for s in self.services if s.sqlite_models for d in s.databases}
        for db, t in self.tables.items():
            diff = {}
            if "mysql" in t and "sqlite" in t:
                diff = {
                    "only_in_mysql": sorted(t["mysql"] - t["sqlite"]),
                    "only_in_sqlite": sorted(t["sqlite"] - t["mysql"]),
                }
                diff = {k: v for k, v in diff.items() if v}
            if diff and db not in models_built:
                raise BuildError(f"{self.release} {db}: migrations built different tables per dialect: {diff}")
            if "postgresql" in t and "mysql" in t and t["postgresql"] != t["mysql"]:  # both from the migrations
                raise BuildError(
                    f"{self.release} {db}: PostgreSQL and MariaDB tables differ: {t['postgresql'] ^ t['mysql']}"
                )
            if diff:
                out[db] = diff
        return out

    def forget(self, service: Service, dialect: str) -> None:
        """Leave no file and no record of a service's dialect that is not shipped."""
        for d in service.databases:
            (self.outdir / f"{d.name}.{dialect}.sql").unlink(missing_ok=True)
            self.how.get(d.name, {}).pop(dialect, None)
            self.tables.get(d.name, {}).pop(dialect, None)

    def attempt(self, service: Service, dialect: str, build, keep_going: bool) -> str:
        """Build one service on one dialect; with `keep_going`, a failure is said (its
        last error line, which is returned) instead of ending the build."""
        try:
            build(service)
        except BuildError as e:
            if not keep_going:
                raise
            self.forget(service, dialect)
            errors = [line.strip() for line in str(e).splitlines() if re.search(r"(Error|Exception)\b", line)]
            why = (errors or [str(e).splitlines()[0]])[-1]
            why = OSLO_LOG_PREFIX.sub("", why)
            log(f"[{self.release}] {service.package} on {dialect} fails: {why}")
            return why
        return ""

    def build(
        self,
        built_on: str,
        upper: Path | None = None,
        freeze_new: bool = False,
        try_: tuple[tuple[str, str], ...] = (),
        keep_going: bool = False,
    ) -> dict:
        t = time.monotonic()
        self.install(upper, freeze_new)
        log(
            f"[{self.release}] venv + pip install: {time.monotonic() - t:.1f}s "
            f"({', '.join(f'{s.package} {self.versions[s.package]}' for s in self.services)}; "
            f"Python {self.python_version})"
        )
        self.outdir.mkdir(parents=True, exist_ok=True)
        builders = {"mysql": self.build_mysql, "sqlite": self.build_sqlite, "postgresql": self.build_postgresql}
        failed = {}
        for dialect in BUILD_ORDER:
            for service in self.services:
                if (service.package, dialect) in self.skipped:
                    if (service.package, dialect) in try_:  # run it anyway, say how it goes, ship nothing
                        why = self.attempt(service, dialect, builders[dialect], keep_going=True)
                        if not why:
                            log(
                                f"[{self.release}] {service.package} on {dialect}: migrations, dump and reload check pass"
                            )
                    self.forget(service, dialect)
                    continue
                t = time.monotonic()
                why = self.attempt(service, dialect, builders[dialect], keep_going)
                if why:
                    name, version = service.package, self.versions[service.package]
                    failed[name, dialect] = f"{name} {version} fails on {DIALECT_NAME[dialect]} (tried): {why}"
                    continue
                log(
                    f"[{self.release}] {service.package} {dialect} sync + dump + reload check: "
                    f"{time.monotonic() - t:.1f}s"
                )
        if not self.keep_venv:
            shutil.rmtree(self.venv)  # ~0.7 GB each; the dumps are what is kept
        ref, commit = self.spec["upper_constraints"] or (None, None)
        not_built: dict[str, dict[str, str]] = {}
        for s in SERVICES:
            for d in s.databases:
                for dialect in DIALECTS:
                    why = self.skipped.get((s.package, dialect)) or failed.get((s.package, dialect))
                    if why:
                        not_built.setdefault(d.name, {})[dialect] = why
        result = {
            "packages": self.versions,
            "python": self.python_version,
            "sqlite": self.sqlite_version,
            "mariadb": self.mariadb.version,
            "postgresql": self.postgres.version,
            "built_by": "revision-sync" if self.revisions else "pip-release",
            "how": {db: {d: how[d] for d in DIALECTS if d in how} for db, how in self.how.items()},
            "not_built": not_built,
            "alembic_heads": {db: list(s.alembic) for db, s in self.heads.items() if s.alembic},
        }
        migrate = {db: [{"repository_id": r, "version": v} for r, _, v in s.migrate] for db, s in self.heads.items()}
        if any(migrate.values()):  # the releases before alembic: sqlalchemy-migrate's migrate_version
            result["migrate_versions"] = {db: rows for db, rows in migrate.items() if rows}
        return {
            **result,
            "table_differences": self.table_differences(),
            "built_on": built_on,
            "requirements": f"tools/schema-requirements/{self.spec['requirements']}",
            "pins": read_requirements(self.spec["requirements"]),
            "constraints": f"tools/schema-requirements/constraints/{self.release}.txt",
            "upper_constraints": (
                {"repository": "openstack/requirements", "ref": ref, "commit": commit}
                if ref
                else "none: no stable branch of openstack/requirements yet; the constraints are pip's resolution, frozen"
            ),
        }


def record(release: str, result: dict) -> None:
    """Write one release's entry to versions.json (after each release, so a later failure keeps it)."""
    vfile = OUT_DIR / "versions.json"
    versions = json.loads(vfile.read_text()) if vfile.exists() else {}
    versions[release] = result
    versions = dict(sorted(versions.items(), key=lambda kv: order.key(kv[0]), reverse=True))
    vfile.write_text(json.dumps(versions, indent=2) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--release", action="append", choices=sorted(RELEASES), help="build only this release (repeatable)")
    ap.add_argument("--python", help="interpreter for the venvs (default: each release's own, see RELEASES)")
    ap.add_argument(
        "--constraints-from",
        type=Path,
        metavar="UPPER_CONSTRAINTS",
        help="install under this upper-constraints.txt (of the release's ref in RELEASES) and vendor its lines",
    )
    ap.add_argument(
        "--freeze-constraints",
        action="store_true",
        help="for a release without upper-constraints: install unconstrained and freeze the result",
    )
    ap.add_argument(
        "--try",
        dest="tries",
        action="append",
        default=[],
        metavar="PACKAGE:DIALECT",
        help="run this service's migrations on this dialect (sqlite, mysql, postgresql) although RELEASES "
        "leaves it out, and say how it went; nothing is shipped",
    )
    ap.add_argument(
        "--keep-going",
        action="store_true",
        help="when a service fails on a dialect, say why, record it under not_built and build the rest",
    )
    ap.add_argument(
        "--work",
        type=Path,
        metavar="DIR",
        help="keep each release's venv, logs and DB files in DIR/<release> (reused by the next run; delete it after)",
    )
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (DB files, logs)")
    args = ap.parse_args()
    tries = tuple(tuple(t.split(":", 1)) for t in args.tries)
    if any(len(t) != 2 or t[1] not in DIALECTS for t in tries):
        print(f"error: --try takes PACKAGE:DIALECT, the dialect one of {', '.join(DIALECTS)}", file=sys.stderr)
        return 2

    for tool in ("mariadbd", "mariadb-install-db"):
        if shutil.which(tool) is None:
            print(
                f"error: {tool} not found on PATH (install mariadb-server, e.g. apt-get install mariadb-server)",
                file=sys.stderr,
            )
            return 2
    releases = args.release or list(RELEASES)
    if (args.constraints_from or args.freeze_constraints) and len(releases) != 1:
        print(
            "error: --constraints-from/--freeze-constraints write one release's file: give one --release",
            file=sys.stderr,
        )
        return 2
    # A SIGTERM unwinds like Ctrl-C: the running command is killed (subprocess.run does) and
    # the finally below stops both servers and removes the temporary directory.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    built_on = datetime.datetime.now(datetime.UTC).date().isoformat()
    work = Path(tempfile.mkdtemp(prefix="osfsck-schemas-"))
    work.chmod(0o755)  # the PostgreSQL server runs as user postgres and must reach its folder
    start = time.monotonic()
    mariadb = postgres = None
    try:
        t = time.monotonic()
        mariadb = MariaDB(work / "mariadb")
        postgres = PostgreSQL(work / "postgresql")
        log(
            f"MariaDB {mariadb.version} on 127.0.0.1:{mariadb.port}, PostgreSQL {postgres.version} on "
            f"127.0.0.1:{postgres.port} ({time.monotonic() - t:.1f}s)"
        )
        for release in releases:
            t = time.monotonic()
            spec = RELEASES[release]
            python = args.python or find_python(spec["python"])
            build = ReleaseBuild(release, spec, python, mariadb, postgres, args.work or work, keep_venv=bool(args.work))
            record(
                release, build.build(built_on, args.constraints_from, args.freeze_constraints, tries, args.keep_going)
            )
            log(f"[{release}] done in {time.monotonic() - t:.1f}s")
    except (BuildError, MariaDBError, PostgreSQLError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        for server in (postgres, mariadb):
            if server is not None:
                server.stop()
        if args.keep_tmp:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    log(f"done in {time.monotonic() - start:.1f}s; wrote {OUT_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
