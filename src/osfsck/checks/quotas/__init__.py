"""Quota accounting: usage rows against what they count, reservations (issue 5)."""
