"""The runbook for a stale LUN under an iSCSI session that attached volumes still need.

No automatic repair: the only host-side fix is deleting the SCSI device (what os-brick's
disconnect does, linuxscsi `remove_scsi_device`: flush, then `echo 1 > .../delete`), and
that takes the disk from under whatever still holds it; logging the session out would cut
every volume of the array on the host.  A person checks the holders first.
"""

from __future__ import annotations

from osfsck.model.finding import Finding
from osfsck.repairs.base import Runbook


class StaleIscsiLunRunbook(Runbook):
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
        steps = [
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
        return "\n".join(f"{n}. {line}" for n, line in enumerate(steps, 1))
