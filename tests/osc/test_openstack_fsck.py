"""`openstack fsck ...` in a real OpenStackClient: python-openstackclient and osfsck (the
`osc` extra, editable from this tree) in their own virtualenv, `.venv-osc` beside osfsck's
`.venv` (scripts/setup makes it; OSFSCK_OSC_VENV names another), run as operators run it.

The same engine and options as osfsck's own: the findings of a saved snapshot row for row as
`osfsck check` gives them, a real repair of a real Cinder database (exit 1, then 0) and its
journal, osfsck's exit codes through OSC, usage errors as one line and exit 16 before
anything runs, OSC's formats (-f json, value, csv, yaml, -c, --sort-column), cloud data
escaped on a terminal format and quoted whole in the others, no secret, and the cloud OSC
was told passed on to osfsck."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from osfsck.cli import main as cli
from osfsck.engine import admin
from osfsck.report import rows as listing
from tests.cli.hostile import HOSTILE, hostile_snapshot
from tests.repairs.helpers import RELEASE
from tests.repairs.test_quota_repairs import cinder
from tests.support.world import World

pytestmark = pytest.mark.integration


def venv() -> Path | None:
    given = os.environ.get("OSFSCK_OSC_VENV")
    path = Path(given) if given else Path(sys.prefix).parent / ".venv-osc"
    return path if (path / "bin" / "openstack").exists() else None


@pytest.fixture(scope="module")
def osc_venv() -> Path:
    path = venv()
    if path is None:
        pytest.skip("no virtualenv with python-openstackclient and osfsck (.venv-osc; scripts/setup makes it)")
    return path


@pytest.fixture
def openstack(osc_venv, tmp_path):
    """`openstack ARGS...` in tmp_path, with none of this machine's OS_* or OSFSCK_CONFIG."""

    def run(*args: str, env: dict | None = None, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "OSFSCK_"))}
        clean["OS_CLIENT_CONFIG_FILE"] = str(tmp_path / "no-clouds.yaml")  # not ~/.config/openstack's
        return subprocess.run(
            [str(osc_venv / "bin" / "openstack"), *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**clean, **(env or {})},
            stdin=stdin,
            timeout=120,
        )

    return run


@pytest.fixture
def hostile(tmp_path) -> Path:
    """Two zombie domains, one named HOSTILE; its osfsck.toml beside it, not in the cwd."""
    (tmp_path / "hostile").mkdir()
    return hostile_snapshot(tmp_path / "hostile") / "snap.json"


def one_line(p: subprocess.CompletedProcess) -> str:
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("osfsck: "), p.stderr
    return p.stderr


def test_the_catalogue_as_json(openstack):
    p = openstack("fsck", "checks", "-f", "json")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert [r["code"] for r in rows] == [c["code"] for c in admin.catalogue()]
    assert set(rows[0]) == set(listing.CHECK_DEFAULT)


def test_a_saved_snapshots_findings_by_code_with_osfscks_exit_status(openstack, hostile):
    p = openstack("fsck", "check", "--from", str(hostile), "--select", "HV", "-f", "value", "-c", "code")
    assert (p.returncode, p.stdout, p.stderr) == (4, "HV101\nHV101\n", "")


def test_the_rows_are_osfscks_own(openstack, hostile, capsys):
    """Every column of every finding as osfsck's own `check -f json -c ...` gives it."""
    p = openstack("fsck", "check", "--from", str(hostile), "--select", "HV", "-f", "json", "--long")
    assert p.returncode == 4, p.stderr
    argv = ["check", "--from", str(hostile), "--select", "HV", "-f", "json"]
    assert cli.main(argv + [a for c in listing.FINDING_COLUMNS for a in ("-c", c)]) == 4
    assert json.loads(p.stdout) == json.loads(capsys.readouterr().out)


def test_a_clean_snapshot_exits_0_and_an_incomplete_one_8_saying_so(openstack, tmp_path):
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    w.instance_dir("hv1", u)
    w.snapshot().write(str(tmp_path / "clean.json"))
    p = openstack("fsck", "check", "--from", "clean.json", "--select", "HV")
    assert (p.returncode, p.stdout.strip(), p.stderr) == (0, "", "")  # cliff's table of no rows: an empty line
    w.host_unreachable("hv2")
    w.snapshot().write(str(tmp_path / "partial.json"))
    p = openstack("fsck", "check", "--from", "partial.json", "--select", "HV", "-f", "csv")
    assert p.returncode == 8 and p.stdout.splitlines() == [",".join(f'"{c}"' for c in listing.FINDING_DEFAULT)]
    assert p.stderr.startswith("osfsck: INCOMPLETE: ") and "hv2" in p.stderr


def test_cloud_data_is_escaped_on_a_terminal_format_and_whole_in_the_others(openstack, hostile):
    argv = ("fsck", "check", "--from", str(hostile), "--select", "HV")
    table = openstack(*argv, "-c", "message")
    assert table.returncode == 4 and "\x1b" not in table.stdout and "\u202e" not in table.stdout
    assert "evil\\x1b[2J\\u202e\\n  - HIGH" in table.stdout and len(table.stdout.splitlines()) == 6
    csv.field_size_limit(1_000_000)  # the message of HOSTILE (README: over 128 KiB)
    back = list(csv.reader(io.StringIO(openstack(*argv, "-f", "csv", "-c", "message", "--quote", "all").stdout)))
    assert HOSTILE.replace("\udcff", "\\udcff") in back[2][0]
    assert any(HOSTILE in r["message"] for r in yaml.safe_load(openstack(*argv, "-f", "yaml").stdout))


def test_group_by_sort_and_columns_are_osc_and_osfsck_together(openstack, hostile):
    argv = ("fsck", "check", "--from", str(hostile), "--select", "HV", "--group-by", "host", "-f", "value")
    p = openstack(*argv, "-c", "findings", "-c", "host", "--sort-column", "host", "--sort-descending")
    assert (p.returncode, p.stdout) == (4, "1 hv2\n1 hv1\n")


@pytest.mark.parametrize(
    "argv, says",
    [
        (("fsck", "check", "--from", "SNAP", "-c", "nope"), "-c: no column 'nope'"),
        (("fsck", "check", "--from", "SNAP", "--bogus"), "unrecognized arguments: --bogus"),
        (("fsck", "check", "--from", "SNAP", "--group-by", "galaxy"), "argument --group-by: invalid choice"),
        (("fsck", "check"), "no config file: pass --config FILE"),
        (("fsck", "check", "--config", "missing.toml"), "missing.toml"),
        (("fsck", "repair", "--config", "hostile/osfsck.toml"), "refusing to repair unattended"),
        (("fsck", "journal", "--config", "missing.toml"), "missing.toml"),
        (("fsck", "check", "show", "XX999"), "no check 'XX999'"),
    ],
    ids=["column", "option", "choice", "no-config", "missing-config", "unattended", "journal-config", "no-check"],
)
def test_usage_errors_are_one_line_and_exit_16(openstack, hostile, argv, says):
    if says.startswith("no config") and any(Path(c).is_file() for c in cli.DEFAULT_CONFIGS[1:]):
        pytest.skip("this machine has /etc/osfsck/osfsck.toml, a config osfsck would find")
    p = openstack(*(str(hostile) if a == "SNAP" else a for a in argv))
    assert p.returncode == 16 and says in one_line(p) and p.stdout == ""


def test_an_unreadable_snapshot_is_operational(openstack):
    p = openstack("fsck", "check", "--from", "missing.json")
    assert p.returncode == 8 and "missing.json" in one_line(p)


def test_a_real_repair_its_second_run_and_its_journal(openstack, tmp_path):
    """QU101 on Cinder's real schema (SQLite): repaired (1), then clean (0), journaled."""
    cinder(f"sqlite:///{tmp_path / 'cinder.sqlite'}", RELEASE)
    (tmp_path / "osfsck.toml").write_text(
        '[cinder]\ndatabase = "sqlite:///cinder.sqlite"\n[repair]\njournal = "journal.jsonl"\n'
    )
    env = {"OSFSCK_CONFIG": "osfsck.toml"}  # as for osfsck: the variable, or --config
    p = openstack(
        "fsck", "repair", "--select", "QU101", "--yes", "-f", "json", "-c", "subject_id", "-c", "outcome", env=env
    )
    assert p.returncode == 1, p.stderr
    assert json.loads(p.stdout) == [{"subject_id": "cinder/p1/volumes", "outcome": "applied"}]
    p = openstack("fsck", "check", "--select", "QU101", "--config", "osfsck.toml", "-f", "value")
    assert (p.returncode, p.stdout) == (0, ""), p.stderr
    p = openstack("fsck", "journal", "--config", "osfsck.toml", "-f", "value", "-c", "status", "-c", "target_id")
    assert (p.returncode, p.stdout) == (0, "applied cinder/p1/volumes\n"), p.stderr
    assert (tmp_path / "journal.jsonl").is_file()  # the config's, not a default beside no config


def test_one_checks_documentation(openstack):
    p = openstack("fsck", "check", "show", "zombie-domain", "-f", "json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["code"] == "HV101" and doc["why_it_matters"] and doc["repairs"].startswith("undefine-domain")
    p = openstack("fsck", "checks", "show", "hv101", "-f", "value", "-c", "name")
    assert (p.returncode, p.stdout) == (0, "zombie-domain\n")


def test_help(openstack):
    p = openstack("fsck", "--help")
    assert p.returncode == 0 and {"fsck check", "fsck repair", "fsck checks", "fsck journal"} <= {
        line.strip() for line in p.stdout.splitlines()
    }
    p = openstack("help", "fsck", "check")
    assert p.returncode == 0
    for text in ("--select", "--from FILE", "--config FILE", "--group-by", "-f {csv,json,table,value,yaml}"):
        assert text in p.stdout
    assert "  openstack fsck check --group-by host -f csv\n" in p.stdout
    assert "  16 usage or configuration error; 32 cancelled\n" in p.stdout
    p = openstack("fsck", "repair", "--help")
    assert p.returncode == 0 and "--unsafe" in p.stdout and "--grace AGE" in p.stdout


def test_a_reader_that_leaves_ends_the_output_quietly_with_the_runs_status(osc_venv, hostile):
    command = f"{osc_venv}/bin/openstack fsck check --from {hostile} --select HV -f csv | head -c 5"
    p = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=120)
    assert (p.returncode, p.stdout, p.stderr) == (4, '"seve', "")


def test_the_cloud_osc_was_told_is_passed_on(openstack, tmp_path, hostile):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        "clouds:\n  lab:\n    auth:\n      auth_url: http://127.0.0.1:9/v3\n      username: admin\n"
        "      password: Planted-OSC-Secret\n      project_name: admin\n"
    )
    env = {"OS_CLIENT_CONFIG_FILE": str(clouds)}
    p = openstack("--os-cloud", "lab", "--debug", "fsck", "checks", "-f", "value", "-c", "code", env=env)
    assert p.returncode == 0 and "passing OpenStackClient's cloud on to osfsck: OS_CLOUD=lab" in p.stderr
    assert "Planted-OSC-Secret" not in p.stderr + p.stdout
    p = openstack("fsck", "check", "--from", str(hostile), "--select", "HV", "-f", "value", "-c", "code", env=env)
    assert p.returncode == 4 and p.stderr == ""  # no cloud named: nothing passed on, Keystone never asked


def test_osfsck_needs_no_openstackclient_even_beside_it(osc_venv):
    """In the virtualenv that has OpenStackClient: osfsck's CLI and the plugin module OSC
    imports at every start load none of it (nor osfsck's engine, for the plugin module)."""
    code = (
        "import sys, osfsck.osc.plugin; a = [m for m in sys.modules if m.startswith(('osc_lib', 'cliff', "
        "'openstackclient', 'osfsck.engine', 'sqlalchemy'))]; import osfsck.cli.main; "
        "b = [m for m in sys.modules if m.startswith(('osc_lib', 'cliff', 'openstackclient'))]; print(a, b)"
    )
    out = subprocess.run([str(osc_venv / "bin" / "python"), "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[] []", out.stderr
