"""Facts of quota accounting: usage rows, reservations and what they count (issue 5)."""

from __future__ import annotations
