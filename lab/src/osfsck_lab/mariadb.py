"""A private MariaDB server for the lab, the tests, the schema builder and the benchmark:
its own data folder, a free loopback port, `--no-defaults` (no my.cnf of the machine
changes it), stopped by its PID."""

from __future__ import annotations

import getpass
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from osfsck_lab.loopback import free_port


class MariaDBError(Exception):
    pass


def _program(name: str) -> str:
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if found is None:
        raise MariaDBError(f"{name} is not installed: run scripts/setup (apt-get install mariadb-server)")
    return found


class MariaDB:
    """`MariaDB(folder)` starts a server in `folder` (created); `options` are extra server
    options such as `--innodb-buffer-pool-size=1G`."""

    def __init__(self, folder: Path, options: tuple[str, ...] = (), timeout: float = 60):
        install, server = _program("mariadb-install-db"), _program("mariadbd")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log = self.folder / "server.log"
        user = getpass.getuser()
        data = self.folder / "data"
        subprocess.run(
            [
                install,
                "--no-defaults",
                f"--datadir={data}",
                f"--user={user}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [
                    server,
                    "--no-defaults",
                    f"--datadir={data}",
                    f"--socket={self.folder / 'sock'}",
                    f"--port={self.port}",
                    "--bind-address=127.0.0.1",
                    f"--pid-file={self.folder / 'pid'}",
                    f"--user={user}",
                    "--skip-name-resolve",
                    *options,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while "ready for connections" not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise MariaDBError("mariadbd did not start: " + self.log.read_text(errors="replace")[-800:])
            time.sleep(0.1)
        m = re.search(r"Version: '([^']+)'", self.log.read_text(errors="replace"))
        self.version = m.group(1) if m else "unknown"

    @property
    def url(self) -> str:
        """The server's URL, with no database: `lab build --db-url` takes this."""
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # a clean shutdown of this one server
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> MariaDB:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
