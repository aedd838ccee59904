"""Runbooks for volume findings a person must settle, with the commands that do it.

Commands are the upstream ones: `cinder reset-state` and `force-delete` (admin API actions
os-reset_status and os-force_delete), `nova-manage volume_attachment` (Nova 24.0.0, Xena,
and later), `iscsiadm` as open-iscsi ships it, `virsh`.
"""

from __future__ import annotations

from osfsck.model.finding import Finding
from osfsck.repairs.base import Runbook
from osfsck.repairs.runbooks import steps

# `cinder reset-state` options for a volume an instance uses, and for one nothing holds
_HELD = "--state in-use --attach-status attached"
_FREE = "--state available --attach-status detached"


def _mapped(f: Finding) -> tuple:
    """(instance uuid, its host, volume id, device) of a finding about one mapped volume."""
    inst, b = f.evidence.get("instance", {}), f.evidence.get("block_device_mapping", {})
    return inst.get("uuid"), inst.get("host"), b.get("volume_id"), b.get("device_name")


def _refresh(uuid: str, volume_id: str, host: str) -> str:
    """Nova's own way to rebuild an attachment from the host that runs the instance."""
    return (
        f"Refresh the attachment from {host} (Nova 24.0.0, Xena, or later): `openstack server stop {uuid}`; on "
        f"{host} `nova-manage volume_attachment get_connector --json > connector.json`; then "
        f"`nova-manage volume_attachment refresh {uuid} {volume_id} connector.json` (it disconnects the volume "
        "on the host, replaces Cinder's attachment with one made from that connector and stores the new "
        f"connection_info in Nova); `openstack server start {uuid}`.  Before Xena, `openstack server shelve` "
        "and `unshelve` make the attachments again."
    )


class StuckVolumeRunbook(Runbook):
    name = "stuck-volume-runbook"

    def text(self, f: Finding) -> str:
        vol, places = f.evidence.get("volume", {}), f.evidence.get("places", {})
        vid, status = vol.get("id", f.subject.id), vol.get("status")
        service = (vol.get("host") or "?").split("#", 1)[0]
        alive = f.evidence.get("volume_service_alive")
        first = (
            ""
            if alive
            else f"Its volume service {service} is {'down' if alive is False else 'not listed'} "
            "(`openstack volume service list --service cinder-volume`): start it first; at start "
            "cinder-volume cleans up what it left half-done, then look again."
        )
        look = (
            f"`cinder attachment-list --volume-id {vid}` (Cinder) and `openstack server volume list <server>` "
            f"(Nova) show what holds it; osfsck saw {len(places.get('attachments', []))} attachment(s), "
            f"{len(places.get('mappings', []))} mapping(s), domains on {', '.join(places.get('domain_hosts', [])) or 'no host'}."
        )
        if status in ("deleting", "error_deleting"):
            fix = (
                f"Check the backend object (`rbd info <pool>/volume-{vid}`, `lvs | grep {vid}`, or the array's "
                f"console).  Then `cinder force-delete {vid}` deletes it whatever the status (it must not be "
                f"attached); or `cinder reset-state --state error {vid}` and `cinder delete {vid}` to retry."
            )
        elif status in ("creating", "downloading"):
            fix = (
                f"`cinder reset-state --state error {vid}`, as cinder-volume does at start, then "
                f"`cinder delete {vid}` and create it again."
            )
        elif status in ("backing-up", "restoring-backup"):
            fix = (
                f"`cinder backup-list --volume-id {vid}`: reset the backup (`cinder backup-reset-state --state "
                f"error <backup>`), then the volume: `cinder reset-state {_HELD} {vid}` if an instance uses it, "
                f"else `cinder reset-state {_FREE} {vid}`."
            )
        else:
            fix = (
                f"If an instance uses it: `cinder reset-state {_HELD} {vid}`; if nothing does: "
                f"`cinder reset-state {_FREE} {vid}` (this also detaches every attachment Cinder still has "
                f"for it).  The same with OpenStackClient: `openstack volume set --state available --detached {vid}`."
                + (
                    "  For `extending`, compare the size on the backend with Cinder's first."
                    if status == "extending"
                    else ""
                )
            )
        return steps(first, look, fix)


class DanglingRootVolumeRunbook(Runbook):
    name = "dangling-root-volume-runbook"

    def text(self, f: Finding) -> str:
        b, inst, vol = (
            f.evidence.get("block_device_mapping", {}),
            f.evidence.get("instance", {}),
            f.evidence.get("volume"),
        )
        uuid, vid = b.get("instance_uuid") or inst.get("uuid"), b.get("volume_id")
        live = vol if vol is not None and not vol.get("deleted") else None
        head = (
            f"Instance {uuid} boots from volume {vid}, which Cinder "
            + (f"has ({live['status']}) but does not attach to it" if live is not None else "no longer has")
            + f": `openstack volume show {vid}`, `openstack server show {uuid}`."
        )
        if live is not None:
            return steps(head, _refresh(uuid, vid, inst.get("host") or "its host"))
        return steps(
            head,
            f"Restore the data into a new volume: `cinder backup-list --volume-id {vid}` then "
            "`openstack volume backup restore <backup> <new-volume>`, or `cinder snapshot-list --volume-id "
            f"{vid}` then `openstack volume create --snapshot <snapshot> --size <GB> <new-volume>`.",
            "Boot a replacement from it (`openstack server create --volume <new-volume> ...`), move the ports "
            f"and floating IPs over, then `openstack server delete {uuid}`.",
            f"With nothing to keep: `openstack server delete {uuid}`.  `openstack server rebuild` cannot help: "
            "for a volume-backed server it re-images the root volume itself (compute API 2.93), and it is gone.",
        )


class VolumeDomainRunbook(Runbook):
    name = "volume-domain-runbook"

    def text(self, f: Finding) -> str:
        uuid, host, vid, dev = _mapped(f)
        return steps(
            f"On {host}: `virsh domblklist {uuid} --details` lacks volume {vid}, which `openstack server volume "
            f"list {uuid}` shows as {dev}.",
            f"`openstack server reboot --hard {uuid}`: Nova's libvirt driver writes the domain again from all of "
            "the instance's block device mappings and connects each volume (the guest restarts).",
            f"Without a restart: `openstack server remove volume {uuid} {vid}`, then `openstack server add volume "
            + (f"--device {dev} " if dev else "")
            + f"{uuid} {vid}` (the guest sees the disk come back).",
        )


class UnexpectedVolumeRunbook(Runbook):
    name = "unexpected-volume-runbook"

    def text(self, f: Finding) -> str:
        disk, vol = f.evidence.get("disk", {}), f.evidence.get("volume")
        uuid, serial, host, dev = disk.get("domain_uuid"), disk.get("serial"), disk.get("host"), disk.get("target_dev")
        known = f"Cinder shows it {vol['status']}" if vol else "Cinder does not know it"
        return steps(
            f"`openstack volume show {serial}` ({known}) and "
            f"`cinder attachment-list --volume-id {serial}`: find whose volume it is before touching it.",
            f"On {host}: `virsh domblklist {uuid} --details` shows {dev} from {disk.get('source')}.  Ask the "
            "tenant to stop using it in the guest (unmount it) first.",
            f"`virsh detach-disk {uuid} {dev} --live --config` on {host} removes it from the running guest and "
            "its definition.",
            f"If this instance should have the volume: once detached, `openstack server add volume {uuid} {serial}` "
            "attaches it through Nova and Cinder.",
        )


class MissingIscsiSessionRunbook(Runbook):
    name = "missing-iscsi-session-runbook"

    def text(self, f: Finding) -> str:
        uuid, host, vid, _ = _mapped(f)
        iqn, portal = (f.evidence.get("target_iqns") or ["<iqn>"])[0], f.evidence.get("portal") or "<portal>"
        if f.evidence.get("lun_missing"):
            # a shared target: the session serves other volumes, only this LUN's disk is gone
            luns = " or ".join(str(n) for n in f.evidence.get("luns") or []) or "<lun>"
            sids = ", ".join(str(n) for n in f.evidence.get("sessions") or []) or "<sid>"
            return steps(
                f"Do not log {host} out of {iqn}: other volumes use session {sids}.",
                f"On {host}: `iscsiadm -m session -r <sid> --rescan` for each of session {sids} scans the target's "
                f"LUNs in again (as os-brick does at connect); `iscsiadm -m session -P 3` then lists LUN {luns}.",
                f"If it does not, the array no longer maps LUN {luns} to this host: `nova-manage volume_attachment "
                f"show {uuid} {vid} --connection_info` shows what Cinder gave, and `openstack server reboot --hard "
                f"{uuid}` makes Nova connect every volume again from Cinder's connection info.",
            )
        return steps(
            f"On {host}: `iscsiadm -m node -T {iqn} -p {portal}` shows the node record os-brick made (with its "
            f"CHAP settings); without one, `iscsiadm -m discovery -t sendtargets -p {portal}` lists the targets.",
            f"`iscsiadm -m node -T {iqn} -p {portal} --login` logs in again; `nova-manage volume_attachment show "
            f"{uuid} {vid} --connection_info` shows the target, LUN and credentials Nova uses.",
            f"Or `openstack server reboot --hard {uuid}`: Nova's os-brick connects every volume again from "
            "Cinder's connection info (the guest restarts).",
            "If the login fails, the target is the problem: `openstack volume service list` and the backend.",
        )


class AttachmentHostMismatchRunbook(Runbook):
    name = "attachment-host-mismatch-runbook"

    def text(self, f: Finding) -> str:
        att, inst = f.evidence.get("attachment", {}), f.evidence.get("instance", {})
        uuid, vid, host, other = (
            att.get("instance_uuid"),
            att.get("volume_id"),
            inst.get("host"),
            att.get("attached_host"),
        )
        sessions = ", ".join(f.evidence.get("session_hosts") or []) or "no host osfsck read"
        return steps(
            f"Confirm where the guest runs: `openstack server show {uuid}` (Nova: {host}), `virsh domstate {uuid}` "
            f"on {host} and {other}, no move in flight (`openstack server migration list --server {uuid}`); "
            f"sessions to the volume's target are on {sessions}.",
            f"If it runs on {host} (Nova is right): " + _refresh(uuid, vid, host),
            f"Then {other} should hold no session to the target any more (leaked-iscsi-session, VL203).",
            f"If it really runs on {other}, Nova's record is what is wrong: settle that first (domain-on-wrong-host, HV103).",
        )


class StaleIscsiLunRunbook(Runbook):
    """The runbook for a stale LUN under an iSCSI session that attached volumes still need.

    No automatic repair: the only host-side fix is deleting the SCSI device (what os-brick's
    disconnect does, linuxscsi `remove_scsi_device`: flush, then `echo 1 > .../delete`), and
    that takes the disk from under whatever still holds it; logging the session out would cut
    every volume of the array on the host.  A person checks the holders first.
    """

    name = "stale-iscsi-lun-runbook"

    def text(self, f: Finding) -> str:
        e = f.evidence
        host, iqn, lun = e.get("host", "<host>"), e.get("target_iqn", "<iqn>"), e.get("lun")
        paths = e.get("paths") or []
        devs = [p["device"] for p in paths] or ["sdX"]
        named = e.get("last_named_by") or []
        was = (
            "; ".join(
                f"volume {a['volume_id']} (attachment {a['attachment_id']}{', deleted' if a.get('deleted') else ''})"
                for a in named
            )
            or "no attachment Cinder keeps"
        )
        needed = ", ".join(str(n) for n in e.get("needed_luns") or [])
        sids = ", ".join(str(p["sid"]) for p in paths) or "<sid>"
        each = " ".join(f"/dev/{d}" for d in devs)
        lines = [
            f"Do NOT log {host} out of {iqn}: the attached volumes on LUN {needed} use its session(s) {sids}.",
            f"On {host}, confirm nothing holds {each}: `lsblk {each}` (no children, no mountpoint), "
            f"`ls /sys/block/<dev>/holders` (empty), `multipath -ll` (if a map is made only of these paths, "
            "check no guest uses it with `virsh domblklist` and remove it with `multipath -f <map>`), "
            f"`fuser -v {each}`.",
            "Remove each device as os-brick does: "
            + "; ".join(f"`blockdev --flushbufs /dev/{d}` and `echo 1 > /sys/block/{d}/device/delete`" for d in devs)
            + f"; `iscsiadm -m session -P 3` no longer lists LUN {lun}.",
            f"LUN {lun} was last given to: {was}.  Cinder's terminate_connection for it never ran, so the array "
            f"may still map LUN {lun} to this host's initiator: remove that mapping on the array, or the next "
            "rescan brings the devices back.",
        ]
        return steps(*lines)
