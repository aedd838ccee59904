"""Writes the check catalogue into README.md between its markers, from the check classes
(one identity, stated once).  `python tools/readme_catalogue.py --check` fails if stale."""

from __future__ import annotations

import sys
from pathlib import Path

from osfsck.engine.admin import catalogue

BEGIN, END = "<!-- catalogue:begin -->", "<!-- catalogue:end -->"


def table() -> str:
    rows = ["| code | name | severity | what it finds | repairs |", "|---|---|---|---|---|"]
    for c in catalogue():
        repairs = ", ".join(f"`{r['name']}` ({r['safety']})" for r in c["repairs"])
        rows.append(f"| {c['code']} | `{c['name']}` | {c['severity']} | {c['summary']} | {repairs} |")
    return "\n".join(rows)


def render(readme: str) -> str:
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


if __name__ == "__main__":
    path = Path(__file__).resolve().parent.parent / "README.md"
    text = path.read_text()
    new = render(text)
    if "--check" in sys.argv:
        sys.exit(0 if new == text else "README.md catalogue is stale: run python tools/readme_catalogue.py")
    path.write_text(new)
