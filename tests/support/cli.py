"""Running osfsck as operators do: a separate process, and lab clouds to run it on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path


def osfsck(*args: str, config: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """`osfsck [-c config] args...` in a process of its own, without a terminal."""
    argv = [sys.executable, "-m", "osfsck.cli.main"] + (["-c", str(config)] if config else []) + list(args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def start_osfsck(*args: str, config: Path) -> subprocess.Popen:
    """The same, started and left running."""
    return subprocess.Popen(
        [sys.executable, "-m", "osfsck.cli.main", "-c", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


@contextmanager
def built_lab(seed: int, *extra: str):
    """A small lab cloud, stopped and removed afterwards."""
    # not tmp_path: pytest's folders are closed (0700) to the user the lab's libvirtd runs as
    base = Path(tempfile.mkdtemp(prefix="osfsck-test-"))
    base.chmod(0o755)
    out = base / "lab"
    try:
        p = osfsck("lab", "build", "--out", str(out), "--seed", str(seed), *extra)
        assert p.returncode == 0, p.stderr
        yield out
    finally:
        if (out / "lab.json").exists():
            osfsck("lab", "stop", str(out))
        shutil.rmtree(base, ignore_errors=True)


def truth(lab: Path) -> set[tuple[str, str]]:
    return {(f["code"], f["subject"]) for f in json.loads((lab / "truth.json").read_text())["faults"]}


def found(proc: subprocess.CompletedProcess) -> set[tuple[str, str]]:
    return {(f["code"], f["subject"]["id"]) for f in json.loads(proc.stdout)["findings"]}


def journal(lab: Path) -> list[dict]:
    """Every record of the lab's journal, in order."""
    path = lab / "osfsck" / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def variant(lab: Path, name: str, text: str) -> Path:
    """A config beside the lab's own (so its relative paths resolve the same)."""
    path = lab / name
    path.write_text(text)
    return path
