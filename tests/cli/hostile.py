"""A saved snapshot whose findings carry hostile cloud data, and the `check` of it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.world import DAY, World

# a domain name as a tenant or a broken hypervisor may leave it: terminal controls, a bidi
# override, a newline that would start a fake finding, csv's quote and comma, a NUL, a
# lone surrogate (bytes that are not UTF-8, read with surrogateescape), 200,000 long
HOSTILE = 'evil\x1b[2J\u202e\n  - HIGH fake,"quoted";\x00\udcff ' + "x" * 200_000


def hostile_snapshot(folder: Path) -> Path:
    """osfsck.toml (its journal and state file beside it) and snap.json in `folder`: two
    zombie domains (HV101), on hv1 (project-a) and on hv2 (project-b, named HOSTILE)."""
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.domain("hv1", w.instance(host="hv1", deleted=True, deleted_age=2 * DAY))
    w.domain("hv2", w.instance(host="hv2", deleted=True, deleted_age=2 * DAY, project_id="project-b"), name=HOSTILE)
    (folder / "snap.json").write_text(json.dumps(w.snapshot().to_json()))
    (folder / "osfsck.toml").write_text('[repair]\njournal = "journal.jsonl"\n')
    return folder


def check_argv(folder: Path, *extra: str) -> list[str]:
    return ["-c", str(folder / "osfsck.toml"), "check", "--from", str(folder / "snap.json"), "--select", "HV", *extra]
