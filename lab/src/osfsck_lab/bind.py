"""A private BIND `named` on loopback for the tests and the lab: its own folder, a TSIG
key made by `tsig-keygen`, primary zones written from given records, dynamic updates and
zone transfers allowed with the key, a free port, stopped by its PID.

    with Bind(tmp / "bind", {"example.test.": [("vm-1", "A", "10.0.0.2")],
                             "0.0.10.in-addr.arpa.": [("2", "PTR", "vm-1.example.test.")]}) as ns:
        ns.port, ns.key_name, ns.secret

Record names are relative to their zone unless they end with ".".  `recursion no` and
`notify no`: the server never sends a query of its own (test-components/README.md §bind9).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from osfsck_lab.processes import marker_env

DEFAULT_TTL = 300


class BindError(Exception):
    pass


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (named listens on both)."""
    for _ in range(50):
        with socket.socket() as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise BindError("no free port on 127.0.0.1")


def _program(name: str) -> str:
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if found is None:
        raise BindError(f"{name} is not installed: run scripts/setup (apt-get install bind9 bind9-utils)")
    return found


def zone_file(zone: str, records, ttl: int = DEFAULT_TTL) -> str:
    """The text of a primary zone file: SOA and NS, then `records` ((name, type, data) or
    (name, type, data, ttl))."""
    lines = [
        f"$ORIGIN {zone}",
        f"$TTL {ttl}",
        # an out-of-zone name server: BIND refuses a zone whose in-zone NS has no address
        f"@ IN SOA localhost. hostmaster.localhost. ( 1 3600 600 604800 {ttl} )",
        "@ IN NS localhost.",
    ]
    for rec in records:
        name, rtype, data, *rest = rec
        lines.append(f"{name} {rest[0] if rest else ttl} IN {rtype} {data}")
    return "\n".join(lines) + "\n"


class Bind:
    """`Bind(folder, zones)` writes the configuration and starts named; `stop()` ends it."""

    def __init__(
        self,
        folder: Path,
        zones: dict,
        key_name: str = "osfsck-key",
        algorithm: str = "hmac-sha256",
        timeout: float = 15,
    ):
        named, keygen = _program("named"), _program("tsig-keygen")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.key_name, self.algorithm = key_name, algorithm
        key_file = self.folder / "tsig.key"
        key_file.write_text(
            subprocess.run([keygen, "-a", algorithm, key_name], check=True, capture_output=True, text=True).stdout
        )
        m = re.search(r'secret\s+"([^"]+)"', key_file.read_text())
        if not m:
            raise BindError(f"tsig-keygen wrote no secret to {key_file}")
        self.secret = m.group(1)
        self.port = free_port()
        self.zones = [z if z.endswith(".") else z + "." for z in zones]
        conf = [
            f'include "{key_file}";',
            "options {",
            f'  directory "{self.folder}"; pid-file "{self.folder / "named.pid"}";',
            f"  listen-on port {self.port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }};",
            "  recursion no; notify no; dnssec-validation no;",
            f"  allow-transfer {{ key {key_name}; }};",
            "};",
            "controls { };",
        ]  # else rndc would listen on 127.0.0.1:953
        for zone, records in zones.items():
            zone = zone if zone.endswith(".") else zone + "."
            fname = self.folder / f"{zone.rstrip('.') or 'root'}.db"
            fname.write_text(zone_file(zone, records))
            conf.append(
                f'zone "{zone.rstrip(".")}" {{ type primary; file "{fname}"; allow-update {{ key {key_name}; }}; }};'
            )
        self.conf = self.folder / "named.conf"
        self.conf.write_text("\n".join(conf) + "\n")
        self.log = self.folder / "named.log"
        # -g: foreground, log to stderr.  Run as root named keeps root unless given -u;
        # its folder is ours, so it can write the update journals (.jnl) there either way.
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [named, "-c", str(self.conf), "-g", "-n", "1"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, **marker_env(self.folder)},
            )
        self._wait(timeout)

    def _wait(self, timeout: float) -> None:
        """Until named has loaded every zone (the log says so) and answers on TCP."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise BindError(f"named exited with status {self.proc.returncode}: {self._tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise BindError(f"named did not start within {timeout}s: {self._tail()}")
            text = self.log.read_text(errors="replace")
            if "not loaded due to errors" in text:
                self.stop()
                raise BindError(f"named could not load a zone: {self._tail()}")
            if "running" in text and text.count("loaded serial") >= len(self.zones):
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                    return
                except OSError:
                    pass
            time.sleep(0.05)

    def _tail(self) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-5:])
        except OSError:
            return "(no log)"

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def write_secret(self, path: Path) -> Path:
        """The key's secret in a file only the owner reads (a config's secret_file)."""
        path = Path(path)
        path.write_text(self.secret + "\n")
        os.chmod(path, 0o600)
        return path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # this one server, by its PID
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Bind:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
