"""The OVN northbound database, read by one JSON-RPC select (clients/ovsdb_rpc.py)."""
