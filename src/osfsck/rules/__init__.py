"""How the services themselves judge their rows: when Nova and Cinder take a service for
down, what Cinder's quota sync counts, which objects are Neutron's.  Pure functions over
facts, shared by the checks (which judge) and the repairs (which re-judge fresh before they
write); they import the model only (docs/design.md "Where things go")."""
