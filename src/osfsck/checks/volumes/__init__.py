"""Checks of volume state across Nova's databases, Cinder's, the domain XML and iSCSI."""
