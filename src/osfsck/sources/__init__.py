"""Read-only collectors, one package per system.  A source yields facts and says, per
scope, whether it collected everything (DESIGN §3)."""
