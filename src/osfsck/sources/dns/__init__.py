from osfsck.sources.dns.source import DnsZoneSource

__all__ = ["DnsZoneSource"]
