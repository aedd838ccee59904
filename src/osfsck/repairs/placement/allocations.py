"""Allocations deleted, moved or created through the Placement API, each a PUT of the
consumer's whole allocation set conditional on the consumer generation read (Placement
answers 409 when another writer got there first); undo PUTs the before-image back."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, NotOwned, Repair, RepairError, Undone
from osfsck.repairs.placement.common import PLACEMENT_OWN, phrase, put, read_allocations, resources, unavailable

_NOVAS = (None, "INSTANCE", "MIGRATION")


class _AllocationRepair(Repair):
    safety = Safety.UNSAFE
    undoable = True

    @staticmethod
    def unavailable(settings) -> str | None:
        return unavailable(settings)

    def _seen(self, plan: RepairPlan, ctx: Context) -> dict:
        """The consumer's allocations now, refused when its generation moved since the check."""
        consumer = plan.params["consumer"]
        image = read_allocations(ctx, consumer)
        seen = plan.params.get("generation")
        if seen is not None and image.get("consumer_generation") != seen:
            raise RepairError(
                f"consumer {consumer} changed since the check (generation {seen} -> "
                f"{image.get('consumer_generation')}); nothing changed"
            )
        return image

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        """Put the before-image back, only while the consumer is as the repair left it."""
        consumer, before = entry["params"]["consumer"], entry["before"]
        now = read_allocations(ctx, consumer)
        left = (entry.get("after") or {}).get("consumer_generation")
        if now.get("consumer_generation") != left:
            raise RepairError(
                f"consumer {consumer} changed after the repair (generation {left} -> "
                f"{now.get('consumer_generation')}); not overwritten"
            )
        put(ctx, consumer, resources(before), before, left, f"restore the allocations of consumer {consumer}")
        return Undone(
            f"restored the allocations of consumer {consumer}: {phrase(resources(before)) or 'none'}", [PLACEMENT_OWN]
        )

    @staticmethod
    def _after(ctx: Context, consumer: str) -> dict:
        return {"consumer_generation": read_allocations(ctx, consumer).get("consumer_generation")}


class DeleteOrphanAllocations(_AllocationRepair):
    """Removes every allocation of an orphan consumer (PUT of an empty set at the consumer
    generation read: the conditional form of `DELETE /allocations/{consumer}`, which takes
    no generation).  Placement then deletes the consumer too."""

    name = "delete-orphan-allocations"
    writes = (
        "Placement API: PUT /allocations/{consumer} {} (consumer_generation as read); undo: PUT of the before-image"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        if finding.code != "PL101":
            return f"{self.name} repairs orphan allocations, not {finding.name}"
        consumer = finding.evidence.get("consumer") or {}
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"delete every allocation of consumer {finding.subject.id} "
            f"({phrase(finding.evidence['allocations'])}) through the Placement API",
            params={
                "consumer": finding.subject.id,
                "generation": consumer.get("generation"),
                "consumer_type": consumer.get("consumer_type"),
            },
        )

    def ownership(self, plan: RepairPlan, snap: Snapshot) -> None:
        if plan.params["consumer_type"] not in _NOVAS:
            raise NotOwned(f"consumer {plan.params['consumer']} is a {plan.params['consumer_type']}, not Nova's")

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        image = self._seen(plan, ctx)
        if not image.get("allocations"):
            raise RepairError(f"consumer {plan.params['consumer']} holds nothing any more; nothing changed")
        return image

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        consumer = plan.params["consumer"]
        put(ctx, consumer, {}, before, before["consumer_generation"], f"delete the allocations of consumer {consumer}")
        return (
            f"deleted the allocations of consumer {consumer} ({phrase(resources(before))}) through the Placement API",
            {"consumer_generation": None},
        )


class MoveAllocationToComputeNode(_AllocationRepair):
    """Moves what a live instance holds on other hosts' compute nodes to its own node's
    provider, keeping the rest (sharing providers, its own node's children)."""

    name = "move-allocation-to-compute-node"
    writes = (
        "Placement API: PUT /allocations/{consumer} with the instance's node's provider (consumer_generation "
        "as read); undo: PUT of the before-image"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        node = finding.evidence.get("compute_node")
        if finding.code != "PL103" or not node:
            return "the instance's compute node is not known (several nodes on its host?); follow the runbook"
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"move consumer {finding.subject.id}'s allocations on {', '.join(finding.evidence['wrong_providers'])} "
            f"to its compute node {node['uuid']} ({node['host']}) through the Placement API",
            params={
                "consumer": finding.subject.id,
                "generation": finding.evidence.get("consumer_generation"),
                "node": node["uuid"],
                "wrong": finding.evidence["wrong_providers"],
            },
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        image = self._seen(plan, ctx)
        if not set(plan.params["wrong"]) & set(image.get("allocations") or {}):
            raise RepairError(
                f"consumer {plan.params['consumer']} no longer holds anything on "
                f"{', '.join(plan.params['wrong'])}; nothing changed"
            )
        return image

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        p = plan.params
        now = resources(before)
        moved: dict[str, int] = {}
        for rp in p["wrong"]:
            for rc, n in now.pop(rp, {}).items():
                moved[rc] = moved.get(rc, 0) + n
        mine = now.setdefault(p["node"], {})
        for rc, n in moved.items():
            mine[rc] = mine.get(rc, 0) + n
        put(
            ctx,
            p["consumer"],
            now,
            before,
            before["consumer_generation"],
            f"move the allocations of consumer {p['consumer']} to provider {p['node']}",
        )
        return (
            f"moved consumer {p['consumer']}'s allocations to its compute node {p['node']}: {phrase(now)}",
            self._after(ctx, p["consumer"]),
        )


class CreateMissingAllocation(_AllocationRepair):
    """Creates an instance's allocation as `nova-manage placement heal_allocations` does:
    its flavor as the cell database holds it now (VCPU, MEMORY_MB, DISK_GB = root +
    ephemeral + swap, no root for a boot-from-volume instance) against its compute node's
    provider, owned by the instance's project and user, only while the consumer does not
    exist (consumer generation null)."""

    name = "create-missing-allocation"
    writes = (
        "Placement API: PUT /allocations/{instance} (consumer_generation null: only if it has none); "
        "reads the instance's row in its cell database; undo: PUT {} at the generation it left"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        node, inst = finding.evidence.get("compute_node"), finding.evidence.get("instance") or {}
        if finding.code != "PL102" or not node:
            return "the instance's compute node is not known; follow the runbook"
        if not finding.evidence.get("provider_exists"):
            return f"Placement has no provider for compute node {node['uuid']} yet; follow the runbook"
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"allocate instance {inst['uuid']}'s flavor on its compute node {node['uuid']} ({node['host']}) "
            "through the Placement API",
            params={"consumer": inst["uuid"], "cell": inst["cell"], "host": inst["host"], "node": node["uuid"]},
            touches=("placement",),
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        image = read_allocations(ctx, p["consumer"])
        if image.get("allocations"):
            raise RepairError(f"instance {p['consumer']} holds allocations now; nothing changed")
        row = _instance_row(ctx, p["cell"], p["consumer"])
        if row is None or row["host"] != p["host"] or row["task_state"]:
            raise RepairError(
                f"instance {p['consumer']} is no longer settled on {p['host']} in cell:{p['cell']}; nothing changed"
            )
        return {"allocations": {}, "instance": row}

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        p, row = plan.params, before["instance"]
        disk = (
            (0 if row["boot_from_volume"] else row["root_gb"] or 0)
            + (row["ephemeral_gb"] or 0)
            + -(-(row["swap_mb"] or 0) // 1024)
        )
        want = {"VCPU": row["vcpus"], "MEMORY_MB": row["memory_mb"], "DISK_GB": disk}
        allocs = {p["node"]: {rc: n for rc, n in want.items() if n}}
        owner = {"project_id": row["project_id"], "user_id": row["user_id"], "consumer_type": "INSTANCE"}
        put(ctx, p["consumer"], allocs, owner, None, f"allocate instance {p['consumer']} on {p['node']}")
        return (
            f"allocated instance {p['consumer']} on its compute node {p['node']}: {phrase(allocs)}",
            {**self._after(ctx, p["consumer"]), **owner},
        )

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        consumer, after = entry["params"]["consumer"], entry.get("after") or {}
        now = read_allocations(ctx, consumer)
        if now.get("consumer_generation") != after.get("consumer_generation"):
            raise RepairError(f"consumer {consumer} changed after the repair; not removed")
        put(ctx, consumer, {}, after, after["consumer_generation"], f"remove the allocations of {consumer}")
        return Undone(
            f"removed the allocation osfsck created for instance {consumer}",
            ["the project and user rows Placement made for it (Placement never removes those)"],
        )


def _instance_row(ctx: Context, cell: str, uuid: str) -> dict | None:
    """The live instance row with its owner and flavor, whether it boots from a volume, and
    its flavor's swap (kept only in instance_extra's flavor JSON)."""
    with ctx.database(f"cell:{cell}").connect() as conn:
        row = (
            conn.execute(
                text(
                    "SELECT uuid, host, node, task_state, project_id, user_id, vcpus, memory_mb, root_gb, ephemeral_gb "
                    "FROM instances WHERE uuid = :u AND deleted = 0"
                ),
                {"u": uuid},
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        bfv = (
            conn.execute(
                text(
                    "SELECT 1 FROM block_device_mapping WHERE instance_uuid = :u AND deleted = 0 AND boot_index = 0 "
                    "AND destination_type = 'volume'"
                ),
                {"u": uuid},
            ).first()
            is not None
        )
        flavor = conn.execute(
            text("SELECT flavor FROM instance_extra WHERE instance_uuid = :u AND deleted = 0"), {"u": uuid}
        ).scalar()
    return {**dict(row), "boot_from_volume": bfv, "swap_mb": _swap(flavor)}


def _swap(flavor: str | None) -> int:
    if flavor is None:  # no instance_extra row
        return 0
    try:
        data = json.loads(flavor)["cur"]["nova_object.data"]
        return int(data.get("swap") or 0)
    except (TypeError, ValueError, KeyError):
        return 0
