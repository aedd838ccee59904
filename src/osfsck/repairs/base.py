"""What every repair is."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from osfsck.clients.hostagent import HostChannel
    from osfsck.config.settings import Settings

_T = TypeVar("_T")


class RepairError(Exception):
    """Applying or undoing failed; one line."""


class NotOwned(Exception):
    """The object is not provably OpenStack's: do not touch it."""


class Undone(str):
    """What undo did, one line (a str: the journal and the CLI take it as it is), with
    `not_restored`: what it could not put back as it was, one phrase each, which the line
    also ends with ("; not restored: ...") and the CLI may show on lines of their own."""

    not_restored: tuple[str, ...] = ()

    def __new__(cls, done: str, not_restored: Iterable[str] = ()) -> Undone:
        s = super().__new__(cls, done + "".join(f"; not restored: {n}" for n in not_restored))
        s.not_restored = tuple(not_restored)
        return s


class Host(Protocol):
    """What a repair reads of a compute host's resolved settings."""

    @property
    def iscsiadm(self) -> str | None: ...


class Context(Protocol):
    """What a repair reaches the cloud through: the engine's RepairContext, which opens
    each connection on first use and closes them all at the end of the run."""

    settings: Settings

    def database(self, scope: str) -> Engine:
        """A read-write engine for "api", "cell:<name>" or a service ("cinder", "neutron")."""
        ...

    def nova_api(self) -> Engine: ...

    def cells(self) -> list[dict[str, Any]]:
        """Nova's cell_mappings rows."""
        ...

    def target(self, host: str) -> Host: ...

    def host_channel(self, host: str) -> HostChannel: ...

    def libvirt(self, host: str) -> Any:
        """The libvirt connection of `host` (a libvirt.virConnect: the library has no types)."""
        ...

    def client(self, key: str, make: Callable[[], _T]) -> _T:
        """A client kept for the run (an API, a DNS updater, an OVN or NSX connection):
        `make()` on first use."""
        ...


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
    # the service whose own process completes the fix after the run (None: the repair's own
    # write is the fix).  Its verify step then checks only that write: the finding goes
    # when that service acts (a later run sees it gone, or the finding stays)
    completed_by: ClassVar[str | None] = None

    def unavailable(self, settings: Settings) -> str | None:
        """Why this repair cannot run with these settings (its API is not configured), or None."""
        return None

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        """A plan, or a one-line reason why this finding cannot be repaired this way."""
        raise NotImplementedError

    def ownership(self, plan: RepairPlan, snap: Snapshot) -> None:
        """Raise NotOwned unless the target is provably OpenStack's (DESIGN §5.3)."""

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        return {}

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str | tuple[str, dict[str, Any]]:
        """Do it; return what was done, optionally with an "after" record for undo."""
        raise NotImplementedError

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        """Put the before-image back; what was done, an `Undone` when something could not
        be put back exactly (a service's own timestamps, a secret osfsck did not keep)."""
        raise RepairError(f"{self.name} cannot be undone")

    def settled(self, plan: RepairPlan, fresh_fingerprints: set[str], fresh: Snapshot) -> bool:
        """After applying: is the problem gone?  By default: the finding is gone (for a fix
        another service completes, `completed_by`: the write was made)."""
        return self.completed_by is not None or plan.finding.fingerprint not in fresh_fingerprints


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
