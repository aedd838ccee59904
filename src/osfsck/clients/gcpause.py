"""The cyclic garbage collector paused while many objects are built that hold no cycles.

A bulk source builds a million small tuples (engine/collect.py), the OVN reader decodes a
28 MB reply into about a million dicts and lists (clients/ovsdb_rpc.py): each of them
counts towards the collector's next pass, and each pass walks every container still
alive, for nothing (28% of the time to read the L profile's databases; 60% of orjson's
time to decode the OVN reply, 0.40 s against 0.16 s paused).

Sources run concurrently and `gc.disable` is process-wide, so the pause is counted: the
collector stops when the first pauser enters and resumes (if it was running before) when
the last leaves, however each block ends — never early, never left off.  A pauser that
asks for `freeze` has the objects built meanwhile frozen when the last leaves, so later
passes skip them too; reference counting still frees them, and only a cycle alive at the
freeze outlives its use (`forget_frozen` between the runs of a long-lived process)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pause:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.was_enabled = True
        self.freeze = False

    def enter(self, freeze: bool) -> None:
        with self.lock:
            self.depth += 1
            if self.depth == 1:
                self.was_enabled, self.freeze = gc.isenabled(), False
                gc.disable()
            self.freeze |= freeze

    def leave(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0:
                if self.freeze:
                    gc.freeze()
                if self.was_enabled:
                    gc.enable()


_pause = _Pause()


@contextmanager
def paused(freeze: bool = False) -> Iterator[None]:
    _pause.enter(freeze)
    try:
        yield
    finally:
        _pause.leave()


def forget_frozen() -> None:
    """Between two runs of a long-lived process (`osfsck serve`): hand what the last run
    froze back to the collector and collect it, so that a cycle frozen with a snapshot
    (a hypervisor source's threads) does not outlive its run."""
    gc.unfreeze()
    gc.collect()
