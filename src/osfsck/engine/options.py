"""What a run is asked to do: the only place modes are spelled out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from osfsck.model.plan import RepairPlan
from osfsck.model.scope import RunScope
from osfsck.sources.base import ProgressFactory

if TYPE_CHECKING:
    from osfsck.engine.planfile import PlanFile


@dataclass
class RunOptions:
    repair: bool = False  # False: `osfsck check` (read-only)
    unsafe: bool = False  # also apply unsafe plans
    interactive: bool = False  # ask per finding
    assume_yes: bool = False  # --yes: unattended
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    # --from FILE...: check saved snapshots (several: merged, model/snapshot_merge.py)
    from_snapshots: tuple[str, ...] = ()
    # --grace: overrides [repair] grace and every check's own (0: repair what was first
    # seen in this very run)
    grace: float | None = None
    # --max-count: apply at most this many plans of each check, the first in
    # guards.batch_order; the rest are left for the next run (None: no batch)
    max_count: int | None = None
    # --cell/--host/--project: read and report only inside (None: the whole cloud)
    scope: RunScope | None = None
    # repair --plan FILE: apply only the plans the file (engine/planfile.py) still holds
    plan: PlanFile | None = None
    # ask(plan) -> "y" | "n" | "a" (all for this check) | "q" (stop); given by the CLI
    ask: Callable[[RepairPlan], str] | None = None
    # progress(source_name) -> callable(done, total) | None; given by the CLI
    progress: ProgressFactory | None = None

    @property
    def mode(self) -> str:
        if not self.repair:
            return "check"
        return "repair-unsafe" if self.unsafe else "repair"
