"""The journal after a run killed in the middle of writing a record: the torn last line is
left out of every reading (journal, undo still work), and the next append removes it
before writing, so the journal never carries a damaged line in its middle."""

from __future__ import annotations

import json

import pytest

from osfsck.engine.journal import Journal, JournalError


def _journal(tmp_path, text: bytes) -> Journal:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(text)
    return Journal(str(path))


WHOLE = b'{"id": "a", "status": "intent", "before": {}}\n{"id": "a", "status": "applied"}\n'


@pytest.mark.parametrize("torn", [b'{"id": "b", "status": "int', b"{", b'{"id": "b"'])
def test_a_torn_last_line_is_left_out_and_cut_by_the_next_append(tmp_path, torn, caplog):
    journal = _journal(tmp_path, WHOLE + torn)
    assert [e["id"] for e in journal.entries()] == ["a"] and journal.torn
    assert "cut off" in caplog.text
    journal.append({"id": "c", "status": "intent"})
    assert journal.path.read_bytes() == WHOLE + b'{"id": "c", "status": "intent"}\n'
    assert [r["id"] for r in journal.records()] == ["a", "a", "c"] and not journal.torn


def test_a_whole_last_line_without_newline_is_kept(tmp_path):
    """A record is written whole with its newline; a file that ends without one but whose
    last line parses was written by a person (an editor): it is read, and kept."""
    journal = _journal(tmp_path, WHOLE + b'{"id": "b", "status": "intent"}')
    assert [r["id"] for r in journal.records()] == ["a", "a", "b"] and not journal.torn


def test_a_damaged_line_in_the_middle_is_still_an_error(tmp_path):
    journal = _journal(tmp_path, b'{"id": "b", "sta\n' + WHOLE)
    with pytest.raises(JournalError, match=":1: damaged journal line"):
        journal.records()


def test_the_torn_tail_is_found_across_read_chunks(tmp_path):
    """A torn record longer than the 64 KiB the tail is read by (a big before-image)."""
    big = json.dumps({"id": "b", "status": "intent", "before": {"xml": "x" * 200_000}}).encode()
    journal = _journal(tmp_path, WHOLE + big[:150_000])
    journal.append({"id": "c", "status": "intent"})
    assert journal.path.read_bytes() == WHOLE + b'{"id": "c", "status": "intent"}\n'


def test_an_append_after_a_whole_last_line_without_newline_keeps_it(tmp_path):
    journal = _journal(tmp_path, WHOLE + b'{"id": "b", "status": "intent"}')
    journal.append({"id": "c", "status": "intent"})
    assert [r["id"] for r in journal.records()] == ["a", "a", "b", "c"]
