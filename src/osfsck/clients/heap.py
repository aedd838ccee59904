"""Fewer malloc arenas for a run whose sources read side by side.

glibc gives every thread that allocates while another holds the heap an arena of its own
(up to eight per core), and memory freed in one arena serves only that arena.  A run's
sources are threads; what CPython hands to malloc rather than to its own small-object
allocator (texts over 512 bytes: network info and connection info JSON, driver buffers)
is then spread over many arenas, each keeping its high-water mark.  Two arenas: the M lab's
whole run 307 -> 289 MB peak RSS (tools/bench.py; glibc's MALLOC_ARENA_MAX, in-process)."""

from __future__ import annotations

import ctypes

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 2


def fewer_malloc_arenas() -> bool:
    """Limit glibc's arenas (before the sources' threads start); False where the C library
    is not glibc or refuses (nothing changes then)."""
    try:
        # the process's own symbols, the C library's among them (find_library would run
        # ldconfig in a subprocess at every start)
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, ARENAS))
    except (OSError, AttributeError):  # no such library, or no mallopt (musl, macOS)
        return False
