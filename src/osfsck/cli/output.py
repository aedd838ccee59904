"""The output options of the commands that list things (check, repair, checks, journal):
-f/--format, -c/--column and --group-by, as OpenStackClient spells them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from osfsck.model.secrets import redact_text
from osfsck.report.rows import GROUP_AXES, group_columns
from osfsck.report.tabular import ROW_FORMATS, ColumnError, choose, printable


class OutputError(Exception):
    """Output options that do not go together: a usage error."""


def add_arguments(
    p: argparse.ArgumentParser,
    formats: Sequence[str],
    columns: Sequence[str],
    default_columns: Sequence[str],
    group_by: bool = False,
) -> None:
    p.add_argument(
        "-f",
        "--format",
        choices=formats,
        metavar="FORMAT",
        help="output format: " + ", ".join(formats) + " (default: text, the report for people; table when -c or "
        "--group-by is given)",
    )
    p.add_argument(
        "-c",
        "--column",
        action="append",
        default=[],
        metavar="COLUMN",
        help=f"show this column (repeatable; default {' '.join(default_columns)}); one of: {', '.join(columns)}"
        + ("; with --group-by, of the roll-up's columns" if group_by else ""),
    )
    if group_by:
        p.add_argument(
            "--group-by",
            choices=GROUP_AXES,
            metavar="AXIS",
            help="one row per check, host, cell or project, with the columns AXIS, findings, "
            + ", ".join(group_columns("x")[2:])
            + " (what repairing them would give back)",
        )


def resolve(args: argparse.Namespace, columns: Sequence[str]) -> tuple[str, list[str]]:
    """The format and the checked columns (empty: the listing's default, or the whole
    document in json and yaml)."""
    group_by = getattr(args, "group_by", None)
    rows_asked = bool(args.column or group_by)
    fmt = args.format or ("table" if rows_asked else "text")
    if rows_asked and fmt not in ROW_FORMATS:
        raise OutputError(f"-c and --group-by go with -f {', '.join(ROW_FORMATS)}, not -f {fmt}")
    try:
        return fmt, choose(columns, args.column, columns) if args.column else []
    except ColumnError as e:
        hint = [c for c in args.column if "/" in c or "." in c]
        more = f" (-c before the command is the config file: osfsck -c {hint[0]} {args.command})" if hint else ""
        raise OutputError(f"-c: {e}{more}") from None


def say(line: str) -> None:
    """A line for the operator on stderr, without secrets or control characters."""
    print("osfsck: " + printable(redact_text(line)[0]), file=sys.stderr, flush=True)
