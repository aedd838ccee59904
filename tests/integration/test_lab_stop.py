"""Every server a lab starts is gone once `lab stop` or `osfsck demo` returns, whatever the
load, and a build that fails leaves none behind (issue 15, defect 13: with six labs built
at once each left its first hypervisor's libvirtd running).

"Gone" is judged by tests/support/leftovers.py, which reads /proc itself: no live process
names the lab's folders (the lab folder, and the short runtime folders its hypervisors use
when the lab's path is too long for libvirt's sockets) in its arguments or environment.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from osfsck_lab import build
from osfsck_lab.hypervisors import LabError, _layout
from tests.support.leftovers import leftovers

pytestmark = pytest.mark.integration


def osfsck(*args: str, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "osfsck.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def lab_folders(base: Path) -> list[Path]:
    """`base` and the short runtime folder of every hypervisor folder below it."""
    shorts = [_layout(hv.resolve())[2] for hv in base.glob("**/hv/*") if hv.is_dir()]
    return [base] + [s for s in shorts if s is not None]


def kill_leftovers(*folders: Path) -> None:
    """After a failure: the test leaves nothing of its own behind for the next one."""
    for line in leftovers(*folders):
        try:
            os.kill(int(line.split()[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass
    for short in folders[1:]:
        shutil.rmtree(short, ignore_errors=True)


@pytest.fixture
def base():
    # not tmp_path: pytest's folders are closed (0700) to the user the lab's libvirtd runs as
    path = Path(tempfile.mkdtemp(prefix="osfsck-test-"))
    path.chmod(0o755)
    yield path
    kill_leftovers(*lab_folders(path))
    shutil.rmtree(path, ignore_errors=True)


def test_a_build_that_fails_after_its_first_hypervisor_leaves_nothing(base):
    """The reported pattern: the first hypervisor (and its guests) started, then the build
    failed, and nothing had recorded them.  Here the second host's runtime folder is a
    symlink, which the lab refuses (a real LabError)."""
    out = base / "lab"  # long enough for the short runtime folders
    second = (out / "hv" / "c1-hv002").resolve()
    run = _layout(second)[1]
    run.parent.mkdir(parents=True)
    run.symlink_to("/nonexistent")
    try:
        with pytest.raises(LabError, match="not a folder of ours"):
            build.build(out, "small", seed=7)
        assert (out / "hv" / "c1-hv001" / "lab-host.json").exists(), "the first hypervisor was not started"
        assert leftovers(*lab_folders(base)) == []

        stop = osfsck("lab", "stop", str(out))  # the folder is a lab's, if a failed one
        assert (stop.returncode, stop.stderr) == (0, "")
        start = osfsck("lab", "start", str(out))  # nothing to start from a build that failed
        assert start.returncode == 8 and start.stderr.count("\n") == 1 and "build it again" in start.stderr
    finally:
        run.unlink()
        if run.parent != second:
            shutil.rmtree(run.parent, ignore_errors=True)


@pytest.mark.slow
def test_labs_built_at_once_leave_nothing_after_lab_stop(base):
    labs = [base / f"lab{seed}" for seed in (1, 2)]
    builds = [
        subprocess.Popen(
            [sys.executable, "-m", "osfsck.cli.main", "lab", "build", "--out", str(out), "--seed", str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed, out in zip((1, 2), labs)
    ]
    results = [(p.wait(900), p.stderr.read()) for p in builds]
    assert all(code == 0 for code, _ in results), results
    hosts = [json.loads((out / "lab.json").read_text())["hosts"] for out in labs]
    assert all(len(h) == 4 for h in hosts)
    assert leftovers(*labs), "the labs run nothing: this test would prove nothing"

    for out in labs:
        stop = osfsck("lab", "stop", str(out))
        assert (stop.returncode, stop.stderr) == (0, "")
        assert stop.stdout.strip() == "stopped 4 hypervisor daemon(s)"
    assert leftovers(*lab_folders(base)) == []


@pytest.mark.slow
def test_demo_leaves_nothing_when_it_returns():
    # The demo builds in a fresh temporary folder and removes it: TMPDIR puts that folder,
    # and the short runtime folders of its hypervisors, in ours.  Ours is short (14
    # characters) so that those stay within libvirt's socket path limit.
    base = Path(tempfile.mkdtemp(prefix="o", dir="/tmp"))
    base.chmod(0o755)
    try:
        demo = osfsck("demo", env={"TMPDIR": str(base)})
        assert leftovers(base) == []  # its neutron-server too
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr
        assert list(base.iterdir()) == []  # the demo removed its lab
        said_of_what_is_left(demo.stdout)
    finally:
        kill_leftovers(*lab_folders(base))
        shutil.rmtree(base, ignore_errors=True)


def said_of_what_is_left(stdout: str) -> None:
    """The demo's orphan ports (NT101) are deleted through the lab's neutron-server; what
    its last check still finds is named per code with why, and its final line does not
    call the cloud consistent."""
    orphans = {t["subject"] for t in build.spec("small", 1, dt.datetime(2026, 1, 1)).truth if t["code"] == "NT101"}
    deleted = set(re.findall(r"repaired: deleted port (\S+) \(\S+\) through the Neutron API", stdout))
    assert orphans and deleted == orphans, stdout[-5000:]
    final = stdout.rstrip().splitlines()[-1]
    assert final.startswith("-> repaired ") and "consistent" not in final and "NOT" not in final, final
    assert "NT101" not in final and "left for a person (runbooks): NT102 ×1" in final, final
    assert final.endswith(
        "handed to Neutron's OVN maintenance, which runs only with a real Neutron: OV102 ×1, OV103 ×1"
    )
    why = stdout[stdout.index("=== 5. what is left, and why") :]
    for code in re.findall(r"([A-Z]{2}\d{3}) ×\d", final):
        assert re.search(rf"^{code} ×\d+  (for a person|handed to Neutron): ", why, re.M), (code, why)
