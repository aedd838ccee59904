"""The network services of a lab cloud, each a real server on loopback (the NSX manager a
stand-in): BIND `named` serving the lab's zones, `ovsdb-server` with the OVN northbound
database (Debian's schema), the NSX stand-in.  Started by `build`, stopped by `lab stop`, started again by
`lab start`; each is recorded in lab.json with how to start it again, and stopped by
its PID only when that PID still runs that program with the lab's folder in its
arguments (PIDs are reused).  Each also carries the lab's marker in its environment
(lab/processes.py), by which `lab stop` finds it when no PID was recorded.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from osfsck_lab import bind, database, dns_zones, nsx_objects, ovn_nb, ovsdb, placement_server, processes
from osfsck_lab.cloud import Cloud
from osfsck_lab.hypervisors import LabError
from osfsck_lab.loopback import free_port
from osfsck_lab.nsx_standin import Store, make_certificate

KEY = "osfsck-lab"
# ovsdb-server committing the NB rows, the NSX stand-in reading its state: XL's 550,000
# ports on a busy machine (a server that fails says so at once: this bounds a slow one)
LOAD_TIMEOUT = 1800.0


# -- DNS ------------------------------------------------------------------------------------


def dns_zone_records(c: Cloud) -> dict:
    """The lab's zones with their faults and near misses (truth recorded in `c`)."""
    z = dns_zones.zones(c)
    dns_zones.inject(c, z, lambda name, rtype, data: f"{name} {rtype} {data}")
    dns_zones.near_misses(c, z)
    return z


def start_dns(out: Path, zones: dict) -> tuple[dict, list[str]]:
    """named serving `zones`; returns (its lab.json entry, its osfsck.toml lines)."""
    folder = out / "dns"
    try:
        ns = bind.Bind(folder, zones, key_name=KEY, timeout=120)
    except bind.BindError as e:
        raise LabError(f"DNS: {e}") from None
    secret = ns.write_secret(folder / "tsig.secret")
    lines = [
        "[dns]",
        f'server = "{ns.server}"',
        f'key = "{KEY}"',
        # a transfer may take 6 timeouts (clients/dns.py): its biggest zone's, at 2,000 records/s
        *timeout_line(max(map(len, zones.values()), default=0) // 6, 2000, 10),
        "",
        f"[dns.keys.{KEY}]",
        f'algorithm = "{ns.algorithm}"',
        f'secret_file = "{secret.relative_to(out)}"',
        "",
    ]
    for zone in sorted(zones):
        lines += [f'[dns.zones."{zone}"]']
    entry = {
        "program": "named",
        "argv": ["named", "-c", str(ns.conf), "-g", "-n", "1"],
        "pidfile": str(folder / "named.pid"),
        "log": str(ns.log),
        "port": ns.port,
    }
    return entry, lines + [""]


# -- OVN northbound ---------------------------------------------------------------------------


def ovn_northbound(c: Cloud, release: str | None = None) -> ovn_nb.Northbound:
    """The lab's NB rows with their faults and near misses (truth recorded in `c`), as the
    release's ML2/OVN writes them; Neutron's ovn_revision_numbers rows go to `c.net`."""
    release = release or c.release
    nb = ovn_nb.rows(c, release)
    ovn_nb.inject(c, nb, release)
    ovn_nb.near_misses(c, nb)
    c.net.ovn_revisions = ovn_nb.revisions(c, nb)
    return nb


def start_ovn(out: Path, nb: ovn_nb.Northbound) -> tuple[dict, list[str]]:
    """ovsdb-server holding `nb`; returns (its lab.json entry, its osfsck.toml lines)."""
    # a fresh database: one left by a build that failed in this folder holds the same rows
    (out / "ovn" / "nb.db").unlink(missing_ok=True)
    try:
        server = ovsdb.OvsdbServer(out / "ovn", timeout=30)
    except (ovsdb.OvsdbError, OSError) as e:
        raise LabError(f"OVN: {e}") from None
    try:
        ovn_nb.load(server.unix_remote, nb, timeout=LOAD_TIMEOUT)
    except (RuntimeError, OSError) as e:
        server.stop()
        raise LabError(f"OVN: {e}") from None
    entry = {
        "program": "ovsdb-server",
        "argv": server.argv,
        "env": server.env,
        "pidfile": str(server.pidfile),
        "log": str(server.log),
        "port": server.port,
    }
    # the whole initial dump within the timeout: at 1,000 rows/s (L's 116,574 took 24 s idle)
    return entry, ["[ovn]", f'nb_connection = "{server.remote}"', *timeout_line(len(nb.rows), 1000, 120), ""]


def timeout_line(objects: int, per_second: float, default: float) -> list[str]:
    """A source's `timeout` in osfsck.toml where its default is too short for a lab this
    size (XL): `objects` read at `per_second`, a rate the busiest of these machines makes."""
    seconds = math.ceil(objects / per_second)
    return [f'timeout = "{seconds}s"'] if seconds > default else []


# -- NSX (the stand-in) ---------------------------------------------------------------------


def nsx_manager(c: Cloud) -> Store:
    """The lab's NSX objects (Policy API) with their faults and near misses."""
    store = nsx_objects.populate(c)
    nsx_objects.inject(c, store)
    nsx_objects.near_misses(c, store)
    return store


def _dump_lists(path: Path, data: dict[str, list]) -> None:
    """json.dump of {name: [object, ...]}, written an object at a time (XL's NSX objects
    make a file of gigabytes, never held as one string)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("{")
        for i, (name, objects) in enumerate(data.items()):
            f.write(("," if i else "") + json.dumps(name) + ":[")
            for j, obj in enumerate(objects):
                f.write(("," if j else "") + json.dumps(obj))
            f.write("]")
        f.write("}")


def start_nsx(out: Path, store: Store, timeout: float = LOAD_TIMEOUT) -> tuple[dict, list[str]]:
    """The NSX stand-in serving `store` over HTTPS (a certificate of its own, given to
    osfsck as its CA); returns (its lab.json entry, its osfsck.toml lines)."""
    folder = out / "nsx"
    folder.mkdir(parents=True, exist_ok=True)
    state = folder / "state.json"
    _dump_lists(state, store.to_json())
    password = folder / "password"
    password.write_text(secrets.token_urlsafe(18) + "\n")
    password.chmod(0o600)
    try:
        cert, key = make_certificate(str(folder))
    except (OSError, subprocess.CalledProcessError) as e:
        raise LabError(f"NSX: cannot make its certificate with openssl: {e}") from None
    port = free_port()
    # program: what its executable's name starts with; the lab folder in its arguments makes it ours
    entry = {
        "program": "python",
        "argv": [
            sys.executable,
            "-m",
            "osfsck_lab.nsx_standin",
            "--port",
            str(port),
            "--state",
            str(state),
            "--password-file",
            str(password),
            "--cert",
            cert,
            "--key",
            key,
            "--pidfile",
            str(folder / "nsx.pid"),
        ],
        "pidfile": str(folder / "nsx.pid"),
        "log": str(folder / "nsx.log"),
        "port": port,
    }
    start(entry, out, timeout)
    lines = [
        "[nsx]",
        f'url = "https://127.0.0.1:{port}"',
        'api = "policy"',
        'username = "admin"',
        f'password_file = "{password.relative_to(out)}"',
        f'ca_file = "{Path(cert).relative_to(out)}"',
        "",
    ]
    return entry, lines


# -- Placement ----------------------------------------------------------------------------


def start_placement(out: Path, url: str, db_url: str | None, running: dict) -> list[str]:
    """The `[placement]` section: the lab's placement database, and the real placement-api
    on it when Placement's virtualenv exists (recorded in `running` as "placement")."""
    db = f'database = "{database.plain_mysql(url)}"' if db_url else 'database = "sqlite:///db/placement.sqlite"'
    api = []
    if placement_server.available():
        running["placement"], api = placement_server.start_placement(out, url)
    return ["[placement]", db, *api, ""]


# -- start / stop ------------------------------------------------------------------------


def stop(entry: dict, folder: Path) -> None:
    if entry.get("epmd_port"):
        # RabbitMQ: its Erlang VM takes 6-10 s to stop, and its epmd outlives it
        from osfsck_lab.rabbitmq import stop_broker

        stop_broker(Path(entry["pidfile"]), Path(entry["env"]["HOME"]), entry["epmd_port"])
        return
    processes.terminate(processes.read_pid(Path(entry["pidfile"])), entry["program"], str(Path(folder).resolve()))


def start(entry: dict, folder: Path, timeout: float = 60) -> None:
    """Start a recorded service again unless it runs; wait until its port answers."""
    if processes.identify(processes.read_pid(Path(entry["pidfile"])), entry["program"], str(Path(folder).resolve())):
        return
    env = {**os.environ, **entry.get("env", {}), **processes.marker_env(folder)}
    with open(entry["log"], "ab") as log:
        proc = subprocess.Popen(
            entry["argv"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=folder,
            env=env,
        )
    if entry.get("port") is None:
        return  # ovn-northd, Neutron's maintenance worker: they listen on nothing
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", entry["port"]), timeout=0.5).close()
            return
        except OSError:
            # a server that fails exits non-zero (one that forks to the background exits 0)
            if proc.poll() not in (None, 0):
                raise LabError(
                    f"{entry['program']} exited with status {proc.returncode} before it answered on port "
                    f"{entry['port']}: see {entry['log']}"
                ) from None
            time.sleep(0.1)
    raise LabError(f"{entry['program']} did not answer on port {entry['port']} within {timeout:.0f}s")
