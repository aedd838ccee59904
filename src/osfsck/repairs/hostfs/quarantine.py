"""Quarantine an orphan instance folder: a rename on the same filesystem, never a delete."""

from __future__ import annotations

import re
from typing import Any

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, NotOwned, Repair, RepairError

# Nova's instance folder layout: <instances_path>/<uuid>[_resize|_del] (libvirt driver)
NOVA_DIR = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(_resize|_del)?$")


class QuarantineInstanceDir(Repair):
    name = "quarantine-instance-dir"
    safety = Safety.UNSAFE
    writes = "the hypervisor's instances_path: rename <uuid> into .osfsck-quarantine/ (through the host agent)"
    undoable = True

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        ev = finding.evidence
        if ev.get("used_by_domains_on"):
            return f"still used by a domain on {', '.join(ev['used_by_domains_on'])}"
        instances_path, name = ev["path"].rsplit("/", 1)
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"move {ev['path']} on {ev['host']} into {instances_path}/.osfsck-quarantine/",
            params={"host": ev["host"], "instances_path": instances_path or "/", "name": name, "inode": ev["inode"]},
        )

    def ownership(self, plan: RepairPlan, snap: Snapshot) -> None:
        if not NOVA_DIR.match(plan.params["name"]):
            raise NotOwned(f"{plan.params['name']} does not follow Nova's instance folder layout")

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        ev = plan.finding.evidence
        return {
            "host": plan.params["host"],
            "path": ev["path"],
            "inode": ev["inode"],
            "bytes": ev.get("bytes"),
            "files": ev.get("files"),
            "instances_path": plan.params["instances_path"],
        }

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str | tuple[str, dict[str, Any]]:
        p = plan.params
        result = _call(
            ctx, p["host"], "quarantine", instances_path=p["instances_path"], name=p["name"], inode=p["inode"]
        )
        return f"{before['path']} moved to {result['path']} on {p['host']}", {"quarantined": result["quarantined"]}

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        b, after = entry["before"], entry.get("after") or {}
        if not after.get("quarantined"):
            raise RepairError("the journal does not say where the folder was moved")
        result = _call(ctx, b["host"], "restore", instances_path=b["instances_path"], quarantined=after["quarantined"])
        return f"{b['instances_path']}/{result['restored']} restored on {b['host']}"


def _call(ctx: Context, host, op, **args):
    from osfsck.clients.hostagent import HostError

    try:
        return ctx.host_channel(host).call(op, **args)
    except HostError as e:
        raise RepairError(str(e)) from None
