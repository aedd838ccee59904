"""The lab's RabbitMQ broker's resident memory with many queues (XL declares ~80,000): a
broker of its own per variant of its configuration, the queues declared as the lab does
(imports of definitions), measured idle and then with one consumer per queue on one
channel, as the lab's services process consumes them.

    .venv/bin/python tools/bench_broker_memory.py --queues 40000 base lean

Variants: base (the lab's configuration), lean (management rates off, statistics every
60 s, classic queues v2).  Measured at 40,000 (2 cores, RabbitMQ 3.10.8): base 2.41 GB
idle / 2.77 GB consumed, lean 2.37 / 2.78: ~60-70 KB per queue whatever the settings."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import pika

from osfsck.clients.rabbitmq import RabbitClient
from osfsck_lab import rabbitmq
from osfsck_lab.rpc import BROKER_TIMEOUT, DEFINITIONS_CHUNK, Queue, _definitions

VARIANTS = {
    "base": "",
    "lean": "management.rates_mode = none\ncollect_statistics_interval = 60000\nclassic_queue.default_version = 2\n",
}


def rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
    return 0


def measure(n: int, variant: str) -> str:
    folder = Path(tempfile.mkdtemp(prefix=f"osfsck-broker-{variant}-"))
    broker = rabbitmq.Broker(folder, start=False)
    try:
        conf = folder / "rabbitmq.conf"
        conf.write_text(conf.read_text() + VARIANTS[variant])
        broker.start(120)
        pid = int(broker.pidfile.read_text())
        # as the lab's: a host's topic queue (bound) and a fanout queue with x-expires each
        queues = [Queue(f"compute.host{i:05d}", binding=f"compute.host{i:05d}") for i in range(n // 2)]
        queues += [Queue(f"compute_fanout_{i:032x}", arguments={"x-expires": 600000}) for i in range(n - n // 2)]
        t = time.perf_counter()
        with RabbitClient(broker.url, rabbitmq.USER, broker.password, name="lab", timeout=BROKER_TIMEOUT) as client:
            for i in range(0, len(queues), DEFINITIONS_CHUNK):
                client.request("POST", "/api/definitions/%2F", body=_definitions(queues[i : i + DEFINITIONS_CHUNK]))
        declared = time.perf_counter() - t
        time.sleep(20)  # the queues' processes settle (hibernate)
        idle = rss_mb(pid)
        conn = pika.BlockingConnection(pika.URLParameters(broker.amqp_url))
        channel = conn.channel()
        for q in queues:
            channel.basic_consume(q.name, lambda *_: None, auto_ack=True)
        for _ in range(20):
            conn.process_data_events(1)
        consumed = rss_mb(pid)
        conn.close()
        return f"{variant}: {n} queues declared in {declared:.0f} s; beam {idle} MB idle, {consumed} MB consumed"
    finally:
        broker.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queues", type=int, default=40000)
    ap.add_argument("variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    args = ap.parse_args()
    for variant in args.variants:
        print(measure(args.queues, variant), flush=True)


if __name__ == "__main__":
    main()
