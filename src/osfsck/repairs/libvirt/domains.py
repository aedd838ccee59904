"""Repairs of libvirt domains.  The domain XML is the before-image: undo defines it again.

The XML is read without VIR_DOMAIN_XML_SECURE, so no graphics password (libvirt's
`passwd`) reaches the journal; a domain defined again therefore has none.  Nova's own
guests have none (its consoles go through the proxies' tokens).
"""

from __future__ import annotations

from typing import Any

from osfsck.model.facts.hypervisor import Domain
from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, NotOwned, Repair, RepairError, Undone

# what undo cannot give back, whichever domain repair it undoes
_MEMORY = "what the guest held in memory: it was powered off, and starts again from its disks"
_DEFINITION = (
    "libvirt's own records of the definition: a new domain id, no graphics password (never journaled), "
    "and no managed-save image or snapshot metadata (removed with the definition)"
)

NOVA_NAMESPACES = ("http://openstack.org/xmlns/libvirt/nova/1.1", "http://openstack.org/xmlns/libvirt/nova/1.0")


def _libvirt():
    import libvirt  # imported late: only hosts that need a domain repair need libvirt-python

    return libvirt


class _DomainRepair(Repair):
    verb = ""

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        if finding.subject.kind != "domain":
            return f"{self.name} repairs domains, not {finding.subject.kind}"
        dom = finding.evidence.get("domain", {})
        host, name = dom.get("host"), dom.get("name")
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"{self.verb} domain {name} ({finding.subject.id}) on {host}",
            params={"host": host, "uuid": finding.subject.id, "name": name},
        )

    def ownership(self, plan: RepairPlan, snap: Snapshot) -> None:
        p = plan.params
        seen = [d for d in snap.of(Domain) if d.host == p["host"] and d.uuid == p["uuid"]]
        if not seen or seen[0].nova_ns is None:
            raise NotOwned(f"domain {p['name']} on {p['host']} carries no Nova metadata")

    def _lookup(self, ctx: Context, p):
        conn = ctx.libvirt(p["host"])
        try:
            return conn.lookupByUUIDString(p["uuid"])
        except _libvirt().libvirtError as e:
            raise RepairError(f"domain {p['uuid']} on {p['host']}: {e.get_error_message()}") from None

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        lv = _libvirt()
        dom = self._lookup(ctx, plan.params)
        xml = dom.XMLDesc(lv.VIR_DOMAIN_XML_INACTIVE)
        # ownership again, on the live object: the XML we would destroy must be Nova's
        if not any(ns in xml for ns in NOVA_NAMESPACES):
            raise NotOwned(f"domain {plan.params['name']} on {plan.params['host']} no longer carries Nova metadata")
        return {
            "host": plan.params["host"],
            "uuid": plan.params["uuid"],
            "name": dom.name(),
            "active": bool(dom.isActive()),
            "persistent": bool(dom.isPersistent()),
            "xml": xml,
        }


class UndefineDomain(_DomainRepair):
    name = "undefine-domain"
    safety = Safety.UNSAFE
    writes = "libvirt: virDomainDestroy and virDomainUndefineFlags on the domain's host (disks are kept)"
    undoable = True
    verb = "destroy and undefine"

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        lv = _libvirt()
        dom = self._lookup(ctx, plan.params)
        try:
            if dom.isActive():
                dom.destroy()
            if dom.isPersistent():
                # keep NVRAM so that undo can bring the guest back as it was
                dom.undefineFlags(
                    lv.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                    | lv.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                    | lv.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM
                )
        except lv.libvirtError as e:
            raise RepairError(f"{plan.action}: {e.get_error_message()}") from None
        return f"domain {before['name']} destroyed and undefined on {before['host']}"

    def undo(self, entry: dict[str, Any], ctx: Context) -> Undone:
        lv = _libvirt()
        b = entry["before"]
        conn = ctx.libvirt(b["host"])
        try:
            dom = conn.defineXML(b["xml"])
            if b.get("active"):
                dom.create()
        except lv.libvirtError as e:
            raise RepairError(f"define {b['name']} on {b['host']}: {e.get_error_message()}") from None
        return Undone(
            f"domain {b['name']} defined again on {b['host']}" + (" and started" if b.get("active") else ""),
            [_DEFINITION] + ([_MEMORY] if b.get("active") else []),
        )


class ShutdownDomain(_DomainRepair):
    name = "shutdown-domain"
    safety = Safety.UNSAFE
    writes = "libvirt: virDomainDestroy (power off) on the domain's host; the definition is kept"
    undoable = True
    verb = "power off"

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        if not finding.evidence.get("domain", {}).get("active"):
            return "the domain is already shut off"
        return super().plan(finding, snap)

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        lv = _libvirt()
        dom = self._lookup(ctx, plan.params)
        try:
            if dom.isActive():
                dom.destroy()
        except lv.libvirtError as e:
            raise RepairError(f"{plan.action}: {e.get_error_message()}") from None
        return f"domain {before['name']} powered off on {before['host']}"

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        b = entry["before"]
        dom = self._lookup(ctx, b)
        if b.get("active") and not dom.isActive():
            dom.create()
        return Undone(f"domain {b['name']} started again on {b['host']}", [_MEMORY])

    def settled(self, plan: RepairPlan, fresh_fingerprints: set[str], fresh: Snapshot) -> bool:
        # the gentler step leaves the domain defined: it is settled once it is off
        p = plan.params
        return not any(d.active for d in fresh.of(Domain) if d.host == p["host"] and d.uuid == p["uuid"])


class UndefineStrayDomain(Repair):
    """Remove the leftover copies of a duplicated instance: the shut-off domains on hosts
    other than the one Nova records.  A running stray might be the real guest, so then a
    person decides (the runbook)."""

    name = "undefine-stray-domain"
    safety = Safety.UNSAFE
    writes = "libvirt: virDomainUndefineFlags on the hosts holding shut-off stray copies (disks are kept)"
    undoable = True

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        inst = finding.evidence["instance"]
        expected = set(finding.evidence.get("expected_hosts", ()))
        strays = [d for d in finding.evidence["domains"] if d["host"] != inst["host"] and d["host"] not in expected]
        if not strays or any(d["active"] for d in strays):
            return "a stray copy is running: which copy is real must be decided by a person"
        if not any(d["host"] == inst["host"] for d in finding.evidence["domains"]):
            return f"no copy is on {inst['host']}, where Nova records the instance"
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"undefine the shut-off copies of {inst['uuid']} on {', '.join(d['host'] for d in strays)}",
            params={"domains": [{"host": d["host"], "uuid": d["uuid"], "name": d["name"]} for d in strays]},
        )

    def ownership(self, plan: RepairPlan, snap: Snapshot) -> None:
        for p in plan.params["domains"]:
            UndefineDomain().ownership(RepairPlan(self.name, self.safety, plan.finding, plan.target, "", p), snap)

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        images = []
        for p in plan.params["domains"]:
            sub = RepairPlan(self.name, self.safety, plan.finding, plan.target, "", p)
            img = UndefineDomain().before_image(sub, ctx)
            if img["active"]:
                raise RepairError(f"the copy on {p['host']} is running now")
            images.append(img)
        return {"domains": images}

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        for p, img in zip(plan.params["domains"], before["domains"]):
            UndefineDomain().apply(
                RepairPlan(self.name, self.safety, plan.finding, plan.target, plan.action, p), ctx, img
            )
        return plan.action

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        done = [UndefineDomain().undo({"before": img}, ctx) for img in entry["before"]["domains"]]
        return Undone(
            "; ".join(d.split("; not restored: ")[0] for d in done),
            list(dict.fromkeys(n for d in done for n in d.not_restored)),
        )
