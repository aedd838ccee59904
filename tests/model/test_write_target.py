"""Files osfsck replaces atomically are replaced only when they are regular files: a device
or a pipe is written in place, a symlink keeps pointing where it did (`-o /dev/null` once
left a regular file at /dev/null, which ssh -F /dev/null then read as its configuration)."""

import datetime as dt
import os
import stat
import threading

from osfsck.cli.main import _write_atomically
from osfsck.engine.files import write_private
from osfsck.model.snapshot import Snapshot
from osfsck.model.write_target import rename_target


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
        lambda p: _write_atomically(p, b"report"),
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
    _write_atomically(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
