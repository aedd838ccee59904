"""Facts read from dns (filled in by the issue 4 work)."""

from __future__ import annotations
