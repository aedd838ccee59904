"""docs/deploy.md's configurations work as printed: each `toml` block is read with the
services' config files shaped as Kolla-Ansible and OpenStack-Ansible write them (their
templates' `[database]` lines), and the Kolla `iscsiadm` command runs through the host
agent with a stand-in `docker` that execs into the "container" as `docker exec` does."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

from osfsck.clients.hostagent import HostChannel
from osfsck.config.load import load_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
BLOCKS = {
    m.group(1): m.group(0) for m in re.finditer(r"# osfsck\.toml for ([^\n(]+?) \(.*?(?=\n```)", DOC.read_text(), re.S)
}

# What the deployment tools' templates write (kolla-ansible ansible/roles/nova-cell/templates/
# nova.conf.j2 and its cinder, neutron, placement templates; openstack-ansible-os_nova
# templates/nova.conf.j2), with Kolla's quoted disk_cachemodes and OSA's charset query
KOLLA = {
    "etc/kolla/nova-conductor/nova.conf": '[DEFAULT]\ndebug = False\n[libvirt]\ndisk_cachemodes="network=writeback"\n'
    "[database]\nconnection = mysql+pymysql://nova:k0lla@10.0.0.10:3306/nova\nmax_overflow = 1000\n\n"
    "[api_database]\nconnection = mysql+pymysql://nova_api:k0lla@10.0.0.10/nova_api\n",
    "etc/kolla/cinder-api/cinder.conf": "[database]\nconnection = mysql+pymysql://cinder:k0lla@10.0.0.10/cinder\n",
    "etc/kolla/neutron-server/neutron.conf": "[database]\nconnection = mysql+pymysql://neutron:k0lla@10.0.0.10/neutron\n",
    "etc/kolla/placement-api/placement.conf": "[placement_database]\nconnection = mysql+pymysql://placement:k0lla@10.0.0.10/placement\n",
    "etc/osfsck/ssh/id_ed25519": "key\n",
}
LXC = "var/lib/lxc/infra1_{}/rootfs/etc/{}"
OSA = {
    LXC.format("nova_api_container-0d3b1e7f", "nova/nova.conf"): "[database]\n"
    "connection = mysql+pymysql://nova:osa@172.29.236.101:3306/nova?charset=utf8\n\n"
    "[api_database]\nconnection = mysql+pymysql://nova_api:osa@172.29.236.101:3306/nova_api?charset=utf8\n",
    LXC.format("cinder_api_container-5a21c6e0", "cinder/cinder.conf"): "[database]\n"
    "connection = mysql+pymysql://cinder:osa@172.29.236.101:3306/cinder?charset=utf8\n",
    LXC.format("neutron_server_container-9be0c2d4", "neutron/neutron.conf"): "[database]\n"
    "connection = mysql+pymysql://neutron:osa@172.29.236.101:3306/neutron?charset=utf8\n",
    LXC.format("placement_container-4f6a8b12", "placement/placement.conf"): "[placement_database]\n"
    "connection = mysql+pymysql://placement:osa@172.29.236.101:3306/placement?charset=utf8\n",
    "etc/osfsck/ssh/id_ed25519": "key\n",
}


def settings_of(tmp_path: Path, name: str, files: dict):
    """The block `name` of the page, its absolute paths moved under tmp_path."""
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    # the files osfsck reads here; the hypervisors' paths and the journal stay as printed
    toml = re.sub(r'"/(etc|var/lib/lxc)/', lambda m: f'"{tmp_path}/{m.group(1)}/', BLOCKS[name])
    (tmp_path / "osfsck.toml").write_text(toml)
    return load_settings(str(tmp_path / "osfsck.toml"))


def test_the_page_has_both_configurations():
    assert sorted(BLOCKS) == ["Kolla-Ansible", "OpenStack-Ansible"]


def test_kolla_ansible(tmp_path):
    s = settings_of(tmp_path, "Kolla-Ansible", KOLLA)
    assert s.nova.api_database.url == "mysql+pymysql://nova_api:k0lla@10.0.0.10/nova_api"
    assert s.nova.cell_url_base.url == "mysql+pymysql://nova:k0lla@10.0.0.10:3306/nova"
    assert s.cinder.database.url.endswith("@10.0.0.10/cinder")
    assert s.neutron.database.url.endswith("@10.0.0.10/neutron")
    assert s.placement.database.url.endswith("@10.0.0.10/placement")
    hv = s.hypervisors
    assert hv.uri_template.format(host="compute-1") == "qemu+tcp://compute-1:16509/system"
    assert hv.instances_path == "/var/lib/docker/volumes/nova_compute/_data/instances"
    assert hv.iscsiadm == "docker exec iscsid iscsiadm" and hv.ssh_user == "root"


def test_openstack_ansible(tmp_path):
    s = settings_of(tmp_path, "OpenStack-Ansible", OSA)
    assert s.nova.api_database.url == "mysql+pymysql://nova_api:osa@172.29.236.101:3306/nova_api?charset=utf8"
    assert s.placement.database.url.endswith("/placement?charset=utf8")
    hv = s.hypervisors
    assert hv.uri_template == "qemu+ssh://root@{host}/system"
    assert hv.instances_path == "/var/lib/nova/instances" and hv.iscsiadm is None


def test_the_kolla_iscsiadm_command_through_the_agent(tmp_path, monkeypatch):
    """`docker exec iscsid iscsiadm -m session -P 3` on a host without iscsiadm of its own:
    the stand-in docker runs iscsiadm from the "container" (a folder of its own) and passes
    its exit status on; iscsiadm answers as open-iscsi does with no session (exit 21)."""
    hv = settings_of(tmp_path, "Kolla-Ansible", KOLLA).hypervisors
    host_bin, container_bin = tmp_path / "host-bin", tmp_path / "iscsid-container"
    host_bin.mkdir()
    container_bin.mkdir()
    log = tmp_path / "docker.log"
    (host_bin / "docker").write_text(
        f"""#!/bin/sh
echo "$*" >> {shlex.quote(str(log))}
[ "$1" = exec ] && [ "$2" = iscsid ] || {{ echo "Error: No such container: $2" >&2; exit 1; }}
shift 2
PATH={shlex.quote(str(container_bin))} exec "$@"
"""
    )
    (container_bin / "iscsiadm").write_text(
        '#!/bin/sh\ncase "$*" in\n  "-m session -P 3") echo "iscsiadm: No active sessions." >&2 ;;\n'
        '  "-m node") echo "iscsiadm: No records found" >&2 ;;\n  *) exit 7 ;;\nesac\nexit 21\n'
    )
    for script in (host_bin / "docker", container_bin / "iscsiadm"):
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{host_bin}:/usr/bin:/bin")  # the host has no iscsiadm
    reply = HostChannel("hv1", "local", python=shlex.quote(sys.executable), timeout=30).call(
        "iscsi", iscsiadm=hv.iscsiadm
    )
    assert reply["installed"]
    assert (reply["session"]["rc"], reply["node"]["rc"]) == (21, 21)
    assert log.read_text().splitlines() == ["exec iscsid iscsiadm -m session -P 3", "exec iscsid iscsiadm -m node"]


@pytest.mark.parametrize("name", ["Kolla-Ansible", "OpenStack-Ansible"])
def test_no_key_of_the_examples_is_unknown_or_misspelt(tmp_path, name):
    # load_settings refuses unknown keys; reaching here with every section present is the test
    s = settings_of(tmp_path, name, KOLLA if name.startswith("Kolla") else OSA)
    assert s.repair.journal == "/var/lib/osfsck/journal.jsonl"
