"""Commands another installed distribution adds through the "osfsck.commands" entry point
(the lab's `demo` and `lab`) are dispatched to the handler it registered: osfsck itself
has no module for them."""

from osfsck.cli import main as cli


def test_an_added_command_runs_the_handler_its_distribution_registered(capsys):
    # `osfsck lab` without an action: the lab's own usage line and exit 16
    assert cli.main(["lab"]) == 16
    assert "usage: osfsck lab build|start|stop" in capsys.readouterr().err
