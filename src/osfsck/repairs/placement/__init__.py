"""Repairs through the Placement API: allocations deleted, moved or created, and orphan
compute providers deleted, each conditional on the generation read."""
