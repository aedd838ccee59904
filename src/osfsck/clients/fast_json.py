"""JSON answers of the HTTP APIs decoded by orjson (several times faster than json on the
pages of NSX and RabbitMQ lists, tools/bench_paging.py), with json's own reading kept for
what orjson refuses and json accepts (NaN, a lone surrogate escape): a faster decoder must
not make a source partial where it was whole."""

from __future__ import annotations

import json
import re

import orjson

# 19 digits and more: an integer orjson may not hold (beyond 64 bits it gives a float, and
# quietly loses digits); json reads it exactly (a long digit run in a string costs only time)
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def loads(content: bytes):
    """The value of `content`; ValueError (or RecursionError) when it is not JSON."""
    if _LONG_DIGITS.search(content):
        return json.loads(content)
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)
