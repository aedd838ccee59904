"""A time limit for code that must answer, not merely finish some day: a parser fed a
cycle or a cursor that comes back must not loop.  SIGALRM, so the main thread only (where
pytest and hypothesis run tests)."""

from __future__ import annotations

import contextlib
import functools
import signal


class Hung(AssertionError):
    """The code under test did not answer within its time."""


@contextlib.contextmanager
def timebox(seconds: int):
    def expire(*_):
        raise Hung(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def answers_within(seconds: int):
    """Decorate a test (or a hypothesis property's body) to fail when it runs longer."""

    def wrap(fn):
        @functools.wraps(fn)
        def bounded(*args, **kwargs):
            with timebox(seconds):
                return fn(*args, **kwargs)

        return bounded

    return wrap
