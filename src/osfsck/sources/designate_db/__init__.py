from osfsck.sources.designate_db.source import DesignateDatabaseSource

__all__ = ["DesignateDatabaseSource"]
