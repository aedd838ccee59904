"""Domain XML (as libvirt returns it for a Nova guest) -> Domain fact.  Pure: no libvirt here.

The XML Nova writes is described in research/external-systems.md §B.5.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from osfsck.model.facts.hypervisor import Domain, DomainVolume

# Nova's metadata namespace: 1.1 since nova 23.0.0 (Wallaby), 1.0 from older computes, which
# a cloud keeps running through a rolling upgrade; a domain defined by an old compute keeps
# its 1.0 block until it is next redefined (hard reboot, migration).
NOVA_NAMESPACES = (
    ("1.1", "http://openstack.org/xmlns/libvirt/nova/1.1"),
    ("1.0", "http://openstack.org/xmlns/libvirt/nova/1.0"),
)

# libvirt's scaled-integer units (docs: formatdomain.html#memory-allocation): the short
# forms and the *iB forms are powers of 1024, the *B forms powers of 1000; without a unit
# <memory> is in KiB.
_UNITS = {"b": 1, "bytes": 1}
for _i, _letter in enumerate("kmgtpe", start=1):
    _UNITS[_letter] = _UNITS[_letter + "ib"] = 1024**_i
    _UNITS[_letter + "b"] = 1000**_i


class DomainXMLError(ValueError):
    """A domain's XML that cannot be read: one line naming the host."""


def domain_from_xml(host: str, xml_text: str, state: int, active: bool) -> Domain:
    return parse_domain(host, xml_text, state, active)[0]


def parse_domain(host: str, xml_text: str, state: int, active: bool) -> tuple[Domain, list[DomainVolume]]:
    """The domain and its volume disks, from one parse of its XML."""
    try:
        root = ET.fromstring(xml_text)
    except (ET.ParseError, UnicodeError) as e:
        # UnicodeError: text holding a lone surrogate (a byte that was not UTF-8) cannot be
        # handed to expat at all
        raise DomainXMLError(f"{host}: cannot parse domain XML: {e}") from None
    if root.tag != "domain":
        raise DomainXMLError(f"{host}: not a domain XML document (root element <{root.tag}>)")
    name = (root.findtext("name") or "").strip()
    uuid = (root.findtext("uuid") or "").strip().lower()
    if not uuid:
        # libvirt always reports one; without it the domain cannot be joined to anything
        raise DomainXMLError(f"{host}: domain {name or '?'} has no <uuid>")
    nova_ns, nova_name, nova_project = _nova_metadata(root)
    domain = Domain(
        host=host,
        uuid=uuid,
        name=name,
        state=int(state),
        active=bool(active),
        nova_ns=nova_ns,
        nova_name=nova_name,
        nova_project=nova_project,
        vcpus=_vcpus(host, name, root),
        memory_mb=_memory_mb(host, name, root),
        disks=tuple(_disk_sources(root)),
    )
    return domain, list(_volumes(host, uuid, root))


def _volumes(host: str, uuid: str, root: ET.Element):
    """Each <disk> with a <serial> (a Cinder volume attached by Nova)."""
    for disk in root.iterfind("devices/disk"):
        serial = (disk.findtext("serial") or "").strip()
        if not serial:
            continue
        src = disk.find("source")
        target = disk.find("target")
        yield DomainVolume(
            host=host,
            domain_uuid=uuid,
            serial=serial.lower(),
            disk_type=disk.get("type") or "",
            protocol=src.get("protocol") if src is not None else None,
            source=_source_of(src) if src is not None else None,
            target_dev=target.get("dev") if target is not None else None,
        )


def _nova_metadata(root: ET.Element) -> tuple[str | None, str | None, str | None]:
    for version, ns in NOVA_NAMESPACES:
        inst = root.find(f"metadata/{{{ns}}}instance")
        if inst is None:
            continue
        name = inst.findtext(f"{{{ns}}}name")
        project = inst.find(f"{{{ns}}}owner/{{{ns}}}project")
        project_id = project.get("uuid") if project is not None else None
        return version, name.strip() if name is not None else None, project_id or None
    return None, None, None


def _vcpus(host: str, name: str, root: ET.Element) -> int:
    text = root.findtext("vcpu")
    if text is None or not text.strip():
        return 1  # libvirt's default when <vcpu> is omitted
    count = _count(text)
    if count is None:
        raise DomainXMLError(f"{host}: domain {name}: bad <vcpu> {text.strip()[:40]!r}")
    return count


def _memory_mb(host: str, name: str, root: ET.Element) -> int:
    el = root.find("memory")
    if el is None or el.text is None or not el.text.strip():
        return 0  # libvirt always reports it; 0 means "not stated", not "no memory"
    unit = (el.get("unit") or "KiB").strip().lower()
    factor = _UNITS.get(unit)
    amount = _count(el.text)
    if factor is None or amount is None:
        raise DomainXMLError(f"{host}: domain {name}: bad <memory> {el.text.strip()[:40]!r} {unit[:20]!r}")
    return amount * factor // 1024**2


def _count(text: str) -> int | None:
    """A size as libvirt writes it (ASCII digits), or None: int() would also take a sign,
    "1_024", other scripts' digits, and fail past 4300 digits."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 30 else None


def _disk_sources(root: ET.Element):
    """Each <disk>'s source in document order; an empty CD-ROM drive has none and is skipped."""
    for disk in root.iterfind("devices/disk"):
        src = disk.find("source")  # direct child only: <backingStore> has its own <source>
        where = _source_of(src) if src is not None else None
        if where:
            yield where


def _source_of(src: ET.Element) -> str | None:
    if src.get("file"):
        return src.get("file")
    if src.get("dev"):
        return src.get("dev")
    if src.get("name"):  # network: rbd "pool/image", iscsi "iqn/lun", nbd export
        return src.get("name")
    if src.get("volume"):  # type='volume': a libvirt storage pool volume
        return f"{src.get('pool', '')}/{src.get('volume')}"
    return src.get("dir")
