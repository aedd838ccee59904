"""What the Placement repairs share: the run's API client and the conditional write."""

from __future__ import annotations

from osfsck.clients.placement_api import PlacementApi, PlacementApiError, PlacementConflict
from osfsck.repairs.base import Context, RepairError

# what an undo through Placement's API cannot give back: the API takes no timestamps,
# generations or internal ids, it sets them itself
PLACEMENT_OWN = (
    "what Placement sets itself: created_at, updated_at and generations are new (so the checks give "
    "them their min_age before judging them again), and re-created rows get new internal ids"
)

NOT_CONFIGURED = (
    "[placement] has no API settings (cloud or OS_CLOUD; auth_url; endpoint and token_env; or endpoint and "
    'auth = "none"): follow the runbook'
)


def unavailable(settings) -> str | None:
    return None if settings.placement.api_configured else NOT_CONFIGURED


def placement_api(ctx: Context) -> PlacementApi:
    """The run's Placement client (one Keystone token for every repair of the run)."""
    settings = ctx.settings.placement
    if not settings.api_configured:
        raise RepairError(NOT_CONFIGURED)
    return ctx.client("placement-api", lambda: PlacementApi(settings))


def read_allocations(ctx: Context, consumer: str) -> dict:
    try:
        return placement_api(ctx).get_allocations(consumer)
    except PlacementApiError as e:
        raise RepairError(str(e)) from None


def resources(image: dict) -> dict:
    """{provider uuid: {class: used}} of a GET /allocations/{consumer} answer."""
    return {rp: dict(a.get("resources") or {}) for rp, a in (image.get("allocations") or {}).items()}


def put(ctx: Context, consumer: str, allocations: dict, image: dict, generation, what: str) -> None:
    """Replace the consumer's allocations with `allocations`, only while its generation is
    `generation` (None: only while it does not exist); owner and type from `image`."""
    # Nova writes no consumer type (its microversion predates 1.38), and Placement shows a
    # consumer without one as "unknown", which a PUT at 1.38 may not send back (the type
    # must match ^[A-Z0-9_]+$): Nova's consumers are its instances
    ctype = image.get("consumer_type")
    try:
        placement_api(ctx).put_allocations(
            consumer,
            allocations,
            consumer_generation=generation,
            project_id=image["project_id"],
            user_id=image["user_id"],
            consumer_type=ctype if ctype not in (None, "unknown") else "INSTANCE",
            what=what,
        )
    except PlacementConflict as e:
        raise RepairError(f"{e}; someone changed consumer {consumer} since it was read, left alone") from None
    except PlacementApiError as e:
        raise RepairError(str(e)) from None


def phrase(allocs: dict) -> str:
    return (
        "; ".join(
            f"{rp}: " + ", ".join(f"{n} {rc}" for rc, n in sorted(res.items())) for rp, res in sorted(allocs.items())
        )
        or "nothing"
    )
