"""JSON answers of the HTTP APIs decoded by orjson (several times faster than json on the
pages of NSX and RabbitMQ lists, tools/bench_paging.py), with json's own reading kept for
what orjson refuses and json accepts (NaN, a lone surrogate escape): a faster decoder must
not make a source partial where it was whole."""

from __future__ import annotations

import json

import orjson


def loads(content: bytes):
    """The value of `content`; ValueError (or RecursionError) when it is not JSON."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)
