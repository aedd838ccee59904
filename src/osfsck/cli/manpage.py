"""osfsck(1), generated from the parser: `python -m osfsck.cli.manpage > docs/osfsck.1`.

The page says what `--help` says (the same descriptions, options and examples: cli/
helptext.py), for osfsck's own commands only (not those another installed distribution
adds), and nothing that changes between runs (no date), so that tests/cli/test_help.py
can tell a page that is not current.
"""

from __future__ import annotations

import argparse
import sys

from osfsck import __version__
from osfsck.cli.logs import GROUP_TITLE


def page(parser: argparse.ArgumentParser) -> str:
    out = [
        '.TH OSFSCK 1 "" "osfsck %s" "User Commands"' % _esc(__version__),
        ".SH NAME",
        "osfsck \\- fsck for OpenStack clouds",
        ".SH SYNOPSIS",
        ".B osfsck",
        "[\\fIoptions\\fR] [\\fICOMMAND\\fR] [\\fIcommand options\\fR]",
        ".SH DESCRIPTION",
        *_paragraph(parser.description or ""),
        ".SH OPTIONS",
        *_options(parser),
        ".SH COMMANDS",
    ]
    for name, sub in _commands(parser):
        out += [f'.SS "osfsck {name}"', *_preformatted(_usage(sub)), *_paragraph(sub.description or "")]
        out += _options(sub, skip=_logging(sub))  # the same on every command: once, above
        if sub.epilog:
            out += _preformatted(sub.epilog)
    out += [".SH EXIT STATUS, EXAMPLES", *_preformatted(parser.epilog or "")]
    out += [".SH SEE ALSO", "The README and docs/design.md of osfsck; \\fBosfsck checks show\\fR \\fICODE\\fR."]
    return "\n".join(out) + "\n"


def _usage(parser: argparse.ArgumentParser) -> str:
    """The usage line as --help prints it on an 80-column terminal, whatever this one is."""
    formatter = argparse.HelpFormatter(parser.prog, width=80)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return formatter.format_help().strip()


def _commands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices.items())
    return []


def _logging(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for g in parser._action_groups if g.title == GROUP_TITLE for a in g._group_actions]


def _options(parser: argparse.ArgumentParser, skip: list[argparse.Action] | None = None) -> list[str]:
    out = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction) or action in (skip or ()):
            continue
        if action.option_strings:
            value = "" if action.nargs == 0 else f" \\fI{_esc(_metavar(action))}\\fR"
            head = ", ".join(f"\\fB{_esc(o)}\\fR{value}" for o in action.option_strings)
        else:
            head = f"\\fI{_esc(_metavar(action))}\\fR"
        out += [".TP", head, _line(action.help or "")]
    return out


def _metavar(action: argparse.Action) -> str:
    if isinstance(action.metavar, str):
        return action.metavar
    if action.choices:
        return "{" + ",".join(map(str, action.choices)) + "}"
    return action.dest.upper()


def _paragraph(text: str) -> list[str]:
    return [".PP", _line(" ".join(text.split()))] if text.strip() else []


def _preformatted(text: str) -> list[str]:
    return [".PP", ".nf", *(_line(line, minus=True) for line in text.splitlines()), ".fi"]


def _line(text: str, minus: bool = False) -> str:
    """A line of text for roff: a leading dot or quote would be read as a request."""
    text = _esc(text, minus)
    return "\\&" + text if text[:1] in (".", "'") else text


def _esc(text: str, minus: bool = True) -> str:
    """roff's escapes; `minus`: "-" as \\- (what commands and options are typed with: an
    ASCII minus when copied), else a hyphen, as in prose."""
    text = text.replace("\\", "\\e")
    return text.replace("-", "\\-") if minus else text


def main() -> int:
    from osfsck.cli.main import parser  # the CLI imports this module's siblings, not this one

    sys.stdout.write(page(parser(extensions=False)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
