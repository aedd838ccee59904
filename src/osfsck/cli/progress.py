"""A progress line on stderr while sources collect, only when stderr is a terminal."""

from __future__ import annotations

import sys


def progress_factory():
    if not sys.stderr.isatty():
        return None

    def for_source(name: str):
        def update(done: int, total: int) -> None:
            end = "\n" if done >= total else ""
            sys.stderr.write(f"\r{name}: {done}/{total} hosts{end}")
            sys.stderr.flush()

        return update

    return for_source
