#!/usr/bin/env python3
"""How long osfsck's NSX and RabbitMQ sources take to page through their lists, beside
fetching the same pages with a bare HTTP client.

    .venv/bin/python tools/bench_paging.py                    # NSX and RabbitMQ
    .venv/bin/python tools/bench_paging.py --only nsx --ports 40000 --rounds 5

NSX: the lab's NSX stand-in (osfsck_lab.nsx_standin, NSX's paging: `cursor`, `page_size`
up to 1000, `result_count`) on loopback holds what the vmware-nsx plugin makes through
the Manager API for `--ports` compute ports on `--ports / 20` networks, with a router
per 20 networks and a security group per network; the source reads its five Manager
lists.  RabbitMQ: a real broker (osfsck_lab.rabbitmq) holds `--queues` durable queues
(made in one POST /api/definitions); the source reads /api/queues/%2F 500 a page with
its columns.

What it prints (figures, not pass/fail), medians of `--rounds`, source and floor
alternated round by round: each source's collect end to end (pages, checks of the
paging, facts) beside the floor, the very same GETs (same paths, parameters and auth)
with one plain httpx.Client, each page decoded by orjson and thrown away, and the ratio.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import httpx
import orjson

from osfsck.clients.rabbitmq import QUEUE_COLUMNS
from osfsck.config.nsx import NsxSettings
from osfsck.config.rabbitmq import Broker as BrokerSettings
from osfsck.config.rabbitmq import RabbitSettings
from osfsck.model.facts.nsx import NsxObject
from osfsck.model.facts.rpc import RabbitQueue
from osfsck.model.snapshot import Snapshot
from osfsck.sources.nsx.source import MANAGER_LISTS, NsxSource
from osfsck.sources.rabbitmq.source import RabbitMQSource
from osfsck_lab.nsx_objects import mirror
from osfsck_lab.nsx_standin import MANAGER, NsxStandin
from osfsck_lab.rabbitmq import USER, Broker


def rounds(source, floor, n: int) -> tuple[float, float]:
    s, f = [], []
    for _ in range(n):
        for fn, times in ((source, s), (floor, f)):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    return statistics.median(s), statistics.median(f)


def report(name: str, objects: int, source_s: float, floor_s: float) -> None:
    print(f"{name}: source {source_s:.2f} s for {objects} objects; bare httpx + orjson {floor_s:.2f} s", end="")
    print(f"; ratio {source_s / floor_s:.2f}")


def serve_nsx(ports: int, ready, stop) -> None:
    """The stand-in, filled, in a process of its own (a real NSX manager is another
    machine: its JSON encoding must not take this process's interpreter lock)."""

    def rec(**extra) -> dict:
        return {"id": str(uuid.uuid4()), "name": "", "project_id": "project-a", "created_ms": 0, **extra}

    with NsxStandin("admin", "secret") as nsx:
        networks = [rec() for _ in range(max(1, ports // 20))]
        port_recs = [
            rec(network_id=networks[i % len(networks)]["id"], device_id=str(uuid.uuid4())) for i in range(ports)
        ]
        mirror(nsx.store, MANAGER, networks, port_recs, networks[::20], networks)
        ready.put(nsx.url)
        stop.wait()


def bench_nsx(ports: int, n: int) -> None:
    ready, stop = multiprocessing.Queue(), multiprocessing.Event()
    server = multiprocessing.Process(target=serve_nsx, args=(ports, ready, stop), daemon=True)
    server.start()
    try:
        url = ready.get(timeout=600)
        settings = NsxSettings(url=url, api=MANAGER, username="admin", password="secret", insecure=True)
        source = NsxSource(settings)
        count = []

        def collect():
            sink = Snapshot(taken_at=None)
            (status,) = source.collect({NsxObject}, sink, sink)
            assert status.status == "ok", status.reason
            count[:] = [len(sink.of(NsxObject))]

        def floor():
            with httpx.Client(base_url=url, auth=("admin", "secret"), verify=False) as http:
                for path in MANAGER_LISTS:
                    params = {"page_size": settings.page_size}
                    while True:
                        page = orjson.loads(http.get(path, params=params).content)
                        cursor = page.get("cursor")
                        if not cursor or cursor.startswith("0000"):
                            break
                        params = {**params, "cursor": cursor}

        source_s, floor_s = rounds(collect, floor, n)
        report("NSX (Manager API, stand-in in its own process)", count[0], source_s, floor_s)
    finally:
        stop.set()
        server.join(30)


def bench_rabbitmq(queues: int, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp) / "broker")
        try:
            definitions = {
                "queues": [
                    {"name": f"bench-{i}", "vhost": "/", "durable": True, "auto_delete": False, "arguments": {}}
                    for i in range(queues)
                ]
            }
            with httpx.Client(base_url=broker.url, auth=(USER, broker.password), timeout=600) as http:
                http.post("/api/definitions", json=definitions).raise_for_status()
            b = BrokerSettings("bench", broker.url, USER, broker.password, vhosts=("/",), timeout=120)
            source = RabbitMQSource(RabbitSettings(brokers=(b,)))
            count = []

            def collect():
                sink = Snapshot(taken_at=None)
                (status,) = source.collect({RabbitQueue}, sink, sink)
                assert status.status == "ok", status.reason
                count[:] = [len(sink.of(RabbitQueue))]

            def floor():
                with httpx.Client(base_url=broker.url, auth=(USER, broker.password), timeout=120) as http:
                    page = 1
                    while True:
                        params = {"page": page, "page_size": b.page_size, "columns": ",".join(QUEUE_COLUMNS)}
                        answer = orjson.loads(http.get("/api/queues/%2F", params=params).content)
                        if page >= answer["page_count"]:
                            break
                        page += 1

            source_s, floor_s = rounds(collect, floor, n)
            report("RabbitMQ (real broker)", count[0], source_s, floor_s)
        finally:
            broker.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=("nsx", "rabbitmq"))
    ap.add_argument("--ports", type=int, default=20_000, help="NSX: compute ports (the plugin's objects)")
    ap.add_argument("--queues", type=int, default=5_000, help="RabbitMQ: queues on the broker")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if args.only in (None, "nsx"):
        bench_nsx(args.ports, args.rounds)
    if args.only in (None, "rabbitmq"):
        bench_rabbitmq(args.queues, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
