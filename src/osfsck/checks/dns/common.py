"""What the DNS checks share: one index of the transferred zones against Neutron and Nova.

An address is OpenStack's when a Neutron subnet holds it (floating IP networks' subnets
included); records of other addresses (name servers, mail, ...) are infrastructure and no
DNS check judges them.  An address is *held* by a port that has it (ipallocations) or by a
floating IP.  The names a holder may legitimately have are its instance's names by each
zone's template, and its port's Neutron external-DNS name (`dns_name.dns_domain`).
"""

from __future__ import annotations

import ipaddress
import re
import weakref
from collections import defaultdict
from typing import NamedTuple, Optional

from osfsck.checks.base import CheckOutput
from osfsck.model.facts.dns import DnsRecord, DnsZone, absolute, zone_scope
from osfsck.model.facts.neutron import NEUTRON_SCOPE, FloatingIp, IpAllocation, NeutronPort, NeutronSubnet
from osfsck.model.facts.nova import InstanceNetwork
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

NEUTRON_KINDS = (NeutronPort, IpAllocation, FloatingIp, NeutronSubnet)
ADDRESS_TYPES = ("A", "AAAA")
REVERSE_SUFFIXES = ("in-addr.arpa.", "ip6.arpa.")


def record_id(name: str, rtype: str, data: str) -> str:
    """How a finding names one record: "vm-1.example.test. A 10.0.0.2"."""
    return f"{name} {rtype} {data}"


def record_ref(r) -> ObjectRef:
    return ObjectRef("dns-record", record_id(r.name, r.type, r.data), zone_scope(r.zone))


def record_evidence(r) -> dict:
    return {"zone": r.zone, "name": r.name, "type": r.type, "ttl": r.ttl, "data": r.data}


def ptr_address(name: str) -> Optional[str]:
    """The address a reverse name stands for ("2.0.0.10.in-addr.arpa." -> "10.0.0.2"), or
    None for a name that is not a whole address (a zone apex, a classless delegation)."""
    labels = name.rstrip(".").split(".")
    if labels[-2:] == ["in-addr", "arpa"] and len(labels) == 6:
        try:
            return str(ipaddress.IPv4Address(".".join(reversed(labels[:4]))))
        except ValueError:
            return None
    if labels[-2:] == ["ip6", "arpa"] and len(labels) == 34:
        nibbles = "".join(reversed(labels[:32]))
        try:
            return str(ipaddress.IPv6Address(int(nibbles, 16)))
        except ValueError:
            return None
    return None


def ptr_name(address: str) -> str:
    return ipaddress.ip_address(address).reverse_pointer + "."


class Holder(NamedTuple):
    """What holds an address: a port (with its instance when a live compute port) or a
    floating IP (with the instance of the port it is associated with)."""

    kind: str                       # "port" or "floating-ip"
    id: str
    instance_uuid: Optional[str]    # the live instance behind it, if any
    port: Optional[NeutronPort]     # the port (the FIP's fixed port for a floating IP)

    def evidence(self) -> dict:
        return {"kind": self.kind, "id": self.id, "instance_uuid": self.instance_uuid,
                "port_id": self.port.id if self.port else None}


_VARIABLE = re.compile(r"\{(\w+)\}")


class Template:
    """A zone's name template, both ways: rendered for an instance, and parsed back from
    a record name into the variables it was made from."""

    def __init__(self, template: str, zone: str):
        self.template, self.zone = template, zone
        pattern, pos = [], 0
        for m in _VARIABLE.finditer(template):
            pattern.append(re.escape(template[pos:m.start()].lower()))
            var = m.group(1)
            if var == "zone":
                pattern.append(re.escape(zone))
            elif var in pattern_groups(pattern):
                pattern.append(f"(?P={var})")
            else:
                pattern.append(f"(?P<{var}>[^.]+)" if var != "ip_address" else f"(?P<{var}>[0-9a-f-]+)")
            pos = m.end()
        pattern.append(re.escape(template[pos:].lower()))
        self.regex = re.compile("".join(pattern) + ("" if template.endswith(".") or template.endswith("{zone}") else r"\.?"))

    def render(self, net: InstanceNetwork, address: Optional[str] = None) -> Optional[str]:
        values = {"hostname": net.hostname, "display_name": net.display_name, "instance_id": net.uuid,
                  "zone": self.zone, "project_id": None, "tenant_id": None}
        if address:
            values["ip_address"] = address.replace(".", "-").replace(":", "-")
            if "." in address:
                values.update((f"octet{i}", o) for i, o in enumerate(address.split(".")))
        try:
            name = self.template.format(**values)
        except (KeyError, IndexError):
            return None
        if "None" in name:
            return None
        return absolute(name)

    def parse(self, name: str) -> dict:
        m = self.regex.fullmatch(name)
        return m.groupdict() if m else {}


def pattern_groups(parts: list[str]) -> set[str]:
    return set(re.findall(r"\(\?P<(\w+)>", "".join(parts)))


class DnsIndex:
    """Built once per snapshot and shared by the DNS checks."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.neutron_complete = all(snap.is_complete(k, NEUTRON_SCOPE) for k in NEUTRON_KINDS)
        # zones: every configured one is covered (complete or not)
        self.zone_names = sorted(s.split(":", 1)[1] for s in snap.scopes(DnsRecord))
        self.complete_zones = {z for z in self.zone_names if snap.is_complete(DnsRecord, zone_scope(z))}
        # instances are named in forward zones only: a reverse zone's names are addresses
        self.templates = {z.zone: Template(z.name_template, z.zone) for z in snap.of(DnsZone)
                          if not z.zone.endswith(REVERSE_SUFFIXES)}
        self.designate_zones = {z.zone for z in snap.of(DnsZone) if z.managed_by_designate}
        self.forward = defaultdict(list)        # address -> A/AAAA records
        self.names = defaultdict(set)           # name -> its addresses
        self.ptrs = defaultdict(list)           # address -> PTR records
        for r in snap.of(DnsRecord):
            if r.type in ADDRESS_TYPES:
                self.forward[r.data].append(r)
                self.names[r.name].add(r.data)
            elif r.type == "PTR":
                a = ptr_address(r.name)
                if a is not None:
                    self.ptrs[a].append(r)
        self._ranges()
        self._holders()
        self._instances()

    # -- OpenStack's addresses ----------------------------------------------------------
    def _ranges(self) -> None:
        nets = set()
        for s in self.snap.of(NeutronSubnet):
            try:
                nets.add(ipaddress.ip_network(s.cidr, strict=False))
            except ValueError:
                continue
        self.networks = nets
        self.prefixes = sorted({(n.version, n.prefixlen) for n in nets})

    def subnet_of(self, address: str):
        """The Neutron subnet range holding `address`, or None (infrastructure)."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        for version, plen in self.prefixes:
            if version == ip.version:
                net = ipaddress.ip_network((ip, plen), strict=False)
                if net in self.networks:
                    return net
        return None

    def _holders(self) -> None:
        ports = {p.id: p for p in self.snap.of(NeutronPort)}
        self.ports = ports
        held: dict[str, Holder] = {}
        for f in self.snap.of(FloatingIp):
            fixed = ports.get(f.fixed_port_id) if f.fixed_port_id else None
            held[_canon(f.floating_ip_address)] = Holder(
                "floating-ip", f.id, fixed.device_id if fixed and fixed.device_owner.startswith("compute:") else None,
                fixed)
        for a in self.snap.of(IpAllocation):
            p = ports.get(a.port_id) if a.port_id else None
            if p is None:
                continue
            address = _canon(a.ip_address)
            if address in held and held[address].kind == "floating-ip":
                continue          # the floating IP's own port: the FIP is the holder that matters
            held[address] = Holder("port", p.id, p.device_id if p.device_owner.startswith("compute:") else None, p)
        self.holders = held

    def _instances(self) -> None:
        self.live_nets: dict[str, InstanceNetwork] = {}
        self.by_name = defaultdict(list)        # hostname / display_name / uuid (lower) -> InstanceNetwork
        for n in self.snap.of(InstanceNetwork):
            if not n.deleted:
                self.live_nets[n.uuid] = n
            for key in {n.hostname, n.display_name, n.uuid}:
                if key:
                    self.by_name[key.lower()].append(n)

    # -- names --------------------------------------------------------------------------
    def zone_of(self, name: str) -> Optional[str]:
        """The longest configured zone that holds `name`, read or not."""
        best = None
        for z in self.zone_names:
            if (name == z or name.endswith("." + z)) and (best is None or len(z) > len(best)):
                best = z
        return best

    def expected_names(self, address: str) -> set[str]:
        """Every name the holder of `address` may have: its instance's names by each zone's
        template and its port's Neutron external-DNS name."""
        h = self.holders.get(address)
        if h is None:
            return set()
        names = set()
        if h.port is not None and h.port.dns_name and h.port.dns_domain:
            names.add(absolute(f"{h.port.dns_name}.{h.port.dns_domain}"))
        net = self.live_nets.get(h.instance_uuid) if h.instance_uuid else None
        if net is not None:
            for t in self.templates.values():
                n = t.render(net, address)
                if n:
                    names.add(n)
        return names

    def instances_named(self, name: str, address: str) -> list[InstanceNetwork]:
        """The instances (live or deleted) whose names the template of `name`'s zone maps
        to `name` (for the record's address)."""
        zone = self.zone_of(name)
        t = self.templates.get(zone)
        if t is None:
            return []
        found = {}
        for var, value in t.parse(name).items():
            if var in ("hostname", "display_name", "instance_id") and value:
                for n in self.by_name.get(value.lower(), ()):
                    if t.render(n, address) == name:
                        found[n.uuid] = n
        return [found[u] for u in sorted(found)]


def _canon(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


def dns_index(snap: Snapshot) -> DnsIndex:
    idx = snap.memo.get("dns_index")
    if idx is None:
        idx = snap.memo["dns_index"] = DnsIndex(weakref.proxy(snap))
    return idx


def with_neutron(snap: Snapshot, out: CheckOutput) -> Optional[DnsIndex]:
    """The index, or None after saying Neutron is partial: without all of Neutron's
    subnets and addresses no record can be told OpenStack's or held."""
    idx = dns_index(snap)
    if not idx.neutron_complete:
        reason = next(snap.why_incomplete(k, NEUTRON_SCOPE) for k in NEUTRON_KINDS
                      if not snap.is_complete(k, NEUTRON_SCOPE))
        out.inconclusive(NEUTRON_SCOPE, reason)
        return None
    for z in idx.zone_names:
        if z not in idx.complete_zones:
            out.inconclusive(zone_scope(z), snap.why_incomplete(DnsRecord, zone_scope(z)))
    return idx


def judged_address(idx: DnsIndex, r) -> Optional[str]:
    """The OpenStack address a record is about (an A/AAAA's data, a PTR's owner), or None."""
    address = r.data if r.type in ADDRESS_TYPES else ptr_address(r.name) if r.type == "PTR" else None
    if address is None or idx.subnet_of(address) is None:
        return None
    return address
