"""Quota accounting in a lab cloud: Cinder's and Neutron's usage rows and reservations
consistent with what the cloud holds, then faults and near misses (issue 5).

`populate` runs last (after volumes, Neutron and Placement, faults and near misses of
those included): it adds a few Cinder snapshots and backups, then writes one usage row per
project and resource the way Cinder leaves them once every reservation is committed
(`volumes`, `gigabytes` with the snapshots' sizes, the per-type `volumes_<type>`,
`gigabytes_<type>`, `snapshots_<type>`, `backups`, `backup_gigabytes`; live rows with
use_quota only) and Neutron's legacy DbQuotaDriver leaves `quotausages`: one row per
tracked resource a tenant project has, recounted (clean) except where the project created
something within the last half hour: the API's quota hook marks the project's rows dirty
after every create (resource_registry.set_resources_dirty) and only a later list request
of that project recounts them (resync_resource), so such a row is dirty and still holds
the count from before.  (Neutron's default driver since Xena, DbQuotaNoLockDriver, counts
live and writes no `quotausages` row at all: these rows are a cloud configured with
`[QUOTAS] quota_driver = neutron.db.quota.driver.DbQuotaDriver`, or an upgraded one's
leftovers.)  Neutron's `reservations` live for a request (expiration 120 s ahead,
neutron/db/quota/api.py create_reservation; deleted on commit): none are written.  Nova
keeps no usage rows (counted live since Pike): none are written.  `inject` breaks them the
ways the QU checks detect, on projects no near miss touches; `near_misses` adds the states
they must leave alone.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from osfsck_lab import database, volumes
from osfsck_lab.cloud import Cloud, new_uuid, threshold

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
TYPE_NAME = volumes.VOLUME_TYPE["name"]
# Cinder's default reservation_expire (cinder/quota.py): a reservation made now expires in a day
RESERVATION_EXPIRE = DAY
# an operation newer than this is in flight for the checks (checks/quotas/common.py MIN_AGE)
IN_FLIGHT = 30 * MINUTE


@dataclass
class Quotas:
    """Rows keyed as the tables' columns."""

    snapshots: list = field(default_factory=list)
    backups: list = field(default_factory=list)
    cinder_usages: list = field(default_factory=list)  # quota_usages
    first_usage: dict = field(default_factory=dict)  # (project, resource) -> its first quota_usages row
    cinder_reservations: list = field(default_factory=list)  # reservations since the committed history
    # the committed history (_committed_history): the random state its uuids were drawn from,
    # the volumes it is of, how many rows it has; its rows are made where they are written
    history: tuple = (None, (), 0)
    neutron_usages: list = field(default_factory=list)  # quotausages
    used: set = field(default_factory=set)  # projects a fault or near miss took


# -- a consistent population ----------------------------------------------------------------


def populate(c: Cloud) -> None:
    q = c.quota = Quotas()
    counted = [v for v in c.volumes if not v["deleted"] and v["use_quota"]]
    for i, vol in enumerate(counted):
        if i % 7 == 3:
            _add_snapshot(c, vol)
        if i % 11 == 5:
            _add_backup(c, vol)
    # a snapshot deleted long ago: soft-deleted rows are never counted
    if counted:
        _add_snapshot(c, counted[0], deleted=True)
    for project in sorted({v["project_id"] for v in c.volumes}):
        for resource, in_use in sorted(cinder_counts(c, project).items()):
            _usage(c, project, resource, in_use)
    _committed_history(c)
    n = c.net
    if n is not None:
        fresh = _created_since(c, IN_FLIGHT)
        for project in sorted(n.by_project):
            for resource, in_use in sorted(neutron_counts(c, project).items()):
                new = fresh.get((project, resource), 0)
                q.neutron_usages.append(
                    {
                        "project_id": project,
                        "resource": resource,
                        "in_use": in_use - new,
                        "reserved": 0,
                        "dirty": int(bool(new)),
                    }
                )
                if new:
                    q.used.add(project)  # no fault on a row Neutron is about to recount


def cinder_counts(c: Cloud, project: str) -> dict[str, int]:
    """What Cinder's sync counts for one project: the resources it has rows for (a project
    gets a snapshots row once it made a snapshot, a backups row once it made a backup)."""
    vols = [v for v in c.volumes if v["project_id"] == project]
    live = [v for v in vols if not v["deleted"] and v["use_quota"]]
    snaps = [s for s in c.quota.snapshots if s["project_id"] == project]
    live_snaps = [s for s in snaps if not s["deleted"] and s["use_quota"]]
    gigabytes = sum(v["size"] for v in live) + sum(s["volume_size"] for s in live_snaps)
    out = {
        "volumes": len(live),
        "gigabytes": gigabytes,
        f"volumes_{TYPE_NAME}": len(live),
        f"gigabytes_{TYPE_NAME}": gigabytes,
    }
    if snaps:
        out.update({"snapshots": len(live_snaps), f"snapshots_{TYPE_NAME}": len(live_snaps)})
    backups = [b for b in c.quota.backups if b["project_id"] == project]
    if backups:
        live_b = [b for b in backups if not b["deleted"]]
        out.update({"backups": len(live_b), "backup_gigabytes": sum(b["size"] for b in live_b)})
    return out


def _tracked(c: Cloud) -> dict[str, list]:
    """The lab's rows of each Neutron tracked resource."""
    n = c.net
    return {
        "network": n.networks,
        "subnet": n.subnets,
        "port": n.ports,
        "router": n.routers,
        "floatingip": n.fips,
        "security_group": n.groups,
        "security_group_rule": n.rules,
    }


def neutron_counts(c: Cloud, project: str) -> dict[str, int]:
    counts = {r: sum(1 for row in rows if row["project_id"] == project) for r, rows in _tracked(c).items()}
    return {r: k for r, k in counts.items() if k or r != "floatingip"}


def _created_since(c: Cloud, span: dt.timedelta) -> dict:
    """{(project, tracked resource): how many of its rows were created within `span`}."""
    created = {a["id"]: a["created_at"] for a in c.net.attrs}
    out: dict = {}
    for resource, rows in _tracked(c).items():
        for row in rows:
            if c.now - created[row["standard_attr_id"]] < span:
                key = (row["project_id"], resource)
                out[key] = out.get(key, 0) + 1
    return out


def _add_snapshot(c: Cloud, vol: dict, *, deleted: bool = False) -> dict:
    when = c.now - (40 if deleted else 5) * DAY
    snap = {
        "id": c.uuid(),
        "volume_id": vol["id"],
        "project_id": vol["project_id"],
        "user_id": vol["user_id"],
        "status": "deleted" if deleted else "available",
        "progress": "100%",
        "volume_size": vol["size"],
        "volume_type_id": vol["volume_type_id"],
        "use_quota": 1,
        "display_name": f"snap-{vol['display_name']}",
        "deleted": int(deleted),
        "deleted_at": when if deleted else None,
        "created_at": when - DAY,
        "updated_at": when,
    }
    c.quota.snapshots.append(snap)
    return snap


def _add_backup(c: Cloud, vol: dict) -> dict:
    when = c.now - 4 * DAY
    backup = {
        "id": c.uuid(),
        "volume_id": vol["id"],
        "project_id": vol["project_id"],
        "user_id": vol["user_id"],
        "status": "available",
        "size": vol["size"],
        "object_count": 1,
        "num_dependent_backups": 0,
        "container": "volumebackups",
        "service": "cinder.backup.drivers.swift.SwiftBackupDriver",
        "display_name": f"backup-{vol['display_name']}",
        "deleted": 0,
        "created_at": when - HOUR,
        "updated_at": when,
    }
    c.quota.backups.append(backup)
    return backup


def _usage(
    c: Cloud, project: str, resource: str, in_use: int, *, age: dt.timedelta = 2 * DAY, race_preventer: int | None = 1
) -> dict:
    q = c.quota
    row = {
        "id": len(q.cinder_usages) + 1,
        "project_id": project,
        "resource": resource,
        "in_use": in_use,
        "reserved": 0,
        "until_refresh": None,
        "race_preventer": race_preventer,
        "deleted": 0,
        "created_at": c.now - 300 * DAY,
        "updated_at": c.now - age,
    }
    q.cinder_usages.append(row)
    q.first_usage.setdefault((project, resource), row)
    return row


def _row(c: Cloud, project: str, resource: str) -> dict:
    """The project's row of `resource` (the first, where a race made two): every reservation
    of every volume looks it up (XL: 1.2 million)."""
    return c.quota.first_usage[(project, resource)]


def _reservation(
    c: Cloud, usage: dict, delta: int, *, created: dt.datetime, committed: dt.datetime | None = None
) -> dict:
    """A reservation quota_reserve made; `committed`: when reservation_commit soft-deleted it
    (deleted = 1, deleted_at), its reserved amount given back."""
    q = c.quota
    r = _reservation_row(c.rng, q.history[2] + len(q.cinder_reservations) + 1, usage, delta, created, committed)
    q.cinder_reservations.append(r)
    if delta > 0 and committed is None:
        usage["reserved"] += delta  # what quota_reserve does
    return r


def _reservation_row(rng, n: int, usage: dict, delta: int, created: dt.datetime, committed: dt.datetime | None) -> dict:
    return {
        "id": n,
        "uuid": new_uuid(rng),
        "usage_id": usage["id"],
        "project_id": usage["project_id"],
        "resource": usage["resource"],
        "delta": delta,
        "expire": created + RESERVATION_EXPIRE,
        "deleted": int(committed is not None),
        "deleted_at": committed,
        "created_at": created,
        "updated_at": committed or created,
    }


def _committed_history(c: Cloud) -> None:
    """The reservations of every volume create and delete, committed: Cinder's commit
    soft-deletes them (reservation_commit -> reservation.delete), so a cloud keeps one row
    per resource per operation (a volume's four: volumes, gigabytes and their per-type
    twins).  Snapshots' and backups' are left out.  Drawn once here and not kept (XL: 1.3
    million rows): `reservation_rows` makes them again, the same."""
    state, vols = c.rng.getstate(), [v for v in c.volumes if v["use_quota"]]
    c.quota.history = (state, vols, sum(1 for _ in _history_rows(c, c.rng, vols)))


def _history_rows(c: Cloud, rng, vols: list) -> Iterator[dict]:
    n = 0
    for vol in vols:
        ops = [(vol["created_at"], 1)] + ([(vol["deleted_at"], -1)] if vol["deleted"] and vol["deleted_at"] else [])
        for when, sign in ops:
            for resource, delta in (
                ("volumes", 1),
                ("gigabytes", vol["size"]),
                (f"volumes_{TYPE_NAME}", 1),
                (f"gigabytes_{TYPE_NAME}", vol["size"]),
            ):
                n += 1
                yield _reservation_row(rng, n, _row(c, vol["project_id"], resource), sign * delta, when - MINUTE, when)


def reservation_rows(c: Cloud) -> Iterator[dict]:
    """Every Cinder `reservations` row: the committed history's, then those made since."""
    state, vols, _ = c.quota.history
    if state is not None:
        rng = random.Random()
        rng.setstate(state)
        yield from _history_rows(c, rng, vols)
    yield from c.quota.cinder_reservations


def _settled_projects(c: Cloud, service: str) -> list[str]:
    """Projects with usage rows that no fault or near miss took yet and whose objects
    changed longer ago than the checks' in-flight grace (a volume being attached a
    minute ago makes the checks leave its project's rows alone)."""
    if service == "neutron":
        return sorted({u["project_id"] for u in c.quota.neutron_usages} - c.quota.used)
    recent = {
        v["project_id"]
        for v in c.volumes
        if c.now - max(v["updated_at"], v["deleted_at"] or v["updated_at"]) < IN_FLIGHT
    }
    return sorted({u["project_id"] for u in c.quota.cinder_usages} - c.quota.used - recent)


def _take(c: Cloud, service: str) -> str:
    pool = _settled_projects(c, service)
    if not pool:
        raise ValueError(f"the lab has no {service} project left for another quota fault")
    project = c.rng.choice(pool)
    c.quota.used.add(project)
    return project


# -- faults -----------------------------------------------------------------------------


def inject(c: Cloud) -> None:
    """One fault per quota check (QU101 twice: Cinder and Neutron)."""
    cinder_drift(c)
    neutron_drift(c)
    expired_reservation(c)
    duplicate_usage(c)


def cinder_drift(c: Cloud) -> None:
    """A volume delete whose quota commit was lost (the service died between destroying
    the row and committing the negative reservation): in_use still counts it."""
    project = _take(c, "cinder")
    _row(c, project, "volumes")["in_use"] += 1
    c.fault("QU101", f"cinder/{project}/volumes", "volumes in_use counts a volume deleted without its quota commit")


def neutron_drift(c: Cloud) -> None:
    """Ports deleted by hand in the database (bypassing Neutron's events): the row still
    counts them and was never marked dirty."""
    project = _take(c, "neutron")
    row = next(u for u in c.quota.neutron_usages if u["project_id"] == project and u["resource"] == "port")
    row["in_use"] += 2
    c.fault("QU101", f"neutron/{project}/port", "port in_use counts two ports deleted behind Neutron's back")


def expired_reservation(c: Cloud) -> None:
    """A snapshot request that died after reserving: its reservation expired three days
    ago and the scheduler's periodic expiry is not running; reserved still holds it."""
    project = _take(c, "cinder")
    r = _reservation(c, _row(c, project, "gigabytes"), 5, created=c.now - 3 * DAY - RESERVATION_EXPIRE)
    c.fault("QU102", f"cinder/{r['uuid']}", "reservation of 5 gigabytes expired 3 days ago, never cleaned")


def duplicate_usage(c: Cloud) -> None:
    """Bug 1484343: two first reservations raced and each inserted a row (before the
    race_preventer constraint, so the extra row's race_preventer is NULL)."""
    project = _take(c, "cinder")
    keep = _row(c, project, "gigabytes")
    _usage(c, project, "gigabytes", 0, age=400 * DAY, race_preventer=None)
    c.fault("QU103", f"cinder/{project}/gigabytes", f"two live gigabytes rows (the first is {keep['id']})")


# -- near misses --------------------------------------------------------------------------


def near_misses(c: Cloud) -> None:
    """Legitimate quota states that must not be reported."""
    # a volume create mid-flight: reserved, the row written, the commit not yet made
    project = _take(c, "cinder")
    kind = "iscsi"
    vol = volumes.add_volume(c, kind, project, status="creating", age=2 * MINUTE)
    volumes.ripens_stuck(c, vol, "volume create in flight")
    for resource, delta in (
        ("volumes", 1),
        ("gigabytes", vol["size"]),
        (f"volumes_{TYPE_NAME}", 1),
        (f"gigabytes_{TYPE_NAME}", vol["size"]),
    ):
        usage = _row(c, project, resource)
        r = _reservation(c, usage, delta, created=c.now - 2 * MINUTE)
        usage["updated_at"] = c.now - 2 * MINUTE
        # counted in use by Cinder, not yet committed to the row: a drift once not in flight
        c.ripens(
            "QU101",
            f"cinder/{project}/{resource}",
            max(usage["updated_at"], r["created_at"], vol["updated_at"]) + threshold("QU101", "min_age"),
            "volume create in flight (reserved, not committed)",
        )
        _ripens_expired(c, r, "volume create in flight: its reservation")
    # a reservation made hours ago (expires tomorrow), and one expired an hour ago that
    # the scheduler's daily expiry has not reached yet: both still held in reserved
    project = _take(c, "cinder")
    r = _reservation(c, _row(c, project, "volumes"), 1, created=c.now - 5 * HOUR)
    _ripens_expired(c, r, "reservation made hours ago, not expired")
    r = _reservation(c, _row(c, project, "gigabytes"), 2, created=c.now - HOUR - RESERVATION_EXPIRE)
    _ripens_expired(c, r, "reservation expired an hour ago, within Cinder's daily expiry")
    # a migration's or backup's temporary volume (use_quota false) is not counted
    project = _take(c, "cinder")
    volumes.add_volume(c, "rbd", project, status="available", age=2 * DAY, use_quota=False)
    # a Neutron row marked dirty: Neutron recounts it on the project's next request
    project = _take(c, "neutron")
    row = next(u for u in c.quota.neutron_usages if u["project_id"] == project and u["resource"] == "port")
    row.update(in_use=row["in_use"] + 1, dirty=1)
    # (no Neutron reservation: one lives for its request, 120 s at most, and a lab checked
    # minutes after its build would hold it expired; tests/sources records that shape)
    c.notes += [
        "volume create in flight (reserved, not committed)",
        "reservation made hours ago, not expired",
        "reservation expired an hour ago, within Cinder's daily expiry",
        "temporary volume (use_quota false)",
        "Neutron quota usage marked dirty",
        "deleted volumes and snapshots (not counted)",
    ]


def _ripens_expired(c: Cloud, r: dict, why: str) -> None:
    """QU102's rule: the clean interval past the reservation's expiry."""
    c.ripens("QU102", f"cinder/{r['uuid']}", r["expire"] + threshold("QU102", "cinder_clean_interval"), why)


# -- the databases ---------------------------------------------------------------------------


def write(c: Cloud, urls: dict) -> None:
    q = c.quota
    if q is None:
        return
    database.insert_rows(urls["cinder"], "snapshots", q.snapshots)
    database.insert_rows(urls["cinder"], "backups", q.backups)
    database.insert_rows(urls["cinder"], "quota_usages", q.cinder_usages)
    database.insert_rows(urls["cinder"], "reservations", reservation_rows(c))
    database.insert_rows(urls["neutron"], "quotausages", q.neutron_usages)


def by_resource(rows: list[dict]) -> dict:
    """{(project, resource): [rows]}: for the tests."""
    out = defaultdict(list)
    for r in rows:
        out[(r["project_id"], r["resource"])].append(r)
    return dict(out)
