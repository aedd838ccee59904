"""`osfsck serve` without a cloud: its HTTP endpoints over a real server on loopback, the
scheduler on a fake clock (no sleeping), a failing run that leaves the last result
served, a round skipped while another osfsck holds the journal's lock, and bad input
(one line, exit 16, no traceback).  The run itself is a hand-built result
(tests/report/test_render.py's, secrets planted in it); tests/cli/test_serve_lab.py runs
serve on a lab cloud."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from osfsck.cli import main as cli
from osfsck.cli import serve
from osfsck.config import ConfigError, load_settings
from osfsck.engine.lock import LockHeld, exclusive
from osfsck.engine.options import RunOptions
from osfsck.engine.rounds import scheduled_run
from osfsck.report import render
from osfsck_lab.loopback import free_port
from tests.report.test_render import CHAP, TOKEN
from tests.report.test_render import result as planted_result


class Clock:
    """time.time and time.monotonic, moved only by the test."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def served():
    """A Service on a real server at 127.0.0.1:<ephemeral>, its rounds run by the test."""
    servers = []

    def start(round_, interval=60.0, clock=None):
        clock = clock or Clock()
        service = serve.Service(round_, interval, clock=clock, monotonic=clock)
        server = serve.make_server("127.0.0.1", 0, service)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return service, f"http://127.0.0.1:{server.server_port}"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def get(url: str, method: str = "GET") -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def samples(text: str) -> dict[tuple, float]:
    """Every sample of an exposition, by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def test_before_the_first_run_only_the_service_metrics_and_health(served):
    service, base = served(planted_result)
    status, headers, body = get(base + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    got = samples(body.decode())
    assert got[("osfsck_serve_last_run_success", ())] == 0
    assert got[("osfsck_serve_last_success_timestamp_seconds", ())] == 0
    assert got[("osfsck_serve_interval_seconds", ())] == 60
    assert got[("osfsck_serve_repairs_enabled", ())] == 0
    assert {k[1] for k in got if k[0] == "osfsck_serve_runs_total"} == {
        (("outcome", o),) for o in ("ok", "failed", "skipped")
    }
    assert not any(name.startswith("osfsck_findings") for name, _ in got)  # no run: no made-up series
    for path in ("/", "/report.html", "/result.json"):
        status, headers, body = get(base + path)
        assert status == 503 and headers["Retry-After"] == "60" and b"no run has ended" in body
    status, _, body = get(base + "/healthz")
    assert status == 200 and json.loads(body) == {
        "scheduler": "running",
        "outcome": None,
        "error": None,
        "at": None,
        "seconds": None,
        "last_success": None,
    }
    status, _, body = get(base + "/etc/passwd")
    assert status == 404 and b"/metrics" in body


def test_a_run_serves_the_series_check_writes_its_report_and_its_json(served):
    clock = Clock()

    def round_():
        clock.now += 2.5  # the run takes 2.5 s
        return planted_result()

    service, base = served(round_, clock=clock)
    assert service.round() == "ok"
    status, _, body = get(base + "/metrics")
    text = body.decode()
    # the same series, in the same words, as `osfsck check -f prometheus` writes
    assert status == 200 and text.startswith(render(planted_result(), "prometheus"))
    got = samples(text)
    assert (
        got[("osfsck_findings", (("code", "VL101"), ("name", "stale-volume-attachment"), ("severity", "medium")))] == 1
    )
    assert got[("osfsck_serve_last_run_success", ())] == 1
    assert got[("osfsck_serve_last_run_duration_seconds", ())] == 2.5
    assert got[("osfsck_serve_last_success_timestamp_seconds", ())] == clock.now
    assert got[("osfsck_serve_last_run_timestamp_seconds", ())] == clock.now
    assert got[("osfsck_serve_runs_total", (("outcome", "ok"),))] == 1
    status, headers, page = get(base + "/report.html")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert page == get(base + "/")[2] == render(planted_result(), "html").encode()
    status, headers, doc = get(base + "/result.json")
    assert status == 200 and json.loads(doc)["findings"][0]["code"] == "VL101"
    for body in (text.encode(), page, doc):
        assert CHAP.encode() not in body and TOKEN.encode() not in body
    status, headers, body = get(base + "/metrics", "HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) == len(text.encode())
    assert get(base + "/metrics", "POST")[0] == 501  # nothing but GET and HEAD


def test_without_jinja2_the_report_says_what_to_install_and_the_rest_is_served(served, monkeypatch):
    from osfsck.report import html

    def unavailable(doc):
        raise html.HtmlUnavailable("-f html needs Jinja2: pip install 'osfsck[html]'")

    monkeypatch.setattr(html, "render_html", unavailable)
    service, base = served(planted_result)
    assert service.round() == "ok"
    status, _, body = get(base + "/report.html")
    assert status == 501 and body == b"-f html needs Jinja2: pip install 'osfsck[html]'\n"
    assert get(base + "/result.json")[0] == 200
    assert samples(get(base + "/metrics")[2].decode())[("osfsck_serve_last_run_success", ())] == 1


def test_a_silent_client_does_not_hold_a_thread_for_ever():
    assert 0 < serve._Handler.timeout <= 60


def test_a_failed_run_keeps_the_last_result_served_and_says_so(served):
    clock = Clock()
    runs = iter(
        [
            planted_result,
            lambda: (_ for _ in ()).throw(ConfigError(f"[nova] api_database: mysql://nova:{CHAP}@db/\nbroken")),
            lambda: (_ for _ in ()).throw(RuntimeError("a bug of ours")),
        ]
    )

    def round_():
        clock.now += 10
        return next(runs)()

    service, base = served(round_, clock=clock)
    assert service.round() == "ok"
    good_at = clock.now
    before = get(base + "/report.html")[2]
    assert service.round() == "failed"
    got = samples(get(base + "/metrics")[2].decode())
    assert got[("osfsck_serve_last_run_success", ())] == 0
    assert got[("osfsck_serve_last_run_timestamp_seconds", ())] == clock.now
    assert got[("osfsck_serve_last_success_timestamp_seconds", ())] == good_at  # which data is served
    assert (
        got[("osfsck_findings", (("code", "VL101"), ("name", "stale-volume-attachment"), ("severity", "medium")))] == 1
    )
    assert get(base + "/report.html")[2] == before
    health = json.loads(get(base + "/healthz")[2])
    assert health["outcome"] == "failed" and health["last_success"] == good_at
    assert "\n" not in health["error"] and CHAP not in health["error"] and "api_database" in health["error"]
    assert service.round() == "failed"
    health = json.loads(get(base + "/healthz")[2])
    assert health["error"] == "RuntimeError: a bug of ours"
    got = samples(get(base + "/metrics")[2].decode())
    assert got[("osfsck_serve_runs_total", (("outcome", "failed"),))] == 2
    assert got[("osfsck_serve_runs_total", (("outcome", "ok"),))] == 1


def test_a_round_skipped_while_the_lock_is_held_changes_nothing_else(served):
    runs = iter([planted_result, lambda: (_ for _ in ()).throw(LockHeld("another osfsck is writing"))])
    service, base = served(lambda: next(runs)())
    service.round()
    before = samples(get(base + "/metrics")[2].decode())
    assert service.round() == "skipped"
    after = samples(get(base + "/metrics")[2].decode())
    skipped = ("osfsck_serve_runs_total", (("outcome", "skipped"),))
    assert (before[skipped], after[skipped]) == (0, 1)
    assert {k: v for k, v in after.items() if k != skipped} == {k: v for k, v in before.items() if k != skipped}
    assert json.loads(get(base + "/healthz")[2])["outcome"] == "skipped"


def test_healthz_fails_when_the_scheduler_has_stopped(served):
    service, base = served(planted_result)
    service.scheduler_alive = lambda: False
    status, _, body = get(base + "/healthz")
    assert status == 503 and json.loads(body)["scheduler"] == "stopped"


# -- the scheduler, on a fake clock -------------------------------------------------------------
def test_rounds_start_an_interval_apart_and_never_overlap():
    clock = Clock()
    took = iter([5.0, 70.0, 0.5])
    waits: list[float] = []
    stop = threading.Event()

    def round_():
        clock.now += next(took)
        return planted_result()

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        clock.now += seconds
        return len(waits) == 3  # told to stop during the third wait

    service = serve.Service(round_, 60.0, clock=clock, monotonic=clock)
    service.loop(stop, wait)
    # 60 s from the start of each run; a run longer than the interval: the next at once
    assert waits == [55.0, 0.0, 59.5]


def test_stop_between_rounds_ends_the_loop_at_once():
    ran = threading.Event()

    def round_():
        ran.set()
        return planted_result()

    stop = threading.Event()
    service = serve.Service(round_, 3600.0)
    t = threading.Thread(target=service.loop, args=(stop,))
    t.start()
    assert ran.wait(10)
    stop.set()
    t.join(5)
    assert not t.is_alive()


def test_stop_during_a_round_starts_no_other():
    stop = threading.Event()
    calls = []

    def round_():
        calls.append(1)
        stop.set()  # SIGTERM arrives while the run is in progress
        return planted_result()

    serve.Service(round_, 1.0).loop(stop, lambda s: pytest.fail("waited after being stopped"))
    assert calls == [1]


# -- the engine's round: the journal's lock ------------------------------------------------------
def test_a_check_round_takes_the_journal_lock_and_a_held_one_skips_it(tmp_path):
    cfg = tmp_path / "osfsck.toml"
    cfg.write_text(f'[repair]\njournal = "{tmp_path / "j" / "journal.jsonl"}"\n')
    settings = load_settings(str(cfg))
    with exclusive(settings.repair.journal, "repair"), pytest.raises(LockHeld, match="another osfsck"):
        scheduled_run(settings, RunOptions())
    # free, it goes on to the run (which finds nothing configured to check)
    with pytest.raises(ConfigError, match="no check can run"):
        scheduled_run(settings, RunOptions())


@pytest.mark.parametrize(
    "opts",
    [RunOptions(repair=True, unsafe=True), RunOptions(interactive=True), RunOptions(from_snapshots=("snap.json",))],
    ids=["unsafe", "interactive", "from"],
)
def test_a_round_is_never_unsafe_interactive_or_offline(tmp_path, opts):
    settings = load_settings(None)
    with pytest.raises(ValueError, match="never unsafe"):
        scheduled_run(settings, opts)


# -- bad input ------------------------------------------------------------------------------------
@pytest.fixture
def config(tmp_path) -> Path:
    cfg = tmp_path / "osfsck.toml"
    cfg.write_text(f'[repair]\njournal = "{tmp_path / "journal.jsonl"}"\n')
    return cfg


@pytest.mark.parametrize(
    "option, why",
    [
        (["--listen", "9977"], "is not [HOST]:PORT"),
        (["--listen", ":0"], "port of 1 to 65535"),
        (["--listen", ":65536"], "port of 1 to 65535"),
        (["--listen", "host:"], "is not [HOST]:PORT"),
        (["--listen", ":\u0663"], "is not [HOST]:PORT"),  # an Arabic-Indic digit is no port
        (["--listen", "::1:9977"], "IPv6 address in brackets"),
        (["--listen", "[::1]"], "is not [HOST]:PORT"),
        (["--interval", "0"], "1s to 30d"),
        (["--interval", "31d"], "1s to 30d"),
        (["--interval=-5m"], "not a duration"),
        (["--interval", "1x"], "not a duration"),
        (["--interval", "nan"], "not a duration"),
    ],
)
def test_bad_options_are_one_line_and_exit_16(config, capsys, option, why):
    assert cli.main(["-c", str(config), "serve", *option]) == 16
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and why in err and err.startswith("osfsck: argument ")


def test_a_port_in_use_is_one_line_and_exit_16(config, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["-c", str(config), "serve", "--listen", f"127.0.0.1:{port}"]) == 16
    err = capsys.readouterr().err
    assert err == f"osfsck: --listen 127.0.0.1:{port}: cannot listen there: Address already in use\n"


def test_an_address_not_of_this_host_is_one_line_and_exit_16(config, capsys):
    # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): no interface of this machine holds it
    assert cli.main(["-c", str(config), "serve", "--listen", "192.0.2.1:9977"]) == 16
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--listen 192.0.2.1:9977: cannot listen there" in err


def test_a_config_with_a_mistake_stops_it_before_it_serves(tmp_path, capsys):
    cfg = tmp_path / "osfsck.toml"
    cfg.write_text("[nova]\napi_databse = 'sqlite://'\n")
    port = free_port()
    assert cli.main(["-c", str(cfg), "serve", "--listen", f"127.0.0.1:{port}"]) == 16
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "api_databse" in err
    with socket.socket() as s:  # nothing was left listening
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_listen_forms():
    assert serve.listen_address(":9977") == ("", 9977)
    assert serve.listen_address("0.0.0.0:1") == ("0.0.0.0", 1)
    assert serve.listen_address("[::1]:65535") == ("::1", 65535)
    assert serve.listen_address("metrics.example.test:9977") == ("metrics.example.test", 9977)


def test_every_interface_is_ipv4_and_ipv6(served):
    service = serve.Service(planted_result, 60.0)
    server = serve.make_server("", 0, service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_port
        assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        if server.address_family == socket.AF_INET6:
            assert get(f"http://[::1]:{port}/healthz")[0] == 200
    finally:
        server.shutdown()
        server.server_close()


# -- as a process: a run that fails does not stop the service; SIGTERM and SIGINT exit 0 ----------
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_as_a_process_failing_runs_keep_it_serving_and_a_signal_stops_it(config, sig):
    port = free_port()
    argv = [sys.executable, "-m", "osfsck.cli.main", "-c", str(config), "serve", "--interval", "1s"]
    proc = subprocess.Popen(
        [*argv, "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        got: dict = {}
        deadline = time.monotonic() + 60
        failed = ("osfsck_serve_runs_total", (("outcome", "failed"),))
        while got.get(failed, 0) < 2 and time.monotonic() < deadline:  # two runs have failed, one a second
            time.sleep(0.2)
            try:
                got = samples(get(f"http://127.0.0.1:{port}/metrics")[2].decode())
            except OSError:
                assert proc.poll() is None, proc.communicate()
        assert got[failed] >= 2 and got[("osfsck_serve_last_run_success", ())] == 0
        assert json.loads(get(f"http://127.0.0.1:{port}/healthz")[2])["error"].startswith("no check can run")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert out == "" and "Traceback" not in err
    lines = err.splitlines()
    assert lines[0].startswith(f"osfsck: serving http://127.0.0.1:{port}/metrics")
    assert lines[-1] in ("osfsck: stopped", "osfsck: stopping: the run in progress is abandoned")
    assert all(
        line.startswith("osfsck: WARNING osfsck.cli.serve: run failed: no check can run") for line in lines[1:-1]
    )


def test_a_round_gives_what_its_run_froze_back_to_the_collector():
    # a run's bulk sources freeze what they built (engine/collect.py): a service that runs
    # for months must not keep a frozen cycle of every run
    import gc

    from osfsck.engine.collect import cyclic_gc_paused

    def freezing_run():
        with cyclic_gc_paused():
            cycle: list = []
            cycle.append(cycle)
        return planted_result()

    serve.Service(freezing_run, 60.0).round()
    assert gc.get_freeze_count() == 0 and gc.isenabled()
