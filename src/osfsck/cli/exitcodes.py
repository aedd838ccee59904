"""Exit status, a bitmask as in e2fsck (DESIGN §6)."""

OK = 0
REPAIRED = 1
LEFT = 4
OPERATIONAL = 8
USAGE = 16
CANCELLED = 32
