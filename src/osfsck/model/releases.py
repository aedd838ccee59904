"""OpenStack release names and their order, one order for the product and the lab.

Releases up to Zed have series names (queens ... zed); from 2023.1 on they are numbered
`YYYY.N` (2023.1 "Antelope", 2023.2 "Bobcat", ...).  Every named series sorts before
every numbered one.  Comparing the names as strings is wrong ("2023.10" < "2023.2",
"zed" > "2026.2"), so compare with `key` or `at_least`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# The series before the numbered releases, oldest first (Queens: the oldest osfsck reads about).
SERIES = ("queens", "rocky", "stein", "train", "ussuri", "victoria", "wallaby", "xena", "yoga", "zed")

_NUMBERED = re.compile(r"^(\d{4})\.(\d+)$")


def is_release(name: str) -> bool:
    return name in SERIES or _NUMBERED.match(name) is not None


def key(name: str) -> tuple[int, int]:
    """The sort key of a release name: (0, n) for the named series, (year, n) after them."""
    m = _NUMBERED.match(name)
    if m:
        return int(m.group(1)), int(m.group(2))
    if name in SERIES:
        return 0, SERIES.index(name)
    raise ValueError(f"not a release name: {name!r} (expected e.g. '2026.2' or 'zed')")


def newest_first(names: Iterable[str]) -> list[str]:
    return sorted(names, key=key, reverse=True)


def at_least(release: str, first: str) -> bool:
    """Whether `release` is `first` or newer: for behaviour that starts at release `first`."""
    return key(release) >= key(first)
