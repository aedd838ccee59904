"""`osfsck report FILE -o report.html`: the HTML report of a run saved with `-f json` (the
osfsck-result/1 document), without reading the cloud again; or of a saved snapshot, which
is checked first exactly as `osfsck check --from SNAP -f html` checks it (cli/main)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from osfsck.model.snapshot import FORMAT as SNAPSHOT_FORMAT

RESULT_FORMAT = "osfsck-result/1"


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
    return doc
