"""Placement's database, read-only."""

from osfsck.sources.placement_db.source import PlacementDatabaseSource

__all__ = ["PlacementDatabaseSource"]
