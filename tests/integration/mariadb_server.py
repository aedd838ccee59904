"""A real MariaDB server on loopback for the tests: started in a temporary folder on a free
port, stopped by its PID."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MariaDB:
    def __init__(self, base: Path):
        for prog in ("mariadb-install-db", "mariadbd"):
            if not shutil.which(prog) and not Path(f"/usr/sbin/{prog}").exists():
                raise RuntimeError(f"{prog} is not installed: run scripts/setup (apt-get install mariadb-server)")
        self.base, self.port = base, free_port()
        data = base / "data"
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.proc = subprocess.Popen(
            [shutil.which("mariadbd") or "/usr/sbin/mariadbd", "--no-defaults", f"--datadir={data}",
             f"--socket={base}/sock", f"--port={self.port}", "--bind-address=127.0.0.1", f"--pid-file={base}/pid",
             f"--log-error={base}/err.log", "--user=root", "--innodb-buffer-pool-size=64M", "--skip-name-resolve"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"MariaDB did not start: {(base / 'err.log').read_text()[-500:]}")

    @property
    def url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
