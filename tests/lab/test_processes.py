"""lab/processes.py: how a stop knows a server of the lab, waits until it has really ended,
escalates to SIGKILL, and names what would not end; and that it never touches a process
of a neighbour lab (/lab10 is not below /lab1) or one that took over a PID."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

import pytest

from osfsck_lab import build, processes
from osfsck_lab.cli import cmd_lab
from osfsck_lab.hypervisors import LabError
from osfsck_lab.processes import Proc

# a Python that waits, the rest of its argv untouched
WAIT = "import signal, sys, time; signal.signal(signal.SIGTERM, {}); time.sleep(60)"


@pytest.fixture
def children():
    started = []

    def spawn(*argv: str, env: dict | None = None, ignore_term: bool = False) -> subprocess.Popen:
        code = WAIT.format("signal.SIG_IGN" if ignore_term else "signal.SIG_DFL")
        p = subprocess.Popen([sys.executable, "-c", code, *argv], env={**os.environ, **(env or {})})
        started.append(p)
        return p

    yield spawn
    for p in started:
        p.kill()
        p.wait()


def _ready(p: subprocess.Popen) -> None:
    """Until the child runs its own code (its argv is Python's from the start; its signal
    disposition only once it has imported `signal`)."""
    deadline = time.monotonic() + 10
    while b"SigIgn" not in Path(f"/proc/{p.pid}/status").read_bytes() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)


def test_a_process_whose_main_thread_ended_first_is_alive_until_its_last_thread_ends():
    # ps shows such a process <defunct> while its other threads run on: a daemon's main
    # thread returns and exit() is still tearing the rest down (seen for libvirtd and beam
    # right after a stop returned)
    code = (
        "import ctypes, threading, time; threading.Thread(target=time.sleep, args=(60,)).start(); "
        "ctypes.CDLL(None).pthread_exit(None)"
    )
    p = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the main thread did not exit"
            time.sleep(0.02)
        assert processes.alive(p.pid)
        proc = processes.current(p.pid)
        assert proc is not None and proc.what.startswith("python")  # read from a live thread
        assert processes.stop([proc], grace=1) == []
        assert not processes.alive(p.pid)
    finally:
        p.kill()
        p.wait()


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace(children):
    p = children("/lab/x", ignore_term=True)
    _ready(p)
    t0 = time.monotonic()
    assert processes.stop([processes.current(p.pid)], grace=0.5) == []
    assert 0.5 <= time.monotonic() - t0 < 5
    assert p.wait(1) == -9


def test_a_pid_taken_over_by_another_process_is_left_alone(children):
    p = children("/lab/x")
    gone = Proc(p.pid, "1", "python")  # the PID of a process that started at another time
    assert processes.stop([gone], grace=0.2) == []
    assert p.poll() is None and processes.alive(p.pid)


def test_a_neighbour_lab_is_not_below_this_one(children, tmp_path):
    lab1, lab10 = tmp_path / "lab1", tmp_path / "lab10"
    p = children(str(lab10 / "dns" / "named.conf"), env=processes.marker_env(lab10 / "dns"))
    _ready(p)
    assert processes.identify(p.pid, "python", str(lab1)) is None
    assert processes.identify(p.pid, "python", str(lab10)) == processes.current(p.pid)
    assert processes.marked(lab1) == []
    assert processes.marked(lab10) == [processes.current(p.pid)]


def test_lab_stop_ends_what_no_record_names_and_nothing_else(children, tmp_path):
    # a server whose pidfile was never written, and the daemon it forked (same marker)
    lab1, lab10 = tmp_path / "lab1", tmp_path / "lab10"
    for lab in (lab1, lab10):
        lab.mkdir()
        (lab / "lab.json").write_text(json.dumps({"building": True, "hosts": {}, "services": {}}))
    mine = subprocess.Popen(["sh", "-c", "sleep 60 & wait"], env={**os.environ, **processes.marker_env(lab1 / "x")})
    neighbour = children(env=processes.marker_env(lab10))
    deadline = time.monotonic() + 10
    while len(processes.marked(lab1)) < 2:
        assert time.monotonic() < deadline, "sh did not start its sleep"
        time.sleep(0.02)
    forked = [p for p in processes.marked(lab1) if p.pid != mine.pid]
    try:
        assert build.stop(lab1) == 0
        assert mine.wait(5) is not None and not any(processes.alive(p.pid) for p in forked)
        assert neighbour.poll() is None
    finally:
        mine.kill()
        mine.wait()


def test_lab_stop_names_each_process_that_would_not_end(children, tmp_path, monkeypatch, capsys):
    # a process that outlives SIGKILL (stuck in the kernel) cannot be made on purpose: here
    # the signals are not sent
    (tmp_path / "lab.json").write_text(json.dumps({"building": True, "hosts": {}, "services": {}}))
    stuck = [children(env=processes.marker_env(tmp_path / "x")) for _ in range(2)]
    for p in stuck:
        _ready(p)
    monkeypatch.setattr(processes, "_signal", lambda pid, sig: None)
    monkeypatch.setattr(processes, "STOP_GRACE", 0.1)
    monkeypatch.setattr(processes, "KILL_WAIT", 0.1)
    with pytest.raises(LabError) as e:
        build.stop(tmp_path)
    lines = str(e.value).splitlines()
    assert sorted(int(line.split("PID ")[1].split(")")[0]) for line in lines) == sorted(p.pid for p in stuck)

    assert cmd_lab(Namespace(lab_command="stop", dir=str(tmp_path))) == 8
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("osfsck: python") and "still runs" in line for line in err)
