"""mark-ovn-revision-stale against the real Neutron with ML2/OVN: neutron-server (29.0.0,
noauth, the OVN mechanism driver and ovn-router) and its neutron-ovn-maintenance-worker on
a private MariaDB, Debian's OVN 23.03 NB and SB ovsdb-servers with ovn-northd, a fake
chassis for the port's host (lab/ovn_central.py).  Neutron writes a network, a subnet and
two bound ports; they are aged past Neutron's 60 s and osfsck's 10 min; then one LSP is
deleted from NB (OV102) and another's revision lowered (OV103), behind Neutron's back.
`osfsck repair` marks both stale in ovn_revision_numbers; the worker, restarted so that
its inconsistency task runs at once, re-creates and updates them; `osfsck check` is then
clean, a second repair does nothing, and undo of the first changes nothing, saying that
Neutron has moved on.  The servers are started once for the module and stopped by PID.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from osfsck_lab import neutron_ovn, neutron_server, ovn_central, schemas, services
from osfsck_lab.mariadb import MariaDB

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(neutron_server.available() is None, reason=neutron_server.NOT_INSTALLED),
]
HOST = "hv-1"
PROJECT = "project-a"


def osfsck(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "osfsck.cli.main", "-c", str(config), *args], capture_output=True, text=True, timeout=600
    )


def found(proc: subprocess.CompletedProcess) -> set[tuple[str, str]]:
    return {(f["code"], f["subject"]["id"]) for f in json.loads(proc.stdout)["findings"]}


@pytest.fixture(scope="module")
def cloud():
    base = Path(tempfile.mkdtemp(prefix="osfsck-neutron-ovn-"))
    base.chmod(0o755)
    db = MariaDB(base / "mariadb", ("--innodb-buffer-pool-size=64M",))
    out, running = base / "lab", {}
    out.mkdir()
    try:
        url = f"{db.url}neutron"
        api, nb, _, _ = neutron_ovn.start(out, url, schemas.releases()[0], running, [HOST])
        net = api("POST", "/networks", {"network": {"name": "net", "tenant_id": PROJECT}})["network"]
        sub = {"network_id": net["id"], "cidr": "10.9.0.0/24", "ip_version": 4, "tenant_id": PROJECT}
        api("POST", "/subnets", {"subnet": sub})
        ports = [
            api(
                "POST",
                "/ports",
                {
                    "port": {
                        "network_id": net["id"],
                        "tenant_id": PROJECT,
                        "device_owner": "compute:nova",
                        "device_id": f"00000000-0000-4000-8000-00000000000{i}",
                        "binding:host_id": HOST,
                    }
                },
            )["port"]
            for i in (1, 2)
        ]
        with neutron_ovn.engine(url).begin() as conn:  # older than Neutron's 60 s and osfsck's 10 min
            conn.execute(
                text(
                    "UPDATE standardattributes SET created_at = created_at - INTERVAL 2 HOUR, "
                    "updated_at = updated_at - INTERVAL 2 HOUR"
                )
            )
        running["neutron-maintenance"] = neutron_server.start_maintenance(out)
        neutron_server.wait_for_inconsistencies(out)
        assert neutron_ovn.drifted(url) == []  # Neutron settled what it leaves behind itself
        config = out / "osfsck.toml"
        config.write_text(
            f'[neutron]\ndatabase = "mysql://{url.split("://", 1)[1]}"\n\n'
            f'[ovn]\nnb_connection = "{nb.remote}"\n\n'
            '[repair]\njournal = "osfsck/journal.jsonl"\n'
        )
        yield {"url": url, "nb": nb, "out": out, "config": config, "ports": ports, "running": running}
    finally:
        for entry in running.values():
            services.stop(entry, out)
        db.stop()


def revision(url: str, port: str) -> int:
    with neutron_ovn.engine(url).connect() as conn:
        return conn.execute(
            text(
                "SELECT revision_number FROM ovn_revision_numbers WHERE resource_uuid = :u AND resource_type = 'ports'"
            ),
            {"u": port},
        ).scalar()


def lsp(nb, port: str) -> dict | None:
    return next((r for r in ovn_central.rows(nb, "Logical_Switch_Port") if r["name"] == port), None)


def test_neutron_recreates_and_updates_what_osfsck_marks_stale(cloud):
    url, nb, config = cloud["url"], cloud["nb"], cloud["config"]
    gone, behind = (p["id"] for p in cloud["ports"])
    old = lsp(nb, behind)
    neutron_rev = int(old["external_ids"]["neutron:revision_number"])
    ovn_central.nbctl(nb, "lsp-del", gone)
    ovn_central.nbctl(
        nb, "set", "Logical_Switch_Port", old["_uuid"], f'external_ids:"neutron:revision_number"="{neutron_rev - 1}"'
    )
    checked = osfsck(config, "check", "--select", "OV102,OV103", "-f", "json")
    assert checked.returncode == 4, checked.stderr
    assert found(checked) == {("OV102", gone), ("OV103", old["_uuid"])}

    repaired = osfsck(config, "repair", "--yes", "--select", "OV102,OV103", "-f", "json")
    assert repaired.returncode == 1, repaired.stdout + repaired.stderr
    assert revision(url, gone) == -1 and revision(url, behind) == neutron_rev - 1
    assert lsp(nb, gone) is None  # osfsck wrote nothing to OVN: Neutron will

    cloud["running"]["neutron-maintenance"] = neutron_server.restart_maintenance(
        cloud["out"], cloud["running"]["neutron-maintenance"]
    )
    made = lsp(nb, gone)
    assert made is not None and made["external_ids"]["neutron:device_owner"] == "compute:nova"
    assert lsp(nb, behind)["external_ids"]["neutron:revision_number"] == str(neutron_rev)
    assert neutron_ovn.drifted(url) == []

    again = osfsck(config, "check", "--select", "OV102,OV103", "-f", "json")
    assert again.returncode == 0 and found(again) == set(), again.stdout
    second = osfsck(config, "repair", "--yes", "--select", "OV102,OV103", "-f", "json")
    assert second.returncode == 0 and found(second) == set(), second.stdout

    undone = osfsck(config, "undo", "--all", "--yes")
    assert "no longer in the state that was seen" in undone.stdout + undone.stderr
    assert revision(url, gone) != -1 and neutron_ovn.drifted(url) == []  # Neutron's numbers, kept
