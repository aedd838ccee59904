"""Checks of the OVN northbound database against Neutron."""
