"""A private RabbitMQ broker with the management plugin, for the tests and the lab: the real
`rabbitmq-server` (Debian's package, Erlang) run as the current user from its own folder
(config, Mnesia database, logs, Erlang cookie), on free loopback ports, stopped by its PID.

How it is started follows research test-components §3: the real script
/usr/lib/rabbitmq/bin/rabbitmq-server (the /usr/sbin wrapper su's to the rabbitmq user and
uses /var/lib/rabbitmq), every path and port given by environment variables, ready once the
management API answers (about 5 s).  Erlang's port mapper, epmd, is a separate daemon that
outlives the broker: each broker gets an epmd port of its own, and `stop` ends the epmd
serving that port too, found by the ERL_EPMD_PORT it was started with, and whatever else
still carries the broker's marker (lab/processes.py: the rabbitmq-server script, beam's
helpers).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path

import httpx

from osfsck_lab import processes
from osfsck_lab.loopback import free_port

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
USER = "osfsck"
_STOP_GRACE = 20.0  # beam exits 6-10 s after SIGTERM


class RabbitError(Exception):
    pass


class Broker:
    """`Broker(folder)` writes its config in `folder` (once: the ports, node name and the
    password survive a restart, as do durable queues) and starts it."""

    def __init__(self, folder: Path, *, timeout: float = 90, start: bool = True):
        if not SERVER.exists():
            raise RabbitError(f"{SERVER} is missing: run scripts/setup (apt-get install rabbitmq-server)")
        self.folder = Path(folder).resolve()
        self.folder.mkdir(parents=True, exist_ok=True)
        settings = self.folder / "ports"
        if settings.exists():
            self.amqp_port, self.http_port, self.dist_port, self.epmd_port = map(int, settings.read_text().split())
        else:
            self.amqp_port, self.http_port, self.dist_port, self.epmd_port = (free_port() for _ in range(4))
            settings.write_text(f"{self.amqp_port} {self.http_port} {self.dist_port} {self.epmd_port}\n")
        self.password_file = self.folder / "password"
        if not self.password_file.exists():
            self.password_file.write_text(secrets.token_urlsafe(18) + "\n")
            self.password_file.chmod(0o600)
        self.password = self.password_file.read_text().strip()
        self.pidfile = self.folder / "rabbit.pid"
        self.log = self.folder / "rabbitmq.log"
        self._write_config()
        if start:
            self.start(timeout)

    # -- what osfsck and clients need -----------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def amqp_url(self) -> str:
        return f"amqp://{USER}:{self.password}@127.0.0.1:{self.amqp_port}/%2F"

    @property
    def env(self) -> dict:
        d = str(self.folder)
        return {
            "HOME": d,
            "RABBITMQ_NODENAME": f"osfsck{self.amqp_port}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_CONFIG_FILE": f"{d}/rabbitmq.conf",
            "RABBITMQ_ENABLED_PLUGINS_FILE": f"{d}/enabled_plugins",
            "RABBITMQ_MNESIA_BASE": f"{d}/mnesia",
            "RABBITMQ_LOG_BASE": f"{d}/log",
            "RABBITMQ_PID_FILE": str(self.pidfile),
            "RABBITMQ_CONF_ENV_FILE": f"{d}/env.conf",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            **processes.marker_env(self.folder),
        }

    @property
    def argv(self) -> list[str]:
        return [str(SERVER)]

    def _write_config(self) -> None:
        (self.folder / "enabled_plugins").write_text("[rabbitmq_management].\n")
        (self.folder / "env.conf").touch()
        # default_user is created on the first boot only; the guest user is not created at all
        (self.folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.amqp_port}\n"
            f"management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {self.http_port}\n"
            f"default_user = {USER}\ndefault_pass = {self.password}\n"
            "default_user_tags.administrator = true\n"
            "default_permissions.configure = .*\ndefault_permissions.read = .*\ndefault_permissions.write = .*\n"
            "loopback_users = none\n"
            # an answer the management API takes over a minute to make (a listing of XL's
            # 80,000 queues on a busy machine) is sent, not cut off at cowboy's 60 s
            + "".join(f"management.tcp.{t}_timeout = 600000\n" for t in ("idle", "inactivity", "request"))
        )

    # -- life ------------------------------------------------------------------------------
    def start(self, timeout: float = 90) -> None:
        if self.running():
            return
        with open(self.log, "ab") as log:
            proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.folder,
                env={**os.environ, **self.env},
            )
        try:
            wait_ready(self.url, USER, self.password, timeout, proc)
        except RabbitError:
            self.stop()
            raise

    def running(self) -> bool:
        return processes.identify(processes.read_pid(self.pidfile), "beam", str(self.folder)) is not None

    def stop(self) -> None:
        stop_broker(self.pidfile, self.folder, self.epmd_port)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def wait_ready(url: str, user: str, password: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Until the management API answers (the broker's last listener to open)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RabbitError(f"rabbitmq-server exited with status {proc.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/api/overview", auth=(user, password), timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RabbitError(f"RabbitMQ's management API at {url} did not answer within {timeout:.0f}s")


def stop_broker(pidfile: Path, folder: Path, epmd_port: int | None) -> None:
    """SIGTERM the broker's Erlang VM if it still is ours (its -home is `folder`), wait for it,
    then end the epmd that serves `epmd_port` and anything else of the broker's.
    LabError, one line each, for what would not end."""
    # its -home is `folder`; beam exits 6-10 s after SIGTERM
    processes.terminate(processes.read_pid(pidfile), "beam", str(folder), grace=_STOP_GRACE)
    epmds = [p for p in map(processes.current, _epmd_pids(epmd_port) if epmd_port else []) if p]
    processes.stopped(epmds + processes.marked(folder))


def _epmd_pids(port: int) -> list[int]:
    """The epmd daemons started with ERL_EPMD_PORT=`port` (as root, /proc shows every
    process's environment; otherwise only the current user's, which are the ones we start)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "epmd":
                continue
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"ERL_EPMD_PORT={port}".encode() in env:
            found.append(int(entry.name))
    return found
