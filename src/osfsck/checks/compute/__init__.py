"""Checks of compute state: libvirt domains and instance folders against Nova."""
