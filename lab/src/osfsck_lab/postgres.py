"""A private PostgreSQL server for the lab, the tests and the schema builder: its own
data folder, a free loopback port, its socket in that folder, fsync off, stopped by its
PID.  Like mariadb.py, but PostgreSQL refuses to run as root (initdb and postgres both
exit), so as root the server runs as the `postgres` user, which must then be able to
reach the folder (every parent searchable by others, e.g. mode 755)."""

from __future__ import annotations

import getpass
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from osfsck_lab.loopback import free_port

# Debian keeps the server programs out of PATH, one folder per major version.
DEBIAN_BIN = Path("/usr/lib/postgresql")


class PostgreSQLError(Exception):
    pass


def bindir() -> Path:
    """The folder of initdb/postgres/pg_dump: from PATH, else Debian's newest version."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(
        (p for p in DEBIAN_BIN.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise PostgreSQLError("PostgreSQL is not installed: run scripts/setup (apt-get install postgresql)")
    return versions[-1]


class PostgreSQL:
    """`PostgreSQL(folder)` starts a server in `folder` (created); `options` are extra
    server settings such as `("-c", "shared_buffers=256MB")`.  User `postgres`, no
    password (trust on loopback only)."""

    def __init__(self, folder: Path, options: tuple[str, ...] = (), timeout: float = 60):
        self.bin = bindir()
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log = self.folder / "server.log"
        run_as: dict = {}
        if os.getuid() == 0:
            run_as = {"user": "postgres", "group": "postgres", "extra_groups": []}
            if not self._reachable_by_postgres():
                raise PostgreSQLError(
                    f"{self.folder}: the postgres user cannot reach this folder (a parent is not searchable by others)"
                )
            shutil.chown(self.folder, "postgres", "postgres")
        owner = "postgres" if run_as else getpass.getuser()
        data = self.folder / "data"
        # -E/--locale: the same encoding and sorting on every machine, whatever its locale.
        init = subprocess.run(
            [str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync",
             "-E", "UTF8", "--locale=C"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            **run_as,
        )  # fmt: skip
        if init.returncode != 0:
            raise PostgreSQLError(f"initdb failed (as {owner}): {init.stdout[-800:]}")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [
                    str(self.bin / "postgres"),
                    "-D", str(data),
                    "-p", str(self.port),
                    "-c", "listen_addresses=127.0.0.1",
                    "-c", f"unix_socket_directories={self.folder}",
                    # a throw-away server: nothing to make durable
                    "-c", "fsync=off",
                    "-c", "synchronous_commit=off",
                    "-c", "full_page_writes=off",
                    *options,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **run_as,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while "ready to accept connections" not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise PostgreSQLError("postgres did not start: " + self.log.read_text(errors="replace")[-800:])
            time.sleep(0.05)
        out = subprocess.run([str(self.bin / "postgres"), "--version"], capture_output=True, text=True).stdout
        m = re.search(r"\(PostgreSQL\) (\S+)", out)
        self.version = m.group(1) if m else "unknown"

    def _reachable_by_postgres(self) -> bool:
        for parent in self.folder.resolve().parents:
            if not parent.stat().st_mode & 0o001:
                return False
        return True

    @property
    def url(self) -> str:
        """The server's URL, with no database (psycopg 3, as osfsck connects)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # "fast" shutdown: ends sessions, exits cleanly
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> PostgreSQL:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
