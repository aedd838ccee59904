"""The parts of the OpenStackClient plugin that need no OpenStackClient: the plugin module
OSC imports at every start, osfsck's options as the commands take them, usage errors, the
columns and cells given to cliff, redacted logs, the cloud passed on; and that nothing but
the plugin's commands imports osc-lib (osfsck runs without the `osc` extra).  The commands
themselves run in tests/osc/test_openstack_fsck.py, inside a real OpenStackClient."""

from __future__ import annotations

import argparse
import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from osfsck.cli import main as cli
from osfsck.osc import common, plugin
from osfsck.report import rows as listing
from tests.test_meta_layout import SRC, imports_of

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = SRC.parent.parent
# OpenStackClient's own libraries: only the plugin's commands import them
OSC_ONLY = {"osc_lib", "cliff", "openstackclient"}
# and what OSC brings that osfsck imports only when it calls an API (clients/keystone.py,
# config/clouds.py): none of it at `openstack` start
OSC_LIBRARIES = OSC_ONLY | {"openstack", "keystoneauth1", "stevedore"}


def test_only_the_plugins_commands_import_osc_lib_or_cliff():
    importers = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if {n.split(".")[0] for n in imports_of(path.read_text())} & OSC_ONLY
    )
    assert importers == ["osc/commands.py"]


def test_osfsck_and_the_plugin_module_import_nothing_of_openstackclient_nor_the_engine_at_start():
    """OSC imports the plugin module at every `openstack` start: it must cost nothing (no
    engine, no SQLAlchemy), and osfsck's CLI must not need the extra."""
    code = (
        "import sys, osfsck.osc.plugin; heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{sorted(OSC_LIBRARIES | {'sqlalchemy'})!r} or m.startswith('osfsck.engine')); "
        "import osfsck.cli.main; print(heavy, sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{sorted(OSC_LIBRARIES)!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[] []"


def test_the_plugin_module_has_what_openstackclient_reads():
    # OSC: API_VERSION_OPTION names the dest build_option_parser sets, the version names
    # the command group openstack.<API_NAME>.v<major>
    parser = plugin.build_option_parser(argparse.ArgumentParser())
    args = parser.parse_args(["--os-fsck-api-version", "1"])
    assert getattr(args, plugin.API_VERSION_OPTION) == "1"
    assert plugin.DEFAULT_API_VERSION in plugin.API_VERSIONS
    entry_points = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    assert entry_points["openstack.cli.extension"] == {plugin.API_NAME: "osfsck.osc.plugin"}
    commands = entry_points[f"openstack.{plugin.API_NAME}.v{plugin.DEFAULT_API_VERSION}"]
    defined = (SRC / "osc" / "commands.py").read_text()
    for name, target in commands.items():
        module, _, cls = target.partition(":")
        assert name.startswith("fsck_") and module == "osfsck.osc.commands" and f"\nclass {cls}(" in defined
    assert {n.replace("_", " ") for n in commands} >= {"fsck check", "fsck repair", "fsck checks", "fsck journal"}


class _Manager:
    """OSC's ClientManager as the hook reads it: the CloudRegion OSC resolved."""

    def __init__(self, config: dict) -> None:
        self._cli_options = argparse.Namespace(config=config)


def test_the_cloud_hook_passes_on_the_cloud_osc_was_told():
    assert plugin.make_client(_Manager({"cloud": "prod", "auth": {}})).environment() == {"OS_CLOUD": "prod"}
    assert plugin.make_client(_Manager({"auth": {"auth_url": "x"}})).environment() == {}


def parser_for(command: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"openstack fsck {command}")
    common.osfsck_options(p, command)
    return p


def option_dests(p: argparse.ArgumentParser) -> set[str]:
    return {a.dest for a in p._actions}


@pytest.mark.parametrize("command", ["check", "repair", "journal"])
def test_the_commands_take_osfscks_options_but_those_osc_has_itself(command):
    theirs = common._subparsers(cli.parser(extensions=False)).choices[command]
    ours = option_dests(parser_for(command))
    assert ours == option_dests(theirs) - common.NOT_COPIED | {"help", "config"}
    assert not {"format", "column", "output", "verbose", "debug", "log_file"} & ours


def test_check_and_repair_options_parse_as_osfscks_do():
    args = parser_for("check").parse_args(["--select", "HV,NV2", "--from", "s.json", "--group-by", "host"])
    assert (args.select, args.from_snapshot, args.group_by, args.config) == (["HV,NV2"], ["s.json"], "host", None)
    args = parser_for("repair").parse_args(["--unsafe", "--yes", "--grace", "0", "--config", "x.toml"])
    assert (args.unsafe, args.yes, args.grace, args.config) == (True, True, "0", "x.toml")


def test_an_option_group_of_osfscks_stays_a_group():
    """Options osfsck's parser gives a group of their own (--cell, --host, --project) come
    along, in their group."""
    for command in ("check", "repair"):
        p = parser_for(command)
        assert p.parse_args(["--cell", "c1", "--host", "h*"]).cell == ["c1"]
        assert [g.title for g in p._action_groups if any(a.dest == "cell" for a in g._group_actions)] == ["scope"]


def test_a_refused_command_line_is_one_line_and_exit_16(capsys):
    p = parser_for("check")
    common.usage_errors(p)
    with pytest.raises(SystemExit) as e:
        p.parse_args(["--group-by", "galaxy"])
    assert e.value.code == 16
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1 and err.startswith("osfsck: argument --group-by") and "openstack fsck check --help" in err
    )


def test_columns_are_osfscks_named_ordered_and_checked():
    names, default = listing.FINDING_COLUMNS, listing.FINDING_DEFAULT
    args = argparse.Namespace(columns=["Host,code", "subject_id", "code"], long=False)
    assert common.columns(args, names, default) == ["host", "code", "subject_id"]
    assert args.columns == ["host", "code", "subject_id"]  # what cliff then selects by
    assert common.columns(argparse.Namespace(columns=[], long=False), names, default) == list(default)
    assert common.columns(argparse.Namespace(columns=[], long=True), names, default) == list(names)
    with pytest.raises(cli.UsageError, match="no column 'nope'"):
        common.columns(argparse.Namespace(columns=["code", "nope"]), names, default)


ROW = {
    "code": "HV101",
    "message": "Domain evil\x1b[2J\u202e\n",
    "host": None,
    "vcpus": 2,
    "url": "mysql://nova:S3cret@db/x",
}


@pytest.mark.parametrize("fmt", ["table", "value", "shell"])
def test_cells_for_a_terminal_are_escaped_and_a_missing_value_is_a_dash(fmt):
    [cells] = common.cells(fmt, ["code", "message", "host", "vcpus", "url"], [ROW])
    assert cells[:4] == ("HV101", "Domain evil\\x1b[2J\\u202e\\n", "-", 2)
    assert "S3cret" not in cells[4]


@pytest.mark.parametrize("fmt", ["csv", "json", "yaml"])
def test_cells_for_a_quoting_format_are_whole_but_without_secrets(fmt):
    [cells] = common.cells(fmt, ["code", "message", "host", "vcpus", "url"], [ROW])
    assert cells[:4] == ("HV101", "Domain evil\x1b[2J\u202e\n", None, 2)
    assert "S3cret" not in cells[4] and cells[4].startswith("mysql://nova:")


def test_log_lines_through_osc_handlers_are_redacted_and_one_line():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with common.redacted_logs():
            logging.getLogger("osfsck.test").warning("connect %s\nfailed", "mysql://nova:S3cret@db/x")
        logging.getLogger("osfsck.test").warning("after %s", "mysql://nova:Other@db/x")
    finally:
        root.removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert "S3cret" not in lines[0] and "\\nfailed" in lines[0] and len(lines) == 2
    assert "Other" in lines[1]  # only the command's run is osfsck's to redact


def test_the_environment_is_set_for_the_run_and_restored(monkeypatch):
    monkeypatch.setenv("OS_CLOUD", "other")
    with common.environment({"OS_CLOUD": "prod"}):
        assert os.environ["OS_CLOUD"] == "prod"
    assert os.environ["OS_CLOUD"] == "other"
    monkeypatch.delenv("OS_CLOUD")
    with common.environment({"OS_CLOUD": "prod"}):
        assert os.environ["OS_CLOUD"] == "prod"
    assert "OS_CLOUD" not in os.environ


def test_the_no_config_message_names_the_option_both_commands_take(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OSFSCK_CONFIG", raising=False)
    if any(Path(p).is_file() for p in cli.DEFAULT_CONFIGS):
        pytest.skip("this machine has a default config file")
    with pytest.raises(cli.ConfigError, match="pass --config FILE"):
        cli._config_path(argparse.Namespace(config=None))
