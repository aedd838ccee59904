"""OVSDB JSON-RPC as ovsdb-server streams it to the OVN source, through the parser osfsck
hands python-ovs (clients/ovn_json.StreamParser), cut into random pieces and mutated
(cut short, spliced, nested past any decoder, stray brackets, garbage between messages):
`feed` never raises and takes what it was given, and a message ends as a value equal to
the standard library's reading of its text, or as an error string, which python-ovs's
Connection turns into a closed connection (the source's OvnNbError).  And NB rows of any
names and external_ids into facts (sources/ovn_nb/mapping): a fact or None."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from osfsck.clients.ovn_json import StreamParser
from osfsck.model.facts.ovn import (
    ACL,
    DHCP_OPTIONS,
    LOGICAL_ROUTER,
    LOGICAL_SWITCH,
    NAT,
    PORT_GROUP,
    ROUTER_PORT_TABLE,
    SWITCH_PORT,
    OvnNbRow,
)
from osfsck.sources.ovn_nb.mapping import to_fact
from tests.clients.test_ovn_json import MESSAGES
from tests.fuzz.mutate import FUZZ, PER_EXAMPLE, mutated_text, outcome
from tests.support.timebox import answers_within

STREAM = "".join(json.dumps(m) for m in MESSAGES)
TOKENS = ["{", "}", "[", "]", '"', "\\", '\\"', ",", ":", "null", "1e999", "-", "\n", " "]


def _pieces(draw, text: str) -> list[str]:
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=8)))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]


# a message nested deeper than any recursive decoder goes (ovsdb-server never sends one)
DEEP = st.builds(
    lambda n, o: "[" * n + json.dumps(o) + "]" * n + STREAM, st.integers(1000, 50_000), st.sampled_from(MESSAGES)
)


@FUZZ
@given(st.one_of(mutated_text([STREAM, json.dumps(MESSAGES[0])], TOKENS), DEEP), st.data())
@answers_within(PER_EXAMPLE)
def test_a_stream_in_pieces(text, data):
    """Feed as python-ovs's Connection does: each piece until the parser is done, then a
    new parser on what is left."""
    pending = _pieces(data.draw, text)
    parser, rest = StreamParser(), ""
    messages = 0
    while pending or rest:
        if not rest:
            rest = pending.pop(0)
            continue
        took = parser.feed(rest)
        assert 0 <= took <= len(rest)
        if not parser.is_done():
            assert took == len(rest), "a parser that is not done takes the whole piece"
        rest = rest[took:]
        if parser.is_done():
            value = parser.finish()
            messages += 1
            if isinstance(value, str):
                outcome("error string")
                break  # python-ovs closes the connection
            outcome("message")
            assert isinstance(value, (dict, list))
            parser = StreamParser()
        assert messages < 1000
    if not parser.is_done():
        assert isinstance(parser.finish(), str)  # cut short: an error, never a value


TABLES = [LOGICAL_SWITCH, SWITCH_PORT, LOGICAL_ROUTER, ROUTER_PORT_TABLE, PORT_GROUP, ACL, NAT, DHCP_OPTIONS]
NAMES = st.one_of(
    st.sampled_from(
        [
            "neutron-0b6e1b2c-1111-4c3a-9d2e-5f1a2b3c4d5e",
            "0b6e1b2c-1111-4c3a-9d2e-5f1a2b3c4d5e",
            "lrp-0b6e1b2c-1111-4c3a-9d2e-5f1a2b3c4d5e",
            "provnet-seg1",
            "pg_0b6e1b2c_1111_4c3a_9d2e_5f1a2b3c4d5e",
            "neutron_pg_drop",
            "",
        ]
    ),
    st.text(max_size=50),
)
EXTERNAL_IDS = st.dictionaries(
    st.one_of(
        st.sampled_from(
            [
                "neutron:revision_number",
                "neutron:security_group_id",
                "neutron:fip_id",
                "neutron:security_group_rule_id",
                "neutron:device_owner",
                "neutron:device_id",
                "port_id",
                "subnet_id",
            ]
        ),
        st.text(max_size=20),
    ),
    st.one_of(st.sampled_from(["7", "-1", "9" * 5000, "\u0663", "1e3", ""]), st.text(max_size=40)),
    max_size=6,
)


@FUZZ
@given(
    st.sampled_from(TABLES),
    st.text(max_size=36),
    NAMES,
    EXTERNAL_IDS,
    st.sampled_from(["", "localnet", "router"]),
    NAMES,
)
@answers_within(PER_EXAMPLE)
def test_nb_rows(table, uuid, name, external_ids, type_, parent):
    # rows come from python-ovs's IDL, typed by the NB schema: names and external_ids are text
    fact = to_fact(table, uuid, name, external_ids, type_, parent)
    outcome("None" if fact is None else "fact")
    if fact is not None:
        assert isinstance(fact, OvnNbRow) and (fact.revision is None or isinstance(fact.revision, int))
