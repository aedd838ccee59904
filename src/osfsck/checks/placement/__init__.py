"""Placement: allocations and resource providers against what Nova has (instances,
migrations, compute nodes)."""
