"""Runbooks for Neutron findings, with the upstream commands that settle them
(OpenStackClient; `nova refresh-network` and `nova evacuate` from python-novaclient)."""

from __future__ import annotations

from osfsck.model.finding import Finding
from osfsck.repairs.base import Runbook
from osfsck.repairs.runbooks import steps


class OrphanPortRunbook(Runbook):
    name = "orphan-port-runbook"

    def text(self, f: Finding) -> str:
        port, owner = f.evidence.get("port", {}), f.evidence.get("owner", {})
        pid, uuid = port.get("id", f.subject.id), port.get("device_id")
        return steps(
            f"Confirm the instance is gone: `openstack server show {uuid}` (osfsck saw it {owner.get('state')}"
            + (f" in {owner['cell']}" if owner.get("cell") else "")
            + "), and that no server is being built with "
            f"this port: `openstack port show {pid} -c device_id -c device_owner -c binding_host_id -c status "
            "-c fixed_ips -c name`.",
            f"See what goes with it: `openstack floating ip list --port {pid}` (deleting the port disassociates "
            "them) and any DNS record for its fixed IPs.",
            f"If the tenant created the port and wants to keep its address for another server, detach it "
            f"instead: `openstack port set --device-id '' --device-owner '' {pid}` and `openstack port unset "
            f"--host {pid}`.",
            f"Otherwise delete it: `openstack port delete {pid}` (as an admin, or as the project "
            f"{port.get('project_id')}).",
            "To let osfsck do this, give [neutron] API settings (cloud = a clouds.yaml cloud, or OS_CLOUD; "
            "auth_url, username, password_env, project_name): the `delete-port` repair then deletes it with "
            "`osfsck repair --unsafe`.",
        )


class MissingPortRunbook(Runbook):
    name = "missing-port-runbook"

    def text(self, f: Finding) -> str:
        inst = f.evidence.get("instance", {})
        uuid, pid, host = inst.get("uuid"), f.evidence.get("port_id"), inst.get("host")
        return steps(
            f"Confirm: `openstack port show {pid}` finds no port; `openstack port list --device-id {uuid}` lists the "
            f"ports Neutron has for instance {uuid}; `openstack server show {uuid} -c addresses` is what Nova shows.",
            f"Refresh Nova's cache from Neutron: `nova refresh-network {uuid}` (it sends the network-changed event "
            "that rebuilds instance_info_caches); `openstack server show` no longer lists the port's addresses.",
            f"If the guest still has the interface (`virsh domiflist {uuid}` on {host or 'its host'}), detach it: "
            f"`openstack server remove port {uuid} {pid}`, or `openstack server reboot --hard {uuid}`, which "
            "redefines the domain from the refreshed cache.",
            f"If the instance needs the network back: `openstack server add network {uuid} <network>` (a new port, "
            "with a new address).",
        )


class PortDeadHostRunbook(Runbook):
    name = "port-dead-host-runbook"

    def text(self, f: Finding) -> str:
        port, b, inst = f.evidence.get("port", {}), f.evidence.get("binding", {}), f.evidence.get("instance", {})
        pid, dead, uuid, host = port.get("id", f.subject.id), b.get("host"), inst.get("uuid"), inst.get("host")
        look = (
            f"`openstack compute service list --service nova-compute --host {dead}` (osfsck saw "
            + ("it forced down" if f.evidence.get("service") else "no service")
            + f"); `openstack server show "
            f"{uuid}` (Nova: {host or 'no host'}); `openstack port show {pid} -c binding_host_id -c binding_vif_type`."
        )
        if host and host != dead:
            return steps(
                look,
                f"The instance runs on {host}: rebind the port there, `openstack port set --host {host} {pid}` "
                "(admin; binding_vif_type must not become binding_failed).",
                f"If the guest has no network on that interface, `openstack server reboot --hard {uuid}` plugs it again.",
            )
        return steps(
            look,
            f"The instance is still on {dead}.  If {dead} is coming back, start nova-compute there: at start it "
            "plugs its instances' ports again.",
            f"If it is gone for good: `openstack compute service set --down {dead} nova-compute`, then `nova evacuate "
            f"{uuid}` rebuilds it on another host and binds its ports there (shared or volume-backed storage keeps "
            "its disks; otherwise it is rebuilt from its image).  A deleted service row cannot be forced down: start "
            f"nova-compute once with host={dead} to register it, stop it, then evacuate.",
        )
