"""--confirm-runs: act only on findings seen in N consecutive runs (a state file)."""

from __future__ import annotations

import json
from pathlib import Path


def seen_counts(path: str | None) -> dict[str, int]:
    if not path or not Path(path).exists():
        return {}
    try:
        return {k: int(v) for k, v in json.loads(Path(path).read_text()).get("seen", {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def record_run(path: str | None, fingerprints: set[str], previous: dict[str, int]) -> dict[str, int]:
    """Counts after this run: +1 for findings seen again, 1 for new ones, dropped when gone."""
    counts = {fp: previous.get(fp, 0) + 1 for fp in fingerprints}
    if path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps({"seen": counts}, sort_keys=True))
        tmp.replace(p)
    return counts
