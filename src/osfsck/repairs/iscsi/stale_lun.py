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
        s = f.evidence.get("session", {})
        host, dev, lun = s.get("host", "<host>"), f.evidence.get("device", "sdX"), f.evidence.get("lun")
        iqn, sid = s.get("target_iqn", "<iqn>"), s.get("sid", "<sid>")
        named = f.evidence.get("last_named_by") or []
        was = "; ".join(f"volume {a['volume_id']} (attachment {a['attachment_id']}"
                        f"{', deleted' if a.get('deleted') else ''})" for a in named) or "no attachment Cinder keeps"
        needed = ", ".join(str(n) for n in f.evidence.get("needed_luns") or [])
        steps = [
            f"Do NOT log {host} out of {iqn}: the attached volumes on LUN {needed} use session {sid}.",
            f"On {host}, confirm nothing holds /dev/{dev}: `lsblk /dev/{dev}` (no children, no mountpoint), "
            f"`ls /sys/block/{dev}/holders` (empty), `multipath -ll` (no map with {dev}; if a map has only stale "
            "paths, `multipath -f <map>` first), `virsh domblklist <domain>` for the domains on the host, "
            f"`fuser -v /dev/{dev}`.",
            f"Remove the device as os-brick does: `blockdev --flushbufs /dev/{dev}` then "
            f"`echo 1 > /sys/block/{dev}/device/delete`; `iscsiadm -m session -r {sid} -P 3` no longer lists "
            f"LUN {lun}.",
            f"LUN {lun} was last given to: {was}.  Cinder's terminate_connection for it never ran, so the array "
            f"may still map LUN {lun} to this host's initiator: remove that mapping on the array, or the next "
            "rescan brings the device back.",
        ]
        return "\n".join(f"{n}. {line}" for n, line in enumerate(steps, 1))
