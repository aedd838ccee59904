"""Checks of Neutron's ports, bindings and floating IPs against Nova."""
