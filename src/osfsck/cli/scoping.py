"""The scope options of `check`, `repair` and `collect`: --cell, --host, --project."""

from __future__ import annotations

import argparse

from osfsck.model.scope import RunScope


def scope_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "scope",
        "read and report only part of the cloud; what a check would need from outside it is "
        "reported as undecided, never as consistent (e.g. --cell cell7 --host 'cmp-1*')",
    )
    g.add_argument(
        "--cell",
        action="append",
        default=[],
        metavar="NAME|UUID",
        help="only this cell (repeatable): the other cells' databases are not read",
    )
    g.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="GLOB",
        help="only hosts matching this shell glob (repeatable): no other hypervisor is contacted",
    )
    g.add_argument(
        "--project",
        action="append",
        default=[],
        metavar="ID",
        help="only this project (repeatable): quota rows of others are not read",
    )


def scope_of(args: argparse.Namespace) -> RunScope | None:
    """The scope the command line asks for, or None for the whole cloud."""
    scope = RunScope(
        tuple(dict.fromkeys(_values(args, "cell"))),
        tuple(dict.fromkeys(_values(args, "host"))),
        tuple(dict.fromkeys(_values(args, "project"))),
    )
    return scope or None


def _values(args: argparse.Namespace, name: str) -> list[str]:
    """The non-empty, stripped values of a repeatable option (comma-separated too)."""
    return [v.strip() for item in getattr(args, name, None) or () for v in item.split(",") if v.strip()]
