"""DnsIndex's lookups against the plain ipaddress answers they replace (they are written for
speed: one shift and one dict lookup per prefix length, names without a list or a copy each)."""

import datetime as dt
import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from osfsck.checks.dns.common import DnsIndex, _canon
from osfsck.model.facts.neutron import NEUTRON_SCOPE, NeutronSubnet
from osfsck.model.facts.nova import InstanceNetwork
from osfsck.model.snapshot import Snapshot

T0 = dt.datetime(2026, 3, 1)


def _index(cidrs, nets=()):
    snap = Snapshot(taken_at=T0)
    snap.add(
        NeutronSubnet.kind,
        [
            NeutronSubnet(NEUTRON_SCOPE, f"s{i}", "n", c, ipaddress.ip_network(c).version, 1, T0)
            for i, c in enumerate(cidrs)
        ],
    )
    snap.add(InstanceNetwork.kind, list(nets))
    return DnsIndex(snap)


def _plain_subnet_of(cidrs, address):
    """What subnet_of answered before: the widest range holding the address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    nets = {ipaddress.ip_network(c) for c in cidrs}
    for version, plen in sorted({(n.version, n.prefixlen) for n in nets}):
        if version == ip.version:
            net = ipaddress.ip_network((ip, plen), strict=False)
            if net in nets:
                return net
    return None


_V4 = st.builds(
    lambda a, p: str(ipaddress.ip_network((a, p), strict=False)), st.integers(0, 2**32 - 1), st.integers(8, 32)
)
_V6 = st.builds(
    lambda a, p: str(ipaddress.ip_network((a, p), strict=False)), st.integers(0, 2**128 - 1), st.integers(32, 128)
)
_ADDRESS = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n))),
    st.integers(0, 2**128 - 1).map(lambda n: str(ipaddress.IPv6Address(n))),
    st.sampled_from(["", "10.0.0", "not an address", "10.0.0.01", "fe80::1%eth0", "::ffff:10.0.0.1"]),
)


@settings(max_examples=300, deadline=None)
@given(cidrs=st.lists(st.one_of(_V4, _V6), max_size=6), addresses=st.lists(_ADDRESS, max_size=8))
def test_subnet_of_is_the_plain_answer(cidrs, addresses):
    idx = _index(cidrs)
    for a in addresses + [str(ipaddress.ip_network(c).network_address) for c in cidrs]:
        assert idx.subnet_of(a) == _plain_subnet_of(cidrs, a)
        assert idx.subnet_of(a) == _plain_subnet_of(cidrs, a)  # the cached answer too


def test_nested_ranges_answer_the_widest_and_other_versions_none():
    idx = _index(["10.0.0.0/8", "10.1.0.0/16", "2001:db8::/64"])
    assert str(idx.subnet_of("10.1.2.3")) == "10.0.0.0/8"
    assert idx.subnet_of("192.0.2.1") is None
    assert str(idx.subnet_of("2001:db8::5")) == "2001:db8::/64"
    assert idx.subnet_of("2001:db9::5") is None


@given(st.one_of(_ADDRESS, st.text(max_size=12)))
def test_canon_is_ipaddress_text_or_the_input(address):
    try:
        expected = str(ipaddress.ip_address(address))
    except ValueError:
        expected = address
    assert _canon(address) == expected


def _net(uuid, hostname, display_name, deleted=0):
    fields = dict.fromkeys(InstanceNetwork._fields)
    fields.update(cell="c1", uuid=uuid, hostname=hostname, display_name=display_name, deleted=deleted)
    fields.update(port_ids=(), addresses=())
    return InstanceNetwork(**fields)


def test_names_map_to_every_instance_that_has_them():
    a, b, c = (_net("aaaa", "Web-1", "web-1"), _net("bbbb", "web-1", "other", deleted=2), _net("cccc", "db", "DB"))
    idx = _index([], [a, b, c])
    assert list(idx.named("web-1")) == [a, a, b]  # "Web-1" and "web-1" are two names of a, as before
    assert list(idx.named("other")) == [b] and list(idx.named("bbbb")) == [b]
    assert list(idx.named("db")) == [c, c] and idx.named("nobody") == ()
    assert "aaaa" in idx.by_name and set(idx.live_nets) == {"aaaa", "cccc"}
