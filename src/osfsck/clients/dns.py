"""Talking to a DNS server with dnspython: zone transfer (AXFR), one RRset query, and
RFC 2136 updates, each signed with TSIG when a key is given.

No facts and no decisions here (the DNS source and the delete-dns-records repair both use
it).  Every failure is a DnsError with one line naming the server and what went wrong.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import dns.update
import dns.xfr

from osfsck.clients import axfr


class DnsError(Exception):
    """A transfer, query or update failed; one line."""


class UpdateRefused(DnsError):
    """The server refused an update because a prerequisite no longer holds: the zone
    changed since it was read.  Nothing was changed (RFC 2136 §3.2: all or nothing)."""


@dataclass(frozen=True)
class Key:
    """A TSIG key as the server knows it (name, algorithm, base64 secret)."""

    name: str
    algorithm: str
    secret: str

    def __repr__(self) -> str:
        return f"Key({self.name!r}, {self.algorithm!r}, secret=***)"


class Rr(NamedTuple):
    """One resource record as text: absolute owner name, type, TTL, data."""

    name: str
    type: str
    ttl: int
    data: str


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    key: Key | None = None
    timeout: float = 10.0

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    # -- signing ----------------------------------------------------------------------
    def _sign(self) -> dict:
        if self.key is None:
            return {}
        ring = dns.tsigkeyring.from_text({self.key.name: (self.key.algorithm, self.key.secret)})
        return {"keyring": ring, "keyname": dns.name.from_text(self.key.name)}

    # -- reading ----------------------------------------------------------------------
    def transfer(self, zone: str) -> Iterator[Rr]:
        """Every record of `zone` by AXFR over TCP, the SOA first.  The transfer is checked
        complete (it ends with the SOA it began with) and every TSIG verified, or DnsError
        is raised: a half transfer must never pass for a zone."""
        key = self._sign().get("keyring", {}).get(dns.name.from_text(self.key.name)) if self.key else None
        return axfr_records(
            zone, str(self), lambda: axfr.transfer(self.host, self.port, zone, key, self.timeout, self.timeout * 6)
        )

    def rrset(self, name: str, rtype: str) -> tuple[int, list[str]] | None:
        """(TTL, data of each record) of one RRset, asked of the server itself over TCP,
        or None when it has none.  The answer must be authoritative."""
        q = dns.message.make_query(name, rtype)
        if self.key is not None:
            q.use_tsig(**self._sign())
        q.flags &= ~dns.flags.RD
        try:
            r = dns.query.tcp(q, self.host, port=self.port, timeout=self.timeout)
        except Exception as e:  # noqa: BLE001
            raise DnsError(f"query {name} {rtype} at {self}: {_describe(e)}") from None
        rcode = r.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            return None
        if rcode != dns.rcode.NOERROR:
            raise DnsError(f"query {name} {rtype} at {self}: {dns.rcode.to_text(rcode)}")
        if not r.flags & dns.flags.AA:
            raise DnsError(f"query {name} {rtype} at {self}: the answer is not authoritative")
        found = r.get_rrset(r.answer, dns.name.from_text(name), dns.rdataclass.IN, dns.rdatatype.from_text(rtype))
        if found is None:
            return None
        return found.ttl, sorted(rd.to_text() for rd in found)

    # -- writing ----------------------------------------------------------------------
    def update(
        self,
        zone: str,
        *,
        require: Sequence[tuple[str, str, list[str]]] = (),
        delete: Sequence[Rr] = (),
        add: Sequence[Rr] = (),
    ) -> None:
        """One RFC 2136 update of `zone`: prerequisites `require` (name, type, data of the
        whole RRset: it must exist with exactly these records), then the deletes and adds.
        The server applies all of it or nothing; UpdateRefused when a prerequisite failed."""
        u = dns.update.UpdateMessage(zone, **self._sign())
        for name, rtype, datas in require:
            rds = dns.rrset.from_text_list(name, 0, dns.rdataclass.IN, rtype, list(datas))
            u.present(name, rds.to_rdataset())
        for rr in delete:
            u.delete(rr.name, dns.rdata.from_text(dns.rdataclass.IN, rr.type, rr.data))
        for rr in add:
            u.add(rr.name, rr.ttl, dns.rdata.from_text(dns.rdataclass.IN, rr.type, rr.data))
        try:
            r = dns.query.tcp(u, self.host, port=self.port, timeout=self.timeout)
        except Exception as e:  # noqa: BLE001
            raise DnsError(f"update of {zone} at {self}: {_describe(e)}") from None
        rcode = r.rcode()
        if rcode in (dns.rcode.NXRRSET, dns.rcode.NXDOMAIN, dns.rcode.YXRRSET, dns.rcode.YXDOMAIN):
            raise UpdateRefused(
                f"update of {zone} at {self} refused ({dns.rcode.to_text(rcode)}): "
                "the records are no longer as they were read"
            )
        if rcode != dns.rcode.NOERROR:
            raise DnsError(f"update of {zone} at {self}: {dns.rcode.to_text(rcode)}")

    def close(self) -> None:
        """Nothing is kept open between calls (each is one TCP exchange)."""


def axfr_records(zone: str, server: str, records) -> Iterator[Rr]:
    """The records of an AXFR from `records()` (clients/axfr.py's (name, type, TTL, data)
    as they arrive, names in the case the server wrote them), the SOA first; DnsError (one
    line) for anything else, a transfer that ends before its closing SOA included."""
    try:
        yield from records()
    except Exception as e:  # noqa: BLE001 - dnspython and the wire raise many types; each becomes one line
        raise DnsError(f"AXFR of {zone} from {server}: {_describe(e)}") from None


def server_for(zone, timeout: float) -> Server:
    """The server of a configured zone (anything with host, port and key: name, algorithm,
    secret), as the DNS source and the repairs both reach it."""
    k = zone.key
    return Server(zone.host, zone.port, Key(k.name, k.algorithm, k.secret) if k else None, timeout)


def _describe(e: Exception) -> str:
    """One line for what dnspython (or the socket) raised."""
    if isinstance(e, dns.exception.Timeout):
        return "timed out"
    if isinstance(e, dns.xfr.TransferError) or type(e).__name__ == "TransferError":
        return f"transfer refused ({dns.rcode.to_text(e.rcode)})" if hasattr(e, "rcode") else "transfer refused"
    if isinstance(e, (axfr.WireError, axfr.Unfinished, axfr.Unsigned)):
        return str(e)
    if isinstance(e, dns.tsig.PeerError):
        return f"TSIG rejected by the server ({type(e).__name__}: wrong key name, secret or algorithm?)"
    if isinstance(e, dns.tsig.BadSignature):
        return "TSIG signature of the answer does not verify (wrong secret?)"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, (socket.gaierror,)):
        return f"cannot resolve host ({e.strerror})"
    if isinstance(e, OSError):
        return e.strerror or type(e).__name__
    if isinstance(e, EOFError):
        return "the server closed the connection mid-transfer"
    text = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
