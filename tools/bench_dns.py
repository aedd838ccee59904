#!/usr/bin/env python3
"""How fast osfsck's DNS source transfers zones into facts, beside `dig axfr` of the same zones.

    .venv/bin/python tools/bench_dns.py                      # ~100,000 records
    .venv/bin/python tools/bench_dns.py --records 20000 --rounds 3
    .venv/bin/python tools/bench_dns.py --profile            # cProfile of one source run

A private BIND `named` (osfsck_lab.bind) serves a forward zone of A records and a reverse
zone of PTR records (half of `--records` each, a TXT record beside every tenth A as
Designate writes them), transfers signed with TSIG (hmac-sha256) as osfsck reads them in
production.

What it prints (figures, not pass/fail), medians of `--rounds`, the two alternated round
by round so that other load on the machine falls on both alike:
  * source: DnsZoneSource.collect of both zones, end to end (AXFR over TCP, TSIG checked,
    records into DnsZone/DnsRecord facts), in seconds and records per second;
  * floor: `dig axfr` of the same zones with the same key (BIND's own C client, its text
    output to /dev/null), one process per zone as dig takes one transfer at a time;
  * for reference: the Python floor, the same signed transfers read over TCP and split
    into messages, nothing parsed (clients/axfr.messages: what any Python reader pays
    before its first record), and dnspython's own dns.query.xfr (the reader before);
  * the ratio source / floor, of wall time and of CPU time (the source's own process
    time against dig's, from getrusage of the children): on a machine shared with other
    work the CPU ratio is the steadier one, as neither counts the time waiting for a core
    or for named.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import pstats
import resource
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import dns.message
import dns.query
import dns.rdatatype
import dns.tsig

from osfsck.clients import axfr
from osfsck.config.load import load_settings
from osfsck.model.facts.dns import DnsRecord, DnsZone
from osfsck.model.snapshot import Snapshot
from osfsck.sources.dns import DnsZoneSource
from osfsck_lab.bind import Bind

FORWARD, REVERSE = "bench.example.", "10.in-addr.arpa."


def zones(records: int) -> dict:
    half = records // 2
    forward, reverse = [], []
    for i in range(half):
        ip = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        forward.append((f"vm-{i}", "A", ip))
        if i % 10 == 0:
            forward.append((f"vm-{i}", "TXT", f'"openstack-instance={i:08x}"'))
        reverse.append((f"{i & 255}.{i >> 8 & 255}.{i >> 16 & 255}", "PTR", f"vm-{i}.{FORWARD}"))
    return {FORWARD: forward, REVERSE: reverse}


def axfr_stream(port: int, zone: str, key: dns.tsig.Key):
    """(the query, the messages of a signed AXFR of `zone`, as clients/axfr reads them)."""
    q = dns.message.make_query(zone, dns.rdatatype.AXFR)
    q.use_tsig({key.name: key}, keyname=key.name)
    wire = q.to_wire()
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(struct.pack("!H", len(wire)) + wire)
    return sock, axfr.Query(q.id, key, q.mac), axfr.messages(sock, time.monotonic() + 600, 60)


def message_count(port: int, zone: str, key: dns.tsig.Key) -> int:
    """How many messages the transfer of `zone` takes (read once, records and all)."""
    sock, query, stream = axfr_stream(port, zone, key)
    seen = []
    with sock:
        for _ in axfr.records(zone, query, (seen.append(m) or m for m in stream)):
            pass
    return len(seen)


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def median(times: list) -> float:
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="print a cProfile of one source run, then stop")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        with Bind(Path(tmp) / "bind", zones(args.records), timeout=120) as ns:
            print(f"named serves {args.records} records (and a TXT per ten A) in {time.perf_counter() - t:.1f} s")
            conf = Path(tmp) / "osfsck.toml"
            conf.write_text(
                f'[dns]\nserver = "127.0.0.1:{ns.port}"\nkey = "{ns.key_name}"\ntimeout = "60s"\n'
                f'[dns.keys.{ns.key_name}]\nsecret_file = "bind/tsig.key"\n'
                f'[dns.zones."{FORWARD}"]\n[dns.zones."{REVERSE}"]\n'
            )
            source = DnsZoneSource(load_settings(str(conf)).dns)
            count = []

            def collect():
                sink = Snapshot(taken_at=None)
                statuses = source.collect({DnsZone, DnsRecord}, sink, sink)
                assert all(s.status == "ok" for s in statuses), [s.reason for s in statuses]
                count[:] = [len(sink.of(DnsRecord))]

            key = f"{ns.algorithm}:{ns.key_name}:{ns.secret}"

            def dig():
                for zone in (FORWARD, REVERSE):
                    subprocess.run(
                        ["dig", "-p", str(ns.port), "-y", key, "@127.0.0.1", "axfr", zone],
                        stdout=subprocess.DEVNULL,
                        check=True,
                    )

            def python_floor():
                for zone in (FORWARD, REVERSE):
                    sock, _, stream = axfr_stream(ns.port, zone, tsig)
                    with sock:
                        for _ in itertools.islice(stream, counts[zone]):
                            pass

            def dnspython_xfr():
                for zone in (FORWARD, REVERSE):
                    for msg in dns.query.xfr(
                        "127.0.0.1", zone, port=ns.port, keyring={tsig.name: tsig}, keyname=tsig.name, relativize=False
                    ):
                        for rrset in msg.answer:
                            for rd in rrset:
                                rd.to_text()

            tsig = dns.tsig.Key(ns.key_name, ns.secret, ns.algorithm)
            counts = {zone: message_count(ns.port, zone, tsig) for zone in (FORWARD, REVERSE)}
            if args.profile:
                cProfile.runctx("collect()", globals(), locals(), str(Path(tmp) / "prof"))
                pstats.Stats(str(Path(tmp) / "prof")).sort_stats("tottime").print_stats(25)
                return 0
            source_t, floor_t, source_cpu, floor_cpu = [], [], [], []
            for _ in range(args.rounds):
                t, c = time.perf_counter(), time.process_time()
                collect()
                source_t.append(time.perf_counter() - t)
                source_cpu.append(time.process_time() - c)
                t, c = time.perf_counter(), children_cpu()
                dig()
                floor_t.append(time.perf_counter() - t)
                floor_cpu.append(children_cpu() - c)
            source_s, floor_s = median(source_t), median(floor_t)
            n = count[0]
            print(f"source (AXFR into facts): {source_s:.2f} s, {n} records, {n / source_s:,.0f} records/s")
            print(f"floor: dig axfr, same zones and key: {floor_s:.2f} s, {n / floor_s:,.0f} records/s")
            print(f"ratio source / floor: {source_s / floor_s:.2f} (wall)")
            for label, fn in (
                ("python floor: the stream split", python_floor),
                ("dnspython xfr (the old reader)", dnspython_xfr),
            ):
                t, c = [], []
                for _ in range(args.rounds):
                    t0, c0 = time.perf_counter(), time.process_time()
                    fn()
                    t.append(time.perf_counter() - t0)
                    c.append(time.process_time() - c0)
                print(f"{label}: {median(t):.2f} s, CPU {median(c):.2f} s")
            print(
                f"CPU: source {median(source_cpu):.2f} s, dig {median(floor_cpu):.2f} s, "
                f"ratio {median(source_cpu) / median(floor_cpu):.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
