"""Every bad input of tests/cli/bad_inputs.py gets one clear line on stderr and its
documented exit code, and writes nothing (issue 15, defects 6 and 7).

In-process through `osfsck.cli.main.main(argv)` (an exception escaping it is the traceback
an operator would see, and fails the test), and a dozen of them as real processes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from osfsck.cli.main import main
from tests.cli.bad_inputs import CASES, Bad

SUBPROCESS = (
    "toml-binary",
    "nova-conf-binary",
    "nova-conf-d-binary",
    "nova-api-ipv6",
    "hv-uri-template-unknown-field",
    "repair-share-string",
    "checks-unknown-name",
    "snap-gz-corrupt",
    "snap-deep-array",
    "snap-coverage-strings",
    "journal-binary-undo",
    "journal-array-journal",
    "cli-unknown-option",
    "cli-repair-unattended",
    "section-checks-scalar",
)


def setup(case: Bad, folder: Path) -> None:
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content = content()
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def tree(folder: Path) -> dict:
    """Every file and folder under `folder` with its content's digest and mode: what a run
    must leave as it found it (but the empty lock files repair and undo keep beside the
    journal: the lock is taken before the journal is read)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        st = p.lstat()
        if p.name.endswith(".lock") and st.st_size == 0:
            continue
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        out[str(p.relative_to(folder))] = (digest, st.st_mode)
    return out


def check_line(case: Bad, code: int, stderr: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    line = lines[0]
    assert code == case.code, line
    assert line.startswith("osfsck: "), line
    assert "internal error" not in line and "Traceback" not in line, line
    missing = [s for s in case.says if s not in line]
    assert not missing, f"{line!r} does not say {missing}"


def test_the_table_is_large_and_its_ids_unique():
    assert len(CASES) >= 110
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.code for c in CASES} == {8, 16}
    assert set(SUBPROCESS) <= {c.id for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_and_its_exit_code(case, tmp_path, monkeypatch, capsys):
    setup(case, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OSFSCK_CONFIG", raising=False)
    for k, v in case.env.items():
        monkeypatch.setenv(k, v)
    before = tree(tmp_path)
    code = main(list(case.argv))
    check_line(case, code, capsys.readouterr().err)
    assert tree(tmp_path) == before, "a bad input must write nothing"


@pytest.mark.parametrize("case", [c for c in CASES if c.id in SUBPROCESS], ids=lambda c: c.id)
def test_bad_input_as_a_process(case, tmp_path):
    setup(case, tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "OSFSCK_CONFIG"}
    p = subprocess.run(
        [sys.executable, "-m", "osfsck.cli.main", *case.argv],
        cwd=tmp_path,
        env={**env, **case.env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in p.stderr, p.stderr
    check_line(case, p.returncode, p.stderr)
