"""Real components for integration tests, started on loopback in temporary folders."""

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from osfsck_lab.loopback import free_port

SSHD = "/usr/sbin/sshd"


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sshd exited with status {proc.returncode}:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"sshd did not listen on 127.0.0.1:{port} within {timeout}s:\n{log.read_text()}")


@dataclass(frozen=True)
class Sshd:
    """A running sshd that accepts ``key`` for ``user`` (the user running the tests)."""

    host: str
    port: int
    user: str
    key: Path  # client private key
    known_hosts: Path  # holds the server's host key, for tests that verify it
    # Options that make the client ignore the developer's own ssh config, agent and
    # known_hosts, so the tests behave the same on every machine.
    ssh_options: tuple[str, ...] = ()


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    if not os.path.exists(SSHD) or not shutil.which("ssh") or not shutil.which("ssh-keygen"):
        pytest.fail(
            f"{SSHD}, ssh and ssh-keygen are needed: install openssh-server and "
            "openssh-client (apt-get install openssh-server openssh-client)"
        )
    d = tmp_path_factory.mktemp("sshd")
    for name in ("hostkey", "clientkey"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"osfsck-test-{name}", "-f", str(d / name)],
            check=True,
        )
    (d / "authorized_keys").write_text((d / "clientkey.pub").read_text())
    port = free_port()
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {(d / 'hostkey.pub').read_text()}")
    cfg = d / "sshd_config"
    cfg.write_text(
        f"ListenAddress 127.0.0.1\n"
        f"Port {port}\n"
        f"HostKey {d / 'hostkey'}\n"
        f"PidFile {d / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "UsePAM no\n"
        # The temporary folder's modes are not what sshd insists on for ~/.ssh.
        "StrictModes no\n"
        # The default 10:30:100 drops parallel unauthenticated connections during a fan-out.
        "MaxStartups 100\n"
    )
    # sshd run as root wants its privilege-separation folder; as another user it does not.
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    log = d / "sshd.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(cfg)], stdout=logf, stderr=logf, stdin=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc, log)
        yield Sshd(
            host="127.0.0.1",
            port=port,
            user=getpass.getuser(),
            key=d / "clientkey",
            known_hosts=d / "known_hosts",
            ssh_options=(
                "-F",
                "/dev/null",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "LogLevel=ERROR",
            ),
        )
    finally:
        proc.terminate()  # by PID: the -D sshd is our direct child
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
