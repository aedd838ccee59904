"""The builder holds what is live, not the cloud's past: its memory does not grow with the
soft-deleted and archived rows (XL has 4.2 million of them, ten per live instance), which
are made again where they are written.  Measured with tracemalloc over the lab's spec and
every database it writes (SQLite), for ten times the past on the same live cloud."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tracemalloc
from pathlib import Path

from osfsck_lab import build, database, profiles, schemas
from osfsck_lab.profiles import Profile

NOW = dt.datetime(2026, 11, 24, 12, 0)
FEW = Profile(
    "few",
    cells=2,
    hosts_per_cell=2,
    live_per_host=40,
    deleted_per_live=2.0,
    archived_per_live=0.5,
    hypervisors="testfiles",
)
MANY = dataclasses.replace(FEW, name="many", deleted_per_live=20.0, archived_per_live=5.0)


def peak(profile: Profile, folder: Path) -> int:
    """tracemalloc's peak while the lab's spec is made and its databases written."""
    profiles.PROFILES[profile.name] = profile
    folder.mkdir(parents=True)
    tracemalloc.start()
    try:
        c = build.spec(profile.name, 1, NOW)
        build._write_databases(c, folder, None, "t", schemas.releases()[0])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        del profiles.PROFILES[profile.name]


def test_memory_does_not_grow_with_the_deleted_rows(tmp_path, monkeypatch):
    # rows go to the databases a chunk at a time: chunks far smaller than the past here (as
    # 5,000 rows are beside XL's 42,000 per cell) leave what is held to show
    monkeypatch.setattr(database, "CHUNK", 200)
    peak(FEW, tmp_path / "warm")  # what is made once (imports, schemas read, caches) before either measure
    few, many = peak(FEW, tmp_path / "few"), peak(MANY, tmp_path / "many")
    # 3,600 past rows against 360: a builder that held them (with their mappings, info
    # caches and instance actions) grows by several times
    assert many < 1.25 * few, f"peak {many / 2**20:.1f} MB with 10x the deleted rows, {few / 2**20:.1f} MB without"
