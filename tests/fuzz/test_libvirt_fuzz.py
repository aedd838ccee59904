"""Domain XML as libvirt returns it for Nova's guests (the recorded fixtures), cut,
spliced, nested deep, re-encoded: parse_domain gives a Domain and its volumes or
DomainXMLError (one line); the libvirt source keeps every readable domain of a host and
makes the host partial for the others, whatever the XML.

The source is driven through a stand-in for libvirt-python's connection (listAllDomains,
XMLDesc, state, isActive): real libvirtd never hands out XML it did not write itself."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from osfsck.config.settings import HypervisorSettings
from osfsck.model.facts.hypervisor import Domain, DomainVolume, host_scope
from osfsck.model.snapshot import Snapshot
from osfsck.sources.libvirt.mapping import DomainXMLError, parse_domain
from osfsck.sources.libvirt.source import LibvirtSource
from tests.fuzz.mutate import FUZZ, PER_EXAMPLE, mutated_text, outcome
from tests.support.timebox import answers_within

FIXTURES = Path(__file__).parents[1] / "sources" / "fixtures" / "libvirt"
XML = [p.read_text() for p in sorted(FIXTURES.glob("*.xml"))]
TOKENS = [
    "<disk type='block' device='disk'>",
    "</disk>",
    "<serial>",
    "</serial>",
    "<source dev='/dev/sdc'/>",
    "<source/>",
    "<memory unit='GiB'>",
    "<memory unit='parsec'>",
    "</memory>",
    "<vcpu>",
    "</vcpu>",
    "-1",
    "99999999999999999999999",
    "&amp;",
    "&lt;",
    "&#0;",
    "&#xD800;",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<!DOCTYPE d [<!ENTITY e 'x'>]>",
    "&e;",
    "<uuid>",
    "</uuid>",
    "<domain>",
    "</domain>",
    "<a>",
    "<?xml version='1.0' encoding='UTF-16'?>",
    "xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'",
]


def _typed(d: Domain, vols: list) -> None:
    assert isinstance(d, Domain) and d.uuid and isinstance(d.name, str)
    assert isinstance(d.vcpus, int) and d.vcpus >= 0 and isinstance(d.memory_mb, int) and d.memory_mb >= 0
    assert all(isinstance(s, str) for s in d.disks)
    assert all(isinstance(v, DomainVolume) and v.serial and v.domain_uuid == d.uuid for v in vols)


@FUZZ
@given(mutated_text(XML, TOKENS), st.integers(0, 7), st.booleans())
@answers_within(PER_EXAMPLE)
def test_domain_xml(text, state, active):
    try:
        domain, vols = parse_domain("hv1", text, state, active)
    except DomainXMLError as e:
        assert str(e).startswith("hv1: ") and "\n" not in str(e)
        outcome("DomainXMLError")
        return
    outcome("facts")
    _typed(domain, vols)


class _Dom:
    def __init__(self, n: int, xml: str):
        self.n, self.xml = n, xml

    def XMLDesc(self, flags):
        return self.xml

    def state(self):
        return [1, 1]

    def isActive(self):
        return 1

    def name(self):
        return f"instance-{self.n}"


class _Conn:
    def __init__(self, xmls):
        self.xmls = xmls

    def listAllDomains(self, flags):
        return [_Dom(n, x) for n, x in enumerate(self.xmls)]

    def close(self):
        pass


@FUZZ
@given(st.lists(st.one_of(st.sampled_from(XML), mutated_text(XML, TOKENS)), max_size=4))
@answers_within(PER_EXAMPLE)
def test_the_source_keeps_what_it_can_read(xmls):
    src = LibvirtSource(HypervisorSettings(extra_hosts=("hv1",)), connect=lambda uri: _Conn(xmls))
    sink = Snapshot(taken_at=dt.datetime(2026, 1, 1))
    (status,) = src.collect({Domain, DomainVolume}, Snapshot(taken_at=None), sink)
    readable = []
    for x in xmls:
        try:
            readable.append(parse_domain("hv1", x, 1, True)[0])
        except DomainXMLError:
            pass
    assert sink.of(Domain) == readable
    assert (status.status == "ok") is (len(readable) == len(xmls)) and "\n" not in status.reason
    outcome(status.status)
    assert status.scope == host_scope("hv1")


def test_an_entity_bomb_is_refused_at_once():
    bomb = (
        "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'>"
        + "".join(f"<!ENTITY {c} '{('&' + p + ';') * 10}'>" for p, c in zip("abcdefgh", "bcdefghi"))
        + "]><domain><name>&i;</name><uuid>u</uuid></domain>"
    )
    try:
        parse_domain("hv1", bomb, 1, True)
    except DomainXMLError as e:
        assert "amplification" in str(e) or "cannot parse" in str(e)
