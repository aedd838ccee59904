"""The HTTP clients' decoder (clients/fast_json.py): orjson's speed, json's acceptance, so
an NSX or RabbitMQ answer that json read is still read (a source must not turn partial
because the decoder changed)."""

import json
import math

import pytest

from osfsck.clients.fast_json import loads


@pytest.mark.parametrize(
    "text",
    [b'{"results": [{"id": "a", "_revision": 3}], "cursor": null}', b'[1.5, -3, true, null, "\\u00e9"]'],
)
def test_same_values_as_json(text):
    assert loads(text) == json.loads(text)


def test_what_only_json_accepts_is_still_read():
    assert math.isnan(loads(b'{"x": NaN}')["x"])  # orjson refuses NaN
    assert loads(b'{"name": "\\udc80"}') == {"name": "\udc80"}  # and a lone surrogate escape


@pytest.mark.parametrize("text", [b"<html>login</html>", b'{"a": 1', b"[" * 100_000])
def test_what_is_not_json_is_an_error(text):
    with pytest.raises((ValueError, RecursionError)):
        loads(text)


@pytest.mark.parametrize("text", [b"[-9223372036854775809]", b'{"n": 18446744073709551616}', b"[1e400]"])
def test_numbers_beyond_64_bits_are_read_exactly_as_json_reads_them(text):
    # orjson gives a float for an integer beyond 64 bits, losing digits (found by the fuzzer)
    assert json.dumps(loads(text)) == json.dumps(json.loads(text))
