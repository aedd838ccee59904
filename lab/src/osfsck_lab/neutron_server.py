"""The lab's Networking API: the real neutron-server (Neutron's own WSGI application,
`neutron.wsgi.api:application`) on loopback, against the lab's Neutron database, so that
delete-port really goes through Neutron.

Standalone, as Neutron runs without Keystone: `auth_strategy = noauth` (every request is an
admin of the project "fake_project_id"), the ML2 plugin with the `logger` mechanism driver
(no agents, no SDN: it only logs), `transport_url = fake:/` (RPC and notifications go
nowhere) and Nova notifications off.  Neutron is served by a small stdlib `wsgiref` runner
written next to its configuration: no uWSGI, no Apache.

Neutron and its ~150 dependencies live in their own virtualenv (scripts/setup makes
`.venv-neutron` next to osfsck's `.venv`), never in osfsck's.  Without it the lab is built
without a Networking API and delete-port falls back to its runbook.

With `ovn` (the lab's `--neutron real`), ML2 runs the real OVN mechanism driver and the
`ovn-router` L3 plugin on the lab's OVN northbound and southbound databases
(lab/ovn_central.py), and `start_maintenance` runs `neutron-ovn-maintenance-worker`, the
process that holds the NB lock and runs the OVN maintenance tasks (its inconsistency task
re-syncs what ovn_revision_numbers says is behind).  That needs MariaDB (the hash ring,
the revision rows).

The lab's Neutron database may be MariaDB (`lab build --db-url`) or its SQLite file: Neutron's
migrations do not run on SQLite (ALTER of constraints), but they are not needed here (the
lab writes the schema from the DDL they produce), and Neutron's runtime reads, deletes and
checks revisions (If-Match) on SQLite as on MariaDB.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from osfsck_lab import processes, schemas, wsgi_service
from osfsck_lab.hypervisors import LabError
from osfsck_lab.keystone_server import Keystone
from osfsck_lab.loopback import free_port
from osfsck_lab.wsgi_service import SERVE, venv_python

NEUTRON_VERSION = "29.0.0"  # scripts/setup pins the same
ENV = "OSFSCK_NEUTRON_PYTHON"
START_TIMEOUT = 60.0
NOT_INSTALLED = (
    "Neutron is not installed (scripts/setup makes .venv-neutron; or set OSFSCK_NEUTRON_PYTHON): "
    "the lab has no Networking API, delete-port falls back to its runbook"
)

# The runner: oslo.config reads the configuration files from sys.argv when Neutron's WSGI
# module is imported, so they are put there first.
RUNNER = (
    '''\
"""neutron-server's WSGI application on the stdlib server (written by osfsck lab build)."""
import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

host, port, pidfile, confs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
with open(pidfile, "w") as f:
    f.write(f"{os.getpid()}\\n")
sys.argv = ["neutron-api"] + [a for c in confs for a in ("--config-file", c)]
from neutron.wsgi.api import application  # noqa: E402  (reads the configuration, loads ML2)
import signal  # noqa: E402

# once ML2/OVN is loaded SIGTERM is caught and the process stays (its OVSDB connection
# threads): the lab stops its server at once, as it would stop uWSGI
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
'''
    + SERVE
)

# The maintenance worker (`neutron-ovn-maintenance-worker`'s entry point) behind a pidfile:
# oslo.service forks the worker itself, and stopping this parent stops it.
MAINTENANCE_RUNNER = '''\
"""neutron-ovn-maintenance-worker (written by osfsck lab build)."""
import os
import sys

pidfile, confs = sys.argv[1], sys.argv[2:]
with open(pidfile, "w") as f:
    f.write(f"{os.getpid()}\\n")
sys.argv = ["neutron-ovn-maintenance-worker"] + [a for c in confs for a in ("--config-file", c)]
from neutron.cmd.server import main_ovn_maintenance  # noqa: E402

sys.exit(main_ovn_maintenance())
'''
MAINTENANCE_LOG = "maintenance.log"
# oslo.service titles the worker's processes "neutron-ovn-maintenance-worker: master
# process [...]" (setproctitle = off notwithstanding): by that the lab knows them
MAINTENANCE_TITLE = "neutron-ovn-maintenance-worker"
# logged by maintenance.py's log_maintenance_task only when the task really ran (the
# worker held the NB lock)
INCONSISTENCIES_DONE = "OVN maintenance task check_for_inconsistencies finished"

ML2_CONF = """\
[ml2]
type_drivers = flat,vlan,vxlan,geneve,local
project_network_types = local
mechanism_drivers = logger
extension_drivers = port_security

[ml2_type_flat]
flat_networks = *

[ml2_type_vlan]
network_vlan_ranges = physnet1:100:200

[ml2_type_vxlan]
vni_ranges = 1000:2000

[ml2_type_geneve]
vni_ranges = 1:65536
"""

# ML2/OVN: tenant networks are geneve; mech_driver.initialize() exits below a geneve
# max_header_size of 38 (OVN_MIN_GENEVE_MAX_HEADER_SIZE); sync mode off, or the
# maintenance worker walks and logs every object at its start (OvnNbSynchronizer); the
# metadata port per network as deployment tools configure it
ML2_OVN_CONF = """\
[ml2]
type_drivers = local,flat,vlan,geneve
project_network_types = geneve
mechanism_drivers = ovn
extension_drivers = port_security

[ml2_type_flat]
flat_networks = *

[ml2_type_vlan]
network_vlan_ranges = physnet1:100:200

[ml2_type_geneve]
vni_ranges = 1:65536
max_header_size = 38

[ovn]
ovn_nb_connection = {nb}
ovn_sb_connection = {sb}
neutron_sync_mode = off
ovn_metadata_enabled = true
"""


# The lab's Neutron database holds `quotausages` rows as the legacy quota driver keeps
# them (lab/quotas.py writes them, with ML2/OVN too once the network is made), so its
# Neutron runs that driver: it marks a project's rows dirty after a delete
# (resource_registry.set_resources_dirty), where the default DbQuotaNoLockDriver tracks
# nothing and a port deleted through the API would leave its row counting it (QU101).
LEGACY_QUOTAS = """
[QUOTAS]
quota_driver = neutron.db.quota.driver.DbQuotaDriver
"""


def refuses(out: Path) -> str | None:
    """Why the lab's neutron-server cannot serve the lab built in `out`, or None.  Its models
    are the newest release's: their first read of networks joins `networkpvlan` (Neutron
    29.0.0's migration bdae3a00c493), which every older release's schema lacks (measured:
    HTTP 500 "no such table: networkpvlan" on Xena, Zed, 2024.2 and 2025.1 labs), so a lab
    of another release keeps delete-port's runbook."""
    record = Path(out) / "lab.json"
    release = json.loads(record.read_text()).get("release") if record.is_file() else None
    newest = schemas.releases()[0]
    if release is None or release == newest:
        return None
    return (
        f"the lab's neutron-server (Neutron {NEUTRON_VERSION}) serves a {newest} Neutron database only: "
        f"a {release} schema lacks the table networkpvlan its models read"
    )


def available() -> str | None:
    """The python of Neutron's virtualenv, or None when Neutron is not installed."""
    return venv_python(ENV, ".venv-neutron")


def start_neutron(
    out: Path,
    database_url: str,
    python: str | None = None,
    timeout: float = START_TIMEOUT,
    keystone: Keystone | None = None,
    ovn: tuple[str, str] | None = None,
) -> tuple[dict, list[str]]:
    """neutron-server for the lab in `out`, on the Neutron database at `database_url`;
    returns (its lab.json entry, the API lines of the osfsck.toml `[neutron]` section).
    With `keystone`, behind Keystone (`auth_strategy = keystone`: keystonemiddleware, from
    Neutron's own virtualenv) instead of noauth.  With `ovn` (the NB and SB connections),
    ML2/OVN instead of the logger driver.  A lab of an older release is refused (`refuses`)."""
    why = refuses(out)
    if why:
        raise LabError(why)
    python = python or available()
    if python is None:
        raise LabError(NOT_INSTALLED)
    out = Path(out).resolve()
    connection = wsgi_service.connection(database_url, out, "Neutron")
    folder = out / "neutron"
    (folder / "state" / "lock").mkdir(parents=True, exist_ok=True)
    # pip installs Neutron's data files under the venv's prefix (not resolving the python:
    # a venv's python is a symlink to the system's)
    paste = Path(python).parent.parent / "etc" / "neutron" / "api-paste.ini"
    if not paste.is_file():
        raise LabError(f"Neutron's api-paste.ini is not where its virtualenv installs it ({paste})")
    shutil.copyfile(paste, folder / "api-paste.ini")
    port = free_port()
    log = folder / "neutron-server.log"
    (folder / "neutron.conf").write_text(_neutron_conf(folder, connection, log, keystone, ovn is not None))
    (folder / "ml2_conf.ini").write_text(ML2_OVN_CONF.format(nb=ovn[0], sb=ovn[1]) if ovn else ML2_CONF)
    (folder / "serve.py").write_text(RUNNER)
    pidfile = folder / "neutron-server.pid"
    argv = [
        python,
        str(folder / "serve.py"),
        "127.0.0.1",
        str(port),
        str(pidfile),
        str(folder / "neutron.conf"),
        str(folder / "ml2_conf.ini"),
    ]
    ready = urllib.request.Request(
        f"http://127.0.0.1:{port}/v2.0/networks?limit=1", headers={"X-Auth-Token": keystone.token()} if keystone else {}
    )
    entry = wsgi_service.launch("neutron-server", folder, argv, pidfile, port, log, ready, timeout, _env(folder))
    # behind Keystone the endpoint is the catalog's (Keystone.add_endpoint)
    return entry, [] if keystone else [f'endpoint = "http://127.0.0.1:{port}"', 'auth = "none"']


stop_neutron = wsgi_service.stop


def serve_lab(out: Path, database_url: str) -> None:
    """neutron-server (the logger driver: deleting a port needs no SDN) on the Neutron
    database of the lab built in `out`, as one of that lab's servers: recorded in its
    lab.json (stopped and started with the lab) and named in the `[neutron]` section of its
    osfsck.toml, so that osfsck's delete-port goes through Neutron's own API."""
    out = Path(out).resolve()
    entry, lines = start_neutron(out, database_url)  # if we die before the record: the lab's marker stops it
    record = out / "lab.json"
    lab = json.loads(record.read_text())
    lab["services"]["neutron-server"] = entry
    tmp = record.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(lab, indent=2))
    tmp.replace(record)  # never half a record
    config = out / "osfsck.toml"
    text = config.read_text().splitlines()
    at = text.index("[neutron]") + 1
    config.write_text("\n".join(text[:at] + lines + text[at:]) + "\n")


def _env(folder: Path) -> dict:
    """Neutron's API learns its worker count from uWSGI or mod_wsgi, else ASGI_WORKERS
    (common/wsgi_utils.py); ML2/OVN's hash ring refuses to work without it.  Its one-time
    election files are keyed by the parent's PID in the temporary folder: one of the lab's
    own, so that two labs (or tests) started by one process never share them."""
    tmp = folder / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    # SPT_NOENV: setproctitle, once ML2/OVN has loaded it, would overwrite the environment
    # (and the lab's marker in it) to make room for a longer process title
    return {"ASGI_WORKERS": "1", "TMPDIR": str(tmp), "SPT_NOENV": "1"}


def start_maintenance(out: Path, python: str | None = None) -> dict:
    """`neutron-ovn-maintenance-worker` on the configuration `start_neutron` wrote in
    `out`/neutron (with `ovn`); returns its lab.json entry.  It logs to its own file
    (`maintenance_log`); `wait_for_inconsistencies` tells when its inconsistency task ran."""
    python = python or available()
    if python is None:
        raise LabError(NOT_INSTALLED)
    folder = Path(out).resolve() / "neutron"
    (folder / "maintenance.py").write_text(MAINTENANCE_RUNNER)
    (folder / "maintenance.conf").write_text(f"[DEFAULT]\nlog_file = {folder / MAINTENANCE_LOG}\n")
    pidfile = folder / "maintenance.pid"
    pidfile.unlink(missing_ok=True)
    argv = [python, str(folder / "maintenance.py"), str(pidfile)]
    argv += [str(folder / name) for name in ("neutron.conf", "ml2_conf.ini", "maintenance.conf")]
    entry = {
        "program": MAINTENANCE_TITLE,
        "argv": argv,
        "env": _env(folder),
        "pidfile": str(pidfile),
        "log": str(folder / "maintenance.stdout"),
    }
    with open(entry["log"], "ab") as stdout:
        subprocess.Popen(
            argv,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=folder,
            env={**os.environ, **entry["env"], **processes.marker_env(folder)},
        )
    return entry


def maintenance_log(out: Path) -> Path:
    return Path(out).resolve() / "neutron" / MAINTENANCE_LOG


def wait_for_inconsistencies(out: Path, after: int = 0, timeout: float = 120.0) -> float:
    """Until the maintenance worker's log says its inconsistency task finished, in what the
    log holds beyond byte `after` (its size before a restart); returns the seconds waited.
    The task runs at the worker's start (run_immediately), then every 300 s."""
    log, start = maintenance_log(out), time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            with open(log, "rb") as f:
                f.seek(after)
                if INCONSISTENCIES_DONE.encode() in f.read():
                    return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.25)
    raise LabError(
        f"Neutron's maintenance worker did not run its inconsistency task within {timeout:.0f}s: "
        + wsgi_service.tail(log, Path(out).resolve() / "neutron" / "maintenance.stdout")
    )


def stop_maintenance(entry: dict, out: Path) -> None:
    """Stop the worker and the process it forked (which holds the NB lock): a worker
    started next must find the lock free, or it skips its first run."""
    wsgi_service.stop(entry, out)
    conf = entry["argv"][-1]  # its maintenance.conf: in the command line before and after the title
    processes.stopped(processes.find(MAINTENANCE_TITLE, conf) + processes.find("python", conf))


def restart_maintenance(out: Path, entry: dict) -> dict:
    """Stop the worker (its NB lock goes with its connection) and start it again: its
    inconsistency task then runs at once instead of up to 300 s later.  Returns the new
    entry once the task has run."""
    stop_maintenance(entry, out)
    log = maintenance_log(out)
    size = log.stat().st_size if log.exists() else 0
    entry = start_maintenance(out, entry["argv"][0])
    wait_for_inconsistencies(out, after=size)
    return entry


def _neutron_conf(folder: Path, connection: str, log: Path, keystone: Keystone | None, ovn: bool = False) -> str:
    return f"""\
[DEFAULT]
auth_strategy = {"keystone" if keystone else "noauth"}
core_plugin = ml2
service_plugins = {"ovn-router" if ovn else "router"}
api_paste_config = {folder / "api-paste.ini"}
state_path = {folder / "state"}
transport_url = fake:/
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
setproctitle = off
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
debug = false
use_stderr = false
log_file = {log}

[database]
connection = {connection}

[oslo_concurrency]
lock_path = {folder / "state" / "lock"}

[oslo_messaging_notifications]
driver = noop
{LEGACY_QUOTAS}{keystone.authtoken() if keystone else ""}"""
