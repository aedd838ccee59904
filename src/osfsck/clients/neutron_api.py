"""The Networking API v2.0 (neutron-server), for what must go through it: a port delete
makes Neutron unplug the port from its host, release its addresses, remove its SDN
objects (OVN, NSX) and tell Nova, which a database write would not.

Authentication is OpenStackApi's (keystoneauth1; neutron-server's endpoint from the
catalog's "network" service unless `endpoint` is set), or none at all (`auth = "none"`: a
standalone neutron-server with `auth_strategy = noauth`, which takes no token).  Errors
are one line (NeutronApiError).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from osfsck.clients.openstack_api import ApiError, OpenStackApi

if TYPE_CHECKING:
    import requests


class NeutronApiError(ApiError):
    """A request failed; one line naming what was asked and why."""


class NeutronApi(OpenStackApi):
    """`settings` is the `[neutron]` section (config.settings.NeutronSettings); the
    plumbing (Keystone, the catalog, errors) is OpenStackApi's.  noauth: neutron-server
    trusts every request, so no token is asked for or sent."""

    service_type = "network"
    section = "[neutron]"
    label = "the Networking API"
    Error = NeutronApiError

    # -- ports ------------------------------------------------------------------------
    def get_port(self, port_id: str) -> dict | None:
        """GET /v2.0/ports/{id}: the port's JSON, or None when Neutron has no such port."""
        what = f"read port {port_id}"
        r = self._request("GET", f"/v2.0/ports/{port_id}", what, missing_ok=True)
        if r is None:
            return None
        port = self._json(r, what).get("port")
        if not isinstance(port, dict):
            raise NeutronApiError(f"cannot {what}: no port in the answer")
        return port

    def delete_port(self, port_id: str, revision_number: int | None = None) -> bool:
        """DELETE /v2.0/ports/{id}; False when it was already gone.  With a revision, the
        delete is conditional (`If-Match: revision_number=N`): Neutron answers 412 when the
        port changed since it was read."""
        headers = {"If-Match": f"revision_number={revision_number}"} if revision_number is not None else {}
        return (
            self._request(
                "DELETE", f"/v2.0/ports/{port_id}", f"delete port {port_id}", headers=headers, missing_ok=True
            )
            is not None
        )

    def _refusal(self, r: requests.Response, what: str) -> str | None:
        if r.status_code == 412:
            return f"cannot {what}: it changed since it was read (412 Precondition Failed)"
        return None
