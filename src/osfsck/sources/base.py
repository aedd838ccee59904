"""What every source is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, ClassVar

from osfsck.model.result import SourceStatus
from osfsck.model.scope import RunScope
from osfsck.model.snapshot import Coverage, Snapshot

# progress(done, total) while a source collects many scopes; a ProgressFactory makes one
# per source, by its name (the CLI's progress line)
Progress = Callable[[int, int], None]
ProgressFactory = Callable[[str], Progress | None]


class SourceError(Exception):
    """A source could not run at all (bad URL, bad credentials...): one line."""


class NotConfigured(SourceError):
    """The source's service is not in the configuration: its checks are skipped, not failed."""


class Source:
    """Subclasses set `name` and `provides`, and implement `collect`.

    Sources run concurrently (engine/collect.py); one that reads others' facts from
    `known` (the hypervisor sources: Nova's host list) names their kinds in `requires`
    and runs after the sources providing them, seeing only their facts.
    """

    name: ClassVar[str]
    settings_attr: ClassVar[str]  # the Settings field it is built from ("cinder", "hypervisors", ...)
    provides: ClassVar[tuple] = ()
    # kinds this source reads from `known` (the host list from Nova's compute nodes and
    # services): collected whenever this source runs, whichever checks are selected
    requires: tuple = ()
    # what one scope of this source is, for "found nothing to read (no <noun> listed)"
    scope_noun: ClassVar[str] = "scope"
    # True for a source that builds facts by the hundred thousand from rows and creates no
    # reference cycles while doing so: the engine pauses the cyclic GC while it runs
    bulk: ClassVar[bool] = False
    # set by the engine: progress(done, total) while collecting many scopes, or None
    progress: Progress | None = None
    # set by the engine: the run's scope (--cell, --host, --project), or None; a source
    # reads nothing outside it (no coverage there: "not read")
    within: RunScope | None = None
    # kinds a source reads first and hands over (`hand_over`) before it is done, so that
    # the sources requiring only them start then (Nova's host list, read before the
    # cells' instances: the hypervisor sources need not wait for every Nova row)
    early_kinds: ClassVar[tuple] = ()
    # set by the engine: takes the part handed over (by default nobody waits for it)
    handed_over: Callable[[Snapshot], None] | None = None

    def __init__(self, settings: Any) -> None:
        """`settings`: its section of the Settings (`settings_attr`)."""
        self.settings = settings

    def reads(self) -> list[str]:
        """What this source reads, one line each: the grants/access an operator must give."""
        raise NotImplementedError

    def hand_over(self, part: Snapshot) -> None:
        """Give the sources waiting for `early_kinds` their facts and coverage, in `part`
        (not changed afterwards); they are in this source's own snapshot too."""
        if self.handed_over is not None:
            self.handed_over(part)

    def collect(
        self, kinds: set, known: Snapshot, sink: Snapshot, scopes: set[str] | None = None
    ) -> list[SourceStatus]:
        """Add facts of `kinds` (a subset of `provides`) to `sink` and cover every scope.

        `scopes`, when given, restricts collection to those scopes (a fresh re-check
        of the subjects of repairs); None means everything.
        """
        raise NotImplementedError


def cover_all(
    sink: Snapshot,
    kinds,
    scope: str,
    source: str,
    ok: bool,
    reason: str = "",
    at: dt.datetime | None = None,
    part: str = "",
) -> SourceStatus:
    """Record the same coverage for several kinds of one scope (`part`: of that part of
    it, Coverage.part); return its status line."""
    for k in kinds:
        sink.cover(Coverage(k.kind, scope, source, ok, reason, at, part))
    return SourceStatus(source, scope, "ok" if ok else "partial", reason)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
