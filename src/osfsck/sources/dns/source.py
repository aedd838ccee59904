"""DNS zones by zone transfer (AXFR over TCP, TSIG-signed): one scope per zone,
"dns:<zone>", all or nothing: a refused, failed, timed-out or malformed transfer leaves
that zone partial with one line and adds none of its records.

A `--cell` run transfers no zone (model/cell_slice.py NOT_READ): a transfer is of the
whole zone (177,827 records at L, some 13 s) whatever the cell, and the records of one
cell cannot be asked for otherwise -- a query per name finds the cell's instances'
names, but not the records of other names pointing at their addresses, which is what
DN101 and DN102 judge.  Each zone is then not read, with one line saying why, and the DN
checks say they could not decide; a run without --cell checks DNS."""

from __future__ import annotations

from osfsck.clients import extras
from osfsck.model.cell_slice import DNS_NOT_READ
from osfsck.model.facts import kind_of
from osfsck.model.facts.dns import DnsRecord, DnsZone, zone_scope
from osfsck.model.result import SourceStatus
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import NotConfigured, Source, SourceError, cover_all, utcnow
from osfsck.sources.dns.mapping import MalformedZone, zone_facts

KINDS = (DnsZone, DnsRecord)


class DnsZoneSource(Source):
    name = "dns"
    settings_attr = "dns"
    provides = KINDS
    bulk = True

    def __init__(self, settings):
        if not settings.zones:
            raise NotConfigured("[dns] zones are not configured")
        missing = extras.missing("dns")
        if missing:
            raise SourceError(f"[dns] is configured but {missing}")
        self.settings = settings

    def reads(self) -> list[str]:
        return [
            f"zone transfer (AXFR) of {z.zone} from {z.server}"
            + (f" signed with TSIG key {z.key.name}" if z.key else " (unsigned)")
            for z in self.settings.zones
        ]

    def collect(self, kinds, known: Snapshot, sink: Snapshot, scopes=None) -> list[SourceStatus]:
        from osfsck.clients.dns import DnsError, server_for  # the [dns] extra's library: only when read

        statuses = []
        if self.within is not None and self.within.cells:  # every zone not read, said once
            zones = [zone_scope(z.zone) for z in self.settings.zones if scopes is None or zone_scope(z.zone) in scopes]
            for scope in zones:
                cover_all(sink, KINDS, scope, self.name, False, DNS_NOT_READ)
            return (
                [SourceStatus(self.name, "dns:*", "partial", f"{len(zones)} zone(s) {DNS_NOT_READ}")] if zones else []
            )
        for z in self.settings.zones:
            scope = zone_scope(z.zone)
            if scopes is not None and scope not in scopes:
                continue
            at = utcnow()
            try:
                zone, records = zone_facts(
                    z.zone,
                    z.server,
                    z.name_template,
                    z.designate,
                    server_for(z, self.settings.timeout).transfer(z.zone),
                )
            except DnsError as e:
                statuses.append(cover_all(sink, KINDS, scope, self.name, False, str(e)))
                continue
            except MalformedZone as e:
                statuses.append(
                    cover_all(sink, KINDS, scope, self.name, False, f"AXFR of {z.zone} from {z.server}: {e}")
                )
                continue
            sink.add(kind_of(DnsZone), [zone])
            if DnsRecord in kinds:
                sink.add(kind_of(DnsRecord), records)
            statuses.append(cover_all(sink, KINDS, scope, self.name, True, at=at))
        return statuses
