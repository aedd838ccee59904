"""The lab: a synthetic cloud with the real Nova schemas, real hypervisor daemons and
instance folders, one fault of every kind plus near-miss noise, and the truth about it."""
