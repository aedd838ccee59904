"""iSCSI sessions and node records on each compute host, read through the host agent."""
