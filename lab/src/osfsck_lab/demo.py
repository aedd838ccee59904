"""`osfsck demo`: build the small lab cloud, check it, repair it, check again, and say what
is left and why.

The lab's neutron-server (lab/neutron_server.py) serves its Neutron database, so orphan
ports (NT101) are deleted through Neutron's own API.  `--neutron real` builds the network
through the real Neutron with ML2/OVN and its maintenance worker (minutes, on a private
MariaDB): the OVN rows osfsck hands back to Neutron (OV102, OV103) are then re-written by
Neutron itself before the second check; without it they are handed off and stay.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from osfsck.cli import exitcodes
from osfsck.config import load_settings
from osfsck.engine.options import RunOptions
from osfsck.engine.run import run
from osfsck.model.finding import Finding
from osfsck.model.plan import Outcome, PlanResult
from osfsck.report import render
from osfsck_lab import build as lab_build
from osfsck_lab import neutron_server
from osfsck_lab.cli import say
from osfsck_lab.database import LabDatabaseError
from osfsck_lab.hypervisors import LabError
from osfsck_lab.mariadb import MariaDB, MariaDBError

# Why each check whose only repair is a runbook needs a person (the runbook says how).
PERSON = {
    "NT102": "rebind the port where the guest runs or evacuate the guest: which host it belongs on is an "
    "operator's call, and a binding whose VIF differs from the plugged one cuts the guest off",
    "NT104": "the guest lost an interface Nova still lists: refreshing Nova's cache drops its address, and "
    "whether it gets a new port (a new address) is the tenant's call",
    "NX102": "NSX objects are the Neutron plugin's to make (nsxadmin, or the Neutron object created again); "
    "osfsck forges none",
    "VL201": "bringing the disk back means a hard reboot or a re-attach under the running guest",
    "VL202": "the disk may be another instance's volume (Cinder: available): whose it is decides between "
    "detaching it from a running guest and attaching it through Nova",
    "VL205": "the LUN's disk sits under sessions attached guests use: deleting it takes it from whatever still "
    "holds it, and the array's mapping must go too",
}
# OV102/OV103: osfsck marks the object stale in ovn_revision_numbers; Neutron's OVN
# maintenance task (neutron-ovn-maintenance-worker) writes the row
HANDED = "mark-ovn-revision-stale"
BUILD_REAL = "--neutron real builds the network through the real neutron-server with ML2/OVN (5-13 min)"


def _banner(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 76 - len(text)))


def cmd_demo(args) -> int:
    out = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="osfsck-demo-"))
    with ExitStack() as servers:
        try:
            code = _demo(args, out, servers)
        except MariaDBError as e:
            say(e)
            code = exitcodes.OPERATIONAL
        finally:
            stopped = _stop(out)
            servers.close()  # the lab's MariaDB, after the lab's servers
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


def _build(out: Path, real: bool, servers: ExitStack) -> dict:
    """The small lab; with `real`, its network written by the real Neutron on a private
    MariaDB (stopped by `servers`).  Without, the lab's neutron-server on its Neutron
    database, when Neutron is installed (else delete-port falls back to its runbook)."""
    if real:
        if neutron_server.available() is None:  # said before a MariaDB is started for nothing
            raise LabError(neutron_server.NOT_INSTALLED)
        db = servers.enter_context(MariaDB(out / "mariadb", ("--innodb-buffer-pool-size=64M",)))
        return lab_build.build(out, "small", seed=1, db_url=db.url, neutron="real")
    info = lab_build.build(out, "small", seed=1)
    if neutron_server.available() is None:
        print(neutron_server.NOT_INSTALLED)
    else:
        neutron_server.serve_lab(out, load_settings(str(out / "osfsck.toml")).neutron.database.url)
    return info


def _demo(args, out: Path, servers: ExitStack) -> int:
    real = args.neutron == "real"
    try:
        _banner(
            "1. building a small cloud: real Nova, Cinder and Neutron schemas, one libvirtd per hypervisor, "
            "instance folders, volumes, iSCSI sessions, BIND zones, "
            + (
                "the real neutron-server with ML2/OVN, its maintenance worker and OVN (NB, SB, northd) on MariaDB"
                if real
                else "an OVN northbound database, neutron-server (Neutron's API) on the Neutron database"
            )
            + ", an NSX stand-in, the Placement API and a RabbitMQ broker"
        )
        info = _build(out, real, servers)
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
        if real:
            _banner("3b. Neutron's OVN maintenance re-writes what osfsck handed back")
            _run_maintenance(out)
        _banner("4. osfsck check, again")
        second = run(settings, RunOptions())
        print(render(second, "text"), end="")
        return _conclude(first, fixed, second, real, out if args.keep else None)
    except (LabError, LabDatabaseError) as e:
        say(e)
        return exitcodes.OPERATIONAL


def _run_maintenance(out: Path) -> None:
    """Restart the worker so that its inconsistency task runs now (it runs at its start,
    then every 300 s): it re-creates (OV102) and updates (OV103) the rows marked stale."""
    entry = json.loads((out / "lab.json").read_text())["services"]["neutron-maintenance"]
    # the new worker's entry is the old one's (same argv, pidfile): lab.json stays right
    neutron_server.restart_maintenance(out, entry)
    print("neutron-ovn-maintenance-worker restarted; its check_for_inconsistencies task has run")


def _conclude(first, fixed, second, real: bool, kept: Path | None) -> int:
    """The what-is-left section and the final line; OK when every finding left is one only
    a person may fix (its runbook) or, without a real Neutron, one handed to Neutron."""
    person, handed, wrong = sort_left(fixed.plans, second.findings, real)
    gone = {f.fingerprint for f in first.findings} - {f.fingerprint for f in second.findings}
    left = person + handed + wrong
    ok = (
        first.exit_code() == 4
        and fixed.exit_code() in (1, 5)
        and not wrong
        and second.exit_code() == (4 if left else 0)
    )
    if left:
        _banner("5. what is left, and why")
        for code, n in sorted(person.items()):
            print(f"{code} ×{n}  for a person: {PERSON.get(code, 'its runbook says what to do')}")
        for code, n in sorted(handed.items()):
            print(
                f"{code} ×{n}  handed to Neutron: marked stale in ovn_revision_numbers, for Neutron's OVN "
                f"maintenance task to re-write; this lab runs no maintenance worker ({BUILD_REAL})"
            )
        for code, n in sorted(wrong.items()):
            print(f"{code} ×{n}  NOT expected: osfsck should have repaired it")
    print(f"\nexit codes: check {first.exit_code()}, repair {fixed.exit_code()}, check again {second.exit_code()}")
    print(final_line(len(gone), len(first.findings), person, handed, wrong))
    if kept is not None:
        print(f"journal of what was done: osfsck -c {kept}/osfsck.toml journal")
    return exitcodes.OK if ok else exitcodes.LEFT


def sort_left(plans: list[PlanResult], findings: list[Finding], real: bool) -> tuple[Counter, Counter, Counter]:
    """Counts per code of the `findings` left after the repair run whose `plans` they had:
    (for a person: a runbook; handed to Neutron: marked stale, and no real Neutron runs to
    re-write them; neither: osfsck should have repaired it)."""
    by_finding = {pr.finding.fingerprint: pr for pr in plans}
    person: Counter[str] = Counter()
    handed: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for f in findings:
        pr = by_finding.get(f.fingerprint)
        if pr is not None and pr.outcome is Outcome.MANUAL:
            person[f.code] += 1
        elif pr is not None and pr.outcome is Outcome.APPLIED and pr.plan and pr.plan.repair == HANDED and not real:
            handed[f.code] += 1
        else:
            wrong[f.code] += 1
    return person, handed, wrong


def _counts(c: Counter) -> str:
    return ", ".join(f"{code} ×{n}" for code, n in sorted(c.items()))


def final_line(repaired: int, found: int, person: Counter, handed: Counter, wrong: Counter) -> str:
    """'consistent' only when nothing is left."""
    if not (person or handed or wrong):
        return f"-> consistent: repaired {repaired} of {found} findings"
    parts = [f"repaired {repaired} of {found} findings"]
    if person:
        parts.append(f"left for a person (runbooks): {_counts(person)}")
    if handed:
        parts.append(f"handed to Neutron's OVN maintenance, which runs only with a real Neutron: {_counts(handed)}")
    if wrong:
        parts.append(f"NOT repaired though osfsck should have: {_counts(wrong)}")
    return "-> " + "; ".join(parts)
