"""What every repair is."""

from __future__ import annotations

from typing import ClassVar

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot


class RepairError(Exception):
    """Applying or undoing failed; one line."""


class NotOwned(Exception):
    """The object is not provably OpenStack's: do not touch it."""


class Undone(str):
    """What undo did, one line (a str: the journal and the CLI take it as it is), with
    `not_restored`: what it could not put back as it was, one phrase each, which the line
    also ends with ("; not restored: ...") and the CLI may show on lines of their own."""

    not_restored: tuple[str, ...] = ()

    def __new__(cls, done: str, not_restored=()):
        s = super().__new__(cls, done + "".join(f"; not restored: {n}" for n in not_restored))
        s.not_restored = tuple(not_restored)
        return s


class Repair:
    """Subclasses set `name`, `safety`, `writes` and implement the steps.

    The engine calls, in order: `plan` (from a finding, pure), `ownership` (pure, on the
    plan), `before_image` (reads the live object), then journals, then `apply`.
    `undo` reverses an applied repair from its journal entry where that is possible.
    """

    name: ClassVar[str]
    safety: ClassVar[Safety]
    writes: ClassVar[str]  # what it changes, for docs and `osfsck permissions`
    undoable: ClassVar[bool] = False

    def unavailable(self, settings) -> str | None:
        """Why this repair cannot run with these settings (its API is not configured), or None."""
        return None

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        """A plan, or a one-line reason why this finding cannot be repaired this way."""
        raise NotImplementedError

    def ownership(self, plan: RepairPlan, snap: Snapshot) -> None:
        """Raise NotOwned unless the target is provably OpenStack's (DESIGN §5.3)."""

    def before_image(self, plan: RepairPlan, ctx) -> dict:
        return {}

    def apply(self, plan: RepairPlan, ctx, before: dict) -> str | tuple[str, dict]:
        """Do it; return what was done, optionally with an "after" record for undo."""
        raise NotImplementedError

    def undo(self, entry: dict, ctx) -> str:
        """Put the before-image back; what was done, an `Undone` when something could not
        be put back exactly (a service's own timestamps, a secret osfsck did not keep)."""
        raise RepairError(f"{self.name} cannot be undone")

    def settled(self, plan: RepairPlan, fresh_fingerprints: set[str], fresh: Snapshot) -> bool:
        """After applying: is the problem gone?  By default: the finding is gone."""
        return plan.finding.fingerprint not in fresh_fingerprints


class Runbook(Repair):
    """A manual repair: the plan is text for an operator."""

    safety = Safety.MANUAL
    writes = "nothing (runbook for an operator)"

    def text(self, finding: Finding) -> str:
        raise NotImplementedError

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan:
        return RepairPlan(
            self.name, Safety.MANUAL, finding, finding.subject, action="follow the runbook", runbook=self.text(finding)
        )
