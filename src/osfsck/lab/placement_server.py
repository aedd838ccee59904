"""The lab's Placement API: the real placement-api (Placement's own WSGI application,
`placement.wsgi.api:application`) on loopback, against the lab's placement database, so
that the allocation and provider repairs really go through Placement.

Standalone, as Placement runs without Keystone: `[api] auth_strategy = noauth2` (a request
needs an X-Auth-Token, whose value names the user; "admin" is an admin).  Served by a
small stdlib `wsgiref` runner written next to its configuration, found by Placement
through OS_PLACEMENT_CONFIG_DIR.  At start-up Placement syncs its standard resource
classes and traits into the database (placement/deploy.py update_database), as in a cloud.

Placement and its dependencies live in their own virtualenv (scripts/setup makes
`.venv-placement` next to osfsck's `.venv`), never in osfsck's.  Without it the lab has no
Placement API and the Placement repairs fall back to their runbooks.

The database may be MariaDB (`lab build --db-url`) or the lab's SQLite file: Placement's
runtime works on both (its migrations are not needed: the lab writes the schema they make).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from osfsck.lab.hypervisors import LabError, _read_pid, _terminate
from osfsck.lab.loopback import free_port
from osfsck.lab.neutron_server import _connection, _tail

PLACEMENT_VERSION = "16.0.0"    # scripts/setup pins the same (Placement of OpenStack 2026.2)
ENV = "OSFSCK_PLACEMENT_PYTHON"
START_TIMEOUT = 60.0
NOT_INSTALLED = ("Placement is not installed (scripts/setup makes .venv-placement; or set OSFSCK_PLACEMENT_PYTHON): "
                 "the lab has no Placement API, the Placement repairs fall back to their runbooks")

# The runner: Placement reads placement.conf from OS_PLACEMENT_CONFIG_DIR when its WSGI
# module is imported.  Its argv carries the lab's folder (the pidfile's path), which is
# what `lab stop` checks before it signals the PID.
RUNNER = '''\
"""placement-api's WSGI application on the stdlib server (written by osfsck lab build)."""
import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

host, port, pidfile, confdir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(pidfile, "w") as f:
    f.write(f"{os.getpid()}\\n")
os.environ["OS_PLACEMENT_CONFIG_DIR"] = confdir
sys.argv = sys.argv[:1]
from placement.wsgi.api import application  # noqa: E402  (reads placement.conf, syncs classes)


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class Handler(WSGIRequestHandler):
    def log_message(self, *args):     # placement logs each request itself
        pass


make_server(host, port, application, server_class=Server, handler_class=Handler).serve_forever()
'''


def available() -> str | None:
    """The python of Placement's virtualenv, or None when Placement is not installed."""
    given = os.environ.get(ENV)
    if given:
        return given if Path(given).exists() else None
    python = Path(sys.prefix).parent / ".venv-placement" / "bin" / "python"
    return str(python) if python.exists() else None


def start_placement(out: Path, database_url: str, python: str | None = None,
                    timeout: float = START_TIMEOUT) -> tuple[dict, list[str]]:
    """placement-api for the lab in `out`, on the placement database at `database_url`;
    returns (its lab.json entry, the API lines of the osfsck.toml `[placement]` section)."""
    python = python or available()
    if python is None:
        raise LabError(NOT_INSTALLED)
    out = Path(out).resolve()
    connection = _connection(database_url, out)
    folder = out / "placement"
    (folder / "lock").mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "placement-api.log"
    (folder / "placement.conf").write_text(_placement_conf(folder, connection, log))
    (folder / "serve.py").write_text(RUNNER)
    pidfile = folder / "placement-api.pid"
    pidfile.unlink(missing_ok=True)
    argv = [python, str(folder / "serve.py"), "127.0.0.1", str(port), str(pidfile), str(folder)]
    entry = {"program": "python", "argv": argv, "pidfile": str(pidfile), "log": str(folder / "stdout.log"),
             "port": port}
    with open(entry["log"], "ab") as stdout:
        proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=folder)
    try:
        wait_ready(port, timeout, proc)
    except LabError as e:
        _terminate(proc.pid, "python", str(folder))
        raise LabError(f"{e}: {_tail(log, Path(entry['log']))}") from None
    return entry, [f'endpoint = "http://127.0.0.1:{port}"', 'auth = "none"']


def stop_placement(entry: dict, out: Path) -> None:
    """Stop it by its PID, if that PID still runs it (as `services.stop` does)."""
    _terminate(_read_pid(Path(entry["pidfile"])), entry["program"], str(Path(out).resolve()))


def wait_ready(port: int, timeout: float = START_TIMEOUT, proc: subprocess.Popen | None = None) -> None:
    """Until GET /resource_providers answers 200: the application is loaded, the database
    read and the standard classes synced."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/resource_providers?name=osfsck-ready",
                                 headers={"X-Auth-Token": "admin"})
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise LabError(f"placement-api exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status == 200:
                    return
                last = f"HTTP {r.status}"
        except urllib.error.HTTPError as e:
            last = f"HTTP {e.code}"
        except (OSError, ValueError) as e:
            last = " ".join(str(e).split())
        time.sleep(0.2)
    raise LabError(f"placement-api did not answer GET /resource_providers with 200 within {timeout:.0f}s ({last})")


def _placement_conf(folder: Path, connection: str, log: Path) -> str:
    return f"""\
[DEFAULT]
debug = false
use_stderr = false
log_file = {log}

[api]
auth_strategy = noauth2

[placement_database]
connection = {connection}
sync_on_startup = false

[oslo_concurrency]
lock_path = {folder / 'lock'}
"""
