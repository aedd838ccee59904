"""World builders for the OVN northbound database (filled in by the issue 4 work)."""

from __future__ import annotations


class OvnWorld:
    """Mixed into World (tests/support/world.py)."""

    def _ovn_init(self) -> None:
        pass
