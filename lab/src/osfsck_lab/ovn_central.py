"""OVN's central services for a lab whose network the real Neutron writes (`lab build
--neutron real`): the northbound and southbound ovsdb-servers and ovn-northd, all from
Debian's ovn-central (23.03), and a fake chassis per hypervisor in the southbound database.

ML2/OVN opens both databases at startup (impl_idl_ovn.get_ovn_idls) and binds a port only
to a host that has a chassis ("Refusing to bind port ... OVN chassis", mech_driver.py).
No ovn-controller runs here (no kernel datapath): each chassis is the set of rows
Neutron's own functional tests write for one (neutron/tests/functional/base.py
add_fake_chassis): a Chassis with its hostname, `ovn-bridge-mappings` and
`ovn-cms-options` in other_config and a geneve Encap, and a Chassis_Private with its
nb_cfg_timestamp.  The network node's chassis also carries `enable-chassis-as-gw`, so the
routers' gateway ports are scheduled there.

ovn-northd turns the northbound rows into the southbound's Port_Bindings and datapaths,
as in a real deployment; nothing here depends on it beyond that.  `nbctl` and `sbctl` run
Debian's ovn-nbctl/ovn-sbctl on the servers' unix sockets (the lab's faults perturb the
northbound database through them, as an operator's tool would).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from osfsck_lab import ovsdb, processes
from osfsck_lab.hypervisors import LabError

SB_SCHEMA = Path("/usr/share/ovn/ovn-sb.ovsschema")
PHYSNET_BRIDGES = "physnet1:br-provider0"  # every chassis maps the external network's physnet
TIMEOUT = 30.0


def start(out: Path) -> tuple[dict, ovsdb.OvsdbServer, ovsdb.OvsdbServer]:
    """Fresh NB and SB servers and ovn-northd in `out`/ovn; returns ({name: lab.json entry}, nb, sb).
    A failure stops whatever of them started."""
    folder = out / "ovn"
    for name in ("nb", "sb"):
        (folder / f"{name}.db").unlink(missing_ok=True)  # a failed build's rows are not this one's
    started: list = []
    try:
        nb = ovsdb.OvsdbServer(folder, timeout=TIMEOUT)
        started.append(nb)
        sb = ovsdb.OvsdbServer(folder, schema=SB_SCHEMA, timeout=TIMEOUT, name="sb")
        started.append(sb)
        entries = {"ovsdb-server": _entry(nb), "ovn-sb": _entry(sb), "ovn-northd": _start_northd(folder, nb, sb)}
    except (ovsdb.OvsdbError, OSError, LabError) as e:
        for server in started:
            server.stop()
        raise LabError(f"OVN: {e}") from None
    return entries, nb, sb


def _entry(server: ovsdb.OvsdbServer) -> dict:
    return {
        "program": "ovsdb-server",
        "argv": server.argv,
        "env": server.env,
        "pidfile": str(server.pidfile),
        "log": str(server.log),
        "port": server.port,
    }


def _start_northd(folder: Path, nb: ovsdb.OvsdbServer, sb: ovsdb.OvsdbServer) -> dict:
    """ovn-northd on the two unix sockets; its entry has no port (it listens on none)."""
    pidfile = folder / "northd.pid"
    log = folder / "northd.log"
    argv = [
        ovsdb._program("ovn-northd"),
        f"--ovnnb-db={nb.unix_remote}",
        f"--ovnsb-db={sb.unix_remote}",
        f"--pidfile={pidfile}",
        f"--unixctl={folder / 'northd.ctl'}",
        f"--log-file={log}",
    ]
    entry = {"program": "ovn-northd", "argv": argv, "env": nb.env, "pidfile": str(pidfile), "log": str(log)}
    pidfile.unlink(missing_ok=True)
    with open(folder / "northd.stdout", "ab") as stdout:
        proc = subprocess.Popen(
            argv,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**nb.env, "PATH": "/usr/bin:/bin"},
        )
    deadline = time.monotonic() + TIMEOUT
    # active once it holds its lock on the SB (it then has both databases)
    while "lock acquired" not in (log.read_text(errors="replace") if log.exists() else ""):
        if proc.poll() is not None or time.monotonic() > deadline:
            processes.terminate(proc.pid, "ovn-northd", str(folder))
            raise LabError(f"ovn-northd did not become active: {_tail(log)}")
        time.sleep(0.05)
    return entry


def _tail(log: Path) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-4:])
    except OSError:
        return "no log"


def _ctl(program: str, server: ovsdb.OvsdbServer, args: list[str]) -> str:
    done = subprocess.run(
        [ovsdb._program(program), f"--db={server.unix_remote}", "--timeout=30", *args],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise LabError(f"{program} {' '.join(args[:3])}...: {done.stderr.strip()}")
    return done.stdout


def nbctl(nb: ovsdb.OvsdbServer, *args: str) -> str:
    return _ctl("ovn-nbctl", nb, list(args))


def sbctl(sb: ovsdb.OvsdbServer, *args: str) -> str:
    return _ctl("ovn-sbctl", sb, list(args))


def chassis_name(host: str) -> str:
    return f"chassis-{host}"


def add_chassis(sb: ovsdb.OvsdbServer, hosts: list[str], gateways: tuple[str, ...] = ()) -> None:
    """A fake chassis per host, in one transaction: its Encap (a distinct IP each: the SB
    schema indexes Encap by (type, ip)), Chassis and Chassis_Private; hosts in `gateways`
    may host routers' gateway ports."""
    args: list[str] = []
    stamp = int(time.time() * 1000)
    for i, host in enumerate(hosts, 1):
        name = chassis_name(host)
        options = "availability-zones=ovn" + (",enable-chassis-as-gw" if host in gateways else "")
        args += ["--", f"--id=@e{i}", "create", "Encap", "type=geneve", f"ip=172.24.{i // 250}.{i % 250 + 1}"]
        args += [f"chassis_name={name}"]
        args += ["--", f"--id=@c{i}", "create", "Chassis", f"name={name}", f"hostname={host}", f"encaps=@e{i}"]
        args += [f'other_config:ovn-bridge-mappings="{PHYSNET_BRIDGES}"', f'other_config:ovn-cms-options="{options}"']
        args += ["--", "create", "Chassis_Private", f"name={name}", f"chassis=@c{i}", f"nb_cfg_timestamp={stamp}"]
    sbctl(sb, *args)


def del_chassis(sb: ovsdb.OvsdbServer, host: str) -> None:
    """A host decommissioned: its chassis goes (ovn-controller's `--cleanup` on exit)."""
    name = chassis_name(host)
    sbctl(sb, "chassis-del", name, "--", "--if-exists", "destroy", "Chassis_Private", name)


def rows(nb: ovsdb.OvsdbServer, table: str) -> list[dict]:
    """Every row of `table`, each {column: value} with maps as dicts, sets as lists and
    uuids as strings (ovn-nbctl's JSON format, decoded)."""
    data = json.loads(nbctl(nb, "--format=json", "list", table))
    return [{h: _value(v) for h, v in zip(data["headings"], row)} for row in data["data"]]


def _value(v):
    if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str):
        kind, inner = v
        if kind == "map":
            return {k: _value(x) for k, x in inner}
        if kind == "set":
            return [_value(x) for x in inner]
        if kind in ("uuid", "named-uuid"):
            return inner
    return v
