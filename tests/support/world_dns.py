"""World builders for DNS zones as transferred (AXFR) and Designate's records.

    w.zone("example.test.")                      # a forward zone, read completely
    w.a_record("vm-1", "10.0.0.2")               # vm-1.example.test. A 10.0.0.2
    w.ptr_record("10.0.0.2", "vm-1")             # 2.0.0.10.in-addr.arpa. PTR vm-1.example.test.
    w.zone_down("example.test.")                 # its transfer failed

Names not ending in "." are relative to DEFAULT_ZONE.  A record goes to the longest
declared zone that holds it; a zone is declared on first use (the forward default, or
the /24 reverse zone of an IPv4 address, /64 of an IPv6 one).
"""

from __future__ import annotations

import ipaddress

from osfsck.model.facts.dns import (
    DESIGNATE_SCOPE,
    DesignateRecord,
    DnsRecord,
    DnsZone,
    absolute,
    zone_scope,
)
from osfsck.model.facts.neutron import NEUTRON_SCOPE, NeutronSubnet
from osfsck.sources.dns.mapping import record_data

DEFAULT_ZONE = "example.test."
DEFAULT_TEMPLATE = "{hostname}.{zone}"
DNS_KINDS = (DnsZone, DnsRecord)


def fqdn(name: str) -> str:
    return absolute(name) if name.endswith(".") else absolute(f"{name}.{DEFAULT_ZONE}")


def reverse_name(ip: str) -> str:
    return ipaddress.ip_address(ip).reverse_pointer + "."


def reverse_zone_of(ip: str) -> str:
    a = ipaddress.ip_address(ip)
    labels = a.reverse_pointer.split(".")
    keep = 1 if a.version == 4 else 16  # drop the host's labels: /24, or /64 of nibbles
    return ".".join(labels[keep:]) + "."


class DnsWorld:
    """Mixed into World (tests/support/world.py)."""

    def _dns_init(self) -> None:
        self._zones: dict[str, DnsZone] = {}

    def zone(
        self,
        name: str = DEFAULT_ZONE,
        *,
        template: str = DEFAULT_TEMPLATE,
        designate: bool = False,
        server: str = "192.0.2.53:53",
        serial: int = 1,
    ) -> str:
        """Declare a zone transferred completely (once; later calls return it)."""
        name = absolute(name)
        if name not in self._zones:
            z = DnsZone(zone_scope(name), name, server, serial, template, designate)
            self._zones[name] = z
            self._facts[DnsZone.kind].append(z)
            for kind in DNS_KINDS:
                self._cover(kind, zone_scope(name))
            self._delegate(name)
        return name

    def _delegate(self, new: str) -> None:
        """A zone below another declared zone is delegated from it, as DNS requires: the
        parent holds its NS records (and a child declared first gets them now)."""

        def parent_of(zone):
            held = [z for z in self._zones if z != zone and zone.endswith("." + z)]
            return max(held, key=len) if held else None

        for child in sorted(self._zones):
            parent = parent_of(child)
            if new in (child, parent) and parent is not None:
                self._facts[DnsRecord.kind].append(
                    DnsRecord(zone_scope(parent), parent, child, "NS", 300, f"ns1.{child}")
                )

    def zone_down(
        self, name: str = DEFAULT_ZONE, reason: str = "AXFR of example.test. from 192.0.2.53:53: timed out"
    ) -> None:
        """The zone's transfer failed: partial, and none of its records in the snapshot."""
        name = self.zone(name)
        for kind in DNS_KINDS:
            self.partial(kind, zone_scope(name), reason)
            self._dropped.add((kind.kind, zone_scope(name)))

    def _zone_for(self, name: str, default: str) -> str:
        held = [z for z in self._zones if name == z or name.endswith("." + z)]
        return max(held, key=len) if held else self.zone(default)

    def record(self, name: str, rtype: str, data: str, *, zone: str | None = None, ttl: int = 300) -> DnsRecord:
        """One record of any judged type, as the AXFR source maps it."""
        name = absolute(name)
        zone = self.zone(zone) if zone else self._zone_for(name, DEFAULT_ZONE)
        r = DnsRecord(zone_scope(zone), zone, name, rtype, ttl, record_data(rtype, data))
        self._facts[DnsRecord.kind].append(r)
        return r

    def a_record(self, name: str, ip: str, **kw) -> DnsRecord:
        """An A (or, for an IPv6 address, AAAA) record."""
        rtype = "AAAA" if ipaddress.ip_address(ip).version == 6 else "A"
        return self.record(fqdn(name), rtype, ip, **kw)

    def ptr_record(self, ip: str, name: str, **kw) -> DnsRecord:
        rev = reverse_name(ip)
        if "zone" not in kw and not any(rev.endswith("." + z) for z in self._zones):
            self.zone(reverse_zone_of(ip))
        return self.record(rev, "PTR", fqdn(name), **kw)

    def txt_record(self, name: str, text: str, **kw) -> DnsRecord:
        return self.record(fqdn(name), "TXT", f'"{text}"', **kw)

    def cname_record(self, name: str, target: str, **kw) -> DnsRecord:
        return self.record(fqdn(name), "CNAME", fqdn(target), **kw)

    def designate_record(
        self,
        r: DnsRecord,
        *,
        resource_type: str | None = "instance",
        resource_id: str | None = None,
        plugin: str | None = "nova_fixed",
    ) -> None:
        """`r` as Designate's database holds it: made by designate-sink's `plugin` for the
        resource (resource_type None: a recordset a user or Neutron made through the API)."""
        if (DesignateRecord.kind, DESIGNATE_SCOPE) not in self._coverage:
            self._cover(DesignateRecord, DESIGNATE_SCOPE)
        n = len(self._facts[DesignateRecord.kind]) + 1
        at = self.ago(86400)
        self._facts[DesignateRecord.kind].append(
            DesignateRecord(
                DESIGNATE_SCOPE,
                f"de51a7e0-0000-0000-0000-{n:012d}",
                f"de51a7e0-0000-0001-0000-{n:012d}",
                f"de51a7e0-0000-0002-0000-{len(r.zone):012d}",
                r.zone,
                r.name,
                r.type,
                r.ttl,
                r.data,
                resource_type,
                resource_id if resource_type else None,
                plugin if resource_type else None,
                None,
                "ACTIVE",
                "NONE",
                at,
                at,
            )
        )

    def host_records(self, name: str, ip: str, **kw) -> None:
        """An A record and its PTR, as a "record per VM" integration writes them."""
        self.a_record(name, ip, **kw)
        self.ptr_record(ip, name)

    def floating_subnet(self, cidr: str = "203.0.113.0/24") -> None:
        """The external network's subnet that floating IPs (world_neutron's 203.0.113.n)
        come from, so that their addresses are OpenStack's."""
        self.neutron()
        net = self._default_network()
        self._facts[NeutronSubnet.kind].append(
            NeutronSubnet(NEUTRON_SCOPE, "5b4e0000-0000-0000-0000-00000000f100", net, cidr, 4, 1, self.ago(30 * 86400))
        )
