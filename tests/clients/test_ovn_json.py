"""The JSON-RPC stream parser handed to python-ovs (clients/ovn_json.py) gives what
python-ovs's own Python parser gives, however the stream is cut."""

import json
import random

import ovs.json
import pytest

from osfsck.clients.ovn_json import ORIGINAL_PARSER, StreamParser

MESSAGES = [
    {
        "id": 1,
        "result": {
            "Logical_Switch_Port": {
                "u1": {
                    "initial": {
                        "name": "1b2c",
                        "external_ids": [
                            "map",
                            [["neutron:port_name", 'a "quoted" {name} [x]'], ["neutron:cidrs", "10.0.0.5/24"]],
                        ],
                    }
                }
            }
        },
        "error": None,
    },
    {
        "method": "update3",
        "params": [
            "monid",
            "00000000-0000-0000-0000-000000000000",
            {"ACL": {"u2": {"modify": {"match": "ip4 && tcp.dst == 22 \\\\ é ☃"}}}},
        ],
        "id": None,
    },
    {"id": "echo", "result": [], "error": None},
    {"id": 7, "result": [1.5, -3, True, False, None, 'back\\slash"', "", {}, []], "error": None},
]


def reference(text: str) -> list:
    """The values python-ovs's own Python parser reads from `text`, one message at a time."""
    out = []
    while text.strip():
        p = ORIGINAL_PARSER.__new__(ORIGINAL_PARSER)
        p.__init__()
        text = text[p.feed(text) :]
        out.append(p.finish())
    return out


def parse(text: str, cut) -> list:
    """Feed `text` as python-ovs's Connection does, in pieces cut by `cut`."""
    out, parser, pending = [], None, ""
    pieces = list(cut(text))
    while pieces or pending:
        if not pending:
            pending = pieces.pop(0)
            continue
        parser = parser or StreamParser()
        pending = pending[parser.feed(pending) :]
        if parser.is_done():
            out.append(parser.finish())
            parser = None
    return out


def every(n):
    return lambda t: [t[i : i + n] for i in range(0, len(t), n)]


def randomly(t):
    rng, i, out = random.Random(7), 0, []
    while i < len(t):
        k = rng.randint(1, 9)
        out.append(t[i : i + k])
        i += k
    return out


@pytest.mark.parametrize(
    "cut", [every(1), every(2), every(3), every(4096), randomly], ids=["1", "2", "3", "4096", "random"]
)
def test_same_values_as_python_ovs_however_cut(cut, monkeypatch):
    monkeypatch.setattr(ovs.json, "PARSER", ovs.json.PARSER_PY)
    monkeypatch.setattr(ovs.json, "Parser", ORIGINAL_PARSER)  # its __new__ names the module's Parser
    text = "".join(json.dumps(m) for m in MESSAGES)  # back to back, as ovsdb-server sends them
    assert parse(text, cut) == reference(text) == MESSAGES


def test_an_unfinished_message_is_an_error_string():
    p = StreamParser()
    assert p.feed('{"id": 1, "result": ["a') == len('{"id": 1, "result": ["a')
    assert not p.is_done() and isinstance(p.finish(), str)


def test_a_message_nested_past_the_decoder_is_an_error_string():
    # found by tests/fuzz: json.loads raised RecursionError out of finish(), through
    # python-ovs's Connection and the IDL, past the OVN source
    p = StreamParser()
    text = "[" * 1000 + "]" * 1000
    assert p.feed(text) == len(text) and p.is_done()
    assert p.finish().startswith("bad JSON")


@pytest.mark.parametrize("text", ["]", 'garbage {"id": 1}', '"a string"', "]]]]{}"])
def test_what_is_no_message_ends_at_once_as_an_error(text):
    # python-ovs's own parser fails at once on what cannot start a message; before, this
    # one waited for a closing bracket that never comes (until the source's deadline)
    p = StreamParser()
    assert p.feed(text) <= len(text) and p.is_done()
    assert isinstance(p.finish(), str)
