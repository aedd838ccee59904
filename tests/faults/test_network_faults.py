"""Faults in the network services the lab runs: BIND refusing zone transfers or gone,
ovsdb-server stopped or cut off mid-dump, the NSX manager answering 5xx, 429, broken
pages or HTML, RabbitMQ's management API down or answering 401 and 500.  Each time the
service's scope is partial and nothing in it is repaired."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import time
from contextlib import contextmanager

import pytest

from osfsck_lab import services
from osfsck_lab.loopback import free_port
from osfsck_lab.nsx_standin import NsxStandin
from tests.faults.conftest import exit_for, judge
from tests.faults.proxy import HttpProxy, TcpProxy, json_error
from tests.support.cli import osfsck

pytestmark = pytest.mark.integration

REPAIR = ("repair", "--unsafe", "--yes", "--grace", "0", "--format", "json")


def zones(lab) -> list[str]:
    return re.findall(r'\[dns\.zones\."([^"]+)"\]', lab.config.read_text())


# -- DNS ---------------------------------------------------------------------------------


def test_bind_refuses_the_transfer_a_wrong_tsig_key(lab, scenario):
    """The TSIG secret osfsck holds is not the server's (rotated on one side only): BIND
    refuses every transfer, every zone is partial, no record is deleted."""
    wrong = lab.path / "faults-tsig.secret"
    wrong.write_text(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    wrong.chmod(0o600)
    cfg = lab.variant("tsig.toml", (r'secret_file = "[^"]+"', f'secret_file = "{wrong.name}"'))
    run = scenario(*REPAIR, "--select", "DN", config=cfg)
    judge(
        lab,
        run,
        exit_code=exit_for(run),
        failed={f"dns dns:{z}": "TSIG" for z in zones(lab)},
        protected={f"dns:{z}" for z in zones(lab)},
    )
    assert not run.applied


def test_bind_refuses_a_zone_it_does_not_serve(lab, scenario):
    """One zone of the config is not on the server: that zone is partial, the others are
    read and repaired."""
    cfg = lab.variant("unserved.toml", append='\n[dns.zones."unserved.example.test."]\n')
    run = scenario(*REPAIR, "--select", "DN", config=cfg)
    judge(
        lab,
        run,
        exit_code=exit_for(run),
        failed={"dns dns:unserved.example.test.": "unserved.example.test."},
        protected={"dns:unserved.example.test."},
    )
    assert run.applied, "the other zones' stale records are deleted"


def test_the_dns_server_is_unreachable(lab, scenario):
    cfg = lab.variant("dns-down.toml", (r'(\[dns\]\nserver = )"[^"]+"', rf'\1"127.0.0.1:{free_port()}"'))
    run = scenario(*REPAIR, "--select", "DN", config=cfg)
    judge(
        lab,
        run,
        exit_code=exit_for(run),
        failed={f"dns dns:{z}": "" for z in zones(lab)},
        protected={f"dns:{z}" for z in zones(lab)},
    )
    assert not run.applied


# -- OVN -----------------------------------------------------------------------------------


@contextmanager
def stopped(lab, name: str):
    """One of the lab's servers stopped (SIGTERM, by the PID it recorded), started again after."""
    entry = lab.info["services"][name]
    pid = int(open(entry["pidfile"]).read().split()[0])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
        time.sleep(0.1)
    try:
        yield
    finally:
        services.start(entry, lab.path)


def test_ovsdb_server_stopped(lab, scenario):
    run = scenario(*REPAIR, "--select", "OV", inject=stopped(lab, "ovsdb-server"))
    judge(lab, run, exit_code=exit_for(run), failed={"ovn-nb ovn-nb": "cannot connect"}, protected={"ovn-nb"})
    assert not run.applied


def test_ovsdb_server_dump_cut_half_way(lab, scenario):
    """The connection breaks in the middle of the monitor's initial dump (every time): the
    rows that did arrive are not taken for the database, the dump never completes, and
    within [ovn] timeout the scope is partial."""
    port = lab.info["services"]["ovsdb-server"]["port"]
    with TcpProxy(("127.0.0.1", port)) as probe:
        cfg = lab.variant(
            "ovn-probe.toml", (r'nb_connection = "[^"]+"', f'nb_connection = "tcp:127.0.0.1:{probe.port}"')
        )
        assert osfsck("check", "--select", "OV101", config=cfg).returncode == 4
        dump = max(probe.relayed)
    proxy = TcpProxy(("127.0.0.1", port), cut_after=dump // 2)
    cfg = lab.variant(
        "ovn-cut.toml",
        (r'nb_connection = "[^"]+"', f'nb_connection = "tcp:127.0.0.1:{proxy.port}"'),
        (r"\[ovn\]\n", '[ovn]\ntimeout = "10s"\n'),
    )
    with proxy:
        run = scenario(*REPAIR, "--select", "OV", config=cfg)
    assert proxy.cuts >= 1
    judge(lab, run, exit_code=exit_for(run), failed={"ovn-nb ovn-nb": ""}, protected={"ovn-nb"})
    assert not run.applied


# -- NSX (the lab's stand-in, run here so that it can misbehave) -------------------------------


def _loop(standin):
    """A cursor that never advances: every later page points at itself."""
    page = standin.store.list_page

    def list_page(collection, query):
        out = page(collection, query)
        if "cursor" in query and out.get("cursor"):
            out["cursor"] = query["cursor"][0]
        return out

    standin.store.list_page = list_page


def _ends_early(standin):
    """The second page of a list comes without its cursor: the list ends short of the
    result_count its first page announced."""
    page = standin.store.list_page

    def list_page(collection, query):
        out = page(collection, query)
        if "cursor" in query:
            out.pop("cursor", None)
        return out

    standin.store.list_page = list_page


NSX_FAULTS = {
    "500 on every request": (lambda s: s.inject(500, count=None), "500"),
    "429 on every request": (lambda s: s.inject(429, count=None, retry_after=0.2), "429"),
    "503 on every page after the first": (lambda s: s.inject(503, count=None, paged=True), "503"),
    "an HTML page instead of JSON": (lambda s: s.inject(200, count=None, body=b"<html>Login</html>"), "not JSON"),
    "a cursor that never advances": (_loop, "cursor"),
    "a list that ends short of its result_count": (_ends_early, "it counted"),
}


@pytest.mark.parametrize("fault", list(NSX_FAULTS))
def test_nsx_manager_misbehaves(lab, scenario, fault):
    nsx = lab.path / "nsx"
    standin = NsxStandin(
        "admin",
        (nsx / "password").read_text().strip(),
        certfile=str(nsx / "nsx-cert.pem"),
        keyfile=str(nsx / "nsx-key.pem"),
    )
    standin.store.load(json.loads((nsx / "state.json").read_text()))
    inject, why = NSX_FAULTS[fault]
    inject(standin)
    cfg = lab.variant(
        "nsx-fault.toml",
        (r'url = "https://127\.0\.0\.1:\d+"', f'url = "{standin.url}"'),
        (r'api = "policy"', 'api = "policy"\npage_size = 5\nretries = 2'),
    )
    with standin:
        run = scenario(*REPAIR, "--select", "NX", config=cfg, timeout=300)
    judge(lab, run, exit_code=exit_for(run), failed={"nsx nsx": why}, protected={"nsx"})
    assert [m for m, _ in standin.requests if m != "GET"] == [], "nothing is written to the manager"


# -- RabbitMQ --------------------------------------------------------------------------------


def _rabbit_url(lab) -> str:
    return re.search(r'\[rabbitmq\]\nurl = "([^"]+)"', lab.config.read_text()).group(1)


def test_rabbitmq_is_down(lab, scenario):
    cfg = lab.variant("rabbit-down.toml", (r'(\[rabbitmq\]\nurl = )"[^"]+"', rf'\1"http://127.0.0.1:{free_port()}"'))
    run = scenario(*REPAIR, "--select", "MQ", config=cfg)
    judge(
        lab,
        run,
        exit_code=exit_for(run),
        failed={"rabbitmq rabbitmq:lab//": "unreachable"},
        protected={"rabbitmq:lab//"},
    )
    assert not run.applied


def test_rabbitmq_refuses_the_password(lab, scenario):
    wrong = lab.path / "faults-rabbit.password"
    wrong.write_text("not-the-password\n")
    wrong.chmod(0o600)
    cfg = lab.variant(
        "rabbit-401.toml", (r'(\[rabbitmq\](?:\n[^\[\n]+)*\npassword_file = )"[^"]+"', rf'\1"{wrong.name}"')
    )
    run = scenario(*REPAIR, "--select", "MQ", config=cfg)
    judge(lab, run, exit_code=exit_for(run), failed={"rabbitmq rabbitmq:lab//": "401"}, protected={"rabbitmq:lab//"})
    assert not run.applied


def test_rabbitmq_management_answers_500(lab, scenario):
    proxy = HttpProxy(
        _rabbit_url(lab),
        rule=lambda method, path: json_error(500, "internal_error") if path.startswith("/api/queues") else None,
    )
    cfg = lab.variant("rabbit-500.toml", (r'(\[rabbitmq\]\nurl = )"[^"]+"', rf'\1"{proxy.url}"'))
    with proxy:
        run = scenario(*REPAIR, "--select", "MQ", config=cfg)
    judge(lab, run, exit_code=exit_for(run), failed={"rabbitmq rabbitmq:lab//": "500"}, protected={"rabbitmq:lab//"})
    assert not run.applied
    assert not [m for m, _ in proxy.requests if m != "GET"], "nothing is written to the broker"
