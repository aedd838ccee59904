"""A private ovsdb-server holding an OVN northbound database, for the tests, the lab and
the benchmark: Debian's NB schema (ovn-central ships /usr/share/ovn/ovn-nb.ovsschema),
its own folder (database, pidfile, unixctl socket, log), a free loopback TCP port and a
unix socket, stopped by its PID."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from osfsck_lab.loopback import free_port
from osfsck_lab.processes import marker_env

NB_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")


class OvsdbError(Exception):
    pass


def _program(name: str) -> str:
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if Path(p).exists()), None)
    if found is None:
        raise OvsdbError(f"{name} is not installed: run scripts/setup (apt-get install ovn-central)")
    return found


class OvsdbServer:
    """`OvsdbServer(folder)` creates `folder`/nb.db from `schema` (unless it exists) and
    serves it on 127.0.0.1:`port` (a free one by default) and on `folder`/nb.sock (`name`
    names the files: "sb" for a southbound database).

    `remote` is the connection string osfsck's `[ovn] nb_connection` takes."""

    def __init__(
        self, folder: Path, *, schema: Path = NB_SCHEMA, port: int | None = None, timeout: float = 10, name: str = "nb"
    ):
        if not Path(schema).exists():
            raise OvsdbError(f"{schema} is missing: install ovn-central (it ships the NB schema)")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.db = self.folder / f"{name}.db"
        self.socket = self.folder / f"{name}.sock"
        self.pidfile = self.folder / f"{name}.pid"
        self.log = self.folder / f"{name}.log"
        self.port = port or free_port()
        if not self.db.exists():
            subprocess.run(
                [_program("ovsdb-tool"), "create", str(self.db), str(schema)],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        self.proc: subprocess.Popen | None = None
        self.start(timeout)

    @property
    def remote(self) -> str:
        return f"tcp:127.0.0.1:{self.port}"

    @property
    def unix_remote(self) -> str:
        return f"unix:{self.socket}"

    @property
    def argv(self) -> list[str]:
        return [
            _program("ovsdb-server"),
            str(self.db),
            f"--remote=punix:{self.socket}",
            f"--remote=ptcp:{self.port}:127.0.0.1",
            f"--pidfile={self.pidfile}",
            f"--unixctl={self.folder / f'{self.name}.ctl'}",
            f"--log-file={self.log}",
        ]

    @property
    def env(self) -> dict:
        """OVS_RUNDIR & co keep ovsdb-server's default files out of /var/run/openvswitch."""
        return {
            "OVS_RUNDIR": str(self.folder),
            "OVS_LOGDIR": str(self.folder),
            "OVS_DBDIR": str(self.folder),
            **marker_env(self.folder),
        }

    def start(self, timeout: float = 10) -> None:
        if self.running:
            return
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise OvsdbError(f"ovsdb-server exited with {self.proc.returncode}: " + self._tail())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise OvsdbError(f"ovsdb-server did not listen on 127.0.0.1:{self.port}: " + self._tail()) from None
                time.sleep(0.02)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def pause(self) -> None:
        """SIGSTOP: the server keeps its sockets open and answers nothing (a hung server)."""
        if self.running:
            os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.running:
            os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if not self.running:
            return
        self.resume()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-600:]
        except OSError:
            return ""

    def __enter__(self) -> OvsdbServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
