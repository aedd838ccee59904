"""One scheduled round of `osfsck serve`: a run under the journal's writer lock, whatever
the mode, so that a round and a manual `osfsck repair` (or `undo`, `purge-quarantine`)
never run at once.

A repairing round (`serve --repair-safe`) is `run` itself, which holds the lock from
before the cloud is read until the last repair is verified.  A read-only round takes the
same lock around its run: `check` alone needs none, but a service that checks every hour
must neither report a repair half made nor let one start while it reads.  A lock another
process holds raises LockHeld at once: the round is skipped, never queued."""

from __future__ import annotations

from osfsck.config.settings import Settings
from osfsck.engine.lock import exclusive
from osfsck.engine.options import RunOptions
from osfsck.engine.run import run
from osfsck.model.result import RunResult


def scheduled_run(settings: Settings, opts: RunOptions) -> RunResult:
    """The run `opts` asks for, holding the journal's writer lock; LockHeld if another holds it."""
    if opts.from_snapshots or opts.interactive or opts.unsafe or opts.plan is not None:
        # a service reads the live cloud and asks nobody; it applies safe repairs at most
        raise ValueError("a scheduled run is live, unattended and never unsafe")
    if opts.repair:
        return run(settings, opts)  # holds the lock itself (engine/run.py)
    with exclusive(settings.repair.journal, "serve"):
        return run(settings, opts)
