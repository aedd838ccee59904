"""Plan files on the command line: `check --plan-out FILE` writes the plans for review,
`repair --plan FILE` applies what the reviewed file still holds (engine/planfile.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from osfsck.engine import planfile
from osfsck.engine.planfile import PlanFile
from osfsck.model.result import RunResult


def plan_out_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--plan-out",
        metavar="FILE",
        help="also write the repairs it would make to FILE (JSON) for review; remove the entries "
        "that must not be done, then `osfsck repair --plan FILE`",
    )


def plan_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--plan",
        metavar="FILE",
        help="apply only the plans FILE (from `check --plan-out`) still holds, each re-checked first; "
        "its checks and scope are the file's",
    )


def load(args: argparse.Namespace) -> PlanFile | None:
    """The plan file of `repair --plan`, checked whole before anything runs (and, for
    `check --plan-out`, that its folder exists: a run must not end unable to write it)."""
    out = getattr(args, "plan_out", None)
    if out is not None and not Path(out).parent.is_dir():
        raise planfile.PlanFileError(f"--plan-out {out}: no folder {Path(out).parent} to write it in")
    path = getattr(args, "plan", None)
    if path is None:
        return None
    given = [o for o in ("select", "ignore", "cell", "host", "project") if getattr(args, o, None)]
    if given:
        raise planfile.PlanFileError(f"--plan fixes which checks run and where: drop --{given[0]}")
    return planfile.read(path)


def write(args: argparse.Namespace, result: RunResult) -> None:
    """`check --plan-out FILE`: the plans of this run, for review."""
    path = getattr(args, "plan_out", None)
    if path is None:
        return
    n = planfile.write(path, result)
    print(
        f"osfsck: wrote {n} plan(s) to {path}; remove what must not be done, then `osfsck repair --plan {path}`",
        file=sys.stderr,
    )
