"""What a volume's `connection_info` says, read as os-brick reads it: Nova's block device
mappings and Cinder's attachments store it as JSON text, each in its own shape."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from osfsck.sources.json_text import loads


class VolumeTarget(NamedTuple):
    """Where a `connection_info` (Nova's BDM or Cinder's attachment) says the volume is."""

    driver_volume_type: str | None  # "iscsi", "rbd", "nfs", "fibre_channel", ...
    target_iqn: str | None  # the first path's, as os-brick reads it
    target_portal: str | None
    target_lun: int | None  # as the driver gave it
    name: str | None  # rbd: "pool/volume-<id>"; nfs: "volume-<id>"
    iqns: tuple = ()  # every target IQN, the multipath ones included
    paths: tuple = ()  # iSCSI: (portal, iqn, lun as the kernel numbers it), one per path


# os-brick's SCSI addressing modes (os_brick/constants.py) and the LUN from which each
# uses the flat space method, which the kernel shows as LUN + 16384 (linuxscsi
# lun_for_addressing): SAM2 from LUN 256, SAM3-flat always.  `iscsiadm -m session -P 3`
# prints the kernel's number.
_FLAT_FROM = {None: None, "SAM": None, "transparent": None, "SAM2": 256, "SAM3-flat": 0}
_FLAT_SPACE = 16384


def kernel_lun(lun: object, addressing_mode: object = None) -> int | None:
    """The LUN the kernel shows for a LUN a driver gave; None when it is not a number or
    the mode is one os-brick does not know (it would refuse to connect)."""
    if (
        not isinstance(lun, int)
        or isinstance(lun, bool)
        or lun < 0
        or not isinstance(addressing_mode, (str, type(None)))
        or addressing_mode not in _FLAT_FROM
    ):
        return None
    flat_from = _FLAT_FROM[addressing_mode]
    return lun + _FLAT_SPACE if flat_from is not None and lun >= flat_from else lun


def volume_target(connection_info: str | None) -> VolumeTarget | None:
    """The target in a connection_info JSON; None when empty or not readable.

    Two shapes are stored.  Nova's block_device_mapping keeps what
    nova/volume/cinder.py `_translate_attachment_ref` rebuilds, `{"driver_volume_type",
    "data": {...}, "serial", ...}`, or the legacy `initialize_connection` answer, also
    nested.  Cinder's volume_attachment keeps the driver's answer flattened
    (cinder/volume/manager.py `_connection_create`, since Cinder 10.0.0 (Ocata): "Get rid
    of the nested dict (data key)"): the target keys are top-level there, beside
    `driver_volume_type` and `attachment_id`.

    The iSCSI paths are the ones os-brick connects (base_iscsi `_get_all_targets`):
    `target_portals` with `target_iqns` and `target_luns` (else `target_lun` on every
    path) when the driver gives lists, as multipath drivers do (some, Pure's, give only
    the lists), else the one `target_portal`/`target_iqn`/`target_lun` (LUN 0 if absent).
    """
    if not connection_info:
        return None
    try:
        info = loads(connection_info)
    except ValueError:
        return None
    if not isinstance(info, dict):
        return None
    data = info.get("data") if "data" in info else info
    if not isinstance(data, dict):
        data = {}
    kind = info.get("driver_volume_type")
    triples = _iscsi_paths(data)
    portal, iqn, lun = triples[0] if triples else (None, None, None)
    mode = data.get("addressing_mode")
    return VolumeTarget(
        kind if isinstance(kind, str) else None,
        iqn,
        portal,
        lun if isinstance(lun, int) and not isinstance(lun, bool) else None,
        data.get("name") if isinstance(data.get("name"), str) else None,
        tuple(dict.fromkeys(i for _, i, _ in triples)),
        tuple((p, i, kernel_lun(n, mode)) for p, i, n in triples),
    )


def _iscsi_paths(data: dict) -> list:
    """(portal, iqn, lun as given) per path; a path whose IQN is not text is left out."""
    portals, iqns, luns = data.get("target_portals"), data.get("target_iqns"), data.get("target_luns")
    if isinstance(portals, list) and isinstance(iqns, list):
        if not isinstance(luns, list) or not luns:
            luns = [data.get("target_lun")] * len(iqns)
        triples: Iterable[tuple[Any, Any, Any]] = zip(portals, iqns, luns)
    else:
        triples = [(data.get("target_portal"), data.get("target_iqn"), data.get("target_lun", 0))]
    return [(p if isinstance(p, str) else None, i, n) for p, i, n in triples if isinstance(i, str) and i]


def iscsi_paths(connection_info: str | None) -> tuple[tuple[str | None, str, int | None], ...]:
    """(portal, IQN, kernel LUN) of each path of an iSCSI connection_info, either shape;
    () for another transport or a text that is not readable."""
    t = volume_target(connection_info)
    return t.paths if t is not None and (t.driver_volume_type or "").lower() == "iscsi" else ()
