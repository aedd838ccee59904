"""JSON text stored in database columns, parsed fast: a large cloud's network info caches
and connection infos are 10^5 JSON documents per run."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

loads: Callable[[str | bytes], Any]
try:
    from orjson import loads
except ImportError:  # pragma: no cover - orjson is a dependency; stay correct without it
    loads = json.loads
