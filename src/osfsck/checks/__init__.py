"""The catalogue: one module per check, grouped by domain.  Checks are pure functions of a
snapshot: no I/O, no clock, no environment."""
