from osfsck.sources.nova_db.source import NovaDatabaseSource

__all__ = ["NovaDatabaseSource"]
