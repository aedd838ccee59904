"""A reader that leaves early (`osfsck checks | head -1`) ends osfsck quietly: no
traceback, no "Exception ignored" from the interpreter at exit, no error line, and the
exit status the command had (0 for a listing; a check's own bits).

The pipes are real: osfsck runs as a process of its own whose stdout (and stderr) is a
pipe that nobody reads any more, its read end closed before osfsck writes, so that the
first write fails with EPIPE whatever the pipe's capacity."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.cli.hostile import check_argv, hostile_snapshot


@pytest.fixture
def snapshot_folder(tmp_path):
    return hostile_snapshot(tmp_path)


def run_into_closed_pipe(*args: str, cwd=None, stderr_too: bool = False) -> tuple[int, str]:
    """osfsck's exit status and what it wrote on stderr, with stdout a closed pipe."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before osfsck starts
    err_read, err_write = os.pipe() if not stderr_too else (None, write)
    p = subprocess.Popen(
        [sys.executable, "-m", "osfsck.cli.main", *args],
        stdout=write,
        stderr=err_write,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )
    os.close(write)
    err = b""
    if err_read is not None:
        os.close(err_write)
        with os.fdopen(err_read, "rb") as f:
            err = f.read()
    return p.wait(timeout=120), err.decode()


@pytest.mark.parametrize("argv", [("checks",), ("checks", "-f", "json"), ("checks", "show", "HV101"), ("--help",)])
def test_a_listing_ends_quietly_with_0(argv):
    code, err = run_into_closed_pipe(*argv)
    assert (code, err) == (0, "")


def test_a_check_keeps_its_own_status(snapshot_folder):
    # HV101 is found in the snapshot: 4, as when the report is read to its end
    for fmt in ("text", "json", "csv", "prometheus"):
        code, err = run_into_closed_pipe(*check_argv(snapshot_folder, "-f", fmt), cwd=snapshot_folder)
        assert (code, err) == (4, ""), fmt


def test_stderr_on_the_same_closed_pipe(snapshot_folder):
    # `osfsck check -v 2>&1 | head -1`: the log lines meet the closed pipe too
    code, err = run_into_closed_pipe(*check_argv(snapshot_folder, "-v"), cwd=snapshot_folder, stderr_too=True)
    assert code == 4


def test_head_in_a_shell_pipeline(snapshot_folder):
    """As operators type it; bash's PIPESTATUS gives osfsck's own status."""
    line = " ".join(
        [sys.executable, "-m", "osfsck.cli.main", *check_argv(snapshot_folder, "-f", "value", "-c", "code")]
    )
    p = subprocess.run(
        ["bash", "-c", f"{line} | head -1; echo ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        cwd=snapshot_folder,
        timeout=120,
    )
    assert p.stdout.splitlines() == ["HV101", "4"] and p.stderr == ""
