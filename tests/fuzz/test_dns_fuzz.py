"""Zone data as the DNS source gets it: a zone transfer's messages (clients/axfr.py reads
them from the wire as they arrive, then clients/dns.axfr_records turns them into records) and the records into
facts (sources/dns/mapping.zone_facts).  Zone text is cut and spliced and parsed by
dnspython, the AXFR messages' wire bytes mutated, and records made up outright: the
transfer gives records or DnsError, the mapping facts or MalformedZone, one line each,
which are the two errors the DNS source catches."""

from __future__ import annotations

import dns.exception
import dns.message
import dns.rdatatype
import dns.zone
from hypothesis import assume, given
from hypothesis import strategies as st

from osfsck.clients import axfr
from osfsck.clients.dns import DnsError, Rr, axfr_records
from osfsck.model.facts.dns import DnsRecord, DnsZone
from osfsck.sources.dns.mapping import MalformedZone, zone_facts
from tests.fuzz.mutate import FUZZ, FUZZ_HALF, PER_EXAMPLE, mutated_bytes, mutated_text, outcome
from tests.support.timebox import answers_within

ZONE = "example.test."
ZONE_TEXT = """$ORIGIN example.test.
$TTL 300
@         IN SOA ns1.example.test. hostmaster.example.test. 42 3600 600 604800 300
@         IN NS  ns1.example.test.
ns1       IN A   192.0.2.53
vm-1      IN A   10.0.0.2
vm-1      IN TXT "openstack-instance=2b1e4c0a-1111-4c3a-9d2e-5f1a2b3c4d5e"
vm-6      IN AAAA 2001:db8::5
*.apps    IN A   10.0.0.9
www       IN CNAME vm-1
mail      IN MX  10 vm-1
2.0.0     IN PTR vm-1.example.test.
"""
TOKENS = [
    "IN A ",
    "IN AAAA ",
    "IN PTR ",
    "IN SOA ",
    "IN TXT ",
    "\n",
    "@",
    "$ORIGIN other.test.\n",
    "$TTL -1\n",
    "$INCLUDE /etc/passwd\n",
    "(",
    ")",
    ";",
    '"',
    "\\",
    "\\000",
    "10.0.0.300",
    "::ffff:1.2.3.4",
    "4294967296",
    "*",
    "..",
    "xn--",
    "\u00e9",
]


def _facts(records):
    return zone_facts(ZONE, "192.0.2.53:53", "{hostname}.{zone}", False, records)


def _check(records) -> None:
    try:
        zone, facts = _facts(records)
    except MalformedZone as e:
        assert str(e) and "\n" not in str(e)
        outcome("MalformedZone")
        return
    outcome("facts")
    assert isinstance(zone, DnsZone) and isinstance(zone.serial, int) and 0 <= zone.serial < 2**32
    for r in facts:
        assert isinstance(r, DnsRecord) and r.name.endswith(ZONE) and r.name == r.name.lower()
        assert isinstance(r.ttl, int) and isinstance(r.data, str)


def _transfer_order(z: dns.zone.Zone) -> list[Rr]:
    """A zone's records in the order an AXFR sends them: the SOA, the rest, the SOA again."""
    soa, rest = [], []
    for name, ttl, rd in z.iterate_rdatas():
        rr = Rr(name.to_text().lower(), dns.rdatatype.to_text(rd.rdtype), ttl, rd.to_text())
        (soa if rd.rdtype == dns.rdatatype.SOA and name == z.origin else rest).append(rr)
    return soa + rest + soa


@FUZZ_HALF
@given(mutated_text([ZONE_TEXT], TOKENS, deep=50))
@answers_within(PER_EXAMPLE)
def test_zone_text(text):
    try:
        z = dns.zone.from_text(text, origin=ZONE, relativize=False, check_origin=False)
    except (dns.exception.DNSException, ValueError, KeyError, UnicodeError):
        assume(False)  # dnspython refused it: no server would send it
    _check(_transfer_order(z))


def _wire(messages: list[list]) -> list[bytes]:
    """AXFR answer messages, each holding the given RRsets, as wire bytes."""
    query = dns.message.make_query(ZONE, "AXFR")
    out = []
    for rrsets in messages:
        m = dns.message.make_response(query)
        m.answer = rrsets
        out.append(m.to_wire())
    return out


def _seed_messages() -> list[list[bytes]]:
    z = dns.zone.from_text(ZONE_TEXT, origin=ZONE, relativize=False)
    rrsets = [rrset for rrset in z.iterate_rdatasets()]
    soa = [z.find_rrset(ZONE, "SOA")]
    body = [z.find_rrset(name, rds.rdtype) for name, rds in rrsets if rds.rdtype != dns.rdatatype.SOA]
    return [_wire([soa + body + soa]), _wire([soa + body[:4], body[4:], soa]), _wire([soa + body])]


SEEDS = _seed_messages()


@FUZZ
@given(st.sampled_from(SEEDS), st.data())
@answers_within(PER_EXAMPLE)
def test_axfr_messages(wires, data):
    i = data.draw(st.integers(0, len(wires) - 1))
    query = axfr.Query(int.from_bytes(wires[0][:2], "big"))  # the id the answers were made for
    wires = list(wires)
    wires[i] = data.draw(mutated_bytes([wires[i]], [b"\x00\x06", b"\xc0\x0c", b"\x00\x00\x00\x00", b"\xff\xff"]))
    try:
        records = list(axfr_records(ZONE, "192.0.2.53:53", lambda: axfr.records(ZONE, query, wires)))
    except DnsError as e:
        assert str(e).startswith(f"AXFR of {ZONE} from 192.0.2.53:53: ") and "\n" not in str(e)
        outcome("DnsError")
        return
    _check(records)


IN_ZONE = st.one_of(
    st.sampled_from([ZONE, "vm-1." + ZONE, "VM-1.Example.TEST.", "*.apps." + ZONE]),
    st.text(max_size=30).map(lambda s: s + "." + ZONE),
)
NAMES = st.one_of(IN_ZONE, IN_ZONE, st.sampled_from(["other.test.", ".", "", "example.test"]), st.text(max_size=30))
TYPES = st.one_of(st.sampled_from(["SOA", "A", "AAAA", "PTR", "TXT", "NS", "CNAME"]), st.text(max_size=6))
SOA_DATA = st.builds(
    lambda fields: " ".join(fields),
    st.lists(
        st.one_of(st.sampled_from(["ns1.", "h.", "42", "\u00b2", "9" * 5000, "-1", "0"]), st.text(max_size=8)),
        max_size=8,
    ),
)
DATA = st.one_of(
    SOA_DATA, st.sampled_from(["10.0.0.2", "2001:DB8::5", "vm-1.example.test", "010.0.0.1"]), st.text(max_size=40)
)
RECORDS = st.lists(st.tuples(NAMES, TYPES, st.integers(-(2**40), 2**40), DATA), max_size=12)


@FUZZ
@given(st.tuples(st.just(ZONE), st.just("SOA"), st.integers(0, 2**31), SOA_DATA), RECORDS)
@answers_within(PER_EXAMPLE)
def test_records_made_up(soa, records):
    _check([soa, *records, soa])
