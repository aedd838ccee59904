"""Which objects are Neutron's, and which ports are an instance's."""

from __future__ import annotations

from osfsck.model.facts.neutron import COMPUTE_OWNER_PREFIX, NeutronPort
from osfsck.model.facts.nsx import NsxObject


def is_compute_port(port: NeutronPort) -> bool:
    return port.device_owner.startswith(COMPUTE_OWNER_PREFIX)


def is_neutrons(o: NsxObject) -> bool:
    """Made by Neutron for one of its objects, not by the plugin for itself, and of the
    deployment osfsck looks after."""
    return o.neutron_kind is not None and not o.internal and not o.other_deployment
