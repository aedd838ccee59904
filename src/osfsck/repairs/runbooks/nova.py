"""Runbooks for the Nova findings (NV): cells v2 bookkeeping, missing domains, power state."""

from __future__ import annotations

from osfsck.model.finding import Finding
from osfsck.repairs.base import Runbook


class MissingDomainRunbook(Runbook):
    name = "missing-domain-runbook"

    def text(self, f: Finding) -> str:
        inst = f.evidence.get("instance", {})
        return (
            f"1. On {inst.get('host')}: check that the instance folder and its volumes are present "
            f"(`ls <instances_path>/{f.subject.id}`).\n"
            f"2. `openstack server reboot --hard {f.subject.id}`: Nova's libvirt driver defines the domain again "
            "from its database.\n"
            f"3. If the disks are gone, the instance cannot be recovered on this host: "
            f"`openstack server rebuild` or `openstack server delete {f.subject.id}`."
        )


class PowerStateRunbook(Runbook):
    name = "power-state-runbook"

    def text(self, f: Finding) -> str:
        dom = f.evidence.get("domain", {})
        return (
            f"1. Check nova-compute on {dom.get('host')} is up (`openstack compute service list --host {dom.get('host')}`).\n"
            "2. Its _sync_power_states periodic task aligns the database within sync_power_state_interval (600 s).\n"
            f"3. If it persists, `openstack server start {f.subject.id}` or `openstack server stop {f.subject.id}` "
            "to the state the tenant expects."
        )


class MapInstancesRunbook(Runbook):
    name = "map-instances-runbook"

    def text(self, f: Finding) -> str:
        cell = f.evidence.get("cell_uuid") or "CELL_UUID"
        return f"`nova-manage cell_v2 map_instances --cell_uuid {cell}` creates the missing instance mappings of that cell."


class MappingCellRunbook(Runbook):
    name = "mapping-cell-runbook"

    def text(self, f: Finding) -> str:
        ev = f.evidence
        return (
            f"1. Make sure no cross-cell move of {f.subject.id} is running (`openstack server migration list --server {f.subject.id}`).\n"
            f"2. In the API database: UPDATE instance_mappings SET cell_id=(SELECT id FROM cell_mappings WHERE name='{ev.get('actual_cell')}') "
            f"WHERE instance_uuid='{f.subject.id}';\n"
            f"3. `nova-manage cell_v2 verify_instance --uuid {f.subject.id}` must then return 0."
        )


class ServerDeleteRunbook(Runbook):
    name = "server-delete-runbook"

    def text(self, f: Finding) -> str:
        return (
            f"The build was never scheduled. `openstack server delete {f.subject.id}` removes the build request "
            "and its mapping the way the API does (ask the owner first)."
        )
