"""Repairs in the OVN northbound database."""
