"""Log a leaked iSCSI session out on its hypervisor, through the host agent."""

from __future__ import annotations

from typing import Any

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, NotOwned, Repair, RepairError

NO_RECORD = 21  # iscsiadm's ISCSI_ERR_NO_OBJS_FOUND: "No records found"


class LogoutIscsiSession(Repair):
    """What os-brick's disconnect does for a volume the host no longer needs:
    `iscsiadm -m node -T <iqn> -p <portal> --logout`, then `-o delete`, so the node record
    does not log the session in again at the next boot.  Just before, the agent checks on
    the host itself that none of the session's disks is held (multipath, LVM), mounted or
    open (qemu), and refuses otherwise.

    Undo creates the record again (`-o new`, with the node.startup it had) and logs in.  A
    target that requires CHAP refuses that login: osfsck never keeps the secret (iscsiadm
    prints it masked, and secrets stay out of the journal); a hard reboot of an instance
    that needs the volume reconnects it with Cinder's connection info.
    """

    name = "logout-iscsi-session"
    safety = Safety.UNSAFE
    writes = (
        "the hypervisor's open-iscsi state, through the host agent: iscsiadm -m node -T <iqn> -p <portal> "
        "--logout, then -o delete (its node record)"
    )
    undoable = True

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        if finding.subject.kind != "iscsi-session":
            return f"{self.name} logs out iSCSI sessions, not a {finding.subject.kind}"
        s = finding.evidence["session"]
        disks = ", ".join(f"/dev/{d}" for d in s["devices"]) or "no disk"
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=(
                f"log {s['host']} out of {s['target_iqn']} at {s['portal']} (session {s['sid']}, {disks}) "
                "and delete its node record"
            ),
            params={
                "host": s["host"],
                "target_iqn": s["target_iqn"],
                "portal": s["portal"],
                "sid": s["sid"],
                "devices": list(s["devices"]),
            },
        )

    def ownership(self, plan: RepairPlan, snap: Snapshot) -> None:
        used = plan.finding.evidence.get("devices_in_use") or []
        if used:
            raise NotOwned(f"a domain on {plan.params['host']} uses {', '.join(used)} of this session")

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        node = _agent(ctx, p["host"], "iscsi_node", target_iqn=p["target_iqn"], portal=p["portal"])["node"]
        if node["rc"] not in (0, NO_RECORD):
            raise RepairError(
                f"iscsiadm -m node -T {p['target_iqn']} -p {p['portal']} on {p['host']} exited with "
                f"{node['rc']}: {node['err'].strip()}"
            )
        record = parse_record(node["out"]) if node["rc"] == 0 else None
        return {
            "host": p["host"],
            "target_iqn": p["target_iqn"],
            "portal": p["portal"],
            "sid": p["sid"],
            "node_record": record,
        }

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str | tuple[str, dict[str, Any]]:
        p = plan.params
        r = _agent(
            ctx,
            p["host"],
            "iscsi_logout",
            target_iqn=p["target_iqn"],
            portal=p["portal"],
            sid=p["sid"],
            devices=p["devices"],
        )
        record = (
            "its node record deleted"
            if r["record_deleted"]
            else f"its node record NOT deleted ({r['delete_error']})"
            if r["delete_error"]
            else "it had no node record"
        )
        return (
            f"{p['host']} logged out of {p['target_iqn']} at {p['portal']}; {record}",
            {"record_deleted": r["record_deleted"]},
        )

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        b, after = entry["before"], entry.get("after") or {}
        record = b.get("node_record")
        # a login needs a record: make it when apply deleted it, or when there was none
        create = bool(after.get("record_deleted")) or record is None
        settings = {k: record[k] for k in ("node.startup",) if create and record and record.get(k)}
        try:
            _agent(
                ctx,
                b["host"],
                "iscsi_login",
                target_iqn=b["target_iqn"],
                portal=b["portal"],
                create_record=create,
                settings=settings,
            )
        except RepairError as e:
            if (record or {}).get("node.session.auth.authmethod") == "CHAP":
                raise RepairError(
                    f"{e} (the target uses CHAP, whose secret osfsck does not keep: a hard reboot "
                    "of the instance that needs the volume reconnects it)"
                ) from None
            raise
        made = " with a new node record" + ("" if record else " (it had none)") if create else ""
        return f"{b['host']} logged in to {b['target_iqn']} at {b['portal']} again{made}"


def parse_record(text: str) -> dict:
    """`iscsiadm -m node -T IQN -p PORTAL`'s "key = value" lines; the password keys are
    dropped even though iscsiadm masks them (they must never reach the journal)."""
    record = {}
    for line in text.splitlines():
        key, sep, value = line.partition(" = ")
        if sep and not key.startswith("#") and "password" not in key:
            record[key.strip()] = value.strip()
    return record


def _agent(ctx: Context, host: str, op: str, **args):
    from osfsck.clients.hostagent import HostError

    iscsiadm = ctx.target(host).iscsiadm
    try:
        return ctx.host_channel(host).call(op, **args, **({"iscsiadm": iscsiadm} if iscsiadm else {}))
    except HostError as e:
        raise RepairError(str(e)) from None
