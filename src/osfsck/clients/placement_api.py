"""The Placement API, for the allocation and provider repairs: every write goes through
placement-api, never its database, so its generations, its consumer bookkeeping (a consumer
with no allocation left is deleted) and its caches stay right.

Microversion 1.38 on every request (`OpenStack-API-Version: placement 1.38`): consumer
generations (1.28) make a write conditional on what was read, and 1.38 carries the
consumer's type (INSTANCE, MIGRATION), which a PUT must then name, so undo gives it back.
A write whose generation is stale gets 409 with the error code `placement.concurrent_update`:
`PlacementConflict`, one line.

Authentication as OpenStackApi (keystoneauth1, catalog type "placement"); with `auth = "none"`
the token "admin" is sent: placement's `noauth2` middleware (placement/auth.py,
NoAuthMiddleware) refuses a request without X-Auth-Token and makes the token's user (here
"admin", with the admin role) the caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from osfsck.clients.http_errors import message
from osfsck.clients.openstack_api import ApiError, OpenStackApi

if TYPE_CHECKING:
    import requests

MICROVERSION = "1.38"


class PlacementApiError(ApiError):
    """A request failed; one line."""


class PlacementConflict(PlacementApiError):
    """409: the consumer or provider changed since it was read (or a delete was refused
    because the provider still has allocations or children)."""


class PlacementApi(OpenStackApi):
    service_type = "placement"
    section = "[placement]"
    label = "the Placement API"
    Error = PlacementApiError
    noauth_token = "admin"
    microversion = MICROVERSION

    # -- allocations ------------------------------------------------------------------
    def get_allocations(self, consumer: str) -> dict:
        """GET /allocations/{consumer}: {"allocations": {rp uuid: {"resources": {class: n},
        "generation": g}}, "consumer_generation", "project_id", "user_id", "consumer_type"};
        a consumer with no allocation has an empty "allocations" (and no generation)."""
        what = f"read the allocations of consumer {consumer}"
        return self._json(self._request("GET", f"/allocations/{consumer}", what), what)

    def put_allocations(
        self,
        consumer: str,
        allocations: dict,
        *,
        consumer_generation: int | None,
        project_id: str,
        user_id: str,
        consumer_type: str,
        what: str,
    ) -> None:
        """PUT /allocations/{consumer}: replace all of the consumer's allocations with
        `allocations` ({rp uuid: {class: n}}; empty deletes them and the consumer), only
        if its generation is still `consumer_generation` (None: the consumer must not
        exist yet).  PlacementConflict when it is not."""
        body = {
            "allocations": {rp: {"resources": dict(res)} for rp, res in allocations.items()},
            "consumer_generation": consumer_generation,
            "project_id": project_id,
            "user_id": user_id,
            "consumer_type": consumer_type,
        }
        self._request("PUT", f"/allocations/{consumer}", what, json=body)

    # -- resource providers -----------------------------------------------------------
    def get_provider(self, uuid: str) -> dict | None:
        """GET /resource_providers/{uuid}, or None when Placement has no such provider."""
        what = f"read resource provider {uuid}"
        r = self._request("GET", f"/resource_providers/{uuid}", what, missing_ok=True)
        return None if r is None else self._json(r, what)

    def provider_part(self, uuid: str, part: str) -> dict:
        """GET /resource_providers/{uuid}/{part}: "inventories", "traits", "aggregates" or
        "allocations" (each with the provider's generation)."""
        what = f"read the {part} of resource provider {uuid}"
        return self._json(self._request("GET", f"/resource_providers/{uuid}/{part}", what), what)

    def delete_provider(self, uuid: str) -> None:
        """DELETE /resource_providers/{uuid}: Placement refuses (409) while the provider has
        allocations or children."""
        self._request("DELETE", f"/resource_providers/{uuid}", f"delete resource provider {uuid}")

    def create_provider(self, uuid: str, name: str, parent_provider_uuid: str | None) -> dict:
        """POST /resource_providers with the given uuid (409 when it or its name exists)."""
        what = f"create resource provider {uuid} ({name})"
        body = {"uuid": uuid, "name": name}
        if parent_provider_uuid:
            body["parent_provider_uuid"] = parent_provider_uuid
        return self._json(self._request("POST", "/resource_providers", what, json=body), what)

    def put_provider_part(self, uuid: str, part: str, body: dict) -> dict:
        """PUT /resource_providers/{uuid}/{part}; `body` carries the provider's generation
        as read (resource_provider_generation), 409 when it moved."""
        what = f"set the {part} of resource provider {uuid}"
        return self._json(self._request("PUT", f"/resource_providers/{uuid}/{part}", what, json=body), what)

    def _refusal(self, r: requests.Response, what: str) -> str | None:
        if r.status_code == 409:
            conflict = PlacementConflict(f"cannot {what}: Placement refused it (409 Conflict: {message(r)})")
            conflict.answered = True
            raise conflict
        return None
