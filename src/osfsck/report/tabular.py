"""Rows with named columns in OpenStackClient's formats: table, csv, value, json, yaml.

OSC (cliff) habits kept: `-c/--column` picks and orders columns; `value` is the values
of each row separated by single spaces, without headers; `csv` has a header row; `json`
and `yaml` are a list of objects keyed by column name.  Column names here are stable
snake_case (the same in the header, the keys and `-c`).

Cloud data reaches these rows (names a tenant chose, DNS names, NSX display names), so
the formats for a terminal (table, value) show control and format characters escaped:
a message must not move the cursor, clear the screen or reorder text (bidi overrides).
csv, json and yaml quote them by their own rules and parse back to the same text.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from osfsck.model.secrets import redact

ROW_FORMATS = ("table", "csv", "value", "json", "yaml")
# what `value` and `table` show for a missing value: something, or the columns would shift
MISSING = "-"


class ColumnError(ValueError):
    """A -c that names no column of the listing."""


def choose(columns: Sequence[str], chosen: Iterable[str], default: Sequence[str] | None = None) -> list[str]:
    """The columns to show: `chosen` (case-insensitive, in the order given, comma lists
    allowed as OSC's -c is repeated), else `default`, else all."""
    wanted = [c.strip() for item in chosen for c in item.split(",") if c.strip()]
    if not wanted:
        return list(default or columns)
    by_lower = {c.lower(): c for c in columns}
    out = []
    for c in wanted:
        if c.lower() not in by_lower:
            raise ColumnError(f"no column {c!r}: the columns are {', '.join(columns)}")
        if by_lower[c.lower()] not in out:
            out.append(by_lower[c.lower()])
    return out


def printable(value: Any) -> str:
    """One line of text for a terminal: control, format (bidi) and surrogate characters
    written as escapes, so that what a cell shows is what it holds."""
    text = MISSING if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch == " " or ch.isprintable() else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if ch in named:
        return named[ch]
    n = ord(ch)
    if unicodedata.category(ch) == "Zs":  # a space of another width: harmless, keep it
        return ch
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def render_rows(fmt: str, columns: Sequence[str], rows: Sequence[dict]) -> str:
    """`rows` (dicts holding at least `columns`, values str, int, float, bool or None) in
    one of ROW_FORMATS."""
    picked = without_secrets([{c: r.get(c) for c in columns} for r in rows])
    if fmt == "json":
        return json.dumps(picked, indent=2, default=str) + "\n"
    if fmt == "yaml":
        return dump_yaml(picked)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        w.writerows(["" if r[c] is None else r[c] for c in columns] for r in picked)
        return buf.getvalue()
    if fmt == "value":
        return "".join(" ".join(printable(r[c]) for c in columns) + "\n" for r in picked)
    if fmt == "table":
        return box_table(columns, [[printable(r[c]) for c in columns] for r in picked])
    raise ValueError(f"not a row format: {fmt}")


def box_table(header: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    """The table OSC prints (prettytable's default style), numbers right-aligned."""
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(header)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+\n"

    def line(values: Sequence[str], align_numbers: bool) -> str:
        out = []
        for v, w in zip(values, widths):
            right = align_numbers and v.lstrip("-").replace(".", "", 1).isdigit()
            out.append(f" {v:>{w}} " if right else f" {v:<{w}} ")
        return "|" + "|".join(out) + "|\n"

    body = "".join(line(row, True) for row in cells)
    return rule + line(header, False) + rule + (body + rule if cells else "")


def dump_yaml(data: Any) -> str:
    """YAML of JSON-shaped data: plain types only (safe_dump), keys sorted as json's are."""
    return str(yaml.safe_dump(data, sort_keys=True, default_flow_style=False, allow_unicode=True, width=2**31 - 1))


def as_plain(data: Any) -> Any:
    """The data as JSON would carry it (datetimes and other objects as text): what the
    yaml format writes, so that json and yaml hold the same document."""
    return json.loads(json.dumps(data, default=str))


def without_secrets(data: Any) -> Any:
    """The data with every credential model/secrets finds (by name, by shape, inside JSON
    held in a string) replaced: what sources read is redacted already, this is the last
    line before anything is shown."""
    return redact(data)[0]
