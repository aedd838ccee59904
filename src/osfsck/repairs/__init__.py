"""The only code that writes to a cloud.  Each repair declares its safety class and what
it writes; the engine decides whether and when it runs (DESIGN §5)."""
