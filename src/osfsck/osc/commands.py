"""The `openstack fsck` commands: osfsck's check, repair, checks (and one check's
documentation) and journal as OpenStackClient commands, run by osfsck's own handlers
(cli/main) with osfsck's options, and their rows given to cliff's formatters, so that
`-f table|csv|json|value|yaml`, `-c` and `--sort-column` are OpenStackClient's own.

Exit status is osfsck's (0, 1, 4, 8, 16, 32: README): cliff's Lister and ShowOne return 0
whatever their take_action found, so `run` returns the run's status itself, and what stops
a command is said in one line by osfsck's own rule (cli/main._failure).
"""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib.command import command

from osfsck.cli import exitcodes, helptext, logs
from osfsck.cli import main as cli
from osfsck.engine import admin
from osfsck.osc import common
from osfsck.report import rows as listing


class _Fsck(command.Command):
    # osfsck reads the cloud through its own config: a saved snapshot, the catalogue or the
    # journal need no Keystone, so OSC is not asked to authenticate first (plugin.Cloud
    # gives a session to whatever comes to need one)
    auth_required = False
    osfsck_command = ""  # the osfsck command whose options it takes
    examples = ""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        common.usage_errors(parser)
        common.raw_epilog(parser, self.get_description())
        if self.osfsck_command:
            common.osfsck_options(parser, self.osfsck_command)
        return parser

    def get_epilog(self) -> str:
        return f"examples:\n{self.examples}\n{helptext.EXIT_STATUS}"

    def run(self, parsed_args: argparse.Namespace) -> int:
        self.status = exitcodes.OK
        debug = bool(self.app.options.debug)
        with common.osfsck_streams(self.app), common.redacted_logs(), logs.libraries(debug):
            try:
                with common.environment(self.app.client_manager.fsck.environment()):
                    super().run(parsed_args)
            except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - osfsck's rule says which, in one line
                return cli._failure(e, debug)
        return self.status


class _Listing(_Fsck, command.Lister):
    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("--long", action="store_true", help="every column (default: the main ones)")
        return parser

    def rows(self, args: argparse.Namespace, names: list[str], rows: list[dict[str, Any]]) -> tuple[list[str], Any]:
        return names, common.cells(args.formatter, names, rows)


class _Run(_Listing):
    repair = False

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], Any]:
        axis = parsed_args.group_by
        names = listing.group_columns(axis) if axis else listing.FINDING_COLUMNS
        chosen = common.columns(parsed_args, names, names if axis else listing.FINDING_DEFAULT)
        self.status, rows = common.run_rows(parsed_args, self.repair)
        return self.rows(parsed_args, chosen, rows)


class Check(_Run):
    __doc__ = helptext.COMMANDS["check"]["description"]
    osfsck_command = "check"
    examples = """\
  openstack fsck check --config /etc/osfsck/osfsck.toml
  openstack fsck check --select HV --ignore HV102 -f value -c code -c subject_id
  openstack fsck check --group-by host -f csv
  openstack fsck check --from snap.json.gz -f json --long
"""


class Repair(_Run):
    __doc__ = helptext.COMMANDS["repair"]["description"]
    osfsck_command = "repair"
    repair = True
    examples = """\
  openstack fsck repair --interactive
  openstack fsck repair --yes --select NV2 -c code -c subject_id -c outcome -c reason
  openstack fsck repair --unsafe --yes --grace 2h -f json --long
"""


class Checks(_Listing):
    __doc__ = "The catalogue of checks (`openstack fsck check show CODE` documents one)."
    examples = """\
  openstack fsck checks
  openstack fsck checks -f csv -c code -c name -c severity
  openstack fsck check show HV101
"""

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], Any]:
        chosen = common.columns(parsed_args, listing.CHECK_COLUMNS, listing.CHECK_DEFAULT)
        return self.rows(parsed_args, chosen, listing.check_rows(admin.catalogue()))


class Journal(_Listing):
    __doc__ = helptext.COMMANDS["journal"]["description"]
    osfsck_command = "journal"
    examples = """\
  openstack fsck journal
  openstack fsck journal -f json -c id -c status -c code -c target_id
"""

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], Any]:
        chosen = common.columns(parsed_args, listing.JOURNAL_COLUMNS, listing.JOURNAL_DEFAULT)
        return self.rows(parsed_args, chosen, listing.journal_rows(cli.journal_entries(parsed_args)))


class ShowCheck(_Fsck, command.ShowOne):
    __doc__ = helptext.COMMANDS["checks"]["description"]
    examples = """\
  openstack fsck check show HV101
  openstack fsck check show zombie-domain -f value -c why_it_matters
"""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("check", metavar="CODE|NAME", help="a check's code (HV101) or name (zombie-domain)")
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], Any]:
        entry = admin.find_check(parsed_args.check)
        if entry is None:
            raise cli.UsageError(f"no check {parsed_args.check!r} (see `openstack fsck checks`)")
        fields = listing.check_rows([entry])[0]
        for section, text in entry["doc"].items():
            fields[section.lower().replace(" ", "_")] = text
        fields["settings"] = ", ".join(f"{k} = {v}" for k, v in entry["settings"].items())
        names = common.columns(parsed_args, list(fields), list(fields))
        return names, common.cells(parsed_args.formatter, names, [fields])[0]
