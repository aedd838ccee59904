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
