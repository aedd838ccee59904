from osfsck.sources.neutron_db.source import NeutronDatabaseSource

__all__ = ["NeutronDatabaseSource"]
