"""What the lab's real OpenStack API services (neutron-server, placement-api) share: the
python of their own virtualenv, the stdlib `wsgiref` runner they are served by, starting it
and waiting until it answers, and stopping it by its PID.

Each service lives in its own virtualenv next to osfsck's `.venv` (scripts/setup makes
them): their dependencies never mix with osfsck's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from osfsck_lab import processes
from osfsck_lab.hypervisors import LabError

# The end of every runner: the service's `application` served on a threading wsgiref server.
# Its argv carries the lab's folder (the pidfile's path), which is what `lab stop` checks
# before it signals the PID.
SERVE = """

class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class Handler(WSGIRequestHandler):
    def log_message(self, *args):     # the service logs each request itself
        pass


make_server(host, port, application, server_class=Server, handler_class=Handler).serve_forever()
"""


def venv_python(env: str, venv: str) -> str | None:
    """The python named by the environment variable `env`, else `venv`'s next to osfsck's
    own virtualenv; None when it is not there."""
    given = os.environ.get(env)
    if given:
        return given if Path(given).exists() else None
    python = Path(sys.prefix).parent / venv / "bin" / "python"
    return str(python) if python.exists() else None


def connection(url: str, out: Path, service: str) -> str:
    """The service's database connection for the lab's URL: MariaDB through PyMySQL and
    PostgreSQL through psycopg2 (the drivers in the service's venv, as oslo.db's own tests
    use them: Placement reads the `lastrowid` of an INSERT, which psycopg 3 has not), or the
    SQLite file by its absolute path (the service runs in another folder)."""
    scheme, sep, rest = url.partition("://")
    if scheme == "sqlite" and rest.startswith("/"):
        path = Path(rest[1:])
        return f"sqlite:///{path if path.is_absolute() else out / path}"
    if sep and scheme.split("+")[0] == "postgresql":
        return f"postgresql+psycopg2://{rest}"
    if not sep or scheme.split("+")[0] not in ("mysql", "mariadb"):
        raise LabError(
            f"{service}'s API needs the lab's {service} database on MariaDB, PostgreSQL or SQLite, not {scheme}"
        )
    return f"mysql+pymysql://{rest}" + ("" if "charset=" in rest else ("&" if "?" in rest else "?") + "charset=utf8mb4")


def launch(
    name: str,
    folder: Path,
    argv: list[str],
    pidfile: Path,
    port: int,
    service_log: Path,
    ready: urllib.request.Request,
    timeout: float,
    env: dict | None = None,
) -> dict:
    """Start the runner `argv` in `folder` (with `env` added to its environment) and wait
    until `ready` answers 200; returns its lab.json entry.  A runner that does not come up is
    stopped, and the error quotes the end of its logs."""
    pidfile.unlink(missing_ok=True)
    entry = {
        "program": "python",
        "argv": argv,
        "pidfile": str(pidfile),
        "log": str(folder / "stdout.log"),
        "port": port,
        **({"env": env} if env else {}),
    }
    with open(entry["log"], "ab") as stdout:
        proc = subprocess.Popen(
            argv,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=folder,
            env={**os.environ, **(env or {}), **processes.marker_env(folder)},
        )
    try:
        wait_ready(name, ready, timeout, proc)
    except LabError as e:
        processes.terminate(proc.pid, "python", str(folder))
        raise LabError(f"{e}: {tail(service_log, Path(entry['log']))}") from None
    return entry


def stop(entry: dict, out: Path) -> None:
    """Stop it by its PID, if that PID still runs it (as `services.stop` does)."""
    processes.terminate(processes.read_pid(Path(entry["pidfile"])), entry["program"], str(Path(out).resolve()))


def wait_ready(name: str, ready: urllib.request.Request, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Until `ready` answers 200 (the application is loaded and its database read)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise LabError(f"{name} exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(ready, timeout=5) as r:
                if r.status == 200:
                    return
                last = f"HTTP {r.status}"
        except urllib.error.HTTPError as e:
            last = f"HTTP {e.code}"
        except (OSError, ValueError) as e:
            last = " ".join(str(e).split())
        time.sleep(0.2)
    what = urllib.parse.urlsplit(ready.full_url)
    raise LabError(f"{name} did not answer GET {what.path} with 200 within {timeout:.0f}s ({last})")


def tail(*logs: Path, lines: int = 8) -> str:
    """The last lines of the logs, on one line (where the service says why it stopped)."""
    text = []
    for log in logs:
        try:
            text += [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            pass
    return " | ".join(text[-lines:])[-1500:] or "its log is empty"
