"""Cinder's database, read-only."""

from osfsck.sources.cinder_db.source import CinderDatabaseSource

__all__ = ["CinderDatabaseSource"]
