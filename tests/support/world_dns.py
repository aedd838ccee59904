"""World builders for DNS zones (AXFR) and Designate (filled in by the issue 4 work)."""

from __future__ import annotations


class DnsWorld:
    """Mixed into World (tests/support/world.py)."""

    def _dns_init(self) -> None:
        pass
