"""The commands the lab adds to osfsck's command line (`osfsck demo`, `osfsck lab ...`),
through the "osfsck.commands" entry point: osfsck itself never imports the lab."""

from __future__ import annotations

from osfsck_lab.profiles import PROFILES


def register(sub) -> dict:
    """Add the lab's subcommands to osfsck's `sub`parsers; {command: handler}."""
    p = sub.add_parser("demo", help="build a small synthetic cloud, check it, repair it, check again")
    p.add_argument("--keep", metavar="DIR", help="build in DIR and leave it (default: a temporary folder)")
    p.add_argument(
        "--neutron",
        choices=("imitation", "real"),
        default="imitation",
        help="who writes the network: the lab's imitation of Neutron, served by neutron-server (default, about a "
        "minute), or the real neutron-server with ML2/OVN and its maintenance worker, which then re-writes the OVN "
        "rows osfsck hands back (5-13 minutes, on a private MariaDB)",
    )

    p = sub.add_parser("lab", help="build or control a synthetic cloud with real schemas and injected faults")
    lsub = p.add_subparsers(dest="lab_command", metavar="ACTION")
    b = lsub.add_parser("build", help="write a cloud, its osfsck.toml and truth.json into DIR")
    b.add_argument("--out", required=True, metavar="DIR")
    b.add_argument("--profile", default="small", choices=tuple(PROFILES))
    b.add_argument("--seed", type=int, default=1)
    b.add_argument(
        "--db-url", metavar="URL", help="a MariaDB/MySQL server URL to create the databases in (default: SQLite files)"
    )
    b.add_argument("--release", help="schema release (default: the newest)")
    b.add_argument(
        "--hypervisors",
        choices=("libvirtd", "testfiles"),
        help="libvirtd per host (default for small) or libvirt test-driver files (M, L)",
    )
    b.add_argument(
        "--neutron",
        choices=("imitation", "real"),
        default="imitation",
        help="who writes the network: the lab's imitation of Neutron (default), or the real neutron-server "
        "with ML2/OVN (small profile, newest release, --db-url)",
    )
    for name, helptext in (
        ("start", "start the lab's hypervisor daemons again"),
        ("stop", "stop the lab's hypervisor daemons"),
    ):
        s = lsub.add_parser(name, help=helptext)
        s.add_argument("dir", metavar="DIR")
    return {"demo": _demo, "lab": _lab}


def _demo(args) -> int:
    from osfsck_lab.demo import cmd_demo  # here: building a cloud needs what --help does not

    return cmd_demo(args)


def _lab(args) -> int:
    from osfsck_lab.cli import cmd_lab

    return cmd_lab(args)
