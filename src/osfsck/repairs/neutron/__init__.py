"""Repairs of Neutron's ports, bindings and floating IPs."""
