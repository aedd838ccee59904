"""main()'s last resort: an exception no handler expects (a bug of osfsck, never a bad
input: test_bad_inputs.py asserts each bad input's own message) is one line and exit 8,
with the traceback only with --debug (or -vv).  The bug is stood in for by a command that raises."""

import pytest

from osfsck.cli import main as cli


@pytest.fixture
def buggy(monkeypatch):
    def dispatch(args):
        raise RuntimeError("a bug's message\nover two lines")

    monkeypatch.setattr(cli, "dispatch", dispatch)


def test_an_unexpected_exception_is_one_line_and_exit_8(buggy, capsys):
    assert cli.main(["checks"]) == 8
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "osfsck: internal error: RuntimeError: a bug's message over two lines "
        "(rerun with --debug for the traceback; please report it)"
    ]


@pytest.mark.parametrize("argv", [["-vv", "checks"], ["--debug", "checks"], ["checks", "--debug"]])
def test_its_traceback_is_shown_with_debug(buggy, capsys, argv):
    assert cli.main(argv) == 8
    err = capsys.readouterr().err
    assert err.startswith("osfsck: internal error: RuntimeError") and "Traceback (most recent call last)" in err


def test_interrupt_is_cancelled(monkeypatch, capsys):
    def dispatch(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "dispatch", dispatch)
    assert cli.main(["checks"]) == 32
    assert capsys.readouterr().err == "osfsck: cancelled\n"


@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"], ["--version"]])
def test_help_and_version_still_exit_0(argv, capsys):
    assert cli.main(argv) == 0
    assert capsys.readouterr().out
