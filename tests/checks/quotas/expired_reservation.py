"""Scenarios of QU102 expired-reservation: a reservation left long past its expiry."""

from osfsck.checks.quotas.expired_reservation import ExpiredReservation
from tests.checks.scenario import Case
from tests.support.world import DAY, HOUR, MINUTE, World
from tests.support.world_quota import reservation_uid


def _both() -> World:
    w = World()
    w.quotas("cinder")
    w.quotas("neutron")
    return w


def cinder_expired_days_ago():
    # the scheduler's periodic expiry has not run for days
    w = _both()
    ids = w.cinder_project("project-a", volumes=1, gigabytes=10)
    w.cinder_reservation(ids["volumes"], "project-a", "volumes", 1, expire_age=3 * DAY)
    return w.snapshot()


def neutron_expired_hours_ago():
    w = _both()
    w.neutron_reservation("project-a", expire_age=2 * HOUR)
    return w.snapshot()


def both_and_a_negative_delta():
    w = _both()
    ids = w.cinder_project("project-a", volumes=1, gigabytes=10)
    w.cinder_reservation(ids["gigabytes"], "project-a", "gigabytes", -10, expire_age=2 * DAY)
    w.neutron_reservation("project-b", expire_age=10 * MINUTE)
    return w.snapshot()


def verify_cinder(out):
    (f,) = out.findings
    assert "expired 3.0 days ago" in f.message and f.evidence["reservation"]["delta"] == 1
    assert f.subject.kind == "quota-reservation" and f.changed_at is not None


def clean():
    w = _both()
    ids = w.cinder_project("project-a", volumes=1, gigabytes=10)
    w.cinder_reservation(ids["volumes"], "project-a", "volumes", 1, expire_in=DAY)
    w.neutron_reservation("project-a", expire_in=100)
    return w.snapshot()


def cinder_expired_within_the_clean_interval():
    # expired an hour ago: the scheduler runs its expiry once a day by default
    w = _both()
    w.cinder_reservation(None, "project-a", "volumes", 1, expire_age=HOUR)
    return w.snapshot()


def neutron_expired_a_minute_ago():
    w = _both()
    w.neutron_reservation("project-a", expire_age=MINUTE)
    return w.snapshot()


def cinder_partial():
    w = _both()
    w.cinder_reservation(None, "project-a", "volumes", 1, expire_age=3 * DAY)
    w.quota_down("cinder")
    return w.snapshot()


CHECK = ExpiredReservation


def neutron_only_cloud():
    # issue 16 #2: no [cinder] in the config; Neutron's part still runs
    w = World()
    w.quotas("neutron")
    w.neutron_reservation("project-a", expire_age=2 * HOUR)
    return w.snapshot()


def cinder_only_cloud():
    w = World()
    w.quotas("cinder")
    ids = w.cinder_project("project-a", volumes=1, gigabytes=10)
    w.cinder_reservation(ids["volumes"], "project-a", "volumes", 1, expire_age=3 * DAY)
    return w.snapshot()


def neither_service_collected():
    return World().snapshot()


CASES = [
    Case(
        "found",
        "Cinder reservation expired 3 days ago",
        cinder_expired_days_ago,
        [("QU102", f"cinder/{reservation_uid(1)}")],
        verify=verify_cinder,
    ),
    Case(
        "found",
        "Neutron reservation expired 2 hours ago",
        neutron_expired_hours_ago,
        [("QU102", f"neutron/{reservation_uid(1)}")],
    ),
    Case(
        "found",
        "a negative Cinder delta and a Neutron one",
        both_and_a_negative_delta,
        [("QU102", f"cinder/{reservation_uid(1)}"), ("QU102", f"neutron/{reservation_uid(2)}")],
    ),
    Case("clean", "reservations not yet expired", clean),
    Case("near-miss", "Cinder's expiry runs once a day", cinder_expired_within_the_clean_interval),
    Case("near-miss", "Neutron's worker runs every 2 minutes", neutron_expired_a_minute_ago),
    Case(
        "found",
        "a shorter Cinder clean interval configured",
        cinder_expired_within_the_clean_interval,
        [("QU102", f"cinder/{reservation_uid(1)}")],
        params={"cinder_clean_interval": 1800},
    ),
    Case("partial", "Cinder's reservations unreadable", cinder_partial, ["cinder"]),
    Case(
        "found",
        "a Neutron-only cloud runs the Neutron part (issue 16 #2)",
        neutron_only_cloud,
        [("QU102", "neutron/00000000-0000-4000-8000-e5e700000001")],
    ),
    Case(
        "found",
        "a Cinder-only cloud runs the Cinder part (issue 16 #2)",
        cinder_only_cloud,
        [("QU102", "cinder/00000000-0000-4000-8000-e5e700000001")],
    ),
    Case("partial", "neither service's rows were collected", neither_service_collected, ["cinder", "neutron"]),
]
