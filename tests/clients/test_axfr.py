"""The wire reader of zone transfers (clients/axfr.py) writes every record as dnspython's
own `to_text` does, whatever the names and strings hold, and checks every TSIG of a
signed transfer: a changed byte or a missing signature is an error, never records.  (A
transfer from a real BIND, a wrong key and a refused transfer are in
tests/integration/test_dns_bind.py.)"""

from __future__ import annotations

import dns.message
import dns.name
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.zone
import pytest

from osfsck.clients import axfr
from osfsck.clients.dns import DnsError, axfr_records

ZONE = "example.test."
ZONE_TEXT = r"""$ORIGIN example.test.
$TTL 300
@            IN SOA ns1.example.test. host\.master.example.test. 4294967295 3600 600 604800 300
@            IN NS  ns1.example.test.
ns1          IN A   192.0.2.53
Vm-1         IN A   10.0.0.2
vm-1         IN TXT "openstack-instance=2b1e" "two \"quoted\" \\ strings" "\000\255é;()"
vm-6         IN AAAA 2001:DB8:0:0::5
*.apps       IN A   10.0.0.9
www          IN CNAME vm-1
mail         IN MX  10 vm-1
_sip._tcp    IN SRV 0 5 5060 vm-1
odd\.dot\032sp\"q\@\$\;\(\)\\x IN A 10.0.0.10
\000\255\128 IN PTR odd\.dot.example.test.
2.0.0        IN PTR vm-1.example.test.
sub          IN NS  ns.sub.example.test.
big          86400 IN A 10.0.0.11
"""
KEY = dns.tsig.Key("osfsck-key.", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=", "hmac-sha256")


def transfer_wires(per_message: int = 3, sign: bool = True, unsigned: tuple = ()):
    """(the query, the answer messages) of an AXFR of ZONE_TEXT, compressed as a server
    compresses them, `per_message` RRsets each; signed as a transfer is unless unsigned."""
    z = dns.zone.from_text(ZONE_TEXT, origin=ZONE, relativize=False)
    soa = z.find_rrset(ZONE, "SOA")
    body = [z.find_rrset(n, rds.rdtype) for n, rds in z.iterate_rdatasets() if rds.rdtype != dns.rdatatype.SOA]
    chunks = [body[i : i + per_message] for i in range(0, len(body), per_message)]
    chunks[0] = [soa, *chunks[0]]
    chunks[-1] = [*chunks[-1], soa]
    q = dns.message.make_query(ZONE, "AXFR")
    if sign:
        q.use_tsig({KEY.name: KEY}, keyname=KEY.name)
    q.to_wire()
    wires, ctx = [], None
    for i, rrsets in enumerate(chunks):
        r = dns.message.make_response(q)
        r.answer = rrsets
        if sign and i not in unsigned:
            r.use_tsig({KEY.name: KEY}, keyname=KEY.name)
            r.request_mac = q.mac
            wires.append(r.to_wire(multi=True, tsig_ctx=ctx))
            ctx = r.tsig_ctx
        else:
            r.tsig = None
            wire = r.to_wire()
            if ctx is not None:
                ctx.update(wire)
            wires.append(wire)
    return axfr.Query(q.id, KEY if sign else None, q.mac if sign else b""), wires


def dnspython_reads(query, wires) -> list:
    """The records dnspython's own reader finds in the same messages, as its to_text writes them."""
    out, ctx = [], None
    for wire in wires:
        m = dns.message.from_wire(
            wire, keyring={KEY.name: KEY}, request_mac=query.mac, xfr=True, tsig_ctx=ctx, multi=True
        )
        ctx = m.tsig_ctx
        out += [
            (rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype), rrset.ttl, rd.to_text())
            for rrset in m.answer
            for rd in rrset
        ]
    return out


@pytest.mark.parametrize("per_message", [1, 3, 100])
def test_same_text_as_dnspython(per_message):
    query, wires = transfer_wires(per_message)
    got = list(axfr.records(ZONE, query, wires))
    assert got[0] == got[-1] and got[0][1] == "SOA"
    assert got == dnspython_reads(query, wires)


def test_unsigned_messages_between_are_digested_into_the_next_tsig():
    query, wires = transfer_wires(1, unsigned=(1, 2))
    assert list(axfr.records(ZONE, query, wires)) == dnspython_reads(query, wires)


def collect(query, wires) -> list:
    return list(axfr_records(ZONE, "192.0.2.53:53", lambda: axfr.records(ZONE, query, wires)))


@pytest.mark.parametrize(
    "spoil, says",
    [
        # 10.0.0.11 made 10.0.0.12 in whichever message carries it
        (lambda w: [m.replace(bytes([10, 0, 0, 11]), bytes([10, 0, 0, 12])) for m in w], "does not verify"),
        (lambda w: w[:-1], "ended before the closing SOA"),
        (lambda w: [w[0], w[2], w[1], *w[3:]], "does not verify"),
    ],
)
def test_a_changed_or_missing_message_is_an_error(spoil, says):
    query, wires = transfer_wires(3)
    with pytest.raises(DnsError, match=says) as e:
        collect(query, spoil(wires))
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("unsigned, says", [((0,), "first message"), ((-1,), "last message")])
def test_the_first_and_last_message_must_be_signed(unsigned, says):
    n = len(transfer_wires(3)[1])
    query, wires = transfer_wires(3, unsigned=tuple(u % n for u in unsigned))
    with pytest.raises(DnsError, match=says):
        collect(query, wires)


def test_an_answer_to_another_query_is_refused():
    query, wires = transfer_wires(3, sign=False)
    with pytest.raises(DnsError, match="not the answer to this transfer"):
        collect(axfr.Query(query.id ^ 1), wires)


@pytest.mark.parametrize(
    "wire, says",
    [
        (b"\x00" * 5, "shorter than its header"),
        (b"\x00\x01\x80\x00\x00\x00\x00\x01\x00\x00\x00\x00" + b"\xc0\x0c", "does not point back"),
        (b"\x00\x01\x80\x00\x00\x00\x00\x01\x00\x00\x00\x00" + b"\x05ab", "runs past"),
        (
            b"\x00\x01\x80\x00\x00\x00\x00\x01\x00\x00\x00\x00" + b"\x00\x00\x01\x00\x01\x00\x00\x00\x01\x00\x09",
            "runs past",
        ),
    ],
)
def test_a_malformed_message_is_one_line(wire, says):
    with pytest.raises(DnsError, match=says):
        collect(axfr.Query(1), [wire])
