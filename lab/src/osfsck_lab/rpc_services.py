"""The lab's live OpenStack services, as the broker and the databases see them: one process
that consumes the live services' queues (nova-compute's compute.<host> and fanout, the
conductor's, the scheduler's, the callers' reply queues, cinder-volume's) and, every
`interval` seconds, reports their heartbeats the way nova-compute's report_state and
cinder's report_state do (services.updated_at, last_seen_up, report_count).  The dead
hosts are not in its configuration: their queues fill and their heartbeats age.

    python -m osfsck_lab.rpc_services --config services.json --pidfile services.pid

It reconnects when the broker goes away (`lab stop` stops the broker first) and exits on
SIGTERM.  Messages it receives are acknowledged and dropped: no lab instance changes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sys
import time

import pika
from sqlalchemy import column, create_engine, table, update
from sqlalchemy.pool import NullPool


def report(config: dict, engines: dict) -> None:
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    for cell in config["nova"]:
        _touch(engines, cell["url"], cell["hosts"], "nova-compute", {"updated_at": now, "last_seen_up": now})
    cinder = config["cinder"]
    _touch(engines, cinder["url"], cinder["hosts"], None, {"updated_at": now})


def _touch(engines: dict, url: str, hosts: list, binary: str | None, values: dict) -> None:
    t = table(
        "services",
        column("host"),
        column("binary"),
        column("deleted"),
        column("report_count"),
        *(column(k) for k in values),
    )
    engine = engines.get(url) or engines.setdefault(url, create_engine(url, poolclass=NullPool))
    where = [t.c.host.in_(hosts), t.c.deleted == 0] + ([t.c.binary == binary] if binary else [])
    try:
        with engine.begin() as conn:
            conn.execute(update(t).where(*where).values(report_count=t.c.report_count + 1, **values))
    except Exception as e:  # noqa: BLE001 - a busy or restarting database: report again next time
        print(f"heartbeat to {engine.url.render_as_string(hide_password=True)} failed: {e}", file=sys.stderr)


def consume(config: dict, engines: dict) -> None:
    """Consume until the connection drops; report heartbeats meanwhile."""
    conn = pika.BlockingConnection(pika.URLParameters(config["amqp_url"]))
    ch = conn.channel()
    for q in config["queues"]:
        ch.queue_declare(q["name"], durable=True, arguments=q["arguments"] or None)
        ch.basic_consume(q["name"], lambda c, m, p, b: None, auto_ack=True)
    print(f"consuming {len(config['queues'])} queues", file=sys.stderr, flush=True)
    due = 0.0
    while True:
        if time.monotonic() >= due:
            report(config, engines)
            due = time.monotonic() + config["interval"]
        conn.process_data_events(time_limit=1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True)
    p.add_argument("--pidfile", required=True)
    a = p.parse_args(argv)
    with open(a.config) as f:
        config = json.load(f)
    with open(a.pidfile, "w") as f:
        f.write(f"{os.getpid()}\n")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    engines: dict = {}
    while True:
        try:
            consume(config, engines)
        except (pika.exceptions.AMQPError, OSError) as e:
            print(f"broker connection lost ({type(e).__name__}: {e}); reconnecting", file=sys.stderr, flush=True)
            report(config, engines)
            time.sleep(2)


if __name__ == "__main__":
    sys.exit(main())
