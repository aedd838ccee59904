from __future__ import annotations

from collections import defaultdict
from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, collected, recent, scope_complete
from osfsck.checks.quotas.common import MIN_AGE, cinder_usage_evidence, cinder_usages_by_key, usage_ref
from osfsck.model.facts.cinder import CINDER_SCOPE, CinderVolumeType
from osfsck.model.facts.neutron import NEUTRON_SCOPE
from osfsck.model.facts.nova import API_SCOPE, Cell, Instance, cell_scope
from osfsck.model.facts.quota import (
    NEUTRON_TRACKED,
    CinderCounted,
    CinderQuotaUsage,
    CinderReservation,
    NeutronCounted,
    NeutronQuotaDriver,
    NeutronQuotaUsage,
    NovaQuotaUsage,
)
from osfsck.model.finding import Confidence, Severity
from osfsck.model.schema_versions import place
from osfsck.model.snapshot import Snapshot
from osfsck.rules.cinder_quota import cinder_expected
from osfsck.rules.neutron_quota import neutron_reads_usages

CINDER_KINDS = (CinderQuotaUsage, CinderReservation, CinderCounted, CinderVolumeType)
NEUTRON_KINDS = (NeutronQuotaUsage, NeutronCounted)
# what Nova's reservation quotas synced from the instances table before Pike
NOVA_COUNTED = {"instances": lambda i: 1, "cores": lambda i: i.vcpus or 0, "ram": lambda i: i.memory_mb or 0}


class _QuotaUsageDriftEvidenceAlways(TypedDict):
    counted_in_use: int


class QuotaUsageDriftEvidence(_QuotaUsageDriftEvidenceAlways, total=False):
    """What every QU101 finding's evidence holds (and, below, what some do)."""

    counted_reserved: int
    no_snapshot_gb_quota: bool
    quota_driver: str  # Neutron's: which driver decided the rows are read, and how osfsck knows
    reservations: list[str]
    rows: list[dict[str, Any]]
    usage: dict[str, Any]


class QuotaUsageDrift(Check):
    """A quota usage row says a project uses (or has reserved) more or less than it does.

    Why it matters:
        Cinder admits a request when in_use + reserved + the request fit the limit: a row
        counting too much refuses volumes a tenant has room for ("VolumeLimitExceeded"
        with none left), one counting too little lets a tenant past its limit.  Rows drift
        when a commit or rollback is lost (a service killed mid-request, a database
        failover, a row deleted by hand), and nothing upstream notices:
        `cinder-manage quota check` always exits 0.  Neutron's legacy quota driver trusts
        `quotausages.in_use` the same way until a row is marked dirty (its default
        since Xena, DbQuotaNoLockDriver, counts live and never reads the table).

    How it is detected:
        Each service's part runs when that service is configured (Cinder's, Neutron's or
        both).  Cinder: every live `quota_usages` row is compared with what Cinder's own sync
        (`_get_sync_updates`, cinder/db/api.py) would set: the project's live volumes with
        use_quota (`volumes`, and `gigabytes` = their sizes plus their snapshots' unless
        `no_snapshot_gb_quota`), snapshots, backups (`backups`, `backup_gigabytes`),
        groups, and per volume type `volumes_<type>`, `gigabytes_<type>`,
        `snapshots_<type>` (a snapshot's type is its volume's).  `reserved` is compared
        with the sum of the row's live reservations with a positive delta, as
        `cinder-manage quota sync` recounts it.  Counts are read per project and type with
        GROUP BY, never object by object.  Neutron: every `quotausages` row of a tracked
        resource (network, subnet, port, subnetpool, router, floatingip, security_group,
        security_group_rule) against the number of rows of that project, as
        TrackedResource.count_used counts them; its `reserved` column is not compared
        (Neutron sums its reservations table instead and never writes it).  Neutron's rows
        are judged only when Neutron reads them, i.e. runs the legacy DbQuotaDriver:
        `[neutron] quota_driver` or neutron_conf's `[quotas] quota_driver` says which
        driver runs; when neither does, the default of the Neutron schema's release
        (DbQuotaDriver before Xena, DbQuotaNoLockDriver from Xena on); when that is
        unknown too, the rows are judged with low confidence and the finding says why.  Nova: since
        Pike Nova counts usage live (from the instances, or from Placement with
        count_usage_from_placement), and leaked Placement allocations are the drift there;
        `quota_usages` is read in the API and every cell database only to see whether
        the cloud still keeps rows.  When none exist nothing is judged.  When rows exist,
        their `instances`, `cores` and `ram` (summed over the users of a project) are
        compared with the live instances of the project (in that cell; in every cell for
        the API database's rows), reported with low confidence and low severity: no
        Nova since Pike reads them.

    Known false positives:
        An operation in flight: a usage row updated in the last `min_age` (default 30
        min), a reservation of the row made in that time, or a volume, snapshot, backup
        or group of the project created, changed or deleted in that time: the row is not
        judged.  Rows with duplicates are left to duplicate-quota-usage, and resources
        Cinder does not sync (a deleted volume type's, per_volume_gigabytes) are not
        judged.  A Neutron row marked dirty is not a finding: Neutron recounts it itself
        on the project's next request.  The rows a cloud upgraded past Xena keeps from
        the legacy driver drift and mean nothing: with DbQuotaNoLockDriver (or
        DbQuotaDriverNull) they are not judged.  A Neutron delete committed a moment
        before the check, whose row is not marked dirty yet, cannot be told apart (the
        tables have no deletion time).  Cinder running with `no_snapshot_gb_quota`: set
        the same option here.

    Repair:
        `recompute-quota-usage` (safe): per row, in one short transaction, locks the
        project's usage rows (SELECT ... FOR UPDATE, as cinder-manage does), recounts
        from the tables exactly as above, and writes in_use (and for Cinder reserved,
        for Neutron dirty = 0) only where the row still holds the values seen.  Nova's
        leftover rows are not rewritten (nothing reads them); archive them by hand.
    """

    code = "QU101"
    evidence_shape = QuotaUsageDriftEvidence
    name = "quota-usage-drift"
    severity = Severity.MEDIUM
    needs = (*CINDER_KINDS, *NEUTRON_KINDS)
    needs_one_of = (CINDER_KINDS, NEUTRON_KINDS)  # a part per service: either is enough
    relies_on = (CinderCounted, CinderReservation, CinderVolumeType, NeutronCounted)
    # Nova's leftover rows, and the instances they would count, when Nova is configured
    uses = (NovaQuotaUsage, Instance, Cell, NeutronQuotaDriver)
    repairs = ("recompute-quota-usage",)
    defaults = {"min_age": MIN_AGE, "no_snapshot_gb_quota": False}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        min_age = float(self.params["min_age"])
        # each service's part runs when its rows were collected (its service configured);
        # when neither was, both say they could not look
        cinder, neutron = collected(snap, CINDER_KINDS), collected(snap, NEUTRON_KINDS)
        if (cinder or not neutron) and scope_complete(snap, out, CINDER_SCOPE, CINDER_KINDS):
            self._cinder(snap, out, min_age)
        if (neutron or not cinder) and scope_complete(snap, out, NEUTRON_SCOPE, NEUTRON_KINDS):
            self._neutron(snap, out)
        self._nova(snap, out)

    # -- Cinder ---------------------------------------------------------------------------
    def _cinder(self, snap: Snapshot, out: CheckOutput, min_age: float) -> None:
        # a nameless type makes no resource name (volumes_<name>)
        types = {t.name: t.id for t in snap.of(CinderVolumeType) if t.name is not None}
        counted = defaultdict(list)
        for c in snap.of(CinderCounted):
            counted[c.project_id].append(c)
        reservations = defaultdict(list)
        for r in snap.of(CinderReservation):
            reservations[r.usage_id].append(r)
        no_snap_gb = bool(self.params["no_snapshot_gb_quota"])
        for (project, resource), rows in cinder_usages_by_key(snap).items():
            if len(rows) > 1:
                continue  # duplicate-quota-usage's: the merge recounts them
            u = rows[0]
            mine = counted.get(project, [])
            expected = cinder_expected(mine, resource, types, no_snap_gb)
            if expected is None:
                continue
            out.examine()
            held = reservations.get(u.id, [])
            if (
                recent(snap, u.updated_at, min_age)
                or any(recent(snap, r.created_at, min_age) for r in held)
                or any(recent(snap, c.last_updated, min_age) or recent(snap, c.last_deleted, min_age) for c in mine)
            ):
                continue
            reserved = sum(r.delta for r in held if r.delta > 0 and r.project_id == u.project_id)
            wrong = []
            if u.in_use != expected:
                wrong.append(f"in_use {u.in_use} where Cinder counts {expected}")
            if u.reserved != reserved:
                wrong.append(f"reserved {u.reserved} where its live reservations hold {reserved}")
            if not wrong:
                continue
            ref = usage_ref("cinder", project, resource, CINDER_SCOPE)
            out.found(
                ref,
                f"Cinder quota usage {ref.id} (row {u.id}) says {' and '.join(wrong)}.",
                evidence={
                    "usage": cinder_usage_evidence(u),
                    "counted_in_use": expected,
                    "counted_reserved": reserved,
                    "reservations": sorted(r.uuid for r in held),
                    "no_snapshot_gb_quota": no_snap_gb,
                },
                changed_at=u.updated_at,
            )

    # -- Neutron --------------------------------------------------------------------------
    @staticmethod
    def _neutron(snap: Snapshot, out: CheckOutput) -> None:
        usages = snap.of(NeutronQuotaUsage)
        if not usages:
            return
        configured = snap.of(NeutronQuotaDriver)
        schema = snap.schemas.get(NEUTRON_SCOPE)
        driver = neutron_reads_usages(
            configured[0].driver if configured else None, place(schema) if schema is not None else None
        )
        if driver.reads is False:
            return  # leftovers nothing reads: their numbers limit no project
        unsure = driver.reads is None
        counted = {(c.project_id, c.resource): c.count for c in snap.of(NeutronCounted)}
        for u in usages:
            if u.resource not in NEUTRON_TRACKED:
                continue
            out.examine()
            expected = counted.get((u.project_id, u.resource), 0)
            if u.in_use == expected or u.dirty:
                continue  # a dirty row is recounted by Neutron on the next request
            ref = usage_ref("neutron", u.project_id, u.resource, NEUTRON_SCOPE)
            out.found(
                ref,
                f"Neutron quota usage {ref.id} says in_use {u.in_use} where the project has {expected}, "
                "and the row is not marked dirty for a recount"
                + (
                    f". {driver.why}: this matters only if Neutron runs its legacy DbQuotaDriver "
                    "(say which in [neutron] quota_driver)."
                    if unsure
                    else "."
                ),
                evidence={
                    "usage": {
                        "project_id": u.project_id,
                        "resource": u.resource,
                        "in_use": u.in_use,
                        "reserved": u.reserved,
                        "dirty": u.dirty,
                    },
                    "counted_in_use": expected,
                    "quota_driver": driver.why,
                },
                confidence=Confidence.LOW if unsure else Confidence.HIGH,
            )

    # -- Nova -----------------------------------------------------------------------------
    def _nova(self, snap: Snapshot, out: CheckOutput) -> None:
        rows = defaultdict(list)
        for u in snap.of(NovaQuotaUsage):
            if u.resource in NOVA_COUNTED:
                rows[(u.scope, u.project_id, u.resource)].append(u)
        for scope in snap.scopes(NovaQuotaUsage):
            if not snap.is_complete(NovaQuotaUsage, scope):
                out.inconclusive(scope, snap.why_incomplete(NovaQuotaUsage, scope))
        if not rows:
            return  # counted live: nothing keeps usage rows
        # the API database's rows count every cell: the cells it lists, not only those read
        cells = sorted({cell_scope(c.name) for c in snap.of(Cell)} | set(snap.scopes(Instance)))
        live = defaultdict(list)
        for i in snap.of(Instance):
            if not i.deleted and not i.hidden:
                live[(cell_scope(i.cell), i.project_id)].append(i)
        for (scope, project, resource), found in sorted(rows.items(), key=lambda kv: tuple(map(str, kv[0]))):
            over = cells if scope == API_SCOPE else [scope]
            ref = usage_ref("nova", project, resource, scope)
            if scope == API_SCOPE and not scope_complete(snap, out, API_SCOPE, (Cell,), ref):
                continue
            if not all(scope_complete(snap, out, s, (Instance,), ref) for s in over):
                continue
            out.examine()
            expected = sum(NOVA_COUNTED[resource](i) for s in over for i in live.get((s, project), ()))
            in_use = sum(u.in_use for u in found)
            if in_use == expected:
                continue
            changed = max((u.updated_at for u in found if u.updated_at), default=None)
            out.found(
                ref,
                f"Nova's leftover quota usage {ref.id} in {scope} says {in_use} where the live instances "
                f"make {expected}; no Nova since Pike reads these rows (it counts live).",
                evidence={
                    "rows": [
                        {"id": u.id, "user_id": u.user_id, "in_use": u.in_use, "reserved": u.reserved}
                        for u in sorted(found, key=lambda u: u.id)
                    ],
                    "counted_in_use": expected,
                },
                confidence=Confidence.LOW,
                severity=Severity.LOW,
                changed_at=changed,
            )
