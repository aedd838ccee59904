"""`osfsck report RESULT.json -o report.html`: the HTML report of a run saved with
`-f json` (the osfsck-result/1 document), without reading the cloud again."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from osfsck.model.snapshot import FORMAT as SNAPSHOT_FORMAT
from osfsck.report.html import render_html

RESULT_FORMAT = "osfsck-result/1"


class ResultFormatError(Exception):
    """A file that is not a saved result: one line, exit 8 (as a bad snapshot)."""


def add_parser(command) -> None:
    p = command("report", "the HTML report of a run saved with -f json")
    p.add_argument("result", metavar="RESULT", help="a run's JSON result (osfsck check -f json -o RESULT)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")


def load(path: str) -> dict:
    """The saved result, or a ResultFormatError of one line (exit 8): a snapshot is checked
    first (`check --from`), anything else is not a result."""
    try:
        raw = Path(path).read_bytes()
        doc = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    except (gzip.BadGzipFile, EOFError, UnicodeDecodeError, ValueError) as e:
        raise ResultFormatError(f"{path}: not a JSON result of osfsck ({e})") from None
    kind = doc.get("format") if isinstance(doc, dict) else None
    if kind == SNAPSHOT_FORMAT:
        raise ResultFormatError(f"{path} is a snapshot: osfsck check --from {path} -f html -o report.html")
    if kind != RESULT_FORMAT:
        raise ResultFormatError(f"{path}: not a JSON result of osfsck (format {kind!r}, not {RESULT_FORMAT!r})")
    return doc


def cmd_report(args) -> str:
    return render_html(load(args.result))
