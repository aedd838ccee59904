"""A check's verdict in a run: its output on the snapshot, narrowed to the run's scope."""

from __future__ import annotations

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.scoping import narrow
from osfsck.model.snapshot import Snapshot


def judge(check: Check, snap: Snapshot) -> CheckOutput:
    """`check` on `snap`; in a scoped run (`snap.scope`), only what lies inside it, and
    what it could not decide inside or because something outside was not read
    (checks/scoping.py).  Every caller that reports or repairs goes through here."""
    out = check.evaluate(snap)
    if snap.scope:
        narrow(out, snap)
    return out
