"""libvirt domains of every compute host.  `mapping` is pure; only `source` talks to libvirt,
and imports libvirt-python lazily (it is an optional dependency)."""

from osfsck.sources.libvirt.mapping import DomainXMLError, domain_from_xml
from osfsck.sources.libvirt.source import LibvirtSource

__all__ = ["DomainXMLError", "LibvirtSource", "domain_from_xml"]
