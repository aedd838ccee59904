from __future__ import annotations

from collections import defaultdict
from typing import TypedDict

from osfsck.checks.base import Check, CheckOutput, age_seconds
from osfsck.checks.domains import all_hosts_read, domains_by_uuid, unread_hosts
from osfsck.checks.instance_index import ARCHIVED, DELETED, UNDECIDED, UNKNOWN, instance_index, may_be_building
from osfsck.model.facts.hypervisor import Domain, InstanceDir, host_scope
from osfsck.model.facts.nova import (
    ArchivedInstance,
    BuildRequest,
    Cell,
    ComputeNode,
    Instance,
    InstanceMapping,
    Migration,
)
from osfsck.model.finding import Confidence, Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


def storage_scope(d: InstanceDir) -> str:
    return d.storage if d.storage.startswith("host:") else f"storage:{d.storage}"


class OrphanInstanceDirEvidence(TypedDict):
    """What every HV110 finding's evidence holds."""

    apparent_bytes: int
    bytes: int
    disks: list[str]
    files: int
    host: str
    hosts: list[str]
    inode: int
    instance_state: str
    mtime: str
    path: str
    storage: str
    suffix: str
    used_by_domains_on: list[str]
    uuid: str


class OrphanInstanceDir(Check):
    """An instance folder on a hypervisor whose instance is deleted, archived or unknown.

    Why it matters:
        Instance folders hold the root, ephemeral and swap disks: tens to hundreds of GB
        each.  Nova deletes them in a periodic task that gives up after
        maximum_instance_delete_attempts (5) failures and never looks again once the rows
        are archived; nothing in Nova scans instances_path for folders nobody owns.
        They fill hypervisor disks until builds fail.

    How it is detected:
        Each `<instances_path>/<uuid>`, `<uuid>_resize` and `<uuid>_del` folder is looked
        up by UUID across every cell (live, soft-deleted, shadow tables) and the API
        database.  A folder whose instance is deleted or archived for longer than
        `min_age` (default 1 h, to let Nova's own pending-delete task run), or unknown
        and unmodified for `min_age`, is reported once per filesystem: hosts that mount
        the same shared instances_path see it once.  A host whose folders could not be
        listed (or a libvirt host of Nova's not read at all) is inconclusive.  The reclaimable size is the
        allocated size of its files.  The evidence says whether a domain still uses it.

    Known false positives:
        A folder of an instance being built or resized belongs to a live instance and is
        not reported.  Folders restored by hand for forensics look orphaned.

    Repair:
        `quarantine-instance-dir` (unsafe) renames the folder into
        `<instances_path>/.osfsck-quarantine/` on the same filesystem, only once no domain
        uses it; `osfsck undo` moves it back and `osfsck purge-quarantine` deletes what was
        quarantined longer ago than the retention age.
    """

    code = "HV110"
    evidence_shape = OrphanInstanceDirEvidence
    name = "orphan-instance-dir"
    severity = Severity.MEDIUM
    needs = (
        InstanceDir,
        Domain,
        Instance,
        ArchivedInstance,
        InstanceMapping,
        BuildRequest,
        Cell,
        Migration,
        ComputeNode,
    )
    relies_on = (Instance, ArchivedInstance, InstanceMapping, BuildRequest, Domain)
    repairs = ("quarantine-instance-dir",)
    defaults = {"min_age": 3600}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        idx = instance_index(snap)
        all_hosts_read(snap, out, InstanceDir, walked=True)  # folders on a host we could not list are not judged
        by_uuid = domains_by_uuid(snap)
        # one folder per filesystem, seen from every host that mounts it
        seen: dict[tuple[str, str, str], list[InstanceDir]] = defaultdict(list)
        for d in snap.of(InstanceDir):
            seen[(storage_scope(d), d.instances_path, d.name)].append(d)
        disk_users = _disk_users(snap)
        sharing: dict[str, set[str]] = defaultdict(set)
        for (scope, _, _), views in seen.items():
            sharing[scope].update(v.host for v in views)
        # a host whose domains we could not read may mount a shared export too and run a
        # domain on it (a libvirt host of Nova's not read at all, a host of a cell whose
        # compute nodes are unknown, too)
        unread = unread_hosts(snap)
        for (scope, _, _name), views in seen.items():  # findings are sorted at the end
            d = min(views, key=lambda v: v.host)
            hosts = sorted(sharing[scope]) if scope.startswith("storage:") else [d.host]
            out.examine()
            ref = ObjectRef("instance-dir", d.path, scope)
            st = idx.status(d.uuid)
            if st.state == UNDECIDED:
                for s in st.scopes:
                    out.inconclusive(s, st.reason, ref)
                continue
            if st.state not in (DELETED, ARCHIVED, UNKNOWN) or d.uuid in idx.build_requests:
                continue
            if st.state == UNKNOWN and (d.uuid in idx.mappings or may_be_building(out, idx, d.uuid, ref)):
                continue
            partial = {
                host_scope(h): snap.why_incomplete(Domain, host_scope(h))
                for h in hosts
                if not snap.is_complete(Domain, host_scope(h))
            }
            if scope.startswith("storage:"):
                partial.update(unread)
            if partial:
                first = min(partial, key=lambda s: (snap.outside(s), s))  # one read but partial first
                out.inconclusive(first, partial[first], ref)
                continue
            gone_at = (st.instance.deleted_at if st.instance else None) or (
                st.archived.deleted_at if st.archived else None
            )
            changed = max(t for t in (gone_at, d.mtime) if t) if (gone_at or d.mtime) else None
            age = age_seconds(snap, changed)
            if age is not None and age < self.params["min_age"]:
                continue  # Nova's _run_pending_deletes may still be removing it
            users = sorted(
                {dom.host for dom in by_uuid.get(d.uuid, ())} | {h for h in disk_users.get(d.path, ()) if h in hosts}
            )
            what = {DELETED: "deleted", ARCHIVED: "archived", UNKNOWN: "unknown to Nova"}[st.state]
            note = f" (still used by a domain on {', '.join(users)})" if users else ""
            out.found(
                ref,
                f"Instance folder {d.path} on {', '.join(hosts)} belongs to an instance that is {what}; "
                f"{_size(d.bytes)} reclaimable{note}.",
                related=[ObjectRef("host", h, host_scope(h)) for h in hosts],
                evidence={
                    "host": d.host,
                    "hosts": hosts,
                    "storage": d.storage,
                    "path": d.path,
                    "uuid": d.uuid,
                    "suffix": d.suffix,
                    "instance_state": st.state,
                    "bytes": d.bytes,
                    "apparent_bytes": d.apparent_bytes,
                    "files": d.files,
                    "disks": list(d.disks),
                    "inode": d.inode,
                    "mtime": d.mtime.isoformat() if d.mtime else None,
                    "used_by_domains_on": users,
                },
                confidence=Confidence.HIGH if st.state != UNKNOWN else Confidence.MEDIUM,
                changed_at=changed,
                reclaim={"disk_bytes": d.bytes},
            )


def _disk_users(snap: Snapshot) -> dict[str, set[str]]:
    """Instance folder path -> hosts with a domain whose disk lies inside it."""
    users: dict[str, set[str]] = defaultdict(set)
    for dom in snap.of(Domain):
        for src in dom.disks:
            parent = src.rsplit("/", 1)[0] if "/" in src else ""
            if parent:
                users[parent].add(dom.host)
    return users


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"
