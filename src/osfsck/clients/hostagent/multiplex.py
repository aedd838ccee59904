"""One SSH connection per host per run: OpenSSH connection multiplexing in a private folder.

Every ssh that osfsck runs to a host gets ``ControlMaster=auto`` and a ``ControlPath`` in a
folder of the run's own (mode 0700, made by mkdtemp): the first ssh to a host becomes its
master, and any later one (another call, or another program that runs ssh with the same
options) rides that connection instead of a new TCP connection, key exchange and login.
The master outlives its first session by ``ControlPersist`` seconds only (ssh_config(5)),
so a run that is killed leaves no ssh behind for longer than that: each master then exits
on its own and removes its socket.  ``close()`` ends the masters still running at the end
of a run and removes the folder.  Everything else of the operator's ssh_config (users, keys,
jump hosts) applies as before; options given in [hypervisors] ssh_options come first on the
command line, and ssh takes the first value of an option, so they win over these.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
import time

log = logging.getLogger(__name__)

# A Unix socket's path must fit in sun_path (108 bytes on Linux, 104 on BSDs); %C is a
# 40-character hash of the local host, remote host, port and user (ssh_config(5) TOKENS).
_SUN_PATH = 104
_HASH = 40


class ControlDir:
    """The run's folder of control sockets, made on first use; ``close()`` is idempotent."""

    def __init__(self, persist: float = 10.0):
        self.persist = persist
        self._path: str | None = None
        self._lock = threading.Lock()
        self._closed = False

    def options(self) -> list[str]:
        """The ssh options that make a call share its host's connection, or [] when the
        folder cannot hold a socket path (a TMPDIR too long) or the run is over."""
        path = self._folder()
        if path is None:
            return []
        return [
            "-o",
            "ControlMaster=auto",
            "-o",
            f"ControlPath={path}/%C",
            "-o",
            f"ControlPersist={max(1, round(self.persist))}s",
        ]

    @property
    def path(self) -> str | None:
        return self._path

    def _folder(self) -> str | None:
        with self._lock:
            if self._closed:
                return None
            if self._path is None:
                path = tempfile.mkdtemp(prefix="osfsck-ssh-")  # 0700, owned by us
                if len(path) + 1 + _HASH >= _SUN_PATH:
                    os.rmdir(path)
                    log.warning("ssh multiplexing off: %s is too long a folder for a control socket", path)
                    self._closed = True
                    return None
                self._path = path
            return self._path

    def close(self) -> None:
        """End the masters still running (by their process ids, found by this run's private
        folder in their command lines) and remove the folder."""
        with self._lock:
            self._closed = True
            path, self._path = self._path, None
        if path is None:
            return
        stop_masters(path)
        shutil.rmtree(path, ignore_errors=True)


def masters(path: str) -> list[int]:
    """The ids of our processes whose command line names `path`: the masters of this run
    (a master's title is "ssh: <ControlPath> [mux]", OpenSSH's setproctitle) and any ssh
    still running with that ControlPath.  Linux's /proc; elsewhere none are found and the
    masters end ControlPersist seconds after their last session."""
    needle = path.encode()
    uid = os.getuid()
    found = []
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return []
    for pid in pids:
        if pid == os.getpid():
            continue
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue  # ended meanwhile
        if needle in cmdline:
            found.append(pid)
    return found


def stop_masters(path: str, grace: float = 1.0) -> None:
    """SIGTERM (a master then removes its socket), then SIGKILL what is left after `grace`
    seconds: a stopped or wedged master does not act on SIGTERM."""
    pids = masters(path)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        time.sleep(0.02)
        pids = [p for p in pids if _alive(p)]
    for pid in pids:
        _signal(pid, signal.SIGKILL)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            # a zombie (state Z) has ended; its parent (init, for a daemon) reaps it
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return False
