"""libvirt test-driver node files: one per simulated host, for the M and L profiles.

The test driver rebuilds its state from the file on every connection, so repairs made
through it do not persist; these hosts are for reading at scale (benchmarks), while the
small profile runs a real libvirtd per host.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from osfsck_lab import volumes
from osfsck_lab.cloud import DomainSpec

NOVA_NS = "http://openstack.org/xmlns/libvirt/nova/1.1"


def node_xml(domains: list[DomainSpec], disks_of) -> str:
    out = [
        "<node>",
        "<cpu><mode>fixed</mode><model>i686</model><nodes>1</nodes><sockets>2</sockets>"
        "<cores>4</cores><threads>1</threads><mhz>2400</mhz></cpu>",
        "<memory>67108864</memory>",
    ]
    for d in domains:
        meta = ""
        if d.nova:
            meta = (
                f'<metadata><nova:instance xmlns:nova="{NOVA_NS}"><nova:name>{escape(d.display_name)}</nova:name>'
                f'<nova:owner><nova:project uuid="{escape(d.project_id)}">p</nova:project></nova:owner>'
                "</nova:instance></metadata>"
            )
        disks = "".join(
            f"<disk type='file' device='disk'><source file='{escape(p)}'/><target dev='vd{chr(97 + i)}'/></disk>"
            for i, p in enumerate(disks_of(d))
        )
        disks += "".join(volumes.disk_xml(v) for v in d.volumes)
        state = "" if d.active else "<test:runstate>5</test:runstate>"
        out.append(
            f"<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
            f"<name>{escape(d.name)}</name><uuid>{d.uuid}</uuid>{meta}"
            f"<memory unit='MiB'>{d.memory_mb}</memory><vcpu>{d.vcpus}</vcpu>"
            f"<os><type>hvm</type></os><devices>{disks}</devices>{state}</domain>"
        )
    out.append("</node>")
    return "\n".join(out)


def write_host(path: Path, domains: list[DomainSpec], disks_of) -> str:
    path.write_text(node_xml(domains, disks_of))
    return f"test://{path.resolve()}"
