"""`osfsck completion bash|zsh`: a completion script generated from the parser by shtab
(an optional extra: `pip install 'osfsck[completion]'`), so that it always knows every
command, option and choice of the osfsck it comes from (the lab's commands too, when
installed)."""

from __future__ import annotations

import argparse
import sys

SHELLS = ("bash", "zsh")
# options whose value is a path: completed as files (shtab.FILE's spelling per shell)
_FILE_METAVARS = {"FILE", "PATH"}


class MissingExtra(Exception):
    """An optional dependency that is not installed: one line, exit 16."""


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    try:
        import shtab
    except ImportError:
        raise MissingExtra("osfsck completion needs shtab: pip install 'osfsck[completion]'") from None
    _mark_files(parser, shtab.FILE)
    return str(shtab.complete(parser, shell=shell))


def _mark_files(parser: argparse.ArgumentParser, how: dict) -> None:
    for action in parser._actions:
        if action.metavar in _FILE_METAVARS:
            action.complete = how  # type: ignore[attr-defined]  # read by shtab
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                _mark_files(sub, how)


def command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    sys.stdout.write(script(parser, args.shell))
    return 0
