"""The OVN northbound database, read through an IDL (clients/ovn.py)."""
