"""`iscsiadm` output -> facts.  Pure: the host agent only runs the commands and returns
their output, so the parsing is done (and tested) here, once, for every host.

`iscsiadm -m session -P 3` prints a tree indented with tabs in newer open-iscsi builds
and with spaces in some older ones, so lines are matched stripped, by their keys.  A
target with several portals repeats the "Current Portal" block under one "Target:".
"""

from __future__ import annotations

import re

from osfsck.model.facts.hypervisor import IscsiNode, IscsiSession

# exit status 21 (ISCSI_ERR_NO_OBJS_FOUND): "No active sessions." / "No records found"
NO_OBJECTS = 21

_LUN = re.compile(r"^scsi\d+\s+Channel\s+\d+\s+Id\s+\d+\s+Lun:\s*(\d+)")
_DISK = re.compile(r"^Attached scsi disk\s+(\S+)")


class IscsiOutputError(ValueError):
    """Output that does not have iscsiadm's layout; says which line."""


def _portal(text: str, line_no: int) -> tuple[str, int]:
    """"192.0.2.10:3260,1" -> ("192.0.2.10:3260", 1)."""
    portal, sep, tpgt = text.strip().rpartition(",")
    if not sep or not tpgt.strip().lstrip("-").isdigit():
        raise IscsiOutputError(f"line {line_no}: portal {text.strip()!r} is not <address>:<port>,<tpgt>")
    return portal, int(tpgt)


def _iqn(text: str) -> str:
    """"iqn... (non-flash)" -> "iqn..." (the node type is absent in older builds)."""
    return text.strip().split()[0] if text.strip() else ""


def parse_sessions(host: str, text: str) -> list[IscsiSession]:
    sessions: list[IscsiSession] = []
    target = None
    current: dict | None = None

    def close() -> None:
        if current is None:
            return
        if current["sid"] is None:
            raise IscsiOutputError(f"session of {current['target_iqn']} at {current['portal']} has no SID")
        sessions.append(IscsiSession(
            host, current["sid"], current["target_iqn"], current["portal"], current["tpgt"],
            current["iface"], current["session_state"], current["connection_state"],
            tuple(lun for lun, _ in current["disks"]), tuple(dev for _, dev in current["disks"]),
        ))

    pending_lun = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        key, sep, value = line.partition(":")
        value = value.strip()
        if line.startswith("Target:"):
            close()
            current, target = None, _iqn(value)
        elif line.startswith("Current Portal:"):
            if target is None:
                raise IscsiOutputError(f"line {n}: a portal before any Target: line")
            close()
            portal, tpgt = _portal(value, n)
            current = {"target_iqn": target, "portal": portal, "tpgt": tpgt, "sid": None, "iface": None,
                       "session_state": None, "connection_state": None, "disks": []}
            pending_lun = None
        elif current is None:
            continue   # the header lines, and Persistent Portal before any session
        elif key == "Iface Name":
            current["iface"] = value
        elif key == "SID":
            if not value.isdigit():
                raise IscsiOutputError(f"line {n}: SID {value!r} is not a number")
            current["sid"] = int(value)
        elif key == "iSCSI Session State":
            current["session_state"] = value
        elif key == "iSCSI Connection State":
            current["connection_state"] = value
        elif (lun := _LUN.match(line)) is not None:
            pending_lun = int(lun.group(1))
        elif (disk := _DISK.match(line)) is not None:
            current["disks"].append((pending_lun, disk.group(1)))
    close()
    return sessions


def parse_nodes(host: str, text: str) -> list[IscsiNode]:
    """`iscsiadm -m node`: one "<portal>,<tpgt> <iqn>" line per record."""
    nodes = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise IscsiOutputError(f"line {n}: {line[:80]!r} is not '<portal>,<tpgt> <iqn>'")
        portal, tpgt = _portal(parts[0], n)
        nodes.append(IscsiNode(host, parts[1], portal, tpgt))
    return nodes
