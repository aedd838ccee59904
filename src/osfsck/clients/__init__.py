"""How osfsck connects to each system: database engines, libvirt connections, the host
agent channel.  No facts and no decisions live here; sources and repairs both use it."""
