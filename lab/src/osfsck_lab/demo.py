"""`osfsck demo`: build the small lab cloud, check it, repair it, check it again."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from osfsck.cli import exitcodes
from osfsck.config import load_settings
from osfsck.engine.options import RunOptions
from osfsck.engine.run import run
from osfsck.model.plan import Outcome
from osfsck.report import render
from osfsck_lab import build as lab_build
from osfsck_lab.cli import say
from osfsck_lab.database import LabDatabaseError
from osfsck_lab.hypervisors import LabError


def _banner(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 76 - len(text)))


def cmd_demo(args) -> int:
    out = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="osfsck-demo-"))
    try:
        code = _demo(args, out)
    finally:
        stopped = _stop(out)
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    return code if stopped else exitcodes.OPERATIONAL


def _stop(out: Path) -> bool:
    """Stop every server of the demo's lab (lab.json exists once its build has begun);
    whether all ended (each one that did not is named on stderr)."""
    if not (out / "lab.json").exists():
        return True
    try:
        lab_build.stop(out)
    except LabError as e:
        say(e)
        return False
    return True


def _demo(args, out: Path) -> int:
    try:
        _banner(
            "1. building a small cloud: real Nova, Cinder and Neutron schemas, one libvirtd per hypervisor, "
            "instance folders, volumes, iSCSI sessions, BIND zones, an OVN northbound database, an NSX "
            "stand-in, the Placement API and a RabbitMQ broker"
        )
        info = lab_build.build(out, "small", seed=1)
        near = len(json.loads((out / "truth.json").read_text())["near_misses"])
        print(
            f"{info['hosts']} hypervisors, {info['instances']} instance rows (+{info['archived']} archived), "
            f"{info['faults']} injected faults and {near} near misses (legitimate states that must not be flagged)"
        )
        settings = load_settings(str(out / "osfsck.toml"))
        _banner("2. osfsck check")
        first = run(settings, RunOptions())
        print(render(first, "text"), end="")
        _banner("3. osfsck repair --unsafe --yes --grace 0")
        print(
            "(--grace 0: the faults were planted a minute ago; a real run leaves a finding alone until\n"
            " [repair] grace has passed since its subject last changed, or since osfsck first saw it)\n"
        )
        fixed = run(settings, RunOptions(repair=True, unsafe=True, assume_yes=True, grace=0.0))
        print(render(fixed, "text"), end="")
        _banner("4. osfsck check, again")
        second = run(settings, RunOptions())
        print(render(second, "text"), end="")
        # what only a person may fix (a runbook by design: a guest's disks) stays, and says so
        manual = {pr.finding.fingerprint for pr in fixed.plans if pr.outcome is Outcome.MANUAL}
        left = {f.fingerprint for f in second.findings}
        ok = (
            first.exit_code() == 4
            and fixed.exit_code() in (1, 5)
            and left <= manual
            and second.exit_code() == (4 if left else 0)
        )
        print(
            f"\nexit codes: check {first.exit_code()}, repair {fixed.exit_code()}, check again {second.exit_code()}"
            f" -> {'consistent' if ok else 'NOT consistent'}"
            + (
                f"; left for a person (runbooks): {', '.join(sorted({f.code for f in second.findings}))}"
                if left and ok
                else ""
            )
        )
        print(f"journal of what was done: osfsck -c {out}/osfsck.toml journal" if args.keep else "")
        return exitcodes.OK if ok else exitcodes.LEFT
    except (LabError, LabDatabaseError) as e:
        say(e)
        return exitcodes.OPERATIONAL
