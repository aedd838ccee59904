"""HV: the hypervisors against Nova: libvirt domains (zombie, unknown, on the wrong host, on
two hosts) and instance folders nobody owns."""
