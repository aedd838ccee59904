"""Delete an orphan port through the Networking API."""

from __future__ import annotations

from typing import Any

from osfsck.clients.neutron_api import NeutronApi, NeutronApiError
from osfsck.model.facts.neutron import COMPUTE_OWNER_PREFIX
from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, NotOwned, Repair, RepairError

NOT_CONFIGURED = (
    "[neutron] has no Networking API settings (cloud or OS_CLOUD; auth_url; endpoint and token_env; or endpoint and "
    'auth = "none"): follow orphan-port-runbook'
)


def neutron_api(ctx: Context) -> NeutronApi:
    """The run's Networking API client (one Keystone token for every repair of the run)."""
    settings = ctx.settings.neutron
    if not settings.api_configured:
        raise RepairError(NOT_CONFIGURED)
    return ctx.client("neutron-api", lambda: NeutronApi(settings))


class DeletePort(Repair):
    """`DELETE /v2.0/ports/{id}`: neutron-server unplugs the port, frees its addresses,
    disassociates its floating IPs and removes its OVN or NSX objects, which no database
    write would do.  The port is read first (its JSON is the before-image) and must still
    be the compute port of the same device; the delete is conditional on the revision
    read (`If-Match`), so a port changed in between is left alone.

    It cannot be undone: Neutron does not let a client choose a new port's id, so a port
    made again from the before-image would be another port.  A port the tenant created
    and passed to `server create --port` outlives its server by design once Nova unbinds
    it; one still naming a deleted server here is a leak all the same, but a tenant who
    wants its address back needs the before-image's fixed IPs.
    """

    name = "delete-port"
    safety = Safety.UNSAFE
    writes = "Networking API: DELETE /v2.0/ports/{id} (If-Match: revision_number as read)"

    @staticmethod
    def unavailable(settings) -> str | None:
        """Why this repair cannot run with these settings (the engine then tries the
        check's next repair, the runbook); None when it can."""
        return None if settings.neutron.api_configured else NOT_CONFIGURED

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        port = finding.evidence.get("port")
        if finding.subject.kind != "port" or not port:
            return f"{self.name} deletes ports; this {finding.subject.kind} is none"
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=(
                f"delete port {port['id']} (MAC {port['mac_address']}, {port['device_owner']} of instance "
                f"{port['device_id']}) through the Neutron API"
            ),
            params={"port_id": port["id"], "device_id": port["device_id"], "device_owner": port["device_owner"]},
        )

    def ownership(self, plan: RepairPlan, snap: Snapshot) -> None:
        if not plan.params["device_owner"].startswith(COMPUTE_OWNER_PREFIX):
            raise NotOwned(
                f"port {plan.params['port_id']} is {plan.params['device_owner'] or 'unowned'}, "
                "not a port Nova made for an instance"
            )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        try:
            port = neutron_api(ctx).get_port(p["port_id"])
        except NeutronApiError as e:
            raise RepairError(str(e)) from None
        if port is None:
            raise RepairError(f"Neutron has no port {p['port_id']} any more; nothing changed")
        if (port.get("device_id"), port.get("device_owner")) != (p["device_id"], p["device_owner"]):
            raise RepairError(
                f"port {p['port_id']} now belongs to {port.get('device_owner')} {port.get('device_id')}, "
                f"not {p['device_owner']} {p['device_id']}; nothing changed"
            )
        return {"port": port}

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        port = before["port"]
        try:
            neutron_api(ctx).delete_port(port["id"], revision_number=port.get("revision_number"))
        except NeutronApiError as e:
            raise RepairError(str(e)) from None
        ips = ", ".join(ip.get("ip_address", "?") for ip in port.get("fixed_ips") or ()) or "no address"
        return f"deleted port {port['id']} ({ips}) through the Neutron API"
