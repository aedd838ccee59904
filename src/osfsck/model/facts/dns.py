"""Facts read from DNS: the zones osfsck transfers (AXFR) from a DNS server, and the
records Designate keeps in its database.

Names are absolute and lower-case ("vm-1.example.test."); addresses are in the canonical
text of `ipaddress` (IPv6 compressed), so that one address is spelled one way everywhere.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from osfsck.model.facts.base import fact_type

DESIGNATE_SCOPE = "designate"

# the record types the DNS checks judge; TXT is kept because many hooks write the
# instance's uuid in one next to its A record (external-systems.md §B.3.4); CNAME because
# a PTR's target may be an alias, and NS below the apex because a name under a delegation
# lives in another zone (the apex's own NS records say nothing and are not kept)
JUDGED_TYPES = frozenset({"A", "AAAA", "PTR"})
COLLECTED_TYPES = JUDGED_TYPES | {"TXT", "CNAME", "NS"}
NAME_DATA_TYPES = frozenset({"PTR", "CNAME", "NS"})  # types whose data is a domain name


def zone_scope(zone: str) -> str:
    """The coverage scope of one transferred zone: "dns:example.test."."""
    return f"dns:{zone}"


def absolute(name: str) -> str:
    """A DNS name as the facts spell it: lower-case, with the root's trailing dot."""
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


@fact_type("dns.zone", scope_field="scope")
class DnsZone(NamedTuple):
    """One zone as transferred: where from, its SOA serial, and how its record names map
    to instances (the configured template, recorded so that a saved snapshot is judged
    the same way later)."""

    scope: str  # zone_scope(zone)
    zone: str  # absolute, lower-case
    server: str  # "host:port" it was transferred from
    serial: int
    name_template: str  # e.g. "{hostname}.{zone}" (Designate's nova_fixed default)
    managed_by_designate: bool  # Designate writes this zone: change it through Designate


@fact_type("dns.record", scope_field="scope")
class DnsRecord(NamedTuple):
    """One resource record of a transferred zone (A, AAAA, PTR, TXT, CNAME, or an NS below
    the apex: a delegation)."""

    scope: str  # zone_scope(zone)
    zone: str
    name: str  # absolute owner name
    type: str
    ttl: int
    data: str  # A/AAAA: the address; PTR, CNAME, NS: the absolute target; TXT: the text


@fact_type("designate.record", scope_field="scope")
class DesignateRecord(NamedTuple):
    """A live record of a live zone in Designate's database (records joined with their
    recordset and zone).  `managed_*` tie it to what designate-sink made it for: the
    instance (`nova_fixed`), the floating IP (`neutron_floatingip`, `ptr:floatingip`)."""

    scope: str  # always DESIGNATE_SCOPE
    id: str  # records.id, as a dashed uuid
    recordset_id: str
    zone_id: str
    zone: str
    name: str
    type: str
    ttl: int | None  # the recordset's, else None (the zone's default)
    data: str
    managed_resource_type: str | None  # "instance", "floatingip", "ptr:floatingip", ...
    managed_resource_id: str | None  # as a dashed uuid
    managed_plugin_name: str | None  # "nova_fixed", "neutron_floatingip", ...
    managed_extra: str | None  # the floating IP's address for ptr:floatingip
    status: str | None  # ACTIVE, PENDING, ERROR, DELETED
    action: str | None  # CREATE, UPDATE, DELETE, NONE
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
