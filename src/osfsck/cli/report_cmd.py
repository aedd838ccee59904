"""`osfsck report FILE -o report.html`: the HTML report of a run saved with `-f json` (the
osfsck-result/1 document), without reading the cloud again; or of a saved snapshot, which
is checked first exactly as `osfsck check --from SNAP -f html` checks it (cli/main)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from osfsck.model.snapshot import FORMAT as SNAPSHOT_FORMAT

RESULT_FORMAT = "osfsck-result/1"
# the result's lists of objects (report.render.result_dict): an edited file with another
# shape is refused in one line, not rendered half
LISTS = ("findings", "fixed", "repairs", "checks", "inconclusive", "sources", "skipped", "incomplete")


class ResultFormatError(Exception):
    """A file that is neither a saved result nor a snapshot: one line, exit 8 (as a bad
    snapshot)."""


def add_parser(command):
    p = command("report", "the HTML report of a run saved with -f json, or of a saved snapshot")
    p.add_argument(
        "result",
        metavar="FILE",
        help="a run's JSON result (osfsck check -f json -o FILE) or a snapshot (osfsck collect -o FILE)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    return p


def load(path: str) -> dict | None:
    """The saved result; None for a snapshot (to be checked: `check --from`); a
    ResultFormatError of one line (exit 8) for anything else."""
    try:
        raw = Path(path).read_bytes()
        doc = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    except (gzip.BadGzipFile, EOFError, UnicodeDecodeError, ValueError) as e:
        raise ResultFormatError(f"{path}: neither a JSON result nor a snapshot of osfsck ({e})") from None
    kind = doc.get("format") if isinstance(doc, dict) else None
    if kind == SNAPSHOT_FORMAT:
        return None
    if kind != RESULT_FORMAT:
        raise ResultFormatError(
            f"{path}: neither a JSON result nor a snapshot of osfsck "
            f"(format {kind!r}, not {RESULT_FORMAT!r} or {SNAPSHOT_FORMAT!r})"
        )
    for key in LISTS:
        items = doc.get(key)
        if items is not None and not (isinstance(items, list) and all(isinstance(i, dict) for i in items)):
            raise ResultFormatError(f"{path}: not a JSON result of osfsck ({key}: not a list of objects)")
    if not isinstance(doc.get("reclaimable") or {}, dict):
        raise ResultFormatError(f"{path}: not a JSON result of osfsck (reclaimable: not an object)")
    return doc
