from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, age_seconds, collected, scope_complete
from osfsck.checks.evidence import iso
from osfsck.checks.quotas.common import reservation_ref
from osfsck.model.facts.cinder import CINDER_SCOPE
from osfsck.model.facts.neutron import NEUTRON_SCOPE
from osfsck.model.facts.quota import CinderReservation, NeutronReservation
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot

# Cinder's scheduler expires reservations every reservation_clean_interval (default: its
# reservation_expire, 86400 s; cinder/quota.py, scheduler/manager.py); Neutron's
# DbQuotaNoLockDriver worker every 120 s, deleting those expired more than 120 s ago
# (neutron/db/quota/driver_nolock.py, RESERVATION_EXPIRATION_TIMEOUT).
CINDER_CLEAN_INTERVAL = 86400
NEUTRON_CLEAN_INTERVAL = 240


class ExpiredReservationEvidence(TypedDict):
    """What every QU102 finding's evidence holds."""

    reservation: dict[str, Any]


class ExpiredReservation(Check):
    """A quota reservation outlived its expiry without being committed, rolled back or cleaned.

    Why it matters:
        A Cinder reservation counts in its usage row's `reserved` until it is committed
        or rolled back; one whose request died is meant to be expired by the scheduler's
        periodic task, which gives the reserved amount back.  If that task does not run
        (no scheduler, a crashing periodic task, a clock far off) the reservations stay
        and keep the tenant's quota held.  Neutron counts every unexpired reservation
        against the limit and deletes expired ones from a periodic worker; rows left long
        after expiry mean that worker is not running.

    How it is detected:
        Each service's part runs when that service is configured.  Cinder: a live (not soft-deleted) `reservations` row whose `expire` is more than
        `cinder_clean_interval` (default 86400 s, Cinder's reservation_clean_interval)
        in the past: the periodic task should have expired it by then.  Neutron: a
        `reservations` row whose `expiration` is more than `neutron_clean_interval`
        (default 240 s: the worker runs every 120 s and removes what expired 120 s
        before) in the past.

    Known false positives:
        A reservation not yet expired, or expired less than one clean interval ago, is an
        operation in flight or waiting for the next periodic run: not reported.  Set the
        intervals here when the services run with other values.

    Repair:
        `delete-expired-reservations` (safe) does what the services' own expiry does:
        for Cinder (`reservation_expire`, cinder/db/api.py) soft-deletes the reservation
        and, for a positive delta, lowers its usage row's `reserved` by it; for Neutron
        (`Reservation.delete_expired`) deletes the reservation and its resourcedeltas.
        Each write is conditional on the rows as seen; `osfsck undo` puts them back.
    """

    code = "QU102"
    evidence_shape = ExpiredReservationEvidence
    name = "expired-reservation"
    severity = Severity.LOW
    needs = (CinderReservation, NeutronReservation)
    needs_one_of = ((CinderReservation,), (NeutronReservation,))  # a part per service
    relies_on = (CinderReservation, NeutronReservation)
    repairs = ("delete-expired-reservations",)
    defaults = {"cinder_clean_interval": CINDER_CLEAN_INTERVAL, "neutron_clean_interval": NEUTRON_CLEAN_INTERVAL}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        # each service's part runs when its rows were collected (its service configured);
        # when neither was, both say they could not look
        cinder, neutron = collected(snap, (CinderReservation,)), collected(snap, (NeutronReservation,))
        if (cinder or not neutron) and scope_complete(snap, out, CINDER_SCOPE, (CinderReservation,)):
            limit = float(self.params["cinder_clean_interval"])
            for r in snap.of(CinderReservation):
                out.examine()
                late = age_seconds(snap, r.expire)
                if late is None or late < limit:
                    continue
                ref = reservation_ref("cinder", r.uuid, CINDER_SCOPE)
                out.found(
                    ref,
                    f"Cinder reservation {ref.id} of {r.delta:+d} {r.resource} for project {r.project_id} expired "
                    f"{_ago(late)} ago and is still live.",
                    evidence={
                        "reservation": {
                            "id": r.id,
                            "uuid": r.uuid,
                            "usage_id": r.usage_id,
                            "project_id": r.project_id,
                            "resource": r.resource,
                            "delta": r.delta,
                            "expire": iso(r.expire),
                        }
                    },
                    changed_at=r.expire,
                )
        if (neutron or not cinder) and scope_complete(snap, out, NEUTRON_SCOPE, (NeutronReservation,)):
            limit = float(self.params["neutron_clean_interval"])
            for n in snap.of(NeutronReservation):
                out.examine()
                late = age_seconds(snap, n.expiration)
                if late is None or late < limit:
                    continue
                ref = reservation_ref("neutron", n.id, NEUTRON_SCOPE)
                out.found(
                    ref,
                    f"Neutron reservation {ref.id} for project {n.project_id} expired {_ago(late)} ago and was "
                    "not removed.",
                    evidence={"reservation": {"id": n.id, "project_id": n.project_id, "expiration": iso(n.expiration)}},
                    changed_at=n.expiration,
                )


def _ago(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 60:.0f} minutes"
