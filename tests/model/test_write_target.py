"""The one atomic writer (model/write_target.py) of reports, snapshots and osfsck's own
files: a regular file holds the old content or the new, in the mode asked for or its own;
a device or a pipe is written in place, a symlink keeps pointing where it did (`-o /dev/null`
once left a regular file at /dev/null, which ssh -F /dev/null then read as its configuration)."""

import datetime as dt
import os
import stat
import threading

import pytest

from osfsck.engine.files import write_private
from osfsck.model.snapshot import Snapshot
from osfsck.model.write_target import rename_target, write_atomically


def _reading(fifo):
    got = []
    t = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)
    t.start()
    return t, got


def test_a_device_is_written_in_place_and_a_missing_file_is_renamed_into_place(tmp_path):
    assert rename_target("/dev/null") is None  # asked only: nothing is written to it here
    assert rename_target(tmp_path / "new.json") == tmp_path / "new.json"


def test_every_atomic_writer_writes_a_fifo_in_place(tmp_path):
    writers = [
        lambda p: write_atomically(p, b"report"),
        lambda p: write_private(p, b"state"),
        lambda p: Snapshot(taken_at=dt.datetime(2026, 3, 1)).write(str(p)),
    ]
    for i, write in enumerate(writers):
        fifo = tmp_path / f"pipe{i}"
        os.mkfifo(fifo)
        t, got = _reading(fifo)
        write(fifo)
        t.join(10)
        assert got and got[0]  # the reader got the data
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, no file renamed over it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe0", "pipe1", "pipe2"]  # no temporary left


def test_a_symlink_keeps_pointing_at_the_file_it_names(tmp_path):
    real = tmp_path / "reports" / "osfsck.prom"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "osfsck.prom"
    link.symlink_to(real)
    write_atomically(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"


def test_a_new_file_gets_the_mode_asked_for_or_the_umasks(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomically(tmp_path / "report.json", b"{}")
        write_atomically(tmp_path / "state.json", b"{}", 0o600)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "state.json").stat().st_mode) == 0o600


def test_a_replaced_file_keeps_its_mode_unless_one_is_asked_for(tmp_path):
    kept, private = tmp_path / "osfsck.prom", tmp_path / "snap.json"
    for path in (kept, private):
        path.write_text("old")
        path.chmod(0o644)
    write_atomically(kept, b"new")
    write_atomically(private, b"new", 0o600)
    assert (kept.read_text(), stat.S_IMODE(kept.stat().st_mode)) == ("new", 0o644)
    assert (private.read_text(), stat.S_IMODE(private.stat().st_mode)) == ("new", 0o600)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    path.write_text("old")

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(path, b"new", 0o600)
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"] and path.read_text() == "old"
