"""delete-port against the real neutron-server (Neutron 29.0.0 from its own virtualenv,
auth_strategy = noauth, ML2 with the logger driver) serving a lab cloud's Neutron database
on a private MariaDB, and on the lab's SQLite file (Neutron's migrations need MariaDB,
its runtime does not): the lab's orphan ports are read and really deleted through the
API, a stale revision is refused, and an endpoint that does not answer is one line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from osfsck.clients.neutron_api import NeutronApi, NeutronApiError
from osfsck.config import load_settings
from osfsck.config.settings import NeutronSettings
from osfsck_lab import build, neutron_server
from osfsck_lab.loopback import free_port
from osfsck_lab.mariadb import MariaDB

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(neutron_server.available() is None, reason=neutron_server.NOT_INSTALLED),
]


def osfsck(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "osfsck.cli.main", "-c", str(config), *args], capture_output=True, text=True, timeout=600
    )


def with_api(config: Path, endpoint: str) -> None:
    """`[neutron]` of the lab's osfsck.toml, given the Networking API (noauth) at `endpoint`."""
    lines, section = [], None
    for line in config.read_text().splitlines():
        if line.startswith("["):
            section = line.strip()
        if section == "[neutron]" and re.match(r"(endpoint|auth) *=", line):
            continue
        lines.append(line)
        if line.strip() == "[neutron]":
            lines += [f'endpoint = "{endpoint}"', 'auth = "none"']
    config.write_text("\n".join(lines) + "\n")


def nt101(proc: subprocess.CompletedProcess) -> set[str]:
    return {f["subject"]["id"] for f in json.loads(proc.stdout)["findings"] if f["code"] == "NT101"}


@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def lab(request):
    """(lab folder, the Networking API settings): a seed-1 lab, and its neutron-server."""
    # not tmp_path: the lab's folders must be open to its service users, as in test_cli_lab
    base = Path(tempfile.mkdtemp(prefix="osfsck-neutron-"))
    base.chmod(0o755)
    db = MariaDB(base / "mariadb", ("--innodb-buffer-pool-size=64M",)) if request.param == "mariadb" else None
    out, entry = base / "lab", None
    try:
        build.build(out, seed=1, db_url=db.url if db else None, hv_mode="testfiles")
        neutron = load_settings(str(out / "osfsck.toml")).neutron
        endpoint = neutron.endpoint
        if endpoint is None:  # a lab built before build started neutron-server itself
            entry, lines = neutron_server.start_neutron(out, neutron.database.url)
            endpoint = lines[0].split('"')[1]
            with_api(out / "osfsck.toml", endpoint)
        yield out, NeutronSettings(endpoint=endpoint, auth="none", timeout=30.0)
    finally:
        if entry is not None:
            neutron_server.stop_neutron(entry, out)
        if (out / "lab.json").exists():
            build.stop(out)
        if db is not None:
            db.stop()
        shutil.rmtree(base, ignore_errors=True)


def orphan_ports(lab_dir: Path) -> set[str]:
    return {f["subject"] for f in json.loads((lab_dir / "truth.json").read_text())["faults"] if f["code"] == "NT101"}


def test_the_lab_orphan_port_is_what_neutron_serves(lab):
    out, settings = lab
    api = NeutronApi(settings)
    try:
        for port_id in orphan_ports(out):
            port = api.get_port(port_id)
            assert port["id"] == port_id and port["device_owner"] == "compute:nova"
            assert port["revision_number"] >= 1 and port["fixed_ips"]
    finally:
        api.close()


def test_a_stale_revision_is_refused_and_nothing_is_deleted(lab):
    out, settings = lab
    port_id = sorted(orphan_ports(out))[0]
    api = NeutronApi(settings)
    try:
        rev = api.get_port(port_id)["revision_number"]
        with pytest.raises(NeutronApiError, match="changed since it was read"):
            api.delete_port(port_id, revision_number=rev - 1)
        assert api.get_port(port_id)["revision_number"] == rev
    finally:
        api.close()


def test_an_endpoint_that_does_not_answer_is_one_line(lab):
    out, _ = lab
    # next to the lab's own: its relative paths (TSIG secret, journal) resolve the same
    config = out / "no-neutron.toml"
    config.write_text((out / "osfsck.toml").read_text())
    with_api(config, f"http://127.0.0.1:{free_port()}")
    p = osfsck(config, "repair", "--unsafe", "--yes", "--grace", "0", "--select", "NT", "--format", "json")
    failed = [r for r in json.loads(p.stdout)["repairs"] if r["repair"] == "delete-port"]
    assert failed and all(r["outcome"] == "failed" for r in failed), failed
    for r in failed:
        assert f"cannot read port {r['target']['id']}: http://127.0.0.1:" in r["reason"], r
        assert r["reason"].endswith("Connection refused") and "\n" not in r["reason"]
    assert "Traceback" not in p.stderr


def test_delete_port_deletes_the_orphan_ports_through_neutron(lab):
    out, settings = lab
    config = out / "osfsck.toml"
    orphans = orphan_ports(out)
    before = osfsck(config, "check", "--select", "NT", "--format", "json")
    assert nt101(before) == orphans, before.stdout[-2000:] + before.stderr
    p = osfsck(config, "repair", "--unsafe", "--yes", "--grace", "0", "--select", "NT", "--format", "json")
    deleted = {
        r["target"]["id"]
        for r in json.loads(p.stdout)["repairs"]
        if r["repair"] == "delete-port" and r["outcome"] == "applied"
    }
    assert deleted == orphans, p.stdout[-3000:] + p.stderr
    api = NeutronApi(settings)
    try:
        assert all(api.get_port(port_id) is None for port_id in orphans)
    finally:
        api.close()
    after = osfsck(config, "check", "--select", "NT", "--format", "json")
    assert nt101(after) == set(), after.stdout[-2000:]
