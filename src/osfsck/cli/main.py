"""The `osfsck` command."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

from osfsck import __version__
from osfsck.cli import completion, exitcodes, helptext, logs, output, plans, report_cmd, serve, streams
from osfsck.cli.progress import progress_factory
from osfsck.cli.scoping import scope_arguments, scope_of
from osfsck.clients import heap
from osfsck.config import ConfigError, load_settings
from osfsck.config.load import parse_duration
from osfsck.engine import admin, wiring
from osfsck.engine.journal import JournalError
from osfsck.engine.lock import LockHeld
from osfsck.engine.options import RunOptions
from osfsck.engine.run import collect_snapshot, run
from osfsck.engine.state import StateError
from osfsck.model.result import RunResult
from osfsck.model.secrets import redact_text
from osfsck.model.snapshot import SnapshotFormatError
from osfsck.model.write_target import write_atomically
from osfsck.report import FORMATS, columns_for, render
from osfsck.report import rows as listing
from osfsck.report.html import HtmlUnavailable, render_html
from osfsck.report.tabular import ROW_FORMATS, as_plain, dump_yaml, printable, render_rows, without_secrets

DEFAULT_CONFIGS = ("osfsck.toml", "/etc/osfsck/osfsck.toml")


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, whose errors are one line (its usage text goes to --help instead);
    subparsers are made of the same class."""

    def error(self, message: str):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# command -> handler, for the commands other installed distributions add (build_parser)
_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def _config_path(args, optional: bool = False) -> str | None:
    if args.config:
        return args.config
    if os.environ.get("OSFSCK_CONFIG"):
        return os.environ["OSFSCK_CONFIG"]
    for p in DEFAULT_CONFIGS:
        if Path(p).is_file():
            return p
    if optional:
        return None
    # --config, not -c: `openstack fsck` takes only the long one (-c is its --column)
    raise ConfigError("no config file: pass --config FILE, set OSFSCK_CONFIG, or create ./osfsck.toml")


def _settings(args):
    """The settings of -c (or the default config file), every key checked, [checks] against
    the catalogue too, whatever the command: nothing runs on a config with a mistake.
    `check --from` needs none (the snapshot holds the facts): the defaults then."""
    settings = load_settings(_config_path(args, optional=bool(getattr(args, "from_snapshot", None))))
    wiring.build_checks(settings)
    return settings


def _selection(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="CODE|PREFIX|NAME",
        help="run only these checks (repeatable, comma-separated)",
    )
    p.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="CODE|PREFIX|NAME",
        help="skip these checks (repeatable, comma-separated)",
    )


def _output(p) -> None:
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")


def parser(extensions: bool = True) -> argparse.ArgumentParser:
    """osfsck's parser; `extensions`: with the commands other installed distributions add
    (the man page and completion describe osfsck's own only)."""
    ap = _Parser(
        prog="osfsck",
        description=helptext.DESCRIPTION,
        epilog=helptext.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        help="config file (default: $OSFSCK_CONFIG, ./osfsck.toml, /etc/osfsck/osfsck.toml)",
    )
    logs.add_arguments(ap, top=True)
    ap.add_argument("--version", action="version", version=f"osfsck {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        p = helptext.command(sub, name, summary)
        logs.add_arguments(p, top=False)
        return p

    for name, summary in (
        ("check", "find inconsistencies (read-only; the default)"),
        ("repair", "find and repair (safe repairs only unless --unsafe)"),
    ):
        p = command(name, summary)
        _selection(p)
        output.add_arguments(p, FORMATS, listing.FINDING_COLUMNS, listing.FINDING_DEFAULT, group_by=True)
        _output(p)
        p.add_argument(
            "--new-only",
            action="store_true",
            help="show only the findings first seen in this run (the state file); the exit code is still the run's",
        )
        scope_arguments(p)
    check, repair = sub.choices["check"], sub.choices["repair"]
    check.add_argument(
        "--from",
        dest="from_snapshot",
        metavar="FILE",
        action="append",
        help="check a saved snapshot instead of the live cloud (again: several, checked as one)",
    )
    plans.plan_out_argument(check)
    repair.add_argument(
        "--unsafe", action="store_true", help="also apply unsafe (destructive or tenant-visible) repairs"
    )
    repair.add_argument("--interactive", action="store_true", help="ask before each repair")
    repair.add_argument("--yes", action="store_true", help="apply without asking (unattended runs)")
    repair.add_argument(
        "--grace",
        metavar="AGE",
        help="override [repair] grace and every check's own, e.g. 2h; "
        "0 also repairs what was first seen in this very run",
    )
    repair.add_argument(
        "--max-count",
        type=int,
        metavar="N",
        help="apply at most N plans of each check (by subject order) and leave the rest for the next run; "
        "N at most [repair] max_per_check",
    )
    plans.plan_argument(repair)

    p = command("collect", "collect a snapshot to a file for later `check --from`")
    _selection(p)
    scope_arguments(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="snapshot file (.json or .json.gz)")

    p = command("checks", "the catalogue of checks; `checks show CODE` documents one")
    p.add_argument("show", nargs="?", metavar="show", help="`show CODE`: one check's documentation")
    p.add_argument("code", nargs="?", metavar="CODE|NAME", help="with `show`: a check's code or name")
    output.add_arguments(p, _LISTING_FORMATS, listing.CHECK_COLUMNS, listing.CHECK_DEFAULT)

    p = command("journal", "what repairs did")
    output.add_arguments(p, _LISTING_FORMATS, listing.JOURNAL_COLUMNS, listing.JOURNAL_DEFAULT)

    p = command("undo", "undo repairs from the journal")
    p.add_argument("ids", nargs="*", metavar="ID", help="journal entry ids (see `osfsck journal`)")
    p.add_argument("--last", action="store_true", help="undo the most recent repair")
    p.add_argument("--all", action="store_true", help="undo every applied repair, newest first")
    p.add_argument("--interactive", action="store_true", help="ask before each undo")
    p.add_argument("--yes", action="store_true", help="undo without asking (unattended runs)")

    p = command("purge-quarantine", "delete quarantined instance folders older than the retention")
    p.add_argument("--older-than", metavar="AGE", help="e.g. 7d (default: [repair] quarantine_retention)")
    p.add_argument("--host", action="append", default=[], help="only these hosts (repeatable)")
    p.add_argument("--yes", action="store_true", help="required: this deletes data")

    command("permissions", "print what osfsck reads and writes, for the grants to create")
    p = command("serve", "check on a schedule; serve /metrics and the HTML report over HTTP")
    _selection(p)
    serve.add_arguments(p)
    _selection(report_cmd.add_parser(command))  # they choose the checks run on a snapshot

    p = command("completion", "print a shell completion script (bash, zsh)")
    p.add_argument("shell", choices=completion.SHELLS, help="the shell to complete for")

    if extensions:
        # commands other distributions add (the lab's `demo` and `lab`, from osfsck-lab):
        # each entry point is called with the subparsers and returns {command: handler}
        for ep in entry_points(group="osfsck.commands"):
            _COMMANDS.update(ep.load()(sub))
    return ap


# the formats of the commands that list what osfsck knows (no run result to stream)
_LISTING_FORMATS = ("text", *ROW_FORMATS)


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _emit(text: str, output: str | None) -> None:
    if output:
        write_atomically(output, text.encode("utf-8", errors="backslashreplace"))  # as stdout (cli/streams)
    else:
        sys.stdout.write(text)


def _ask(question: str, what: str = "for this check") -> str:
    sys.stderr.write(f"{question}? [y]es / [n]o / [a]ll {what} / [q]uit: ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()[:1]
    return answer if answer in ("y", "n", "a", "q") else "n"


def _ask_plan(plan) -> str:
    sys.stderr.write(f"\n{plan.finding.message}\n  {plan.action} [{plan.safety.value}]\n")
    return _ask("  apply")


def _interactive(args, verb: str) -> bool:
    """Whether to ask per item: --interactive (which needs a terminal), or a terminal
    without --yes.  Unattended without --yes is refused: nothing is written unasked."""
    if args.interactive and args.yes:
        raise UsageError("pass --yes or --interactive, not both")
    if args.interactive and not sys.stdin.isatty():
        raise UsageError(f"--interactive needs a terminal to ask on; pass --yes to {verb} unattended")
    interactive = args.interactive or (not args.yes and sys.stdin.isatty())
    if not args.yes and not interactive:
        raise UsageError(f"refusing to {verb} unattended: pass --yes (or --interactive on a terminal)")
    return interactive


def cmd_run(args, repair: bool) -> int:
    fmt, columns = _output_options(args, columns_for(args.group_by))
    refuse_new_only(args, fmt)
    result = run_command(args, repair)
    if result is None:
        return exitcodes.OK
    verbose = logs.level(args) <= logging.INFO
    shown = listing.new_only(result) if args.new_only else result
    _emit(render(shown, fmt, columns, args.group_by, verbose), args.output)
    sys.stdout.flush()
    rows_only = fmt in ("csv", "value") or (fmt in ("json", "yaml") and bool(columns or args.group_by))
    report_run(args, result, rows_only)
    return result.exit_code()


def refuse_new_only(args, fmt: str) -> None:
    """--new-only where it means nothing, before anything runs (`openstack fsck` too)."""
    if args.new_only and (fmt == "prometheus" or getattr(args, "from_snapshot", None)):
        # metrics keep every series (osfsck_findings_new counts the new); a saved snapshot
        # is compared with nothing
        raise UsageError("--new-only goes with a live run and any format but prometheus")


def run_command(args, repair: bool) -> RunResult | None:
    """`check` or `repair` as `args` ask (`openstack fsck` runs it too: osfsck/osc); None
    when `--plan` names a file that holds no plan (said on stderr: nothing to do)."""
    settings = _settings(args)
    plan = plans.load(args)
    if plan is not None and not plan.entries:
        output.say(f"{plan.path} holds no plan: nothing to repair")
        return None
    interactive = _interactive(args, "repair") if repair else False
    grace = parse_duration(args.grace, "--grace") if getattr(args, "grace", None) is not None else None
    opts = RunOptions(
        repair=repair,
        unsafe=getattr(args, "unsafe", False),
        interactive=interactive,
        assume_yes=getattr(args, "yes", False),
        select=_split(args.select),
        ignore=_split(args.ignore),
        from_snapshots=tuple(getattr(args, "from_snapshot", None) or ()),
        grace=grace,
        max_count=getattr(args, "max_count", None),
        scope=scope_of(args),
        plan=plan,
        ask=_ask_plan,
        progress=progress_factory(),
    )
    return run(settings, opts)


def report_run(args, result: RunResult, rows_only: bool) -> None:
    """What a run does beside its report: the plan file of `--plan-out`, and on stderr that
    it is incomplete when the report is `rows_only` (the rows cannot say it themselves:
    README, safety), each source that failed, the warnings."""
    if rows_only:
        for what, why in result.incomplete[:1]:
            n = len(result.incomplete)
            output.say(f"INCOMPLETE: {n} scope(s) not read or not decided, e.g. {what}: {why}")
    plans.write(args, result)
    for s in result.sources:
        if s.status != "ok":
            output.say(f"{s.source} {s.scope}: {s.status}: {s.reason}")
    for line in result.warnings:
        output.say(f"warning: {line}")


def cmd_collect(args) -> int:
    settings = _settings(args)
    checks = wiring.build_checks(settings, _split(args.select), _split(args.ignore))
    # what the config does not name (no [nsx]) is not collected, as `check` does not run it
    checks, _ = wiring.runnable_checks(settings, checks, explicit=bool(args.select))
    snap, statuses = collect_snapshot(settings, checks, progress_factory(), scope_of(args))
    snap.write(args.output)
    bad = [s for s in statuses if s.status != "ok"]
    for s in bad:
        output.say(f"{s.source} {s.scope}: {s.status}: {s.reason}")
    n = sum(len(v) for v in snap.facts.values())
    print(f"wrote {n} facts from {len(statuses)} scope(s) to {args.output}", file=sys.stderr)
    return exitcodes.OPERATIONAL if bad else exitcodes.OK


def _output_options(args, columns) -> tuple[str, list[str]]:
    try:
        return output.resolve(args, columns)
    except output.OutputError as e:
        raise UsageError(str(e)) from None


def _listing(args, columns, default, rows: list[dict], document, text: Callable[[], str]) -> int:
    """A listing in the format asked: text for people, json/yaml the whole `document`
    (without -c), else the rows."""
    fmt, chosen = _output_options(args, columns)
    if fmt == "text":
        sys.stdout.write(text())
    elif fmt in ("json", "yaml") and not chosen:
        sys.stdout.write(
            json.dumps(document, indent=2, sort_keys=True) + "\n" if fmt == "json" else dump_yaml(as_plain(document))
        )
    else:
        sys.stdout.write(render_rows(fmt, chosen or list(default), rows))
    return exitcodes.OK


def cmd_checks(args) -> int:
    if args.show:
        key = args.code if args.show == "show" else args.show
        if args.show != "show" and args.code:
            raise UsageError("usage: osfsck checks [show CODE]")
        if not key:
            raise UsageError("usage: osfsck checks show CODE")
        doc = admin.check_doc(key)
        if doc is None:
            raise UsageError(f"no check {key!r} (see `osfsck checks`)")
        sys.stdout.write(doc)
        return exitcodes.OK
    cat = admin.catalogue()

    def text() -> str:
        lines = []
        for c in cat:
            repairs = ", ".join(f"{r['name']} [{r['safety']}]" for r in c["repairs"]) or "-"
            lines.append(f"{c['code']}  {c['name']:<26} {c['severity']:<8} {c['summary']}")
            lines.append(f"       repairs: {repairs}")
        return "\n".join(lines) + "\n"

    return _listing(args, listing.CHECK_COLUMNS, listing.CHECK_DEFAULT, listing.check_rows(cat), cat, text)


def journal_entries(args) -> list[dict]:
    # the journal holds no secret (repairs journal their before-images redacted); this is
    # the last line before anything is shown
    return without_secrets(admin.journal_entries(_settings(args)))


def cmd_journal(args) -> int:
    entries = journal_entries(args)

    def text() -> str:
        if not entries:
            return "The journal is empty.\n"
        lines = []
        for e in entries:
            lines.append(
                f"{e['id']}  {e.get('status', '?'):<9} {e.get('code', '')} {e.get('repair', '')}: {e.get('action', '')}"
            )
            if e.get("result") or e.get("error"):
                lines.append(f"    {e.get('result') or e.get('error')}")
        return "\n".join(map(printable, lines)) + "\n"

    return _listing(
        args, listing.JOURNAL_COLUMNS, listing.JOURNAL_DEFAULT, listing.journal_rows(entries), entries, text
    )


def cmd_undo(args) -> int:
    if not (args.ids or args.last or args.all):
        raise UsageError("name journal entry ids, or pass --last or --all")
    if sum(map(bool, (args.ids, args.last, args.all))) > 1:
        raise UsageError("name journal entry ids, or pass --last, or --all: one of them")
    settings = _settings(args)
    interactive = _interactive(args, "undo")

    def approve(entries: list[dict]) -> list[dict]:
        """List what would be undone, then ask per entry (or take --yes for all)."""
        if entries:
            print(f"{len(entries)} repair(s) to undo, newest first:")
        for e in entries:
            print(f"  {e['id']}  {e.get('code', '')} {e.get('repair', '')}: {e.get('action', '')}")
        if not interactive:
            return entries
        chosen: list[dict] = []
        for n, e in enumerate(entries):
            answer = _ask(f"undo {e['id']} ({e.get('repair', '')} of {e.get('target', {}).get('id', '?')})", "the rest")
            if answer == "q":
                raise KeyboardInterrupt
            if answer == "a":
                return chosen + entries[n:]
            if answer == "y":
                chosen.append(e)
        return chosen

    try:
        results = admin.undo(settings, args.ids, last=args.last, approve=approve)
    except KeyError as e:
        raise UsageError(e.args[0]) from None
    if not results:
        print("Nothing to undo.")
    for id_, ok, msg in results:
        print("\n".join(undo_lines(id_, ok, msg)))
    return exitcodes.OK if all(ok for _, ok, _ in results) else exitcodes.OPERATIONAL


def undo_lines(id_: str, ok: bool, msg: str) -> list[str]:
    """An undo's outcome, then what it could not put back (an `Undone`'s not_restored),
    one indented line each: what the operator must restore by hand."""
    lost = getattr(msg, "not_restored", ())
    head = msg.split("; not restored: ")[0] if lost else msg
    return [f"{id_}  {'undone' if ok else 'NOT undone'}: {head}"] + [f"    not restored: {n}" for n in lost]


def cmd_purge(args) -> int:
    if not args.yes:
        raise UsageError("purge-quarantine deletes data: pass --yes")
    settings = _settings(args)
    age = parse_duration(args.older_than, "--older-than") if args.older_than else settings.repair.quarantine_retention
    results = admin.purge_quarantine(settings, age, args.host)
    for host, ok, msg in results:
        print(f"{host}: {msg}" if ok else f"{host}: FAILED: {msg}")
    return exitcodes.OK if all(ok for _, ok, _ in results) else exitcodes.OPERATIONAL


def cmd_report(args) -> int:
    doc = report_cmd.load(args.result)
    if doc is not None:  # a saved result: already checked, rendered as it was
        if args.select or args.ignore:
            raise UsageError("--select and --ignore choose the checks run on a snapshot: a saved result is checked")
        _emit(render_html(doc), args.output)
        return exitcodes.OK
    # a snapshot: checked as `check --from SNAP -f html` checks it (which reads the state file
    # for the repairs' dates but neither records this run nor compares it: engine/run._record)
    args.from_snapshot = [args.result]
    result = run_command(args, repair=False)
    if result is None:  # only `repair --plan` of an empty plan file
        return exitcodes.OK
    _emit(render(result, "html"), args.output)
    report_run(args, result, rows_only=False)
    return result.exit_code()


def cmd_permissions(args) -> int:
    for line in admin.permissions(_settings(args)):
        print(line)
    return exitcodes.OK


def dispatch(args) -> int:
    cmd = args.command
    if cmd in ("check", "repair"):
        return cmd_run(args, repair=cmd == "repair")
    if cmd in _COMMANDS:  # added by another distribution (parser())
        return _COMMANDS[cmd](args)
    return {
        "collect": cmd_collect,
        "checks": cmd_checks,
        "journal": cmd_journal,
        "undo": cmd_undo,
        "purge-quarantine": cmd_purge,
        "permissions": cmd_permissions,
        "report": cmd_report,
        "serve": lambda a: serve.command(a, _settings, _split(a.select), _split(a.ignore)),
        "completion": lambda a: completion.command(a, parser()),
    }[cmd](args)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    heap.fewer_malloc_arenas()  # before any source's thread allocates: clients/heap.py
    # a reader that leaves (`osfsck checks | head -1`) ends the output, not the run
    with streams.guarded():
        return _main(argv)


def _main(argv: list[str]) -> int:
    debug = False
    try:
        args = _arguments(argv)
        debug = logs.level(args) <= logging.DEBUG
        with logs.configured(args):
            try:
                return dispatch(args)
            except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - _failure says which, in one line
                return _failure(e, debug)  # inside: --log-file and --syslog get the line too
    except (Exception, KeyboardInterrupt, SystemExit) as e:  # noqa: BLE001 - the parser's, the log setup's
        return _failure(e, debug)


def _failure(e: BaseException, debug: bool) -> int:
    """The exit status of what stopped a command, said in one line on stderr."""
    if isinstance(e, SystemExit):  # --help, --version
        return exitcodes.USAGE if e.code else exitcodes.OK
    if isinstance(e, ConfigError | UsageError | logs.LogSetupError | completion.MissingExtra | HtmlUnavailable):
        _error(e)
        return exitcodes.USAGE
    if isinstance(e, SnapshotFormatError | JournalError | LockHeld | StateError | report_cmd.ResultFormatError):
        _error(e)
        return exitcodes.OPERATIONAL
    if isinstance(e, OSError):
        _error(f"{e.filename}: {e.strerror}" if e.filename and e.strerror else e)
        return exitcodes.OPERATIONAL
    if isinstance(e, KeyboardInterrupt):
        print("osfsck: cancelled", file=sys.stderr)
        return exitcodes.CANCELLED
    # the last resort: every bad input has its own message above; reaching this is a bug
    # of ours to report, and it is one line too
    _error(f"internal error: {type(e).__name__}: {e} (rerun with --debug for the traceback; please report it)")
    if debug:
        traceback.print_exception(e, file=sys.stderr)
    return exitcodes.OPERATIONAL


def _arguments(argv: list[str]) -> argparse.Namespace:
    ap = parser()
    args = ap.parse_args(argv)
    if args.command is None:  # `osfsck` alone is `osfsck check`
        args = ap.parse_args([*argv, "check"])
    out_path = getattr(args, "output", None)
    if out_path and not Path(out_path).parent.is_dir():
        # before anything runs: a repair whose report cannot be written loses its report
        raise UsageError(f"-o {out_path}: no folder {Path(out_path).parent} to write it in")
    return args


def _error(message) -> None:
    """One line on stderr, whatever newlines the message holds, without secrets; also in
    --log-file and --syslog when they are set up."""
    line = redact_text(" ".join(str(message).split()))[0]
    print("osfsck: " + line, file=sys.stderr)
    logs.also_to_files(line)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
