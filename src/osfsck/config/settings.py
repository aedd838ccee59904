"""Typed settings.  Every key of the config file maps to a field here (see README)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from osfsck.config.common import ConfigError, Database
from osfsck.config.dns import DesignateSettings, DnsSettings
from osfsck.config.nsx import NsxSettings
from osfsck.config.ovn import OvnSettings
from osfsck.config.placement import PlacementSettings
from osfsck.config.rabbitmq import RabbitSettings
from osfsck.config.service import ApiSettings

__all__ = ["ConfigError", "Database"]  # re-exported: the rest of osfsck imports them from here


@dataclass(frozen=True)
class CellOverride:
    database: Database | None = None  # use this URL instead of cell_mappings'
    skip: bool = False


@dataclass(frozen=True)
class NovaSettings:
    api_database: Database | None = None
    # the URL Nova's templated cell URLs ({username}, {password}, {hostname}...) are
    # formatted from: nova.conf's [database] connection on the conductor
    cell_url_base: Database | None = None
    cells: dict[str, CellOverride] = field(default_factory=dict)  # name or uuid -> CellOverride


@dataclass(frozen=True)
class CinderSettings:
    database: Database | None = None


@dataclass(frozen=True)
class NeutronSettings(ApiSettings):
    """`[neutron]`: its database (read by the checks) and, optionally, the Networking API
    that repairs which must go through neutron-server use (delete-port), reached as
    ApiSettings says: at `endpoint`, or at the "network" endpoint of the Keystone
    catalog; with `auth = "none"` (a standalone neutron-server with `auth_strategy =
    noauth`, as in the lab) at `endpoint` without a token."""

    database: Database | None = None
    # Neutron's [quotas] quota_driver (a class path), from `quota_driver` here or from
    # neutron_conf; None: not configured, the default of the schema's release applies
    quota_driver: str | None = None


@dataclass(frozen=True)
class HostOverride:
    uri: str | None = None
    instances_path: str | None = None
    transport: str | None = None  # "ssh" | "local" | "inprocess"
    ssh_target: str | None = None
    storage: str | None = None  # name shared storage explicitly
    iscsiadm: str | None = None  # iscsiadm's command on this host (see HypervisorSettings)
    skip: bool = False


@dataclass(frozen=True)
class HypervisorSettings:
    uri_template: str = "qemu+ssh://{host}/system"
    instances_path: str = "/var/lib/nova/instances"
    transport: str = "ssh"
    ssh_user: str | None = None
    ssh_port: int | None = None
    ssh_key: str | None = None
    ssh_options: tuple[str, ...] = ()
    python: str = "python3"
    # iscsiadm's command on the hosts: its path, or a prefix that runs it in a container
    # ("docker exec iscsid iscsiadm" on Kolla); shell words, run without a shell (default:
    # PATH, then /usr/sbin, /sbin)
    iscsiadm: str | None = None
    concurrency: int = 32
    timeout: float = 60.0
    # one SSH connection per host per run: OpenSSH multiplexing (ControlMaster) in a private
    # folder of the run's; a master lives this long after its last session
    ssh_multiplex: bool = True
    ssh_control_persist: float = 10.0
    hypervisor_types: tuple[str, ...] = ("QEMU", "kvm", "qemu")  # compute_nodes.hypervisor_type values we collect
    hosts: dict[str, HostOverride] = field(default_factory=dict)  # host -> HostOverride
    extra_hosts: tuple[str, ...] = ()  # hosts to read even if Nova does not list them


@dataclass(frozen=True)
class RepairSettings:
    journal: str = "/var/lib/osfsck/journal.jsonl"
    max_per_check: int = 25
    implausible_share: float = 0.5  # refuse a check's repairs when it flags more than this share
    implausible_min_examined: int = 20  # ... of at least this many examined objects
    grace: float = 1800.0  # seconds
    confirm_runs: int = 1
    state_file: str | None = None
    quarantine_retention: float = 7 * 86400.0


@dataclass(frozen=True)
class Settings:
    nova: NovaSettings = field(default_factory=NovaSettings)
    cinder: CinderSettings = field(default_factory=CinderSettings)
    neutron: NeutronSettings = field(default_factory=NeutronSettings)
    dns: DnsSettings = field(default_factory=DnsSettings)
    designate: DesignateSettings = field(default_factory=DesignateSettings)
    ovn: OvnSettings = field(default_factory=OvnSettings)
    nsx: NsxSettings = field(default_factory=NsxSettings)
    placement: PlacementSettings = field(default_factory=PlacementSettings)
    rabbitmq: RabbitSettings = field(default_factory=RabbitSettings)
    hypervisors: HypervisorSettings = field(default_factory=HypervisorSettings)
    repair: RepairSettings = field(default_factory=RepairSettings)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)  # check code or name -> {param: value}
    source_file: str | None = None
