"""Delete an NSX object the Neutron plugin made for a Neutron object that is gone, through
the manager's API, conditional on the object being as the check saw it.

NSX offers no conditional DELETE (no If-Match; `_revision` is checked on PUT and PATCH
only), so the object is read just before the delete and its `_revision` compared with the
one seen: a change between that read and the delete (a window of one round trip) is not
caught.
"""

from __future__ import annotations

from typing import Any

from osfsck.clients.nsx import NsxClient, NsxError
from osfsck.model.facts.nsx import (
    LOGICAL_PORT,
    MANAGER,
    NEUTRON_TAG_SCOPES,
    POLICY,
    SEGMENT,
)
from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, NotOwned, Repair, RepairError, Undone

POLICY_PREFIX = "/policy/api/v1"
MANAGER_COLLECTIONS = {
    "LogicalSwitch": "/api/v1/logical-switches",
    "LogicalPort": "/api/v1/logical-ports",
    "LogicalRouter": "/api/v1/logical-routers",
    "NSGroup": "/api/v1/ns-groups",
    "FirewallSection": "/api/v1/firewall/sections",
}
# what NSX sets itself: left out of an object sent back by undo
SERVER_FIELDS = frozenset(
    {
        "_revision",
        "_create_time",
        "_create_user",
        "_last_modified_time",
        "_last_modified_user",
        "_protection",
        "_system_owned",
        "path",
        "parent_path",
        "relative_path",
        "marked_for_delete",
        "realization_id",
        "unique_id",
    }
)
_NOT_AS_SEEN = "is no longer in the state that was seen"


def client(ctx: Context) -> NsxClient:
    return ctx.client("nsx", lambda: NsxClient(**ctx.settings.nsx.client_kwargs()))


def object_url(o: dict) -> str:
    if o["api"] == POLICY:
        return POLICY_PREFIX + o["path"]
    return f"{MANAGER_COLLECTIONS[o['resource_type']]}/{o['id']}"


class _DeleteNsxObject(Repair):
    api: str

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        o = finding.evidence.get("nsx_object")
        if o is None:
            return f"{self.name} deletes NSX objects; this {finding.subject.kind} is not one"
        if o["api"] != self.api:
            return f"{self.name} works through the {self.api} API; this object is a {o['api']} API object"
        if o["api"] == MANAGER and o["resource_type"] not in MANAGER_COLLECTIONS:
            return f"{self.name} does not delete {o['resource_type']} objects"
        how = " with detach=true" if o["resource_type"] == LOGICAL_PORT else ""
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=(
                f"DELETE {object_url(o)}{how} ({o['resource_type']} {o['display_name']}, revision "
                f"{o['revision']}, made for Neutron {o['neutron_kind']} {o['neutron_id']})"
            ),
            params={
                k: o[k]
                for k in (
                    "api",
                    "resource_type",
                    "id",
                    "path",
                    "parent_id",
                    "display_name",
                    "neutron_kind",
                    "neutron_id",
                    "revision",
                )
            }
            | {"url": object_url(o)},
        )

    def ownership(self, plan: RepairPlan, snap: Snapshot) -> None:
        o = plan.finding.evidence["nsx_object"]
        if not o.get("neutron_kind"):
            raise NotOwned(f"{plan.params['url']} carries no tag of the Neutron plugin")
        if o.get("internal"):
            raise NotOwned(f"{plan.params['url']} is one of the plugin's own objects")
        if o.get("other_deployment"):
            raise NotOwned(f"{plan.params['url']} lacks the deployment tag of [nsx]: another cloud's")

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        obj = _read_as_seen(client(ctx), p, "nothing changed")
        if p["resource_type"] == SEGMENT:
            ports = _get(client(ctx), f"{p['url']}/ports", {"page_size": 1})
            n = ports.get("result_count", len(ports.get("results", [])))
            if n:
                raise RepairError(
                    f"segment {p['id']} still has {n} port(s): they are deleted first (findings of "
                    "their own, if Neutron has none of them); nothing changed"
                )
        return {"api": p["api"], "url": p["url"], "object": obj}

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str | tuple[str, dict[str, Any]]:
        p = plan.params
        nsx = client(ctx)
        _read_as_seen(nsx, {**p, "revision": before["object"]["_revision"]}, "nothing deleted")
        params = {"detach": "true"} if p["resource_type"] == LOGICAL_PORT else None
        try:
            nsx.delete(p["url"], params)
        except NsxError as e:
            raise RepairError(f"{e}; nothing deleted") from None
        return (
            f"deleted {p['url']} ({p['resource_type']} {p['display_name']}, revision {before['object']['_revision']})"
        )


def _get(nsx: NsxClient, url: str, params=None) -> dict:
    try:
        return nsx.get(url, params)
    except NsxError as e:
        raise RepairError(str(e)) from None


def _read_as_seen(nsx: NsxClient, p: dict, outcome: str) -> dict:
    """The object as NSX has it now; RepairError unless it is still the one seen (same
    `_revision`, still tagged for the same Neutron object)."""
    try:
        obj = nsx.get(p["url"])
    except NsxError as e:
        if e.status == 404:
            raise RepairError(f"{p['url']} {_NOT_AS_SEEN} (it is gone); {outcome}") from None
        raise RepairError(f"{e}; {outcome}") from None
    if obj.get("_revision") != p["revision"]:
        raise RepairError(
            f"{p['url']} {_NOT_AS_SEEN} (revision {obj.get('_revision')}, not {p['revision']}); {outcome}"
        )
    tagged = {(t.get("scope"), t.get("tag")) for t in obj.get("tags") or ()}
    if not any(NEUTRON_TAG_SCOPES.get(s) == p["neutron_kind"] and tag == p["neutron_id"] for s, tag in tagged):
        raise RepairError(
            f"{p['url']} {_NOT_AS_SEEN} (no longer tagged for Neutron {p['neutron_kind']} {p['neutron_id']}); {outcome}"
        )
    return obj


class DeleteNsxObject(_DeleteNsxObject):
    """DELETE of a Policy API object (segment port, segment, tier-1, group, security
    policy), as `nsxadmin ... -o nsx-clean` does for the Manager plugin.  NSX refuses to
    delete a segment with ports, a tier-1 a segment connects to and a group a security
    policy uses; such a refusal leaves everything as it was.

    Undo PATCHes the object back from its journaled JSON with the same id (the Policy API
    creates an object at the id in its path).  Restored: the body (display name, tags,
    subnets, attachment, address bindings, expressions, rules inlined in the body).  Not
    restored: `_create_time` and `_revision` (NSX starts them anew), the port's profile
    binding maps (child objects osfsck did not read), and whatever NSX realized from it
    (the VIF must be re-plugged by a hard reboot of its instance).  Undo refuses when the
    id exists again, and a port's segment must exist.
    """

    name = "delete-nsx-object"
    safety = Safety.UNSAFE
    writes = "the NSX manager, Policy API: DELETE /policy/api/v1/<path of the object> (when its _revision is as seen)"
    undoable = True
    api = POLICY

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        b = entry["before"]
        url, obj = b["url"], b["object"]
        nsx = client(ctx)
        try:
            nsx.get(url)
            raise RepairError(f"{url} exists again (made again since the repair); not overwritten")
        except NsxError as e:
            if e.status != 404:
                raise RepairError(str(e)) from None
        body = {k: v for k, v in obj.items() if k not in SERVER_FIELDS}
        try:
            made = nsx.patch(url, body)
        except NsxError as e:
            raise RepairError(f"{e}; not restored") from None
        revision = f" (revision {made.get('_revision')})" if isinstance(made, dict) else ""
        return Undone(
            f"restored {url} from its journaled JSON{revision}",
            [
                "what NSX sets itself: the object's _create_time, _create_user, _last_modified_time and "
                "_revision are new (the API takes none of them), so the checks give it their min_age before "
                "judging it again",
                "any profile binding maps",
            ],
        )


class DeleteNsxManagerObject(_DeleteNsxObject):
    """DELETE of a Manager API object (logical port with `detach=true`, as nsxlib deletes
    ports; logical switch, logical router, NSGroup, firewall section), as `nsxadmin -r
    orphaned-networks|orphaned-routers|orphaned-firewall-sections -o nsx-clean` does.  A
    logical switch is deleted without `cascade`: NSX refuses while it has ports, which go
    first as findings of their own.

    Not undoable: the Manager API gives an object created again (POST) a new id, which
    neither the plugin's mapping tables (`neutron_nsx_*_mappings`) nor other objects
    (firewall sections applied to an NSGroup, ports on a switch) refer to.  The journal
    keeps the object's JSON for a person to re-create it by hand.
    """

    name = "delete-nsx-manager-object"
    safety = Safety.UNSAFE
    writes = (
        "the NSX manager, Manager API: DELETE /api/v1/<collection>/<id> (logical ports with ?detach=true), "
        "when its _revision is as seen"
    )
    undoable = False
    api = MANAGER

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        raise RepairError(
            f"{self.name} cannot be undone: the Manager API gives a re-created object a new id; the "
            "journal keeps its JSON for a person"
        )
