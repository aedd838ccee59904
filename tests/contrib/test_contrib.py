"""contrib/'s systemd units and Prometheus rules: systemd's own verifier and promtool accept
them (each skipped, with why, where the tool is not installed), the commands the units run
are ones osfsck's parser takes, and every metric the rules name is one osfsck exports."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from osfsck.cli import main as cli
from osfsck.cli import serve
from osfsck.report import render
from tests.report.test_render import result as planted_result

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "contrib" / "systemd"
RULES = ROOT / "contrib" / "prometheus" / "osfsck-alerts.yml"
RULE_TESTS = ROOT / "contrib" / "prometheus" / "osfsck-alerts.test.yml"
INSTALLED_AT = "/usr/local/bin/osfsck"  # where the units expect pip's script
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
PROMTOOL = shutil.which("promtool")


def exec_start(unit: Path) -> list[str]:
    ini = configparser.ConfigParser(strict=False, interpolation=None)
    ini.optionxform = str  # type: ignore[assignment,method-assign]  # systemd's keys are case-sensitive
    ini.read(unit)
    return shlex.split(ini["Service"]["ExecStart"])


def verify(folder: Path) -> subprocess.CompletedProcess:
    # --man=no: Documentation=man:osfsck(1) names the page `pip install` does not put in
    # man's path; systemd-analyze would run `man` for it and fail on this machine only
    return subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *sorted(map(str, folder.iterdir()))],
        capture_output=True,
        text=True,
        timeout=120,
    )


def installed_copies(tmp_path: Path, edit=lambda text: text) -> Path:
    """The units as an operator installs them, with ExecStart naming this machine's osfsck:
    systemd-analyze verify fails a unit whose program does not exist, and /usr/local/bin
    has none here (the tests run the one in the virtualenv)."""
    here = Path(sys.executable).with_name("osfsck")
    assert here.exists(), f"no osfsck script beside {sys.executable}"
    folder = tmp_path / "units"
    folder.mkdir()
    for unit in UNITS.iterdir():
        text = unit.read_text()
        assert INSTALLED_AT in text or unit.suffix == ".timer"
        (folder / unit.name).write_text(edit(text.replace(INSTALLED_AT, str(here))))
    return folder


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (Debian's systemd package)")
def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    p = verify(installed_copies(tmp_path))
    assert (p.returncode, p.stderr) == (0, "")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (Debian's systemd package)")
def test_systemd_analyze_verify_would_see_a_mistake(tmp_path):
    p = verify(installed_copies(tmp_path, lambda text: text.replace("ProtectSystem=", "ProtectSystme=")))
    assert "Unknown key 'ProtectSystme'" in p.stderr


def test_the_units_run_commands_osfsck_takes():
    check = exec_start(UNITS / "osfsck-check.service")
    assert check[0] == INSTALLED_AT
    args = cli.parser().parse_args(check[1:])
    assert (args.command, args.format, args.output) == (
        "check",
        "prometheus",
        "/var/lib/node_exporter/textfile_collector/osfsck.prom",
    )
    args = cli.parser().parse_args(exec_start(UNITS / "osfsck-serve.service")[1:])
    assert (args.command, args.interval, args.listen, args.repair_safe) == ("serve", 3600.0, ("", 9977), False)


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian's prometheus package: scripts/setup)")
def test_promtool_checks_the_rules_and_their_tests_pass():
    p = subprocess.run([PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "SUCCESS: 7 rules found" in p.stdout, p.stdout + p.stderr
    p = subprocess.run([PROMTOOL, "test", "rules", str(RULE_TESTS)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "SUCCESS" in p.stdout, p.stdout + p.stderr


def exported() -> set[str]:
    """Every sample name osfsck exports: a run's (report/prometheus.py) and serve's own."""
    text = render(planted_result(), "prometheus") + serve.Service(planted_result, 60.0).metrics().decode()
    return {s.name for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_every_metric_the_rules_and_their_tests_name_is_exported():
    names = exported()
    assert {"osfsck_findings", "osfsck_serve_runs_total", "osfsck_source_up"} <= names
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    series = [s["series"] for t in yaml.safe_load(RULE_TESTS.read_text())["tests"] for s in t["input_series"]]
    for text in [r["expr"] for r in rules] + series:
        used = set(re.findall(r"\bosfsck_[a-z_]+\b", str(text)))
        assert used, f"{text!r} names no osfsck metric"
        assert used <= names, f"{text!r} names {sorted(used - names)}, which osfsck does not export"
