"""Zone transfer (AXFR, RFC 5936) read straight from the wire: the records as text,
exactly as dnspython's `to_text` writes them, without a dnspython object per record.

Why: dnspython builds a Name, an Rdata and an RRset lookup for every record; that was
all of the time of a 100,000-record transfer (tools/bench_dns.py --profile), several
times what BIND's own `dig axfr` takes for the same zones.  dnspython still makes and
signs the query and checks every TSIG (dns.tsig.validate, RFC 8945 §5.3.1 for the
messages of a transfer); this module only walks the messages (RFC 1035 §4.1) and writes
the record types the checks read (A, AAAA, PTR, CNAME, NS, TXT, SOA) as text itself.
Every other type goes through dnspython's own parser.

All or nothing as before: the transfer must begin with the zone's SOA and end with it,
every message must be the answer to our query, signed when the query was (the first and
the last; those between may be unsigned, their bytes then digested into the next TSIG),
and well formed; anything else is an exception for clients/dns.py to turn into one line.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import struct
import time
from collections.abc import Iterable, Iterator

import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tsig

_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_SOA_NUMBERS = struct.Struct("!IIIII")
A, NS, CNAME, SOA, PTR, TXT, AAAA, TSIG = 1, 2, 5, 6, 12, 16, 28, 250
_TYPE_TEXT: dict[int, str] = {}


class WireError(dns.exception.FormError):
    """A message that is not well formed: what and where."""


class Unfinished(EOFError):
    """The stream ended before the closing SOA."""


class Unsigned(dns.tsig.BadSignature):
    """A message of a signed transfer that must carry a TSIG (the first, the last) has none."""


class TransferError(Exception):
    """The server answered the transfer with an error rcode."""

    def __init__(self, rcode: int):
        super().__init__(dns.rcode.to_text(dns.rcode.Rcode.make(rcode)))
        self.rcode = rcode


# -- text as dnspython writes it (RFC 1035 §5.1 master-file escapes) ----------------------
_PLAIN_LABEL = re.compile(rb'[^\x00-\x20\x7f-\xff"().;\\@$]*')
# labels joined by dots, none with a byte to escape: checked once for a whole name
_PLAIN_LABELS = re.compile(rb'[^\x00-\x20\x7f-\xff"();\\@$]*')
_PLAIN_STRING = re.compile(rb'[^\x00-\x1f\x7f-\xff"\\]*')


def _escaped(data: bytes, special: bytes, lowest: int) -> str:
    out = []
    for c in data:
        if c in special:
            out.append("\\" + chr(c))
        elif lowest <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append(f"\\{c:03d}")
    return "".join(out)


def label_text(label: bytes) -> str:
    if _PLAIN_LABEL.fullmatch(label):
        return label.decode("ascii")
    return _escaped(label, b'"().;\\@$', 0x21)


def string_text(s: bytes) -> str:
    """A <character-string> in quotes."""
    return '"' + (s.decode("ascii") if _PLAIN_STRING.fullmatch(s) else _escaped(s, b'"\\', 0x20)) + '"'


def type_text(rtype: int) -> str:
    text = _TYPE_TEXT.get(rtype)
    if text is None:
        text = _TYPE_TEXT[rtype] = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rtype))
    return text


class _Names:
    """Names of one message, compression pointers followed (RFC 1035 §4.1.4); the text of
    every name suffix already read is kept by its offset, as later names point at them."""

    def __init__(self, wire: bytes):
        self.wire = wire
        self.known: dict[int, str] = {}

    def read(self, off: int) -> tuple[str, int]:
        """(the absolute name at `off` as text, the offset just after it)."""
        wire, known = self.wire, self.known
        first, raw, end, tail = off, [], 0, "."
        try:
            c = wire[off]
            while c:
                if c < 0x40:
                    nxt = off + 1 + c
                    raw.append(wire[off + 1 : nxt])
                    off = nxt
                    c = wire[off]  # IndexError past the end: a label cut short too
                elif c >= 0xC0:
                    if not end:
                        end = off + 2
                    target = (c & 0x3F) << 8 | wire[off + 1]
                    if target >= off:  # only ever backwards: no loop
                        raise WireError("a compression pointer does not point back")
                    hit = known.get(target)
                    if hit is not None:
                        tail = hit
                        break
                    if not raw:
                        first = target
                    off = target
                    c = wire[off]
                else:
                    raise WireError("an unknown label type")
        except IndexError:
            raise WireError("a name runs past the end of the message") from None
        if not end:
            end = off + 1
        if not raw:
            return tail, end
        joined = b".".join(raw)
        if _PLAIN_LABELS.fullmatch(joined) and joined.count(b".") == len(raw) - 1:
            text = joined.decode("ascii")
        else:
            text = ".".join(label_text(label) for label in raw)
        text += "." if tail == "." else "." + tail
        if len(text) > 1100:  # 255 octets, every one of them escaped as \DDD at most
            raise WireError("a name longer than 255 octets")
        known[first] = text
        return text, end


def _rdata_text(names: _Names, rclass: int, rtype: int, start: int, length: int) -> str:
    wire = names.wire
    end = start + length
    if rtype == A:
        if length != 4:
            raise WireError("an A record whose data is not 4 octets")
        return socket.inet_ntoa(wire[start:end])
    if rtype in (PTR, CNAME, NS):
        text, after = names.read(start)
        if after != end:
            raise WireError(f"a {type_text(rtype)} record whose data is not one name")
        return text
    if rtype == AAAA:
        if length != 16:
            raise WireError("an AAAA record whose data is not 16 octets")
        return str(ipaddress.IPv6Address(wire[start:end]))
    if rtype == TXT:
        strings, p = [], start
        while p < end:
            k = wire[p]
            if p + 1 + k > end:
                raise WireError("a TXT string runs past its record")
            strings.append(string_text(wire[p + 1 : p + 1 + k]))
            p += 1 + k
        if not strings:
            raise WireError("a TXT record without a string")
        return " ".join(strings)
    if rtype == SOA:
        mname, p = names.read(start)
        rname, p = names.read(p)
        if p + 20 != end:
            raise WireError("an SOA record of the wrong length")
        return f"{mname} {rname} " + " ".join(str(v) for v in _SOA_NUMBERS.unpack_from(wire, p))
    # any other type: dnspython's own parser (rare in a cloud's zones)
    return dns.rdata.from_wire(
        dns.rdataclass.RdataClass.make(rclass), dns.rdatatype.RdataType.make(rtype), wire, start, length, origin=None
    ).to_text()


# -- the transfer ---------------------------------------------------------------------------
class Query:
    """What the answers are checked against: the query's id and, when signed, its key and MAC."""

    def __init__(self, qid: int, key: dns.tsig.Key | None = None, mac: bytes = b""):
        self.id, self.key, self.mac = qid, key, mac


def records(zone: str, query: Query, wires: Iterable[bytes]) -> Iterator[tuple[str, str, int, str]]:
    """(owner, type, TTL, data) of every record of the transfer of `zone` (absolute, any
    case) in `wires` (its messages, each without the TCP length), from the opening SOA to
    the closing one.  Ends with an exception unless the transfer is whole and verified."""
    origin = zone.lower()
    soas = 0
    ctx = None
    signed = False
    for number, wire in enumerate(wires):
        if len(wire) < 12:
            raise WireError("a message shorter than its header")
        qid, flags, qd, an, ns, ar = _HEADER.unpack_from(wire)
        if qid != query.id or not flags & 0x8000:
            raise WireError("a message that is not the answer to this transfer")
        names = _Names(wire)
        off = 12
        for _ in range(qd):
            off = names.read(off)[1] + 4
        out = []
        for _ in range(an):
            owner, off = names.read(off)
            if off + 10 > len(wire):
                raise WireError("a record runs past the end of the message")
            rtype, rclass, ttl, length = _RR.unpack_from(wire, off)
            off += 10
            if off + length > len(wire):
                raise WireError("a record's data runs past the end of the message")
            if soas == 2:
                raise WireError("records after the closing SOA")
            if rtype == SOA and owner.lower() == origin:
                soas += 1
            elif soas == 0:
                raise WireError("the transfer does not begin with the zone's SOA")
            # TTLs past 2^31 - 1 are read as 0 (RFC 2181 §8), as dnspython does
            if rtype == A and length == 4:  # most of a cloud's zones: no call
                data = socket.inet_ntoa(wire[off : off + 4])
            else:
                data = _rdata_text(names, rclass, rtype, off, length)
            out.append((owner, _TYPE_TEXT.get(rtype) or type_text(rtype), ttl if ttl <= 0x7FFFFFFF else 0, data))
            off += length
        tsig_at = None
        for i in range(ns + ar):
            start = off
            owner, off = names.read(off)
            if off + 10 > len(wire):
                raise WireError("a record runs past the end of the message")
            rtype, _, _, length = _RR.unpack_from(wire, off)
            off += 10 + length
            if off > len(wire):
                raise WireError("a record's data runs past the end of the message")
            if rtype == TSIG:
                if i != ns + ar - 1 or i < ns:
                    raise WireError("a TSIG record that is not the last of the message")
                tsig_at = (start, off - length, length)
        if off != len(wire):
            raise WireError("bytes after the last record of a message")
        if query.key is not None:
            if tsig_at is None:
                if number == 0:
                    raise Unsigned("the first message of the transfer is not signed")
                if ctx is not None:
                    ctx.update(wire)  # digested into the next TSIG (RFC 8945 §5.3.1)
                signed = False
            else:
                start, rdata_at, length = tsig_at
                rd = dns.rdata.from_wire(dns.rdataclass.ANY, dns.rdatatype.TSIG, wire, rdata_at, length, origin=None)
                key_name = dns.name.from_wire(wire, start)[0]
                ctx = dns.tsig.validate(wire, query.key, key_name, rd, int(time.time()), query.mac, start, ctx, True)
                signed = True
        if flags & 0xF:  # after the TSIG: a refusal for a wrong key is told by its TSIG error
            raise TransferError(flags & 0xF)
        yield from out
        if soas == 2:
            break  # the closing SOA: nothing more is read (the server may keep the connection)
    if soas < 2:
        raise Unfinished("the transfer ended before the closing SOA")
    if query.key is not None and not signed:
        raise Unsigned("the last message of the transfer is not signed")


def messages(sock: socket.socket, deadline: float, timeout: float) -> Iterator[bytes]:
    """The messages of a DNS-over-TCP stream (each after its two-octet length, RFC 1035
    §4.2.2), until the peer closes it; dns.exception.Timeout past either limit."""
    buf = bytearray()
    while True:
        while len(buf) < 2 or len(buf) < 2 + (buf[0] << 8 | buf[1]):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise dns.exception.Timeout
            sock.settimeout(min(timeout, remaining))
            try:
                data = sock.recv(1 << 18)
            except TimeoutError:
                raise dns.exception.Timeout from None
            if not data:
                if buf:
                    raise EOFError("the server closed the connection mid-message")
                return
            buf += data
        n = buf[0] << 8 | buf[1]
        yield bytes(buf[2 : 2 + n])
        del buf[: 2 + n]


def transfer(host: str, port: int, zone: str, key: dns.tsig.Key | None, timeout: float, lifetime: float):
    """The records of an AXFR of `zone` from host:port, the query signed with `key`."""
    import dns.message  # with the rest of dnspython: only when a zone is read

    q = dns.message.make_query(zone, dns.rdatatype.AXFR)
    if key is not None:
        q.use_tsig({key.name: key}, keyname=key.name)
    wire = q.to_wire()
    query = Query(q.id, key, (q.mac or b"") if key is not None else b"")
    deadline = time.monotonic() + lifetime
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack("!H", len(wire)) + wire)
        yield from records(zone, query, messages(sock, deadline, timeout))
