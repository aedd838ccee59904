from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, age_seconds
from osfsck.checks.evidence import volume_evidence
from osfsck.checks.volumes.common import VolumeIndex, iscsi_iqns, volume_index, volume_ref
from osfsck.model.facts.cinder import CINDER_SCOPE, CinderAttachment, CinderService, CinderVolume
from osfsck.model.facts.hypervisor import DomainVolume, IscsiSession
from osfsck.model.facts.nova import (
    ArchivedInstance,
    BlockDeviceMapping,
    Cell,
    Instance,
    InstanceMapping,
    Migration,
)
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot

# How long each transitional status may last before it is stuck (seconds).  An attach or a
# detach takes seconds; creating from a large image or uploading one takes hours.
THRESHOLDS = {
    "attaching": 1800,
    "detaching": 1800,
    "reserved": 3600,
    "creating": 3600,
    "deleting": 3600,
    "error_deleting": 3600,
    "extending": 3600,
    "maintenance": 6 * 3600,
    "downloading": 6 * 3600,
    "uploading": 6 * 3600,
    "backing-up": 12 * 3600,
    "restoring-backup": 12 * 3600,
}
# What cinder-volume itself does to these at start (VolumeManager.init_host): a volume
# left creating or downloading becomes `error`.
RESET_TO_ERROR = frozenset({"creating", "downloading"})
# Statuses whose end state follows from the attachments alone.
FOLLOW_ATTACHMENTS = frozenset({"attaching", "detaching", "reserved", "maintenance", "uploading", "backing-up"})
# migration_status values of a migration that has ended (success, error) or not begun
MIGRATION_ENDED = frozenset({"success", "error", "deleting"})


class StuckVolumeStateEvidence(TypedDict):
    """What every VL103 finding's evidence holds."""

    places: dict[str, Any]
    places_unread: list[str]
    target_status: str | None
    volume: dict[str, Any]
    volume_service_alive: bool


class StuckVolumeState(Check):
    """A volume has been in a transitional status far longer than that operation takes.

    Why it matters:
        A volume stuck in attaching, detaching or reserved cannot be attached, detached or
        deleted: Cinder refuses every action until an operator resets it.  These are what a
        lost RPC message or a cinder-volume restart mid-operation leave behind; a volume
        stuck deleting or error_deleting still holds backend capacity and quota.

    How it is detected:
        Every live volume in attaching, detaching, reserved, creating, deleting,
        error_deleting, extending, maintenance, downloading, uploading, backing-up or
        restoring-backup whose last update is older than the status's threshold
        (`<status>_after`, e.g. attaching_after = "30m"; creating 1 h, uploading 6 h,
        backing-up 12 h).  The finding says whether the volume's cinder-volume service is
        up (reported within `service_down_after`, Cinder's service_down_time of 60 s) and
        what the other four places show: live attachments, live mappings, domain disks with
        the volume's serial, and hosts holding a session to its target.

    Known false positives:
        A long operation on a very large volume (creating from a big image, uploading to
        Glance) may outlast its threshold: raise that status's threshold.  A volume whose
        migration or retype is in progress (migration_status set and not ended) is skipped.
        Cinder leaves the volumes of a shelved-offloaded instance `reserved` for as long as
        it stays offloaded: those are skipped, and a `reserved` volume is inconclusive
        while a cell's instances or mappings, or the API database's cell list, were not
        read whole.

    Repair:
        `reset-volume-state` (unsafe): when the attachments, mappings, domains and sessions
        agree, the volume's status is set to what they show (in-use or available), and a
        volume left creating or downloading to error, as cinder-volume does at start;
        conditional on the status and update time seen; never when one of those places was
        not read whole (the finding then says which).  Otherwise, and for deleting,
        error_deleting, extending and restoring-backup, a runbook.
    """

    code = "VL103"
    evidence_shape = StuckVolumeStateEvidence
    name = "stuck-volume-state"
    severity = Severity.MEDIUM
    needs = (
        CinderVolume,
        CinderAttachment,
        CinderService,
        BlockDeviceMapping,
        Instance,
        ArchivedInstance,
        InstanceMapping,
        Cell,
        Migration,
        DomainVolume,
        IscsiSession,
    )
    relies_on = (CinderVolume, BlockDeviceMapping, Instance, Cell)
    repairs = ("reset-volume-state", "stuck-volume-runbook")
    defaults = {**{f"{s}_after": t for s, t in THRESHOLDS.items()}, "service_down_after": 60}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not snap.is_complete(CinderVolume, CINDER_SCOPE):
            # not an absence claim, but a partial read may have cut the stuck ones out
            out.inconclusive(CINDER_SCOPE, snap.why_incomplete(CinderVolume, CINDER_SCOPE))
            return
        vx = volume_index(snap)
        for v in vx.volumes.values():
            threshold = self.params.get(f"{v.status}_after")
            if v.deleted or v.status is None or threshold is None:  # no status has no threshold
                continue
            out.examine()
            age = age_seconds(snap, v.updated_at)
            if age is None or age < float(threshold):
                continue
            if v.migration_status and v.migration_status not in MIGRATION_ENDED:
                continue
            places = _places(vx, v)
            if v.status == "reserved" and places["shelved_offloaded"]:
                continue
            unread = vx.places_gaps()
            if v.status == "reserved" and vx.nova_gaps():
                # the exemption is decided from mappings and instances: a shelved-offloaded
                # instance in a cell we could not read keeps its volume reserved
                vx.undecided(out, vx.nova_gaps(), volume_ref(v.id))
                continue
            alive = vx.volume_service_alive(v, float(self.params["service_down_after"]))
            service = {True: "is up", False: "is down", None: "is not listed"}[alive]
            # what the other places imply only when every place was read: a mapping, disk
            # or session in a scope we could not read would make "available" a lie
            target = None if unread else _target_status(v.status, places)
            out.found(
                volume_ref(v.id),
                f"Volume {v.id} has been {v.status} for {_span(age)} (threshold {_span(float(threshold))}); "
                f"its volume service {(v.host or '?').split('#', 1)[0]} {service}. "
                + (
                    f"The other places show it {target}."
                    if target
                    else f"Not every other place was read ({', '.join(sorted({sc for sc, _ in unread}))})."
                    if unread
                    else "The other places do not agree on its state."
                ),
                evidence={
                    "volume": volume_evidence(v),
                    "volume_service_alive": alive,
                    "places": {k: v2 for k, v2 in places.items() if k != "shelved_offloaded"},
                    "places_unread": sorted({scope for scope, _ in unread}),
                    "target_status": target,
                },
                changed_at=v.updated_at,
                severity=Severity.HIGH if v.status in ("attaching", "detaching", "reserved") else None,
            )


def _places(vx: VolumeIndex, v: CinderVolume) -> dict[str, Any]:
    """What the four other places say of volume `v`."""
    atts = vx.attachments_of.get(v.id, [])
    bdms = [b for b in vx.bdms_of_volume.get(v.id, ()) if vx.instances.primary(b.instance_uuid)]
    rows = [vx.instances.live_row(b.instance_uuid) for b in bdms]
    disks = sorted(vx.hosts_of_serial.get(v.id, ()))
    iqns = {i for a in atts for i in iscsi_iqns(a)} | {i for b in bdms for i in iscsi_iqns(b)}
    return {
        "attachments": [
            {
                "id": a.id,
                "instance_uuid": a.instance_uuid,
                "attach_status": a.attach_status,
                "attached_host": a.attached_host,
            }
            for a in atts
        ],
        "mappings": [
            {"instance_uuid": b.instance_uuid, "cell": b.cell, "attachment_id": b.attachment_id} for b in bdms
        ],
        "domain_hosts": disks,
        "session_hosts": vx.hosts_with_session(iqns) if iqns else [],
        "shelved_offloaded": bool(rows) and all(r.vm_state == "shelved_offloaded" for r in rows),
    }


def _target_status(status: str, places: dict[str, Any]) -> str | None:
    """The status the other places imply, or None when they disagree or cannot tell."""
    if status in RESET_TO_ERROR:
        return "error" if not places["attachments"] and not places["mappings"] else None
    if status not in FOLLOW_ATTACHMENTS:
        return None
    attached = [a for a in places["attachments"] if a["attach_status"] == "attached"]
    if (
        not places["attachments"]
        and not places["mappings"]
        and not places["domain_hosts"]
        and not places["session_hosts"]
    ):
        return "available"
    mapped = {m["instance_uuid"] for m in places["mappings"]}
    if (
        attached
        and len(attached) == len(places["attachments"])
        and mapped == {a["instance_uuid"] for a in attached}
        and places["domain_hosts"]
    ):
        return "in-use"
    return None


def _span(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 60:.0f} min"
