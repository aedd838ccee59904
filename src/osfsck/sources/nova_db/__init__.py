from osfsck.sources.nova_db.source import NovaDatabaseSource, NovaHostListSource

__all__ = ["NovaDatabaseSource", "NovaHostListSource"]
