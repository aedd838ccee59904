"""Property: a volume check never reports more when it could see less (DESIGN §3).

Every world of the volume scenarios that was read whole is read again with one (fact
kind, scope) made partial (its facts kept, as when a read failed half-way) or missing
(its facts gone, as when the database or host could not be read at all), and with one
scope lost whole (a cell database, a host, the API database, Cinder).  Whatever the check
then reports must be among what it reported on the whole world: a finding it could only
make because it did not see something is a false finding.  (Issue 16 #3 and issue 15 #5:
stuck-volume-state took a shelved-offloaded instance's reserved volume for stuck when the
instance's cell was unread, leaked-iscsi-session a needed session when the API database
was.)
"""

from __future__ import annotations

import dataclasses

import pytest

from osfsck.checks.volumes.attachment_host_mismatch import AttachmentHostMismatch
from osfsck.checks.volumes.dangling_block_device_mapping import DanglingBlockDeviceMapping
from osfsck.checks.volumes.leaked_iscsi_session import LeakedIscsiSession
from osfsck.checks.volumes.missing_iscsi_session import MissingIscsiSession
from osfsck.checks.volumes.stale_iscsi_lun import StaleIscsiLun
from osfsck.checks.volumes.stale_volume_attachment import StaleVolumeAttachment
from osfsck.checks.volumes.stuck_volume_state import StuckVolumeState
from osfsck.checks.volumes.unexpected_volume_in_domain import UnexpectedVolumeInDomain
from osfsck.checks.volumes.volume_missing_from_domain import VolumeMissingFromDomain
from osfsck.model.facts.nova import API_SCOPE
from osfsck.model.snapshot import Snapshot, scope_of
from tests.checks.scenario import PARTIAL, Case, scenario_modules
from tests.support.world import World

CHECKS = (
    StaleVolumeAttachment,
    DanglingBlockDeviceMapping,
    StuckVolumeState,
    AttachmentHostMismatch,
    VolumeMissingFromDomain,
    UnexpectedVolumeInDomain,
    LeakedIscsiSession,
    MissingIscsiSession,
    StaleIscsiLun,
)


def _worlds() -> list:
    """(name, case, its check) of every volume scenario read whole."""
    out = []
    for modname, mod in scenario_modules().items():
        if ".volumes." not in f".{modname}.":
            continue
        for case in mod.CASES:
            if case.kind != PARTIAL:
                out.append((f"{modname.rsplit('.', 1)[1]}:{case.name}", case, mod.CHECK))
    return out


def cross_cell_moved():
    """An instance resized across cells: the copy the API shows is in cell2, a hidden one in
    cell1; its volume is attached on cell2's host.  Without cell2 the hidden copy must not
    pass for the instance (attachment-host-mismatch would blame the attachment)."""
    w = World()
    w.host("hv3", cell="cell2")
    u = w.instance(host="hv1", hidden=True, mapped="cell2")
    w.instance(u, cell="cell2", host="hv3", mapped=False)
    w.domain("hv3", u)
    w.attached_volume(u, host="hv3")
    return w.snapshot()


WORLDS = _worlds() + [("property:cross-cell move", Case("near-miss", "cross-cell move", cross_cell_moved), None)]


def _blinded(snap: Snapshot, lost: set, drop: bool) -> Snapshot:
    """`snap` with every (kind, scope) in `lost` partial, and its facts gone when `drop`."""
    out = Snapshot(taken_at=snap.taken_at, scope=snap.scope)
    for kind, facts in snap.facts.items():
        out.add(kind, [f for f in facts if (kind, scope_of(f)) not in lost] if drop else facts)
    for key, cov in snap.coverage.items():
        out.cover(dataclasses.replace(cov, complete=False, reason="unread in this variant") if key in lost else cov)
    return out


def _api_down(snap: Snapshot) -> Snapshot:
    """What the Nova source gives when the API database cannot be read: its kinds partial
    and empty, and no cell read at all (it is the API database that names them), so the
    cells have no coverage whatever."""
    api = {k for k in snap.coverage if k[1] == API_SCOPE}
    out = _blinded(snap, api, True)
    cells = {k for k in snap.coverage if k[1].startswith("cell:")}
    out.facts = {kind: [f for f in facts if (kind, scope_of(f)) not in cells] for kind, facts in out.facts.items()}
    out.coverage = {k: c for k, c in out.coverage.items() if k not in cells}
    return out


def _variants(snap: Snapshot):
    """(label, snapshot) for each (kind, scope) partial or missing, each scope lost whole,
    and the API database down."""
    keys = sorted(k for k, cov in snap.coverage.items() if cov.complete)
    for key in keys:
        for drop in (False, True):
            yield f"{key[0]}@{key[1]} {'missing' if drop else 'partial'}", _blinded(snap, {key}, drop)
    for scope in sorted({s for _, s in keys}):
        yield f"all of {scope} missing", _blinded(snap, {k for k in keys if k[1] == scope}, True)
    yield "the API database down (no cell read)", _api_down(snap)


def _fingerprints(check_cls, snap: Snapshot, params) -> set:
    return {f.fingerprint for f in check_cls(params).evaluate(snap).findings}


@pytest.mark.parametrize("name, case, own", WORLDS, ids=[n for n, _, _ in WORLDS])
def test_seeing_less_never_finds_more(name, case, own):
    base = case.build()
    params = {c: case.params if c is own else None for c in CHECKS}  # a case's settings are its check's
    whole = {c: _fingerprints(c, base, params[c]) for c in CHECKS}
    violations = []
    for label, snap in _variants(base):
        for c in CHECKS:
            extra = _fingerprints(c, snap, params[c]) - whole[c]
            if extra:
                violations.append(f"{c.code} with {label}: {sorted(extra)}")
    assert not violations, "\n".join(violations)


def test_the_worlds_exercise_every_check():
    """The property is only as strong as its worlds: each check finds something in some."""
    found = {
        c.code
        for _, case, own in WORLDS
        for c in CHECKS
        if _fingerprints(c, case.build(), case.params if c is own else None)
    }
    assert found == {c.code for c in CHECKS}
