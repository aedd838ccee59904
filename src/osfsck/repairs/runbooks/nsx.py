"""Runbooks for NSX findings a person must settle, with the commands that do it
(`nsxadmin` is vmware-nsx's admin utility, vmware_nsx/shell)."""

from __future__ import annotations

from osfsck.model.finding import Finding
from osfsck.repairs.base import Runbook

_CLI = {"network": "network", "port": "port", "router": "router", "security-group": "security group"}
_NSXADMIN = {"network": "networks", "port": "ports", "router": "routers", "security-group": "nsx-security-groups"}


class MissingNsxObjectRunbook(Runbook):
    name = "missing-nsx-object-runbook"

    def text(self, f: Finding) -> str:
        n = f.evidence.get("neutron", {})
        kind, oid = n.get("kind", f.subject.kind), n.get("id", f.subject.id)
        missing = " and ".join(f.evidence.get("missing", [])) or "its NSX object"
        steps = [
            f"`openstack {_CLI.get(kind, kind)} show {oid}`: Neutron's view; NSX has no {missing} for it.",
            f"With the Manager plugin (nsx_v3), `nsxadmin -r {_NSXADMIN.get(kind, kind)} -o list-mismatches` "
            "confirms it; with the Policy plugin look for the id in the NSX UI (Networking, Security).",
        ]
        if kind == "security-group":
            steps.append(
                "Manager plugin: `nsxadmin -r security-groups -o fix-mismatch` re-creates the missing "
                "NSGroups and sections.  Policy plugin: re-create the security group (a new group, the "
                "same rules) and move the ports to it, then delete this one."
            )
        elif kind == "port":
            steps.append(
                "Give the instance a new port on the same network (`openstack server add port` with a "
                f"port created for it), then `openstack server remove port <server> {oid}`: the plugin "
                "makes NSX ports only when a port is created."
            )
        else:
            steps.append(
                f"The plugin makes the NSX object only when the {_CLI.get(kind, kind)} is created: "
                "re-create it (move what uses it first) and delete this one."
            )
        return "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
