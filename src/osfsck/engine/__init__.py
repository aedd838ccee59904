"""Select checks, collect what they need, evaluate, plan, guard, apply, verify.
Modes (check / repair / --unsafe / --interactive) exist only here (DESIGN §5)."""
