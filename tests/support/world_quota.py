"""World builders for quota accounting: Cinder's and Neutron's usage rows, reservations and
the counts the sources read (per project, with GROUP BY), and Nova's leftover usage rows.

    w = World()
    ids = w.cinder_project("project-a", volumes=2, gigabytes=20)   # counted and usage rows agree
    w.cinder_usage("project-a", "volumes", in_use=5)                 # ... or a row of your own
    w.cinder_reservation(ids["volumes"], "project-a", "volumes", 1, expire_age=3 * DAY)
    w.neutron_project("project-a", port=4)                           # counts and rows agree
    w.quota_down("cinder")                                           # Cinder's quota tables unreadable

Cinder's and Neutron's quota kinds are declared read completely on first use; Nova's
usage rows only by `nova_quota_rows` (a cloud that has no such rows still reads the table:
`nova_quota_rows()` with no rows is "counted live").
"""

from __future__ import annotations

from osfsck.model.facts.cinder import CINDER_SCOPE, CinderVolumeType
from osfsck.model.facts.neutron import NEUTRON_SCOPE
from osfsck.model.facts.nova import API_SCOPE
from osfsck.model.facts.quota import (
    CinderCounted,
    CinderQuotaUsage,
    CinderReservation,
    NeutronCounted,
    NeutronQuotaDriver,
    NeutronQuotaUsage,
    NeutronReservation,
    NovaQuotaUsage,
)
from osfsck.model.snapshot import Coverage
from osfsck.rules.neutron_quota import LEGACY_DRIVER

DAY = 86400
DEFAULT_TYPE = "__DEFAULT__"
DEFAULT_TYPE_ID = "5d2c9a40-0c1e-4b7a-8f3d-6e5f4a3b2c1d"
CINDER_QUOTA_KINDS = (CinderQuotaUsage, CinderReservation, CinderCounted, CinderVolumeType)
NEUTRON_QUOTA_KINDS = (NeutronQuotaUsage, NeutronReservation, NeutronCounted)
_SOURCES = {CINDER_SCOPE: ("cinder-db", CINDER_QUOTA_KINDS), NEUTRON_SCOPE: ("neutron-db", NEUTRON_QUOTA_KINDS)}


def reservation_uid(n: int) -> str:
    return f"00000000-0000-4000-8000-{0xE5E7 << 32 | n:012x}"


class QuotaWorld:
    """Mixed into World (tests/support/world.py), which provides `ago`, `_facts`,
    `_coverage`, `_dropped` and `taken_at`."""

    def _q(self) -> dict:
        return self.__dict__.setdefault("_quota", {"usage": 0, "reservation": 0, "types": {}})

    def _quota_cover(self, kind, scope: str, source: str, complete: bool = True, reason: str = "") -> None:
        self._coverage[(kind.kind, scope)] = Coverage(kind.kind, scope, source, complete, reason, self.taken_at)

    def quotas(self, service: str, neutron_driver: str | None = LEGACY_DRIVER) -> None:
        """Declare `service`'s ("cinder" or "neutron") quota kinds read completely; Neutron's
        with the quota driver osfsck's config names (as the lab's: the legacy one, which
        trusts its rows; None: not configured)."""
        source, kinds = _SOURCES[service]
        if (kinds[0].kind, service) not in self._coverage:
            for kind in kinds:
                self._quota_cover(kind, service, source)
            if service == CINDER_SCOPE:
                self.cinder_type(DEFAULT_TYPE, DEFAULT_TYPE_ID)
            elif neutron_driver is not None:
                self._facts[NeutronQuotaDriver.kind].append(NeutronQuotaDriver(NEUTRON_SCOPE, neutron_driver))

    def quota_down(self, service: str, reason: str = "database: access denied") -> None:
        """`service`'s quota tables could not be read: its quota kinds are partial and empty."""
        self.quotas(service)
        source, kinds = _SOURCES[service]
        for kind in kinds:
            self._quota_cover(kind, service, source, False, f"{service} {reason}")
            self._dropped.add((kind.kind, service))

    # -- Cinder ---------------------------------------------------------------------------
    def cinder_type(self, name: str, id: str | None = None) -> str:
        types = self._q()["types"]
        if name not in types:
            self.quotas(CINDER_SCOPE)
            types[name] = id or f"7e7e0000-0000-4000-8000-{len(types) + 1:012x}"
            self._facts[CinderVolumeType.kind].append(CinderVolumeType(CINDER_SCOPE, types[name], name))
        return types[name]

    def cinder_counted(
        self,
        project: str,
        table: str = "volumes",
        *,
        count: int = 0,
        gigabytes: int = 0,
        type_name: str | None = DEFAULT_TYPE,
        updated_age=DAY,
        deleted_age=None,
    ) -> None:
        """What the source's GROUP BY reads for one table, project and volume type."""
        self.quotas(CINDER_SCOPE)
        type_id = self.cinder_type(type_name) if type_name and table in ("volumes", "snapshots") else None
        self._facts[CinderCounted.kind].append(
            CinderCounted(
                CINDER_SCOPE,
                table,
                project,
                type_id,
                count,
                gigabytes,
                self.ago(updated_age),
                self.ago(deleted_age) if deleted_age is not None else None,
            )
        )

    def cinder_usage(self, project: str, resource: str, *, in_use: int = 0, reserved: int = 0, age=DAY) -> int:
        """A live `quota_usages` row; returns its id."""
        self.quotas(CINDER_SCOPE)
        q = self._q()
        q["usage"] += 1
        self._facts[CinderQuotaUsage.kind].append(
            CinderQuotaUsage(
                CINDER_SCOPE, q["usage"], project, resource, in_use, reserved, self.ago(age), self.ago(30 * DAY)
            )
        )
        return q["usage"]

    def cinder_project(
        self,
        project: str,
        *,
        volumes: int = 1,
        gigabytes: int = 10,
        snapshots: int = 0,
        snapshot_gigabytes: int = 0,
        type_name: str = DEFAULT_TYPE,
        age=DAY,
    ) -> dict[str, int]:
        """Counted volumes (and snapshots) of one type and the usage rows that agree with
        them; returns {resource: usage row id}."""
        self.cinder_counted(project, count=volumes, gigabytes=gigabytes, type_name=type_name, updated_age=age)
        values = {
            "volumes": volumes,
            "gigabytes": gigabytes + snapshot_gigabytes,
            f"volumes_{type_name}": volumes,
            f"gigabytes_{type_name}": gigabytes + snapshot_gigabytes,
        }
        if snapshots:
            self.cinder_counted(
                project,
                "snapshots",
                count=snapshots,
                gigabytes=snapshot_gigabytes,
                type_name=type_name,
                updated_age=age,
            )
            values.update({"snapshots": snapshots, f"snapshots_{type_name}": snapshots})
        return {r: self.cinder_usage(project, r, in_use=n, age=age) for r, n in values.items()}

    def cinder_reservation(
        self,
        usage_id: int | None,
        project: str,
        resource: str,
        delta: int = 1,
        *,
        expire_age=None,
        expire_in=DAY,
        created_age=None,
    ) -> str:
        """A live reservation; expiring `expire_in` seconds after the snapshot, or, with
        `expire_age`, expired that long before it.  Returns its uuid."""
        self.quotas(CINDER_SCOPE)
        q = self._q()
        q["reservation"] += 1
        expire = self.ago(expire_age) if expire_age is not None else self.ago(-expire_in)
        created = self.ago(created_age) if created_age is not None else self.ago(expire_age or 0)
        uuid = reservation_uid(q["reservation"])
        self._facts[CinderReservation.kind].append(
            CinderReservation(CINDER_SCOPE, q["reservation"], uuid, usage_id, project, resource, delta, expire, created)
        )
        return uuid

    # -- Neutron --------------------------------------------------------------------------
    def neutron_counted(self, project: str, resource: str, count: int) -> None:
        self.quotas(NEUTRON_SCOPE)
        self._facts[NeutronCounted.kind].append(NeutronCounted(NEUTRON_SCOPE, resource, project, count))

    def neutron_usage(self, project: str, resource: str, in_use: int, *, dirty: bool = False) -> None:
        self.quotas(NEUTRON_SCOPE)
        self._facts[NeutronQuotaUsage.kind].append(
            NeutronQuotaUsage(NEUTRON_SCOPE, project, resource, in_use, 0, int(dirty))
        )

    def neutron_project(self, project: str, **counts: int) -> None:
        """Counted resources and usage rows that agree: neutron_project("p", port=3, network=1)."""
        for resource, n in counts.items():
            self.neutron_counted(project, resource, n)
            self.neutron_usage(project, resource, n)

    def neutron_reservation(self, project: str, *, expire_age=None, expire_in=120) -> str:
        self.quotas(NEUTRON_SCOPE)
        q = self._q()
        q["reservation"] += 1
        rid = reservation_uid(q["reservation"])
        expiration = self.ago(expire_age) if expire_age is not None else self.ago(-expire_in)
        self._facts[NeutronReservation.kind].append(NeutronReservation(NEUTRON_SCOPE, rid, project, expiration))
        return rid

    # -- Nova -----------------------------------------------------------------------------
    def nova_quota_rows(self, *scopes: str) -> None:
        """Declare Nova's quota_usages read in the API database and `scopes` (cells, as
        "cell:<name>"; default every declared cell)."""
        for scope in (API_SCOPE, *(scopes or [f"cell:{c}" for c in self._cells])):
            self._quota_cover(NovaQuotaUsage, scope, "nova-db")

    def nova_usage(
        self,
        project: str,
        resource: str,
        in_use: int,
        *,
        scope: str = "cell:cell1",
        user_id: str = "user-a",
        age=400 * DAY,
    ) -> None:
        q = self._q()
        q["usage"] += 1
        self._facts[NovaQuotaUsage.kind].append(
            NovaQuotaUsage(scope, q["usage"], project, user_id, resource, in_use, 0, self.ago(age))
        )

    def nova_quota_down(self, scope: str, reason: str = "cell database unreachable") -> None:
        self._quota_cover(NovaQuotaUsage, scope, "nova-db", False, reason)
        self._dropped.add((NovaQuotaUsage.kind, scope))
