"""`osfsck lab build|start|stop`."""

from __future__ import annotations

import sys
from pathlib import Path

from osfsck.cli import exitcodes
from osfsck_lab import build as lab_build
from osfsck_lab.database import LabDatabaseError
from osfsck_lab.hypervisors import LabError


def say(error: Exception) -> None:
    """The error on stderr, a line for each of its lines (`lab stop`: each server that would not end)."""
    for line in str(error).splitlines():
        print(f"osfsck: {line}", file=sys.stderr)


def cmd_lab(args) -> int:
    try:
        if args.lab_command == "build":
            info = lab_build.build(
                Path(args.out),
                args.profile,
                args.seed,
                args.db_url,
                args.release,
                args.hypervisors,
                neutron=args.neutron,
            )
            print(
                f"lab cloud in {info['dir']}: {info['hosts']} hypervisors, {info['instances']} instance rows "
                f"(+{info['archived']} archived), {info['faults']} injected faults (truth.json)"
            )
            print(f"check it with: osfsck -c {info['dir']}/osfsck.toml check")
        elif args.lab_command == "stop":
            print(f"stopped {lab_build.stop(Path(args.dir))} hypervisor daemon(s)")
        elif args.lab_command == "start":
            print(f"{lab_build.start(Path(args.dir))} hypervisor daemon(s) running")
        else:
            print("usage: osfsck lab build|start|stop (see osfsck lab -h)", file=sys.stderr)
            return exitcodes.USAGE
    except (LabError, LabDatabaseError) as e:
        say(e)
        return exitcodes.OPERATIONAL
    except FileNotFoundError as e:
        print(f"osfsck: not a lab folder: {e.filename}", file=sys.stderr)
        return exitcodes.USAGE
    return exitcodes.OK
