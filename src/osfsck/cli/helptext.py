"""What `--help` says beyond the options: each command's purpose and examples.

The man page (docs/osfsck.1, cli/manpage.py) is generated from the same parser, so these
texts are written once.
"""

from __future__ import annotations

import argparse
import textwrap

DESCRIPTION = """\
fsck for OpenStack clouds: collects facts from every place the cloud keeps state (Nova's
API and cell databases, Cinder, Neutron, Placement, the hypervisors, DNS, OVN, NSX,
RabbitMQ), checks them against each other, reports what disagrees and repairs it, safely,
only when asked, journaled and undoable.  `osfsck` alone is `osfsck check`."""

EXIT_STATUS = """\
exit status (a bitmask, as e2fsck's):
  0 consistent; 1 inconsistencies found and all repaired; 4 inconsistencies left;
  8 operational error (a source failed, a check was inconclusive, a repair failed);
  16 usage or configuration error; 32 cancelled"""

EPILOG = (
    EXIT_STATUS
    + """

examples:
  osfsck -c /etc/osfsck/osfsck.toml check
  osfsck check -f json -o report.json
  osfsck checks show HV101
  osfsck -v --log-file /var/log/osfsck.log repair --yes"""
)

_FORMATS = """\
output formats (-f):
  text        the report for people (the default): findings by severity and check,
              what a repair would do, a summary with what repairs would give back
  table       the findings as a table (OpenStackClient's -f table); -c picks columns
  csv, value  the same rows for scripts: csv with a header, value space-separated
  json, yaml  the whole result document (osfsck-result/1: findings, sources with their
              times, checks, repairs); with -c or --group-by, the rows instead
  jsonl       one JSON object a line: incomplete scopes, findings, sources, repairs, summary
  prometheus  node_exporter's textfile format"""

COMMANDS: dict[str, dict[str, str]] = {
    "check": {
        "description": "Find inconsistencies.  Read-only: nothing in the cloud changes; the only file written is "
        "osfsck's state file (when each finding was first seen).  Shows what a repair would do.",
        "epilog": _FORMATS
        + """

examples:
  osfsck check                                   every configured check
  osfsck check --select HV --ignore HV102        the hypervisor checks but unknown-domain
  osfsck check -f table -c code -c subject_id -c host
  osfsck check --group-by host -f csv            findings and reclaimable capacity per host
  osfsck check -f json -o report.json            the whole result, for a ticket or a script
  osfsck check -f prometheus -o /var/lib/node_exporter/osfsck.prom
  osfsck check --from snap.json.gz               a saved snapshot, offline

exit status: 0 consistent, 4 found, 8 a scope could not be read or decided (bits add up)""",
    },
    "repair": {
        "description": "Find and repair.  Applies safe repairs (bookkeeping without tenant-visible effect); "
        "--unsafe adds destructive or tenant-visible ones.  Every repair passes the guards "
        "(completeness, blast radius, grace, ownership, a fresh re-check), is journaled before it "
        "is made and verified after.  Needs --yes, or --interactive on a terminal.",
        "epilog": _FORMATS
        + """

examples:
  osfsck repair --interactive                    ask per finding ([a]ll for the rest of a check)
  osfsck repair --yes --select NV2               the API database's bookkeeping, unattended
  osfsck repair --unsafe --yes --grace 2h        also destructive repairs, of findings 2 h old
  osfsck repair --yes -f table -c code -c subject_id -c outcome -c reason

exit status: 1 all repaired, 4 some left, 8 a repair failed or a scope was not read""",
    },
    "collect": {
        "description": "Collect a snapshot of what the selected checks read, to check later anywhere with "
        "`osfsck check --from FILE` (the same findings).",
        "epilog": """\
examples:
  osfsck collect -o snap.json.gz
  osfsck collect --select VL -o volumes.json""",
    },
    "checks": {
        "description": "The catalogue of checks, or one check's documentation (`show CODE`): why it matters, "
        "how it is detected, known false positives, its repairs and settings.",
        "usage": "osfsck checks [-h] [-f FORMAT] [-c COLUMN] [show CODE|NAME]",
        "epilog": """\
examples:
  osfsck checks                                  the catalogue
  osfsck checks show HV101                       one check's documentation (code or name)
  osfsck checks show zombie-domain
  osfsck checks -f csv -c code -c name -c severity
  osfsck checks -f json                          everything, settings and docs included""",
    },
    "journal": {
        "description": "What repairs did: one entry per repair, its latest status (intent, applied, failed, "
        "uncertain, unsettled, undone).  -f json and yaml give whole entries, before-images included.",
        "epilog": """\
examples:
  osfsck journal
  osfsck journal -f table -c id -c status -c code -c target_id
  osfsck journal -f json                         whole entries, with their before-images""",
    },
    "undo": {
        "description": "Undo repairs from the journal, newest first, as repair applies them: listed, asked "
        "(or --yes), under the same lock; an object changed since its repair is left alone.",
        "epilog": """\
examples:
  osfsck undo --last --yes
  osfsck undo 20261124T120000-a1b2c3 --interactive
  osfsck undo --all --yes""",
    },
    "purge-quarantine": {
        "description": "Delete the instance folders repairs quarantined, once older than the retention.",
        "epilog": """\
examples:
  osfsck purge-quarantine --yes                  older than [repair] quarantine_retention
  osfsck purge-quarantine --older-than 7d --host compute-12 --yes""",
    },
    "report": {
        "description": "The HTML report of a run saved with -f json: one self-contained page (summary, what "
        "changed since the previous run, what could not be checked, charts, the findings to filter, sort and "
        "expand), nothing fetched when it is opened. A saved snapshot is checked first, as `osfsck check --from "
        "SNAPSHOT -f html` checks it (the same checks, --select and --ignore, and exit status; the state file is "
        "read, never written, so nothing is compared).",
        "epilog": """\
examples:
  osfsck check -f json -o result.json
  osfsck report result.json -o report.html
  osfsck collect -o snap.json.gz && osfsck report snap.json.gz --select NV -o report.html""",
    },
    "serve": {
        "description": "Run `check` on a schedule (the first run at once) and serve its latest result over HTTP: "
        "/metrics (the series of -f prometheus and the service's own: last run's success, time and duration), "
        "/report.html (the HTML report), /result.json and /healthz.  Each run keeps the state file as `check` "
        "does and holds the journal's lock: a run that finds it held (a manual repair) is skipped.  A run that "
        "fails leaves the last result served and says so in the metrics.  Never repairs unless --repair-safe, "
        "and then only safe repairs, behind the guards of `osfsck repair`.  SIGTERM or SIGINT stop it (exit 0).",
        "epilog": """\
examples:
  osfsck serve                                   every hour, on 127.0.0.1:9977
  osfsck serve --interval 15m --listen :9977     every interface, for a Prometheus elsewhere
  osfsck serve --select NV2,QU --repair-safe     the API database's bookkeeping and quotas, repaired
  curl -s localhost:9977/metrics | grep osfsck_serve_last_run_success

exit status: 0 stopped by SIGTERM or SIGINT; 16 a bad option, config or --listen (a port in use)""",
    },
    "permissions": {
        "description": "What osfsck reads and writes with this configuration: the grants and access to create "
        "(database SELECTs, API roles, host access), one line each.",
        "epilog": """\
example:
  osfsck -c /etc/osfsck/osfsck.toml permissions""",
    },
    "completion": {
        "description": "A shell completion script for osfsck's commands and options, on stdout.",
        "epilog": """\
examples:
  osfsck completion bash > /etc/bash_completion.d/osfsck
  osfsck completion zsh > "${fpath[1]}/_osfsck\"""",
    },
}


def command(sub: argparse._SubParsersAction, name: str, summary: str) -> argparse.ArgumentParser:
    """A command's parser with its description, examples and, where given, usage line."""
    text = COMMANDS[name]
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=textwrap.fill(text["description"], 79),
        epilog=text.get("epilog"),
        usage=text.get("usage"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return p
