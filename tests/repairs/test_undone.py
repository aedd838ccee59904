"""Undone: undo's one line, with what it could not put back as it was."""

import json

from osfsck.repairs.base import Undone


def test_undone_is_the_line_the_journal_keeps_and_names_what_was_not_restored():
    done = Undone("re-declared queue q", ["2 message(s) held back", "the broker's own state"])
    assert done == "re-declared queue q; not restored: 2 message(s) held back; not restored: the broker's own state"
    assert done.not_restored == ("2 message(s) held back", "the broker's own state")
    assert json.loads(json.dumps({"result": done})) == {"result": str(done)}
    assert Undone("all back") == "all back" and Undone("all back").not_restored == ()


def test_the_cli_prints_what_was_not_restored_one_line_each():
    from osfsck.cli.main import undo_lines

    done = Undone("re-declared queue q", ["2 message(s) held back", "the broker's own state"])
    assert undo_lines("abc", True, done) == [
        "abc  undone: re-declared queue q",
        "    not restored: 2 message(s) held back",
        "    not restored: the broker's own state",
    ]
    assert undo_lines("abc", False, "the row changed since") == ["abc  NOT undone: the row changed since"]
