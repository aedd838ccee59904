"""--help explains every command with examples; the man page is generated from the same
parser and must be current; the completion script completes commands, options and
their choices in a real bash."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from osfsck.cli import main as cli
from osfsck.cli.manpage import page

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = sorted(cli.parser(extensions=False)._subparsers._group_actions[0].choices)


def test_the_commands_are_osfsck_own():
    assert COMMANDS == sorted(
        [
            "check",
            "repair",
            "collect",
            "checks",
            "journal",
            "undo",
            "purge-quarantine",
            "permissions",
            "report",
            "serve",
            "completion",
        ]
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_has_a_description_and_an_example(command, capsys):
    assert cli.main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: osfsck {command}")
    examples = out.split("example", 1)[1]  # "examples:" or "example:"
    assert f"osfsck {command}" in examples or f"osfsck -c /etc/osfsck/osfsck.toml {command}" in examples
    assert "--debug" in out and "--log-file FILE" in out  # the logging options, after the command too


def test_top_help_says_the_exit_status(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "exit status" in out and "16 usage or configuration error" in out


def test_checks_help_shows_show(capsys):
    assert cli.main(["checks", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: osfsck checks [-h] [-f FORMAT] [-c COLUMN] [show CODE|NAME]")
    assert "osfsck checks show HV101" in out


def test_logging_options_after_the_command(tmp_path, capsys):
    # given after the command as before it; a value before it stays unless given again
    args = cli.parser().parse_args(["--log-file", "a.log", "checks", "-v"])
    assert (args.log_file, args.verbose, args.debug) == ("a.log", 1, False)
    args = cli.parser().parse_args(["checks", "--debug"])
    assert (args.log_file, args.verbose, args.debug) == (None, 0, True)


# -- the man page ---------------------------------------------------------------------------
def test_the_man_page_is_current():
    committed = (ROOT / "docs" / "osfsck.1").read_text()
    assert page(cli.parser(extensions=False)) == committed, (
        "docs/osfsck.1 is not current: python -m osfsck.cli.manpage > docs/osfsck.1"
    )


def test_the_man_page_names_every_command_and_option():
    text = page(cli.parser(extensions=False))
    for command in COMMANDS:
        assert f'.SS "osfsck {command}"' in text
    for option in ("\\-\\-group\\-by", "\\-\\-column", "\\-\\-format", "\\-\\-syslog", "\\-\\-from", "\\-\\-unsafe"):
        assert f"\\fB{option}\\fR" in text


@pytest.mark.skipif(shutil.which("groff") is None, reason="no groff here")
def test_the_man_page_renders_without_warnings():
    p = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", str(ROOT / "docs" / "osfsck.1")], capture_output=True, text=True
    )
    assert p.returncode == 0 and p.stderr == ""
    assert "osfsck check --group-by host -f csv" in p.stdout.replace("\u2010", "-")


# -- shell completion -----------------------------------------------------------------------
def complete(words: str) -> list[str]:
    """What bash offers after `words` (its last word the one being completed), with
    osfsck's completion script loaded."""
    script = subprocess.run(
        [sys.executable, "-m", "osfsck.cli.main", "completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    line = words.split(" ")
    probe = (
        f"{script}\nCOMP_WORDS=({' '.join(repr(w) for w in line)})\n"
        f"COMP_CWORD={len(line) - 1}\nCOMP_LINE={words!r}\nCOMP_POINT=${{#COMP_LINE}}\n"
        '_shtab_osfsck osfsck "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    p = subprocess.run(["bash", "--norc", "-c", probe], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return sorted(p.stdout.split())


def test_bash_completes_commands():
    assert {"check", "checks"} <= set(complete("osfsck ch")) <= {"check", "checks"}


def test_bash_completes_options_and_their_choices():
    assert {"--group-by", "--format", "--column", "--from"} <= set(complete("osfsck check --"))
    assert complete("osfsck check -f ") == sorted(
        ["text", "table", "csv", "value", "json", "yaml", "jsonl", "prometheus", "html"]
    )
    assert complete("osfsck check --group-by ") == ["cell", "check", "host", "project"]
    assert complete("osfsck completion ") == ["bash", "zsh"]


def test_zsh_script_is_a_compdef(capsys):
    assert cli.main(["completion", "zsh"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("#compdef osfsck") and "--group-by" in out


def test_completion_without_shtab_is_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "shtab", None)  # import shtab raises ImportError
    assert cli.main(["completion", "bash"]) == 16
    assert capsys.readouterr().err == "osfsck: osfsck completion needs shtab: pip install 'osfsck[completion]'\n"
