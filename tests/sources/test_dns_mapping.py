"""A transferred zone -> facts (osfsck.sources.dns.mapping), without a server."""

import pytest

from osfsck.model.facts.dns import DnsRecord, DnsZone
from osfsck.sources.dns.mapping import MalformedZone, zone_facts

SOA = ("Example.TEST.", "SOA", 300, "ns1.example.test. hostmaster.example.test. 42 3600 600 604800 300")


def facts(records, zone="example.test."):
    return zone_facts(zone, "192.0.2.53:53", "{hostname}.{zone}", False, records)


def test_records_are_lower_case_absolute_and_canonical():
    zone, records = facts(
        [
            SOA,
            ("example.test.", "NS", 300, "ns1.example.test."),
            ("VM-1.Example.Test.", "A", 300, "10.0.0.2"),
            ("vm-6.example.test.", "AAAA", 60, "2001:DB8:0:0:0:0:0:5"),
            ("vm-1.example.test.", "TXT", 300, '"openstack-instance=abc"'),
            ("vm-1.example.test.", "MX", 300, "10 mail.example.test."),
            SOA,
        ]
    )
    assert zone == DnsZone("dns:example.test.", "example.test.", "192.0.2.53:53", 42, "{hostname}.{zone}", False)
    assert records == [
        DnsRecord("dns:example.test.", "example.test.", "vm-1.example.test.", "A", 300, "10.0.0.2"),
        DnsRecord("dns:example.test.", "example.test.", "vm-6.example.test.", "AAAA", 60, "2001:db8::5"),
        DnsRecord("dns:example.test.", "example.test.", "vm-1.example.test.", "TXT", 300, '"openstack-instance=abc"'),
    ]


def test_delegations_and_aliases_are_kept_the_apex_ns_is_not():
    _, records = facts(
        [
            SOA,
            ("example.test.", "NS", 300, "ns1.example.test."),
            ("cloud.example.test.", "NS", 300, "NS.Cloud.Example.Test."),
            ("www.example.test.", "CNAME", 300, "Web-1.example.test"),
            SOA,
        ]
    )
    assert [(r.name, r.type, r.data) for r in records] == [
        ("cloud.example.test.", "NS", "ns.cloud.example.test."),
        ("www.example.test.", "CNAME", "web-1.example.test."),
    ]


def test_ptr_targets_are_absolute_and_lower_case():
    soa = ("0.0.10.in-addr.arpa.", "SOA", 300, "ns1.example.test. h.example.test. 7 1 1 1 1")
    _, records = facts([soa, ("2.0.0.10.in-addr.arpa.", "PTR", 300, "VM-1.example.test.")], "0.0.10.in-addr.arpa.")
    assert [(r.name, r.data) for r in records] == [("2.0.0.10.in-addr.arpa.", "vm-1.example.test.")]


def test_a_record_sent_twice_is_one_record():
    rec = ("vm-1.example.test.", "A", 300, "10.0.0.2")
    assert len(facts([SOA, rec, rec, SOA])[1]) == 1


@pytest.mark.parametrize(
    "records, message",
    [
        ([("vm-1.example.test.", "A", 300, "10.0.0.2")], "has no SOA"),
        ([SOA, ("vm-1.other.test.", "A", 300, "10.0.0.2")], "outside zone"),
        ([("example.test.", "SOA", 300, "garbage")], "SOA of example.test. is not readable"),
    ],
)
def test_a_malformed_zone_is_one_line(records, message):
    with pytest.raises(MalformedZone, match=message):
        facts(records)


@pytest.mark.parametrize(
    "serial",
    [
        "\u00b2",  # found by tests/fuzz: str.isdigit() takes a superscript two, int() does not
        "9" * 5000,  # int() refuses more than 4300 digits
        "\u0664\u0662",  # Arabic-Indic digits: int() reads 42, no DNS server writes them
        "4294967296",  # past the 32-bit serial (RFC 1982)
    ],
)
def test_a_soa_serial_no_server_sends_is_a_malformed_zone(serial):
    soa = ("example.test.", "SOA", 300, f"ns1.example.test. hostmaster.example.test. {serial} 3600 600 604800 300")
    with pytest.raises(MalformedZone, match="SOA of example.test. is not readable"):
        facts([soa, soa])
