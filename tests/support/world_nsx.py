"""World builders for an NSX manager (filled in by the issue 4 work)."""

from __future__ import annotations


class NsxWorld:
    """Mixed into World (tests/support/world.py)."""

    def _nsx_init(self) -> None:
        pass
