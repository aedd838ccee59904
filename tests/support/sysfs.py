"""A folder laid out like the kernel's /sys for one iSCSI session and its disk, for the host
agent's in-use checks (this machine has no iscsi_tcp module, so no real session)."""

from __future__ import annotations

from pathlib import Path


def iscsi_session(
    sys_root: Path, sid: int, iqn: str, disk: str, holders: tuple = (), partitions: dict | None = None
) -> Path:
    """Session `sid` to `iqn` with LUN 1 as `disk`, as iscsi_tcp lays it out:
    /sys/class/iscsi_session/session<sid> (targetname, device -> the session node) and
    /sys/block/<disk> -> .../session<sid>/target<h>:0:0/<h>:0:0:1/block/<disk>.
    `holders` are stacked on the disk; `partitions` maps a partition to its holders.
    Returns the disk's folder."""
    host = sid + 1
    session = sys_root / "devices" / "platform" / f"host{host}" / f"session{sid}"
    node = session / "iscsi_session" / f"session{sid}"
    node.mkdir(parents=True)
    (node / "targetname").write_text(iqn + "\n")
    (node / "device").symlink_to(session)
    (sys_root / "class" / "iscsi_session").mkdir(parents=True, exist_ok=True)
    (sys_root / "class" / "iscsi_session" / f"session{sid}").symlink_to(node)
    folder = session / f"target{host}:0:0" / f"{host}:0:0:1" / "block" / disk
    (folder / "holders").mkdir(parents=True)
    for h in holders:
        (folder / "holders" / h).mkdir()
    for part, held in (partitions or {}).items():
        (folder / part / "holders").mkdir(parents=True)
        (folder / part / "partition").write_text("1\n")
        for h in held:
            (folder / part / "holders" / h).mkdir()
    (sys_root / "block").mkdir(exist_ok=True)
    (sys_root / "block" / disk).symlink_to(folder)
    return folder
