"""Delete an orphan NB row (OV101) in one conditional NB transaction; undo recreates it."""

from __future__ import annotations

from typing import Any

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, NotOwned, Repair, RepairError

# the external_ids key that names the Neutron object of a row without a telling name
_ID_KEY = {"ACL": "neutron:security_group_rule_id", "NAT": "neutron:fip_id"}


def _writer(ctx: Context):
    from osfsck.clients.ovn import NbWriter

    return ctx.client("ovn-nb", lambda: NbWriter(ctx.settings.ovn))


def external_ids(image: dict) -> dict:
    """A row image's external_ids (OVSDB wire notation ["map", [[k, v], ...]]) as a dict."""
    wire = image["columns"].get("external_ids", ["map", []])
    return dict(wire[1]) if isinstance(wire, list) and wire and wire[0] == "map" else {}


def marked(ext: dict) -> bool:
    return any(k.startswith("neutron:") for k in ext) or "subnet_id" in ext


class DeleteOvnRow(Repair):
    """What Neutron's own delete would have done to the row, had it not failed: ovsdbapp's
    ls_del / lr_del / pg_del / dhcp_options_del for a root row, lsp_del / lrp_del (the row
    removed from its switch's or router's `ports`) and, for an ACL or NAT row, its removal
    from its port group's `acls` or router's `nat`, which OVSDB follows by garbage
    collection.  A switch, router or port group goes with the rows it holds (its ports, NAT
    rows, ACLs).

    One NB transaction does it, and only if the row is still the one seen: the same _uuid,
    name and external_ids, holding the same rows; the IDL `verify`s those columns, so the
    server refuses the transaction if another client changed them in between.  A row
    holding a row that is not Neutron's (made by hand) or that Neutron still uses is not
    touched.

    The before-image is every column of the row and of the rows it holds.  Undo inserts
    them again with the same name, external_ids and other columns, hung back on the same
    switch, router or port group, with their own _uuids again (a uuid taken since gets a
    new one).  References to rows deleted since (a port's DHCP_Options) are left out.
    """

    name = "delete-ovn-row"
    safety = Safety.UNSAFE
    writes = (
        "OVN northbound database, one transaction: delete one Logical_Switch, Logical_Switch_Port, "
        "Logical_Router, Logical_Router_Port, Port_Group, ACL, NAT or DHCP_Options row (and the rows it "
        "holds), verified unchanged (name, external_ids, children)"
    )
    undoable = True

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        row = finding.evidence.get("row")
        if not finding.subject.kind.startswith("ovn-") or not row:
            return f"{self.name} deletes OVN NB rows, not a {finding.subject.kind}"
        kids = finding.evidence.get("children", [])
        held = f" and the {len(kids)} row(s) it holds" if kids else ""
        label = f"{row['table']} {row['uuid']}" + (f" ({row['name']})" if row["name"] else "")
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"delete {label}{held} from the OVN northbound database, if it is still the row seen",
            params={
                "table": row["table"],
                "uuid": row["uuid"],
                "name": row["name"],
                "neutron_kind": row["neutron_kind"],
                "neutron_id": row["neutron_id"],
                "children": sorted(c["uuid"] for c in kids),
            },
        )

    def ownership(self, plan: RepairPlan, snap: Snapshot) -> None:
        ev = plan.finding.evidence
        if not ev["row"].get("marked"):
            raise NotOwned(f"{plan.params['table']} {plan.params['uuid']} carries no neutron:* external_ids")
        if ev.get("children_in_use"):
            raise NotOwned(
                f"it holds row(s) Neutron still uses or that are not Neutron's: {', '.join(ev['children_in_use'])}"
            )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        image = _writer(ctx).image(p["table"], p["uuid"])
        if image is None:
            raise RepairError(f"{p['table']} {p['uuid']} no longer exists; nothing changed")
        ext = external_ids(image)
        if image["columns"].get("name", "") != p["name"] or not marked(ext):
            raise RepairError(
                f"{p['table']} {p['uuid']} is no longer the row seen (name or Neutron's "
                "external_ids changed); nothing changed"
            )
        key = _ID_KEY.get(p["table"])
        if key and ext.get(key) != p["neutron_id"]:
            raise RepairError(
                f"{p['table']} {p['uuid']} now names {ext.get(key)} in {key}, not {p['neutron_id']}; nothing changed"
            )
        unknown = [
            c["uuid"]
            for c in image.get("children", ())
            if c["uuid"] not in p["children"] and not marked(external_ids(c))
        ]
        if unknown:
            raise NotOwned(f"{p['table']} {p['uuid']} now holds row(s) not Neutron's: {', '.join(unknown)}")
        return image

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        from osfsck.clients.ovn import OvnNbError

        try:
            _writer(ctx).delete_if_unchanged(before)
        except OvnNbError as e:
            raise RepairError(str(e)) from None
        held = len(before.get("children", ()))
        return (
            f"deleted {before['table']} {before['uuid']}"
            + (f" and the {held} row(s) it held" if held else "")
            + " from the OVN northbound database"
        )

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        from osfsck.clients.ovn import OvnNbError

        b = entry["before"]
        try:
            new = _writer(ctx).recreate(b)
        except OvnNbError as e:
            raise RepairError(f"could not recreate {b['table']} {b['uuid']}: {e}") from None
        held = len(b.get("children", ()))
        same = new == b["uuid"]
        return (
            f"recreated {b['table']} {b['columns'].get('name') or ''} as {new}"
            + ("" if same else f" (its _uuid {b['uuid']} was taken)")
            + (f" with the {held} row(s) it held" if held else "")
        )
