#!/usr/bin/env python3
"""How long osfsck takes to collect the OVN northbound database, beside its floor.

    .venv/bin/python tools/bench_ovn.py                  # 110,000 switch ports (L)
    .venv/bin/python tools/bench_ovn.py --ports 40000 --rounds 5

A private ovsdb-server (osfsck_lab.ovsdb) is filled the way Neutron's ML2/OVN driver fills
it: switches of `--per-network` ports each (instance ports with Neutron's nine
external_ids, addresses and port security), a router and a router port per 20 networks,
one port group per 20 ports with 4 ACLs each, a NAT row per 10 ports, a DHCP_Options row
per network.  Rows go in through JSON-RPC `transact`, a network at a time, which is not
what is measured.

What it prints (figures, not pass/fail), each a median of `--rounds`, all in one run:
  * source: OvnNorthboundSource.collect, end to end (connect, get_schema, the _Server
    check, one `transact` selecting only the columns the checks use, facts), in a process
    of its own, and its memory: the process's high-water mark during collect, and its
    resident size after it with the facts held, over its resident size before;
  * floor: `ovsdb-client transact` of the very same select, the server's own C client
    receiving and parsing the same reply (its output to /dev/null), and the ratio, of
    wall time and of the clients' CPU time (the server's is the same for both; on a
    machine shared with other work the wall time stretches with the load);
  * for reference: `ovsdb-client dump` of the same tables and columns (one process per
    table, as `dump` takes one table; in the same rounds), python-ovs's IDL monitoring the
    same columns (how the source read before; not with --no-idl), and `ovsdb-client dump`
    of the whole database.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import orjson
import ovs.jsonrpc
import ovs.stream

from osfsck.clients.ovn import load
from osfsck.config.ovn import OvnSettings
from osfsck.model.facts.ovn import OvnNbRow
from osfsck.model.snapshot import Snapshot
from osfsck.sources.ovn_nb.source import COLUMNS, SCHEMA, OvnNorthboundSource
from osfsck_lab.ovsdb import OvsdbServer


def _ref(name):
    return ["named-uuid", name]


def _map(d):
    return ["map", [[k, v] for k, v in d.items()]]


def network_ops(n: int, per_network: int, first_port: int) -> list:
    """The insert operations of one network: switch, ports, DHCP options, its share of
    routers, port groups with ACLs and NAT rows."""
    net = str(uuid.uuid4())
    ops, port_refs = [], []
    for i in range(per_network):
        pid, k = str(uuid.uuid4()), first_port + i
        mac = f"fa:16:3e:{k >> 16 & 255:02x}:{k >> 8 & 255:02x}:{k & 255:02x}"
        ip = f"10.{k >> 16 & 255}.{k >> 8 & 255}.{k & 255}"
        ops.append(
            {
                "op": "insert",
                "table": "Logical_Switch_Port",
                "uuid-name": f"p{i}",
                "row": {
                    "name": pid,
                    "addresses": f"{mac} {ip}",
                    "port_security": f"{mac} {ip}",
                    "options": _map({"requested-chassis": f"cmp{k % 2000:04d}", "mcast_flood_reports": "true"}),
                    "external_ids": _map(
                        {
                            "neutron:cidrs": f"{ip}/16",
                            "neutron:device_id": str(uuid.uuid4()),
                            "neutron:device_owner": "compute:nova",
                            "neutron:network_name": f"neutron-{net}",
                            "neutron:port_name": "",
                            "neutron:project_id": uuid.uuid4().hex,
                            "neutron:revision_number": "4",
                            "neutron:security_group_ids": str(uuid.uuid4()),
                            "neutron:vnic_type": "normal",
                        }
                    ),
                },
            }
        )
        port_refs.append(_ref(f"p{i}"))
    ops.append(
        {
            "op": "insert",
            "table": "Logical_Switch",
            "row": {
                "name": f"neutron-{net}",
                "ports": ["set", port_refs],
                "external_ids": _map(
                    {
                        "neutron:network_name": f"net{n}",
                        "neutron:mtu": "1442",
                        "neutron:revision_number": "2",
                        "neutron:availability_zone_hints": "",
                    }
                ),
            },
        }
    )
    ops.append(
        {
            "op": "insert",
            "table": "DHCP_Options",
            "row": {
                "cidr": f"10.{n >> 8 & 255}.{n & 255}.0/24",
                "options": _map({"lease_time": "43200", "mtu": "1442"}),
                "external_ids": _map({"subnet_id": str(uuid.uuid4()), "neutron:revision_number": "1"}),
            },
        }
    )
    for g in range(0, per_network, 20):
        sg = str(uuid.uuid4())
        acls = []
        for a in range(4):
            ops.append(
                {
                    "op": "insert",
                    "table": "ACL",
                    "uuid-name": f"a{g}_{a}",
                    "row": {
                        "direction": "to-lport" if a % 2 else "from-lport",
                        "priority": 1002,
                        "action": "allow-related",
                        "match": f"outport == @pg_{sg.replace('-', '_')} && ip4 && tcp.dst == {22 + a}",
                        "external_ids": _map({"neutron:security_group_rule_id": str(uuid.uuid4())}),
                    },
                }
            )
            acls.append(_ref(f"a{g}_{a}"))
        ops.append(
            {
                "op": "insert",
                "table": "Port_Group",
                "row": {
                    "name": "pg_" + sg.replace("-", "_"),
                    "ports": ["set", port_refs[g : g + 20]],
                    "acls": ["set", acls],
                    "external_ids": _map({"neutron:security_group_id": sg}),
                },
            }
        )
    if n % 20 == 0:
        rid, lrp = str(uuid.uuid4()), str(uuid.uuid4())
        ops.append(
            {
                "op": "insert",
                "table": "Logical_Router_Port",
                "uuid-name": "lrp",
                "row": {
                    "name": f"lrp-{lrp}",
                    "mac": "fa:16:3e:ff:00:01",
                    "networks": "10.0.0.1/16",
                    "external_ids": _map({"neutron:revision_number": "3", "neutron:network_name": f"neutron-{net}"}),
                },
            }
        )
        nats = []
        for i in range(per_network * 20 // 10):
            ops.append(
                {
                    "op": "insert",
                    "table": "NAT",
                    "uuid-name": f"n{i}",
                    "row": {
                        "type": "dnat_and_snat",
                        "external_ip": f"198.51.{i >> 8 & 255}.{i & 255}",
                        "logical_ip": f"10.0.{i >> 8 & 255}.{i & 255}",
                        "external_ids": _map(
                            {
                                "neutron:fip_id": str(uuid.uuid4()),
                                "neutron:revision_number": "2",
                                "neutron:router_name": f"neutron-{rid}",
                            }
                        ),
                    },
                }
            )
            nats.append(_ref(f"n{i}"))
        ops.append(
            {
                "op": "insert",
                "table": "Logical_Router",
                "row": {
                    "name": f"neutron-{rid}",
                    "ports": ["set", [_ref("lrp")]],
                    "nat": ["set", nats],
                    "external_ids": _map({"neutron:router_name": f"r{n}", "neutron:revision_number": "2"}),
                },
            }
        )
    return ops


def populate(remote: str, ports: int, per_network: int) -> None:
    err, stream = ovs.stream.Stream.open_block(ovs.stream.Stream.open(remote), 10000)
    assert not err, err
    rpc = ovs.jsonrpc.Connection(stream)
    done = n = 0
    while done < ports:
        count = min(per_network, ports - done)
        req = ovs.jsonrpc.Message.create_request("transact", ["OVN_Northbound", *network_ops(n, count, done)])
        err, reply = rpc.transact_block(req)
        assert not err and not any("error" in r for r in reply.result if r), reply.result
        done += count
        n += 1
    rpc.close()


def median_time(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def collect_once(remote: str) -> dict:
    """One OvnNorthboundSource.collect in this (fresh) process: its wall and CPU seconds,
    how far above the resident size before it this process was at its peak (VmHWM) and
    when it was done with its facts still held, in MB."""
    source = OvnNorthboundSource(OvnSettings(nb_connection=remote, timeout=600))
    sink = Snapshot(taken_at=None)
    before, t, c = _status_kb("VmRSS"), time.perf_counter(), time.process_time()
    (status,) = source.collect({OvnNbRow}, sink, sink)
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    assert status.status == "ok", status.reason
    held, peak = _status_kb("VmRSS"), _status_kb("VmHWM")
    mb = 1024
    return {
        "s": seconds,
        "cpu": cpu,
        "peak": (peak - before) / mb,
        "held": (held - before) / mb,
        "facts": len(sink.of(OvnNbRow)),
    }


def collect_in_child(remote: str) -> dict:
    """`collect_once` in a process of its own: what earlier rounds (or filling the
    database) left resident in this one would hide the source's growth."""
    out = subprocess.run([sys.executable, __file__, "--collect", remote], capture_output=True, check=True)
    return orjson.loads(out.stdout)


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def ovsdb_client(*args: str) -> None:
    subprocess.run(["ovsdb-client", *args], stdout=subprocess.DEVNULL, check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ports", type=int, default=110_000)
    ap.add_argument("--per-network", type=int, default=55)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-reference", action="store_true", help="only the source and its floor")
    ap.add_argument("--no-idl", action="store_true", help="not python-ovs's IDL (the slowest reference)")
    ap.add_argument("--collect", metavar="REMOTE", help=argparse.SUPPRESS)  # collect_in_child's
    args = ap.parse_args()
    if args.collect:
        sys.stdout.buffer.write(orjson.dumps(collect_once(args.collect)))
        return 0
    with tempfile.TemporaryDirectory() as tmp, OvsdbServer(Path(tmp)) as server:
        t = time.perf_counter()
        populate(server.remote, args.ports, args.per_network)
        print(f"filled NB with {args.ports} switch ports in {time.perf_counter() - t:.1f} s")
        settings = OvnSettings(nb_connection=server.remote, timeout=600)
        select = [SCHEMA] + [
            {"op": "select", "table": t, "where": [], "columns": ["_uuid", *cols]} for t, cols in COLUMNS.items()
        ]
        transact = orjson.dumps(select).decode()

        def dump_columns():
            for table, cols in COLUMNS.items():
                ovsdb_client("--format=json", "dump", server.remote, SCHEMA, table, "_uuid", *cols)

        # alternated, round by round, so that the other engineers' load falls on all alike
        rounds, floor_t, floor_cpu, dump_t = [], [], [], []
        for _ in range(args.rounds):
            rounds.append(collect_in_child(server.remote))
            c = children_cpu()
            floor_t.append(median_time(lambda: ovsdb_client("transact", server.remote, transact), 1))
            floor_cpu.append(children_cpu() - c)
            if not args.no_reference:
                dump_t.append(median_time(dump_columns, 1))
        source = {k: statistics.median(r[k] for r in rounds) for k in ("s", "cpu", "peak", "held")}
        source_s, floor_s = source["s"], statistics.median(floor_t)
        print(f"source (select of the columns the checks use): {source_s:.2f} s for {rounds[0]['facts']} facts")
        print(
            f"source memory above its start: peak (VmHWM) {source['peak']:.0f} MB, "
            f"its facts held after it (VmRSS) {source['held']:.0f} MB"
        )
        print(f"floor: ovsdb-client transact, the same select:  {floor_s:.2f} s")
        print(f"ratio source / floor: {source_s / floor_s:.2f} (wall)")
        s_cpu, f_cpu = source["cpu"], statistics.median(floor_cpu)
        print(f"client CPU: source {s_cpu:.2f} s, ovsdb-client {f_cpu:.2f} s, ratio {s_cpu / f_cpu:.2f}")
        if dump_t:
            dump_s = statistics.median(dump_t)
            print(f"ovsdb-client dump, same tables and columns:    {dump_s:.2f} s (ratio {source_s / dump_s:.2f})")
        if not args.no_reference:
            if not args.no_idl:
                idl_s = median_time(lambda: load(settings, COLUMNS).close(), args.rounds)
                print(f"python-ovs IDL, same columns (the old reader):  {idl_s:.2f} s")
            whole_s = median_time(lambda: ovsdb_client("--format=json", "dump", server.remote, SCHEMA), args.rounds)
            print(f"ovsdb-client dump, whole database (JSON):      {whole_s:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
