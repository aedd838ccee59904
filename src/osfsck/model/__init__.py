"""Pure data: facts, snapshots, findings, plans, run results. Standard library only."""
