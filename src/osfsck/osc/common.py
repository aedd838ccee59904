"""What the `openstack fsck` commands share with osfsck's own CLI, without osc-lib: the
options of osfsck's commands copied from its parser, usage errors and exit codes as osfsck
has them, the rows made safe for cliff's formatters, osfsck's streams and redaction around
a command's run, and OSC's cloud passed on.

OpenStackClient gives every command some options itself, which osfsck's are left out for:
`-f/--format` and `-c/--column` (cliff's formatters: table, csv, json, value, yaml) and
`-v`, `--debug`, `--log-file` (its global options, also taken after the command).  `-c` being
cliff's, osfsck's config file is `--config` here (or OSFSCK_CONFIG, as for osfsck).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from osfsck.cli import exitcodes, streams
from osfsck.cli import main as cli
from osfsck.model.secrets import redact_text
from osfsck.report import rows as listing
from osfsck.report.tabular import ColumnError, choose, printable, without_secrets

log = logging.getLogger(__name__)

# the dests of osfsck's options that OpenStackClient has its own of (above), and -o: cliff
# writes to stdout
NOT_COPIED = frozenset(
    {"help", "format", "column", "output", "verbose", "debug", "log_file", "syslog", "syslog_socket"}
)
# the formats that quote what they hold by their own rules; every other one is shown on a
# terminal, where control and format characters of cloud data are escaped (report/tabular)
QUOTING_FORMATS = ("csv", "json", "yaml")


def osfsck_options(parser: argparse.ArgumentParser, command: str) -> None:
    """--config, and the options of `osfsck COMMAND` as osfsck's parser defines them (the
    same objects, in the same groups), but those NOT_COPIED."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=f"osfsck's config file (default: $OSFSCK_CONFIG, {', '.join(cli.DEFAULT_CONFIGS)})",
    )
    theirs = _subparsers(cli.parser(extensions=False)).choices[command]
    groups: dict[int, Any] = {}
    for group in theirs._action_groups:
        for action in group._group_actions:
            if action.dest in NOT_COPIED:
                continue
            if group is theirs._optionals or group is theirs._positionals:
                into = parser
            else:
                into = groups.setdefault(id(group), parser.add_argument_group(group.title, group.description))
            # argparse's own way of sharing options (`parents=`) adds the same objects
            into._add_action(action)


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def run_rows(args: argparse.Namespace, repair: bool) -> tuple[int, list[dict[str, Any]]]:
    """`check` or `repair` run by osfsck's own handler, and its exit status and rows for
    cliff: the findings (or their --group-by groups), only the new ones with --new-only, as
    `osfsck check --new-only` shows them (the status still the whole run's).  cliff's
    formats are rows only: incompleteness goes to stderr (above a table)."""
    cli.refuse_new_only(args, "")  # cliff has no prometheus format; --from is refused
    result = cli.run_command(args, repair)
    if result is None:  # --plan names a file that holds no plan
        return exitcodes.OK, []
    cli.report_run(args, result, rows_only=True)
    shown = listing.new_only(result) if args.new_only else result
    axis = args.group_by
    return shown.exit_code(), listing.group_rows(shown, axis) if axis else listing.finding_rows(shown)


def raw_epilog(parser: argparse.ArgumentParser, description: str) -> None:
    """The description filled to 79 columns and the epilog (exit status, examples) kept line
    by line, as osfsck's own --help shows them (cliff's formatter refills both)."""

    class Formatter(parser.formatter_class):  # type: ignore[name-defined]
        def _fill_text(self, text: str, width: int, indent: str) -> str:
            return "".join(indent + line for line in text.splitlines(keepends=True))

    parser.formatter_class = Formatter
    parser.description = textwrap.fill(description, 79)


def usage_errors(parser: argparse.ArgumentParser) -> None:
    """A command line the parser refuses is one line and exit 16, as in osfsck (argparse
    prints its usage and exits 2; OpenStackClient lets the exit through)."""

    def error(message: str) -> NoReturn:
        sys.stderr.write(f"osfsck: {message} (see `{parser.prog} --help`)\n")
        raise SystemExit(exitcodes.USAGE)

    parser.error = error  # type: ignore[method-assign]  # this one parser's


def columns(args: argparse.Namespace, names: Sequence[str], default: Sequence[str]) -> list[str]:
    """The columns to give cliff: those -c names, in its order (osfsck's rule: a column no
    row has is a usage error, before anything runs; cliff would drop it, or fail after the
    run), else all with --long, else the default ones.  -c is left as cliff then reads it."""
    if args.columns:
        try:
            args.columns = choose(names, args.columns, names)
        except ColumnError as e:
            raise cli.UsageError(f"-c: {e}") from None
        return list(args.columns)
    return list(names if getattr(args, "long", False) else default)


def cells(fmt: str, names: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows as cliff's formatters take them, without secrets; for a terminal (table, value,
    shell) text escaped and a missing value "-", as osfsck's own table and value show them."""
    picked = without_secrets([{c: r.get(c) for c in names} for r in rows])
    if fmt in QUOTING_FORMATS:
        return [tuple(r[c] for c in names) for r in picked]
    return [tuple(printable(r[c]) if r[c] is None or isinstance(r[c], str) else r[c] for c in names) for r in picked]


@contextmanager
def osfsck_streams(app: Any) -> Iterator[None]:
    """osfsck's stdout and stderr for a command's run (cli/streams: a reader that leaves
    ends the output quietly and the status is the run's; text stdout cannot encode is
    escaped), cliff's output (app.stdout) included."""
    real = sys.stdout
    with streams.guarded():
        saved = app.stdout
        if saved is real:
            app.stdout = sys.stdout
        try:
            yield
        finally:
            app.stdout = saved


class _Redacted(logging.Filter):
    """Each record without secrets and on one line, as osfsck's own log handlers write it
    (cli/logs): OSC's handlers format records themselves."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = printable(redact_text(record.getMessage())[0])
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))[0]
        return True


@contextmanager
def redacted_logs() -> Iterator[None]:
    """Every handler OSC configured (its console, its --log-file) redacts for the run."""
    handlers = list(logging.getLogger().handlers)
    f = _Redacted()
    for h in handlers:
        h.addFilter(f)
    try:
        yield
    finally:
        for h in handlers:
            h.removeFilter(f)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """`values` in the environment for the run (OSC's --os-cloud as OS_CLOUD: the hook
    in plugin.Cloud), as it was after."""
    saved = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if saved[k] != v:
            log.debug("passing OpenStackClient's cloud on to osfsck: %s=%s", k, v)
        os.environ[k] = v
    try:
        yield
    finally:
        for k, old in saved.items():
            if old is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = old
