"""Which hypervisors to read and how: the hosts come from Nova, with per-host overrides."""

from __future__ import annotations

from dataclasses import dataclass

from osfsck.clients.hostagent import HostChannel
from osfsck.clients.hostagent.multiplex import ControlDir
from osfsck.config.settings import ConfigError, HypervisorSettings
from osfsck.model.facts.hypervisor import host_scope
from osfsck.model.facts.nova import API_SCOPE, Cell, ComputeNode, ComputeService, cell_scope
from osfsck.model.scope import RunScope
from osfsck.model.snapshot import Snapshot

# what hypervisor_hosts reads from the databases' facts
HOST_LIST_KINDS = (ComputeNode, ComputeService)


@dataclass(frozen=True)
class HostTarget:
    name: str
    uri: str
    instances_path: str
    transport: str
    ssh_target: str
    storage: str | None  # operator-declared shared storage name
    iscsiadm: str | None = None  # iscsiadm's path there (None: the agent looks for it)


def channel_to(target: HostTarget, hv: HypervisorSettings, control: ControlDir | None = None) -> HostChannel:
    """The host agent's channel to `target` as [hypervisors] says (a source's reads, over
    the run's shared `control` folder; a repair's writes, on their own connection)."""
    return HostChannel(
        target.name,
        target.transport,
        ssh_target=target.ssh_target,
        ssh_user=hv.ssh_user,
        ssh_port=hv.ssh_port,
        ssh_key=hv.ssh_key,
        ssh_options=tuple(hv.ssh_options),
        python=hv.python,
        timeout=hv.timeout,
        control=control,
    )


def hypervisor_hosts(known: Snapshot, hv: HypervisorSettings) -> list[HostTarget]:
    """nova-compute hosts whose compute node runs a libvirt hypervisor type, plus
    `extra_hosts`, minus skipped ones, each with its URI and instances path resolved."""
    types = {t.lower() for t in hv.hypervisor_types}
    libvirt_hosts = {n.host for n in known.of(ComputeNode) if n.host and (n.hypervisor_type or "").lower() in types}
    services = {s.host for s in known.of(ComputeService)}
    # a service without a compute node row yet (just registered) is still worth reading
    nodeless = services - {n.host for n in known.of(ComputeNode) if n.host}
    names = sorted(libvirt_hosts | nodeless | set(hv.extra_hosts) | set(hv.hosts))
    out = []
    for name in names:
        o = hv.hosts.get(name)
        if o is not None and o.skip:
            continue
        if o is not None and name not in libvirt_hosts | nodeless | set(hv.extra_hosts) and not o.uri:
            continue  # an override for a host Nova does not list and with no URI: nothing to read
        out.append(
            HostTarget(
                name=name,
                uri=(o.uri if o and o.uri else hv.uri_template.format(host=name)),
                instances_path=(o.instances_path if o and o.instances_path else hv.instances_path),
                transport=(o.transport if o and o.transport else hv.transport),
                ssh_target=(o.ssh_target if o and o.ssh_target else name),
                storage=o.storage if o else None,
                iscsiadm=(o.iscsiadm if o and o.iscsiadm else hv.iscsiadm),
            )
        )
    return out


def scoped_hosts(known: Snapshot, hv: HypervisorSettings, within: RunScope | None) -> list[HostTarget]:
    """hypervisor_hosts() inside the run's scope: hosts matching --host, of the cells of
    --cell (an extra or overridden host no cell lists is in none of them).  A --host that
    matches no host of a host list read whole is the operator's mistake."""
    targets = hypervisor_hosts(known, hv)
    if within is None or not (within.cells or within.hosts):
        return targets
    cells = within.cells_named((c.name, c.uuid) for c in known.of(Cell))
    kept = [t for t in targets if not within.outside(host_scope(t.name), cells, known.host_cells())]
    listed = known.is_complete(Cell, API_SCOPE) and all(
        known.is_complete(k, cell_scope(c.name)) for c in known.of(Cell) for k in (ComputeNode, ComputeService)
    )
    if within.hosts and not kept and listed:
        raise ConfigError(
            f"{within.describe()}: no compute host Nova lists (nor [hypervisors] extra_hosts) matches "
            f"({len(targets)} host(s) known)"
        )
    return kept
