"""`osfsck serve`: `check` on a schedule, its latest result served over HTTP.

Each round is the live run `osfsck check` makes (the same state file, so the run-to-run
diff goes on from round to round), under the journal's writer lock (engine/rounds.py):
a round and a manual `osfsck repair` never overlap, and a round that finds the lock
held is skipped and counted.  The config is read again for each round, as a timer's
`osfsck check` would read it.  With --repair-safe a round is `osfsck repair --yes`
without --unsafe: safe repairs only, behind every guard, journaled.

What is served (the standard library's ThreadingHTTPServer; GET and HEAD):
  /metrics                the last result's series as `check -f prometheus` writes them,
                          then the service's own (osfsck_serve_*)
  /, /report.html         the last result's HTML report (`-f html`)
  /result.json            the last result's JSON document (`-f json`)
  /healthz                200 while the scheduler runs; the last round's outcome as JSON

A round that ends without a result (a config edited into a mistake, the state file
unwritable, an internal error) leaves the last result served and says so:
osfsck_serve_last_run_success 0, osfsck_serve_last_success_timestamp_seconds unchanged.
A run that ends INCOMPLETE (a source down) is a result and replaces the last one: its
osfsck_complete and osfsck_source_up name the source, which the old data would hide.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import re
import signal
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from osfsck.cli import exitcodes, logs, output
from osfsck.cli.scoping import scope_arguments, scope_of
from osfsck.clients import gcpause
from osfsck.config import ConfigError
from osfsck.config.load import parse_duration
from osfsck.config.settings import Settings
from osfsck.engine.lock import LockHeld
from osfsck.engine.options import RunOptions
from osfsck.engine.rounds import scheduled_run
from osfsck.model.result import RunResult
from osfsck.model.secrets import redact_text
from osfsck.report import render
from osfsck.report.html import HtmlUnavailable
from osfsck.report.tabular import printable

log = logging.getLogger(__name__)

# 9100-9999 is Prometheus' range of exporter ports, every one of them allocated since 2023
# (the "Default port allocations" wiki page): 9977 is not osfsck's by registration.  It is
# a default, not a contract: --listen names another.
DEFAULT_PORT = 9977
# loopback by default: the report names every project, host and instance it found, and
# the server has no authentication; `--listen :9977` opens it to a Prometheus elsewhere
DEFAULT_LISTEN = f"127.0.0.1:{DEFAULT_PORT}"
MAX_INTERVAL = 30 * 86400.0
OUTCOMES = ("ok", "failed", "skipped")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """serve's own options (main adds --select/--ignore; the scope is added here)."""
    p.add_argument(
        "--interval",
        type=interval,
        default="1h",
        metavar="AGE",
        help="from the start of one run to the start of the next, 1s to 30d (default: 1h); the first starts at once",
    )
    p.add_argument(
        "--listen",
        type=listen_address,
        default=DEFAULT_LISTEN,
        metavar="[HOST]:PORT",
        help=f"where to serve (default: {DEFAULT_LISTEN}, this host only); :PORT is every interface, "
        "[ADDR]:PORT an IPv6 address",
    )
    p.add_argument(
        "--repair-safe",
        action="store_true",
        help="also apply safe repairs in each run, as `osfsck repair --yes` does (behind the same guards); "
        "unsafe ones never",
    )
    scope_arguments(p)


def interval(text: str) -> float:
    try:
        seconds = parse_duration(text, "--interval")
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("--interval: ")) from None
    if not 1 <= seconds <= MAX_INTERVAL:
        raise argparse.ArgumentTypeError(f"{text!r}: the interval is 1s to 30d")
    return seconds


def listen_address(text: str) -> tuple[str, int]:
    """'HOST:PORT', ':PORT' (every interface) or '[IPV6]:PORT' -> (host, port); '' is every interface."""
    m = re.fullmatch(r"(?:\[(?P<v6>[^\[\]]+)\]|(?P<host>[^:\[\]]*)):(?P<port>[0-9]{1,5})", text)
    if m is None and text.count(":") > 1 and not text.startswith("["):
        raise argparse.ArgumentTypeError(f"{text!r}: write an IPv6 address in brackets, e.g. [::1]:{DEFAULT_PORT}")
    if m is None or not 1 <= int(m["port"]) <= 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not [HOST]:PORT with a port of 1 to 65535 (e.g. 127.0.0.1:{DEFAULT_PORT}, "
            f"or :{DEFAULT_PORT} for every interface)"
        )
    host, port = m["v6"] or m["host"], m["port"]
    return host, int(port)


def shown(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host or '*'}:{port}"


@dataclass(frozen=True)
class Served:
    """What the last round with a result left to serve, rendered once."""

    metrics: bytes
    json: bytes
    html: bytes | None
    html_error: str  # why there is no HTML (no Jinja2), else ""


def rendered(result: RunResult) -> Served:
    try:
        html, why = render(result, "html").encode(), ""
    except HtmlUnavailable as e:
        html, why = None, str(e)
    return Served(render(result, "prometheus").encode(), render(result, "json").encode(), html, why)


class Service:
    """The rounds and what they leave to serve.  `round_` makes one run (or raises);
    `clock` and `monotonic` are time.time and time.monotonic unless a test gives its own."""

    def __init__(
        self,
        round_: Callable[[], RunResult],
        interval: float,
        repair: bool = False,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._round = round_
        self.interval = interval
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self.served: Served | None = None
        self.last: dict = {"outcome": None, "error": None, "at": None, "seconds": None, "last_success": None}
        self.scheduler_alive: Callable[[], bool] = lambda: True
        self.registry = reg = CollectorRegistry()
        self._success = Gauge(
            "osfsck_serve_last_run_success",
            "Whether the last run of osfsck serve ended with a result (0: it failed; the previous result is served).",
            registry=reg,
        )
        self._ended = Gauge(
            "osfsck_serve_last_run_timestamp_seconds",
            "When the last run of osfsck serve ended, with a result or not (0: none has ended yet).",
            registry=reg,
        )
        self._took = Gauge(
            "osfsck_serve_last_run_duration_seconds", "How long the last run of osfsck serve took.", registry=reg
        )
        self._succeeded = Gauge(
            "osfsck_serve_last_success_timestamp_seconds",
            "When the run whose result is served ended (0: none yet); osfsck_last_run_timestamp_seconds is when "
            "its snapshot was taken.",
            registry=reg,
        )
        self._runs = Counter(
            "osfsck_serve_runs",
            "Runs of osfsck serve by outcome: ok, failed, or skipped (another osfsck held the journal's lock).",
            ("outcome",),
            registry=reg,
        )
        for outcome in OUTCOMES:
            self._runs.labels(outcome)
        Gauge("osfsck_serve_interval_seconds", "Time between the starts of two runs.", registry=reg).set(interval)
        Gauge(
            "osfsck_serve_repairs_enabled", "Whether each run applies safe repairs (--repair-safe).", registry=reg
        ).set(int(repair))

    def round(self) -> str:
        """One run: its result served, or its failure said; never raises."""
        start = self._monotonic()
        result: RunResult | None = None
        error = ""
        try:
            result = self._round()
            served = rendered(result)
        except LockHeld as e:
            self._runs.labels("skipped").inc()
            log.warning("run skipped: %s", e)
            with self._lock:
                self.last.update(outcome="skipped", error=one_line(e), at=self._clock())
            return "skipped"
        except Exception as e:  # a failed run is one line (logged); the service goes on
            error = one_line(e)
            log.warning("run failed: %s (the last result stays served)", error)
            log.debug("the failed run's traceback", exc_info=True)
        took, now = self._monotonic() - start, self._clock()
        outcome = "ok" if result is not None else "failed"
        self._runs.labels(outcome).inc()
        with self._lock:
            self._success.set(int(result is not None))
            self._ended.set(now)
            self._took.set(took)
            self.last.update(outcome=outcome, error=error or None, at=now, seconds=took)
            if result is not None:
                self.served = served
                self._succeeded.set(now)
                self.last["last_success"] = now
        if result is not None:
            self._said(result, took)
        gcpause.forget_frozen()
        return outcome

    def _said(self, result: RunResult, took: float) -> None:
        """What `check` says on stderr, in the log: each source that failed, the warnings."""
        for s in result.sources:
            if s.status != "ok":
                log.warning("%s %s: %s: %s", s.source, s.scope, s.status, s.reason)
        for line in result.warnings:
            log.warning("%s", line)
        new = result.diff.counts()["new"] if result.diff else 0
        log.info(
            "run ended in %.1f s: %d finding(s), %d new, exit status %d",
            took,
            len(result.findings),
            new,
            result.exit_code(),
        )

    def loop(self, stop: threading.Event, wait: Callable[[float], bool] | None = None) -> None:
        """Rounds until `stop` is set: the first at once, then one every interval from the
        start of the last (a round longer than the interval is followed by the next at
        once: rounds never overlap).  `wait(seconds)` returns True when told to stop."""
        wait = wait or stop.wait
        while not stop.is_set():
            started = self._monotonic()
            self.round()
            if stop.is_set() or wait(max(0.0, self.interval - (self._monotonic() - started))):
                return

    def metrics(self) -> bytes:
        with self._lock:
            head = self.served.metrics if self.served else b""
            return head + generate_latest(self.registry)

    def page(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) of a GET of `path`."""
        if path == "/metrics":
            return 200, CONTENT_TYPE_PLAIN_0_0_4, self.metrics()
        if path == "/healthz":
            with self._lock:
                body = {"scheduler": "running" if self.scheduler_alive() else "stopped", **self.last}
            return (200 if self.scheduler_alive() else 503), "application/json", json.dumps(body).encode() + b"\n"
        if path not in ("/", "/report.html", "/result.json"):
            return 404, _TEXT, b"not found: osfsck serves /metrics, /report.html, /result.json and /healthz\n"
        with self._lock:
            served = self.served
        if served is None:
            return 503, _TEXT, b"no run has ended with a result yet (see /healthz and /metrics)\n"
        if path == "/result.json":
            return 200, "application/json", served.json
        if served.html is None:
            return 501, _TEXT, served.html_error.encode() + b"\n"
        return 200, "text/html; charset=utf-8", served.html


_TEXT = "text/plain; charset=utf-8"


def one_line(e: BaseException) -> str:
    known = ConfigError, LockHeld, OSError
    text = str(e) if isinstance(e, known) and str(e) else f"{type(e).__name__}: {e}"
    return printable(redact_text(" ".join(text.split()))[0])


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 30  # a client that connects and says nothing does not keep its thread for ever

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, body: bool) -> None:
        status, ctype, data = self.server.service.page(urlsplit(self.path).path)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if status == 503:
            self.send_header("Retry-After", "60")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_port = False  # a port in use is an error, never shared

    def __init__(self, address: tuple, family: socket.AddressFamily, service: Service) -> None:
        self.address_family = family
        self.service = service
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6 and self.server_address[0] == "::":
            # every interface, IPv4 too (as Go's ":9100" listens), whatever net.ipv6.bindv6only says
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        # not HTTPServer's: its getfqdn() of the address may wait on a DNS server
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def handle_error(self, request: object, client_address: object) -> None:
        # a scraper that hangs up mid-answer is its business, not a traceback on stderr
        log.debug("answering %s failed", client_address, exc_info=True)


def make_server(host: str, port: int, service: Service) -> _Server:
    """The HTTP server bound to (host, port); ConfigError (exit 16) when it cannot be."""
    try:
        if not host:
            try:
                return _Server(("::", port), socket.AF_INET6, service)
            except OSError as e:
                if e.errno not in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL):
                    raise
            return _Server(("0.0.0.0", port), socket.AF_INET, service)
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        return _Server(address, family, service)
    except OSError as e:
        raise ConfigError(f"--listen {shown(host, port)}: cannot listen there: {e.strerror or e}") from None


def command(
    args: argparse.Namespace,
    settings_of: Callable[[argparse.Namespace], Settings],
    select: list[str],
    ignore: list[str],
) -> int:
    settings_of(args)  # a config with a mistake stops here (exit 16), before anything is served
    opts = RunOptions(
        repair=args.repair_safe,
        assume_yes=args.repair_safe,  # unattended; never unsafe, never interactive (engine/rounds.py)
        select=select,
        ignore=ignore,
        scope=scope_of(args),
    )
    service = Service(lambda: scheduled_run(settings_of(args), opts), args.interval, args.repair_safe)
    host, port = args.listen
    server = make_server(host, port, service)
    stop = threading.Event()
    saved = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    rounds = threading.Thread(target=service.loop, args=(stop,), name="osfsck-rounds", daemon=True)
    service.scheduler_alive = rounds.is_alive
    http = threading.Thread(target=server.serve_forever, name="osfsck-http", daemon=True)
    try:
        http.start()
        rounds.start()
        what = "check and safe repairs" if args.repair_safe else "check"
        _say(
            f"serving http://{shown(server.server_name, server.server_port)}/metrics, /report.html, /result.json, /healthz; "
            f"a {what} every {args.interval:g} s"
        )
        while not stop.wait(1.0):
            pass
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        server.shutdown()
        server.server_close()
    if rounds.is_alive() and args.repair_safe:
        # a repair is not stopped halfway: the run ends its repairs, journals and verifies them
        _say("stopping: waiting for the run in progress to finish its repairs")
        rounds.join()
    elif rounds.is_alive():
        # a check leaves nothing half-written: the state file is replaced by a rename, the
        # lock is the kernel's (dropped as the process ends)
        _say("stopping: the run in progress is abandoned")
    else:
        _say("stopped")
    return exitcodes.OK


def _say(line: str) -> None:
    output.say(line)
    logs.also_to_files(line)
