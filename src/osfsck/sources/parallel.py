"""Run one blocking call per item (per hypervisor) with bounded concurrency and a deadline.

libvirt and ssh calls can hang forever on a dead host (a TCP connect to a black-holed
address, a wedged libvirtd that accepts but never answers), and Python cannot interrupt a
thread that is blocked in C. So every item runs in a *daemon* thread: when its deadline
passes it is abandoned, its slot goes to the next item, and the interpreter can still exit.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True)
class Outcome:
    """What became of one item: its value, or a one-line reason why there is none."""

    ok: bool
    value: Any = None
    reason: str = ""
    seconds: float = 0.0
    timed_out: bool = False


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, without its type (an operator reads it)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def run_bounded(
    items: Iterable[T],
    fn: Callable[[T], Any],
    *,
    concurrency: int,
    timeout: float,
    progress: Callable[[int, int], None] | None = None,
) -> dict[T, Outcome]:
    """Call fn(item) for every item, at most `concurrency` at a time, each within `timeout` s.

    Returns {item: Outcome} in input order (items must be hashable and distinct).
    `progress(done, total)` is called from the caller's thread as items finish.
    A timed-out item's thread keeps running until its call returns, but no longer counts
    against `concurrency` (otherwise a few dead hosts would stall the whole run) and its
    late result is dropped.
    """
    order = list(items)
    total = len(order)
    limit = max(1, int(concurrency))
    pending = list(enumerate(order))
    pending.reverse()  # pop() from the end takes input order
    running: dict[int, tuple[float, float]] = {}  # index -> (started, deadline)
    results: dict[int, Outcome] = {}
    finished: queue.Queue = queue.Queue()

    def work(index: int, item: T) -> None:
        started = time.monotonic()
        try:
            value = fn(item)
        except BaseException as e:  # noqa: BLE001 - a worker must report, never die silently
            finished.put((index, Outcome(False, None, one_line(e), time.monotonic() - started)))
        else:
            finished.put((index, Outcome(True, value, "", time.monotonic() - started)))

    def record(index: int, outcome: Outcome) -> None:
        running.pop(index, None)
        results[index] = outcome
        if progress is not None:
            progress(len(results), total)

    while pending or running:
        while pending and len(running) < limit:
            index, item = pending.pop()
            now = time.monotonic()
            running[index] = (now, now + timeout)
            threading.Thread(target=work, args=(index, item), daemon=True, name=f"osfsck-bounded-{index}").start()
        wait = max(0.0, min(deadline for _, deadline in running.values()) - time.monotonic())
        wait = min(wait, 60.0)  # an infinite timeout would overflow Queue.get
        try:
            index, outcome = finished.get(timeout=wait)
        except queue.Empty:
            pass
        else:
            if index in running:  # else: it already timed out; drop the late result
                record(index, outcome)
        now = time.monotonic()
        for index, (started, deadline) in list(running.items()):
            if now >= deadline:
                record(index, Outcome(False, None, f"timed out after {timeout:g}s", now - started, timed_out=True))

    return {order[i]: results[i] for i in range(total)}
