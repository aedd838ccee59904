"""Records of one transferred zone -> facts (pure: tested without a server)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from osfsck.model.facts.dns import COLLECTED_TYPES, NAME_DATA_TYPES, DnsRecord, DnsZone, absolute, zone_scope

# an IPv4 address already in ipaddress's canonical text (no leading zeros, each octet
# 0-255), as a transfer writes every A record: taken as it is, without parsing it again
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_V4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


class MalformedZone(ValueError):
    """What was transferred is not a zone (no SOA at its apex, a record outside it)."""


def zone_facts(
    zone: str, server: str, template: str, designate: bool, records: Iterable
) -> tuple[DnsZone, list[DnsRecord]]:
    """(the zone, its A/AAAA/PTR/TXT/CNAME records and delegations) from (name, type, ttl,
    data) tuples as the transfer gives them, the SOA first.  Names are made lower-case;
    data canonical.  The apex's own NS records are not kept: only an NS below the apex
    (a delegated subzone) tells the checks something."""
    scope = zone_scope(zone)
    serial = None
    out = []
    suffix = "." + zone
    for name, rtype, ttl, data in records:
        name = name.lower()
        if name != zone and not name.endswith(suffix):
            raise MalformedZone(f"record {name} {rtype} is outside zone {zone}")
        if rtype == "SOA":
            if name == zone and serial is None:
                fields = data.split()
                # a serial is an unsigned 32-bit number (RFC 1035 3.3.13) in ASCII digits:
                # str.isdigit() alone also passes "²", which int() refuses
                if (
                    len(fields) != 7
                    or not (fields[2].isascii() and fields[2].isdigit())
                    or len(fields[2]) > 10
                    or int(fields[2]) >= 2**32
                ):
                    raise MalformedZone(f"the SOA of {zone} is not readable: {data[:120]!r}")
                serial = int(fields[2])
            continue
        if rtype in COLLECTED_TYPES and not (rtype == "NS" and name == zone):
            out.append(tuple.__new__(DnsRecord, (scope, zone, name, rtype, ttl, record_data(rtype, data))))
    if serial is None:
        raise MalformedZone(f"zone {zone} has no SOA at its apex")
    # the closing SOA repeats the opening one; a record sent twice is one record
    unique = list(dict.fromkeys(out))
    return DnsZone(scope, zone, server, serial, template, designate), unique


def record_data(rtype: str, data: str) -> str:
    """The canonical text of a record's data: a PTR's target made absolute and lower-case,
    an address in ipaddress's canonical form (checks compare them as text)."""
    data = data.strip()
    if rtype in NAME_DATA_TYPES:
        return absolute(data)
    if rtype in ("A", "AAAA"):
        if rtype == "A" and _CANONICAL_V4.fullmatch(data):
            return data
        try:
            return str(ipaddress.ip_address(data))
        except ValueError:
            return data
    return data
