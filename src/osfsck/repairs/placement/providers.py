"""An orphan compute provider deleted through the Placement API; undo re-creates it with
the same uuid, name, parent, inventories, traits and aggregates."""

from __future__ import annotations

from typing import Any

from osfsck.clients.placement_api import PlacementApiError, PlacementConflict
from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, Repair, RepairError, Undone
from osfsck.repairs.placement.common import PLACEMENT_OWN, placement_api, unavailable


class DeleteOrphanResourceProvider(Repair):
    """`DELETE /resource_providers/{uuid}` of a compute provider whose compute node is gone,
    as `openstack resource provider delete` would, only when it holds no allocation and
    has no child (Placement refuses both with 409 anyway; a provider with consumers is
    left to the runbook, since they are findings of their own to settle first)."""

    name = "delete-orphan-resource-provider"
    safety = Safety.UNSAFE
    undoable = True
    writes = (
        "Placement API: DELETE /resource_providers/{uuid}; undo: POST /resource_providers with the same "
        "uuid and name, PUT its inventories, traits and aggregates"
    )

    @staticmethod
    def unavailable(settings) -> str | None:
        return unavailable(settings)

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        ev = finding.evidence
        if finding.code != "PL104":
            return f"{self.name} repairs orphan resource providers, not {finding.name}"
        if ev.get("consumers") or ev.get("children"):
            return (
                f"provider {finding.subject.id} still has {len(ev.get('consumers') or ())} consumer(s) and "
                f"{len(ev.get('children') or ())} child provider(s); follow the runbook"
            )
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"delete resource provider {ev['provider']['name']} ({finding.subject.id}) "
            "through the Placement API",
            params={
                "uuid": finding.subject.id,
                "name": ev["provider"]["name"],
                "generation": ev["provider"]["generation"],
            },
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p, api = plan.params, placement_api(ctx)
        try:
            rp = api.get_provider(p["uuid"])
            if rp is None:
                raise RepairError(f"Placement has no provider {p['uuid']} any more; nothing changed")
            if rp.get("generation") != p["generation"] or rp.get("name") != p["name"]:
                raise RepairError(
                    f"provider {p['uuid']} changed since the check (generation {p['generation']} -> "
                    f"{rp.get('generation')}); nothing changed"
                )
            parts = {
                part: api.provider_part(p["uuid"], part)
                for part in ("inventories", "traits", "aggregates", "allocations")
            }
        except PlacementApiError as e:
            raise RepairError(str(e)) from None
        if parts["allocations"].get("allocations"):
            raise RepairError(f"provider {p['uuid']} holds allocations now; nothing changed")
        return {
            "provider": rp,
            "inventories": parts["inventories"].get("inventories") or {},
            "traits": parts["traits"].get("traits") or [],
            "aggregates": parts["aggregates"].get("aggregates") or [],
        }

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        try:
            placement_api(ctx).delete_provider(plan.params["uuid"])
        except PlacementConflict as e:
            raise RepairError(f"{e}; left alone") from None
        except PlacementApiError as e:
            raise RepairError(str(e)) from None
        return f"deleted resource provider {plan.params['name']} ({plan.params['uuid']}) through the Placement API"

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        b = entry["before"]
        rp, api = b["provider"], placement_api(ctx)
        try:
            if api.get_provider(rp["uuid"]) is not None:
                raise RepairError(f"provider {rp['uuid']} exists again; not overwritten")
            made = api.create_provider(rp["uuid"], rp["name"], rp.get("parent_provider_uuid"))
            gen = made["generation"]
            for part, body in (
                ("inventories", {"inventories": b["inventories"]}),
                ("traits", {"traits": b["traits"]}),
                ("aggregates", {"aggregates": b["aggregates"]}),
            ):
                if body[part]:
                    gen = api.put_provider_part(rp["uuid"], part, {**body, "resource_provider_generation": gen}).get(
                        "resource_provider_generation", gen
                    )
        except PlacementApiError as e:
            raise RepairError(f"{e}; not (fully) restored") from None
        return Undone(
            f"re-created resource provider {rp['name']} ({rp['uuid']}) with its {len(b['inventories'])} "
            f"inventories, {len(b['traits'])} traits and {len(b['aggregates'])} aggregates",
            [PLACEMENT_OWN],
        )
