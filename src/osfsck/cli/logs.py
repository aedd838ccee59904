"""Logging for diagnosing osfsck itself: -v, --debug, --log-file, --syslog.

Logs say what osfsck does (each source: what it reads, how long it took, how many facts,
complete or not and why: engine/collect.py), not what the libraries under it do: their
loggers stay at WARNING unless --debug, and every line names its logger, so a library's
line is told from ours.  Every line passes through the secret redaction of model/secrets
(a driver's error may quote a URL with its password).
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from osfsck.model.secrets import redact_text
from osfsck.report.tabular import printable

# the libraries osfsck drives that log on their own (SQLAlchemy logs every statement at
# INFO when its engine echoes; urllib3/httpx/httpcore every request; ovsdbapp and python-ovs
# their connection chatter; paramiko, libvirt, dnspython for completeness)
THIRD_PARTY = ("sqlalchemy", "urllib3", "httpx", "httpcore", "ovsdbapp", "ovs", "paramiko", "libvirt", "dns", "asyncio")
SYSLOG_SOCKET = "/dev/log"
GROUP_TITLE = "logging (on stderr unless said; before or after the command)"


class LogSetupError(Exception):
    """A log destination that cannot be used: one line, exit 16."""


class RedactingFormatter(logging.Formatter):
    """One line per record (a library's multi-line SQL, a reason quoting a reply: its
    newlines and other control characters escaped; a traceback still follows on its own
    lines), without secrets."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))[0]


def add_arguments(p: argparse.ArgumentParser, top: bool) -> None:
    """The logging options, on the top parser and on each command's (where a value given
    before the command is kept unless given again after it)."""
    keep: dict[str, Any] = {} if top else {"default": argparse.SUPPRESS}
    g = p.add_argument_group(GROUP_TITLE)
    g.add_argument(
        "-v",
        "--verbose",
        action="count",
        help="say what osfsck does on stderr: each source read, its time, facts, completeness (-vv: --debug)",
        **({"default": 0} if top else keep),
    )
    g.add_argument(
        "--debug",
        action="store_true",
        help="also every scope and the libraries' own logs (their logger names prefix each line); "
        "an internal error shows its traceback",
        **keep,
    )
    g.add_argument(
        "--log-file", metavar="FILE", help="also append the log to FILE (at least -v's lines, with times)", **keep
    )
    g.add_argument(
        "--syslog",
        action="store_true",
        help=f"also send the log to syslog ({SYSLOG_SOCKET}, facility daemon, ident osfsck)",
        **keep,
    )
    g.add_argument(
        "--syslog-socket", metavar="PATH", help=f"the syslog socket (default {SYSLOG_SOCKET}); implies --syslog", **keep
    )


def level(args: argparse.Namespace) -> int:
    if getattr(args, "debug", False) or getattr(args, "verbose", 0) >= 2:
        return logging.DEBUG
    return logging.INFO if getattr(args, "verbose", 0) else logging.WARNING


@contextmanager
def configured(args: argparse.Namespace) -> Iterator[None]:
    """Handlers on the root logger for the command's run, removed after it."""
    lvl = level(args)
    handlers: list[logging.Handler] = []
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(lvl)
    stderr.setFormatter(RedactingFormatter("osfsck: %(levelname)s %(name)s: %(message)s"))
    handlers.append(stderr)
    kept = min(lvl, logging.INFO)  # a log file or syslog keeps what -v says, at least
    try:
        if getattr(args, "log_file", None):
            handlers.append(_file_handler(args.log_file, kept))
        if getattr(args, "syslog", False) or getattr(args, "syslog_socket", None):
            handlers.append(_syslog_handler(args.syslog_socket or SYSLOG_SOCKET, kept))
    except LogSetupError:
        for h in handlers:
            h.close()
        raise
    root = logging.getLogger()
    saved = root.level
    root.setLevel(min(h.level for h in handlers))
    for h in handlers:
        root.addHandler(h)
    try:
        with libraries(debug=lvl <= logging.DEBUG):
            yield
    finally:
        for h in handlers:
            root.removeHandler(h)
            try:
                h.close()  # flushes: a full disk says so here at the latest
            except OSError:
                h.handleError(logging.LogRecord("osfsck", logging.ERROR, __file__, 0, "", None, None))
        root.setLevel(saved)


@contextmanager
def libraries(debug: bool) -> Iterator[None]:
    """The libraries' loggers at WARNING for a command's run (at DEBUG with --debug), as
    they were after it."""
    saved = {name: logging.getLogger(name).level for name in THIRD_PARTY}
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.WARNING)
    try:
        yield
    finally:
        for name, old in saved.items():
            logging.getLogger(name).setLevel(old)


class _Destination:
    """A log destination that fails (the disk full, the syslog daemon gone) says so once,
    in one line on stderr, and gets no more lines; the run goes on (logging's default is a
    traceback per line)."""

    what = ""
    failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failed:
            super().emit(record)  # type: ignore[misc]

    def handleError(self, record: logging.LogRecord) -> None:
        if self.failed:
            return
        self.failed = True
        e = sys.exc_info()[1]
        why = (e.strerror if isinstance(e, OSError) else None) or (f"{type(e).__name__}: {e}" if e else "failed")
        sys.stderr.write(f"osfsck: warning: {self.what}: {why}; no more log lines go there\n")


class _FileHandler(_Destination, logging.FileHandler):
    pass


class _SysLogHandler(_Destination, logging.handlers.SysLogHandler):
    pass


def _file_handler(path: str, lvl: int) -> logging.Handler:
    try:
        h = _FileHandler(path, encoding="utf-8")
        h.what = f"--log-file {path}"
    except OSError as e:
        raise LogSetupError(f"--log-file {path}: {e.strerror or e}") from None
    h.setLevel(lvl)
    h.osfsck_destination = True  # type: ignore[attr-defined]  # also_to_files
    h.setFormatter(RedactingFormatter("%(asctime)s osfsck[%(process)d] %(levelname)s %(name)s: %(message)s"))
    return h


def _syslog_handler(address: str, lvl: int) -> logging.Handler:
    if not os.path.exists(address):
        raise LogSetupError(f"--syslog: no {address} here (no syslog daemon listening); use --log-file instead")
    try:
        # no socktype: a datagram socket (systemd-journald, rsyslog), else a stream one
        h = _SysLogHandler(address=address, facility=logging.handlers.SysLogHandler.LOG_DAEMON)
        h.what = f"--syslog {address}"
    except OSError as e:
        raise LogSetupError(f"--syslog: cannot send to {address}: {e.strerror or e}") from None
    h.ident = "osfsck: "
    h.setLevel(lvl)
    h.osfsck_destination = True  # type: ignore[attr-defined]  # also_to_files
    h.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    return h


def also_to_files(line: str) -> None:
    """An error line the CLI prints on stderr itself, for --log-file and --syslog too."""
    record = logging.LogRecord("osfsck", logging.ERROR, __file__, 0, line, None, None)
    for h in logging.getLogger().handlers:
        if getattr(h, "osfsck_destination", False):
            h.handle(record)
