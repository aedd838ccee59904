#!/usr/bin/env python3
"""Bytes per fact of the Nova database source's facts, per kind, without a lab database.

    .venv/bin/python tools/bench_facts_memory.py                  # 2 cells of L, lab times
    .venv/bin/python tools/bench_facts_memory.py --cells 4 --times distinct

It makes the rows a driver would give for `--cells` cells of a profile (L: 115 hosts of 10
live instances, 5 soft-deleted and 0.5 archived rows per live one, half a volume attached
per live instance) and the API database's instance mappings of their instances, every value
a new object as a driver makes it, then turns them into facts exactly as the source does
(stored_rows.facts_of, db_read.without_secrets; one table of shared values per database
read, dropped after it).  It prints, per kind, the facts' count and their bytes per fact
(each object counted once, in the first kind that holds it, in the order read; sizes as
pymalloc allocates them), and the projection to the whole profile.

`--times lab` draws timestamps as the lab does (cloud.new_row: every instance created
20 days ago, deleted 10 to 59 days ago): a lab's values repeat far more than a real
cloud's.  `--times distinct` gives every timestamp its own second, a real cloud's worst
case for sharing them.  tracemalloc's total (what the facts hold once the reads' tables
are gone) is printed beside the walk's, as a check of it.  Its projection of the code
before these facts were made smaller, 562 MB at L, is what the L lab's whole run measured
of the Nova source's 1,547,554 facts (566 MB).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import sys
import tracemalloc
import uuid as uuidlib
from collections.abc import Iterator

from osfsck.model.facts.base import kind_of
from osfsck.model.facts.nova import (
    API_SCOPE,
    BlockDeviceMapping,
    ComputeNode,
    ComputeService,
    InstanceMapping,
)
from osfsck.sources.db_read import without_secrets
from osfsck.sources.nova_db.queries import CELL_KINDS
from osfsck.sources.stored_rows import facts_of, id_table
from osfsck_lab.profiles import PROFILES

NOW = dt.datetime(2026, 1, 15, 12, 0, 0)


def fresh(value):
    """`value` as a new object, as a driver decodes each column of each row (the small
    ints CPython caches and one-character strings stay shared, as they do there)."""
    if isinstance(value, str):
        return value.encode().decode()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(str(value))
    if isinstance(value, dt.datetime):
        return dt.datetime.fromisoformat(value.isoformat())
    return value


class Times:
    """Timestamps as the lab draws them, or each its own second."""

    def __init__(self, mode: str, rng: random.Random):
        self.mode, self.rng = mode, rng

    def at(self, lab: dt.timedelta) -> dt.datetime:
        if self.mode == "lab":
            return NOW - lab
        return NOW - dt.timedelta(seconds=self.rng.randrange(1, 3 * 365 * 86400))


def new_uuid(rng: random.Random) -> str:
    return str(uuidlib.UUID(int=rng.getrandbits(128), version=4))


def network_info(port: str, ip: str, fip: str | None) -> str:
    """One VIF as nova/network/neutron.py _build_vif_model gives it (lab network._vif's shape)."""
    ips = [{"address": ip, "type": "fixed", "version": 4, "meta": {}, "floating_ips": []}]
    if fip:
        ips[0]["floating_ips"] = [{"address": fip, "type": "floating", "version": 4, "meta": {}}]
    subnet = {"cidr": "10.0.0.0/16", "dns": [], "gateway": {"address": "10.0.0.1"}, "ips": ips, "routes": []}
    vif = {
        "id": port,
        "address": "fa:16:3e:00:00:01",
        "network": {"id": "net-id", "bridge": "br-int", "label": "private", "subnets": [subnet], "meta": {}},
        "type": "ovs",
        "details": {"port_filter": True, "connectivity": "l2", "bridge_name": "br-int", "datapath_type": "system"},
        "devname": f"tap{port[:11]}",
        "ovs_interfaceid": port,
        "active": True,
        "vnic_type": "normal",
        "profile": {},
        "meta": {},
    }
    return json.dumps([vif])


def connection_info(instance: str, volume: str) -> str:
    """block_device_mapping.connection_info of an LVM/tgt iSCSI volume (lab volumes._nova_connection)."""
    data = {
        "target_discovered": False,
        "target_portal": "192.0.2.10:3260",
        "target_iqn": f"iqn.2010-10.org.openstack:volume-{volume}",
        "target_lun": 1,
        "volume_id": volume,
        "auth_method": "CHAP",
        "auth_username": "user",
        "auth_password": "***",
        "encrypted": False,
        "qos_specs": None,
        "access_mode": "rw",
        "cacheable": False,
        "enforce_multipath": False,
        "device_path": f"/dev/disk/by-path/ip-192.0.2.10:3260-iscsi-iqn.2010-10.org.openstack:volume-{volume}-lun-1",
    }
    return json.dumps(
        {
            "driver_volume_type": "iscsi",
            "data": data,
            "status": "reserved",
            "instance": instance,
            "attached_at": "",
            "detached_at": "",
            "volume_id": volume,
            "serial": volume,
        }
    )


def cell_rows(profile, ci: int, rng: random.Random, times: Times) -> tuple[dict, list]:
    """{fact type: rows} of cell `ci` in the queries' column order, and (uuid, project,
    created_at) of its instances for their mappings."""
    cell = f"cell{ci}"
    hosts = [f"c{ci}-hv{h:03d}" for h in range(1, profile.hosts_per_cell + 1)]
    live = len(hosts) * profile.live_per_host
    deleted = int(live * profile.deleted_per_live)
    archived = int(live * profile.archived_per_live)
    rows: dict = {kind: [] for kind in CELL_KINDS}
    mapped = []
    for n in range(1, live + deleted + 1):
        host = hosts[(n - 1) % len(hosts)]
        gone = n > live
        uuid, project = new_uuid(rng), f"project-{rng.randrange(1, 40):02d}"
        created = times.at(dt.timedelta(days=20))
        deleted_at = times.at(dt.timedelta(days=10 + n % 50)) if gone else None
        updated = deleted_at if gone else created  # the lab's (Nova's delete: save, then destroy)
        name = f"vm-{cell}-{n}"
        rows[CELL_KINDS_BY_KIND["nova.instance"]].append(
            (cell, uuid, n, host, host, "deleted" if gone else "active", None, 0 if gone else 1,
             n if gone else 0, 0, project, 1, 32, 1, created, updated, deleted_at)
        )  # fmt: skip
        info = None
        if not gone:
            ip = f"10.{ci}.{n // 250}.{n % 250 + 2}"
            info = network_info(new_uuid(rng), ip, f"198.18.{ci}.{n % 250}" if n % 4 == 0 else None)
        rows[CELL_KINDS_BY_KIND["nova.instance_network"]].append(
            (cell, uuid, n if gone else 0, name, name, info, None if gone else created + dt.timedelta(seconds=15))
        )
        if not gone and n % 2 == 0:
            volume = new_uuid(rng)
            rows[BlockDeviceMapping].append(
                (cell, n, new_uuid(rng), uuid, volume, new_uuid(rng), "/dev/vdb", "volume", None,
                 connection_info(uuid, volume), created, created)
            )  # fmt: skip
        mapped.append((uuid, project, created))
    for n in range(archived):
        rows[CELL_KINDS_BY_KIND["nova.archived_instance"]].append(
            (cell, new_uuid(rng), hosts[n % len(hosts)], times.at(dt.timedelta(days=60)))
        )
    for host in hosts:
        rows[ComputeService].append((cell, host, 0, 0, NOW, NOW))
        rows[ComputeNode].append((cell, new_uuid(rng), host, host, "QEMU"))
    return rows, mapped


CELL_KINDS_BY_KIND = {kind_of(k): k for k in CELL_KINDS}


def driver_batches(rows: list, batch: int = 1000) -> Iterator[list]:
    for i in range(0, len(rows), batch):
        yield [tuple(map(fresh, r)) for r in rows[i : i + batch]]


def read(kinds_rows: dict, held: dict, ids: dict) -> None:
    """One database read as read_database makes it: its own tables of shared values, dropped
    after it, beside `ids`, those the source shares across its reads."""
    shared = dict(ids)
    for kind, rows in kinds_rows.items():
        make = facts_of(kind, shared)
        facts: list = []
        for batch in driver_batches(rows):
            facts.extend(make(batch))
        held.setdefault(kind, []).extend(without_secrets(kind, facts))


def allocated(size: int) -> int:
    """Bytes pymalloc gives an object of `size` (16-byte classes up to 512; malloc beyond)."""
    return (size + 15) // 16 * 16


def deep(obj, seen: set) -> int:
    stack, total = [obj], 0
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        total += allocated(sys.getsizeof(o))
        if isinstance(o, (tuple, list)):
            stack.extend(o)
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="L", choices=sorted(PROFILES))
    ap.add_argument("--cells", type=int, default=2, help="cells of the profile made and measured")
    ap.add_argument("--times", default="lab", choices=("lab", "distinct"))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    profile = PROFILES[args.profile]
    rng = random.Random(args.seed)
    times = Times(args.times, rng)
    held: dict = {}
    tracemalloc.start()
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    cells = [cell_rows(profile, ci, rng, times) for ci in range(1, args.cells + 1)]
    cell_uuid = [new_uuid(rng) for _ in cells]
    api = [
        (API_SCOPE, uuid, cell_uuid[ci], project, 1 if i % 6 else 0, created, None)
        for ci, (_, mapped) in enumerate(cells)
        for i, (uuid, project, created) in enumerate(mapped)
    ]
    # as NovaDatabaseSource.collect: the API database first, then each cell
    ids: dict = {id_table("instance"): {}}
    read({InstanceMapping: api}, held, ids)
    del api
    while cells:
        read(cells.pop(0)[0], held, ids)
    del ids
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    seen: set = set()
    scale = profile.cells / args.cells
    print(f"profile {args.profile}: {args.cells} of {profile.cells} cells, times {args.times}; projected x{scale:g}")
    print(f"{'kind':28} {'facts':>9} {'B/fact':>7} {'MB at ' + args.profile:>10}")
    total_n = total_b = 0
    for kind, facts in held.items():
        size = sum(deep(f, seen) for f in facts) + allocated(sys.getsizeof(facts))
        n = len(facts)
        total_n, total_b = total_n + n, total_b + size
        print(f"{kind_of(kind):28} {n:9} {size / max(n, 1):7.0f} {size * scale / 1e6:10.1f}")
    print(f"{'all':28} {total_n:9} {total_b / total_n:7.0f} {total_b * scale / 1e6:10.1f}")
    print(f"tracemalloc: {traced / total_n:.0f} B/fact held, {traced * scale / 1e6:.1f} MB at {args.profile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
