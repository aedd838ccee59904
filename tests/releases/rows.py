"""Facts back into the rows the services keep: what a database must hold for each database
source to read exactly those facts (the inverse of sources/*_db/queries.py).

`Rows.add(ns, facts)` adds one case's facts (already in its namespace, tests/releases/
rename.py); a fact no database can hold as the scenario tells it raises NotWritable and
adds nothing of that case.  Columns a source does not read are given what the service
writes where it matters (a binding's vnic_type, a cell's transport_url) and otherwise left
to tests/releases/store.py, which fills NOT NULL columns with neutral values.

Two kinds are counts, not rows (quota.cinder_counted, quota.neutron_counted: GROUP BY over
the counted tables): they become rows that count that much, beside the scenario's own rows
of those tables (`filler` rows, in the case's projects)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from typing import Any

from osfsck.model.facts.placement import STANDARD_CLASSES
from osfsck.model.facts.quota import NEUTRON_TRACKED
from tests.releases.rename import Namespace, shared_uuid
from tests.support.world import iscsi_connection_info

DEFAULT_TYPE = "__DEFAULT__"
CUSTOM_CLASS_BASE = 10000  # placement/resource_class.py: custom classes are numbered from here


class NotWritable(Exception):
    """A fact no database can hold as the scenario tells it (one line: why)."""


def cell_db(cell: str) -> str:
    return f"nova_{cell}"


def schema_of(db: str) -> str:
    """The lab's schema name of a corpus database (nova_cell1 -> nova)."""
    return "nova" if db.startswith("nova_") and db != "nova_api" else db


class Rows:
    """{database: {table: [row]}} of the whole corpus, in insertion order."""

    def __init__(self, cells: list[str], types: dict[str, str]):
        self.tables: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        self.cell_ids = {shared_uuid("cell", name): i for i, name in enumerate(cells, 1)}
        self.cells = cells
        self.types = types  # name -> id, the corpus's volume types
        self._next: dict[str, int] = defaultdict(int)
        self._placement: dict[tuple[str, str], int] = {}  # (table, name) -> id

    def next_id(self, what: str) -> int:
        self._next[what] += 1
        return self._next[what]

    # -- the corpus's own rows ------------------------------------------------------------
    def shared(self, at: dt.datetime, cell_urls: dict[str, str]) -> None:
        """The cells in cell_mappings and the volume types: written once, not per case."""
        self.tables["nova_api"]["cell_mappings"] = [
            {
                "id": self.cell_ids[shared_uuid("cell", name)],
                "uuid": shared_uuid("cell", name),
                "name": name,
                "transport_url": "none:///",
                "database_connection": cell_urls[name],
                "disabled": False,
                "created_at": at,
            }
            for name in self.cells
        ]
        self.tables["cinder"]["volume_types"] = [
            {"id": tid, "name": name, "deleted": False, "is_public": True, "created_at": at}
            for name, tid in sorted(self.types.items())
        ]

    # -- one case ---------------------------------------------------------------------------
    def add(self, ns: Namespace, facts: dict[str, list]) -> None:
        """Add one case's facts; on NotWritable nothing of it is added."""
        case = _Case(self, ns, facts)
        case.write()
        for db, tables in case.tables.items():
            for table, rows in tables.items():
                self.tables[db][table].extend(rows)

    def placement_id(self, table: str, name: str) -> int:
        """The id of a row Placement keeps once per name (projects, users, consumer types,
        custom resource classes): shared by the cases, made on first use."""
        key = (table, name)
        if key not in self._placement:
            n = self.next_id(f"placement.{table}")
            if table == "resource_classes":
                n += CUSTOM_CLASS_BASE  # Placement numbers custom classes from here
            self._placement[key] = n
            column = "external_id" if table in ("projects", "users") else "name"
            self.tables["placement"][table].append({"id": n, column: name})
        return self._placement[key]


def network_info(ports: tuple, addresses: tuple) -> str:
    """A network info cache Nova could have written that lists `ports` and `addresses`
    in this order (sources/network_info.py reads a VIF's id, then its subnets' IPs)."""
    vifs: list[dict[str, Any]] = [{"id": p, "network": {"subnets": []}} for p in ports] or (
        [{"network": {"subnets": []}}] if addresses else []
    )
    if addresses:
        vifs[0]["network"]["subnets"] = [{"ips": [{"address": a, "floating_ips": []} for a in addresses]}]
    return json.dumps(vifs)


def _undashed(value: str | None) -> str | None:
    return value.replace("-", "") if value else value


class _Case:
    """One case's rows, built apart so that a NotWritable leaves the corpus untouched."""

    def __init__(self, rows: Rows, ns: Namespace, facts: dict[str, list]):
        self.rows, self.ns, self.facts = rows, ns, facts
        self.tables: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))

    def new_uuid(self) -> str:
        """A uuid of the case's for a row no scenario names (a row a count stands for)."""
        return self.ns.uuid(f"00000000-0000-4000-8000-{self.rows.next_id('filler'):012x}")

    def put(self, db: str, table: str, row: dict) -> dict:
        self.tables[db][table].append(row)
        return row

    def of(self, kind: str) -> list:
        return self.facts.get(kind, [])

    def write(self) -> None:
        self.nova_api()
        self.nova_cells()
        self.cinder()
        self.neutron()
        self.placement()
        self.designate()

    # -- Nova ---------------------------------------------------------------------------
    def nova_api(self) -> None:
        for m in self.of("nova.instance_mapping"):
            if m.cell_uuid is not None and m.cell_uuid not in self.rows.cell_ids:
                raise NotWritable(
                    f"instance mapping {m.instance_uuid} names cell {m.cell_uuid}, which cell_mappings lacks: "
                    "instance_mappings keeps a cell_id (a foreign key of cell_mappings.id), not the cell's uuid"
                )
            self.put(
                "nova_api",
                "instance_mappings",
                {
                    "instance_uuid": m.instance_uuid,
                    "cell_id": self.rows.cell_ids.get(m.cell_uuid),
                    "project_id": m.project_id,
                    "queued_for_delete": m.queued_for_delete,
                    "created_at": m.created_at,
                    "updated_at": m.updated_at,
                },
            )
        for b in self.of("nova.build_request"):
            row = {"instance_uuid": b.instance_uuid, "project_id": b.project_id}
            self.put("nova_api", "build_requests", {**row, "created_at": b.created_at, "updated_at": b.updated_at})
        for u in self.of("quota.nova_usage"):
            db = "nova_api" if u.scope == "api" else cell_db(u.scope.removeprefix("cell:"))
            row = {
                "id": u.id,
                "project_id": u.project_id,
                "user_id": u.user_id,
                "resource": u.resource,
                "in_use": u.in_use,
                "reserved": u.reserved,
                "updated_at": u.updated_at,
                "created_at": u.updated_at,
            }
            self.put(db, "quota_usages", row if db == "nova_api" else {**row, "deleted": 0})

    def nova_cells(self) -> None:
        names = {(n.cell, n.uuid): n for n in self.of("nova.instance_network")}
        for i in self.of("nova.instance"):
            net = names.pop((i.cell, i.uuid), None)
            self.put(
                cell_db(i.cell),
                "instances",
                {
                    **{f: getattr(i, f) for f in i._fields if f != "cell"},
                    "hostname": net.hostname if net else None,
                    "display_name": net.display_name if net else None,
                },
            )
            if net is not None and not i.deleted:
                self.put(
                    cell_db(i.cell),
                    "instance_info_caches",
                    {
                        "instance_uuid": i.uuid,
                        "network_info": network_info(net.port_ids, net.addresses),
                        "created_at": i.created_at,
                        "updated_at": net.cache_updated_at,
                        "deleted": 0,
                    },
                )
        if names:
            raise NotWritable(f"network info of {sorted(u for _, u in names)}, which no instance row has")
        for a in self.of("nova.archived_instance"):
            n = self.rows.next_id("shadow_instances")
            row = {"id": n, "uuid": a.uuid, "host": a.host, "deleted_at": a.deleted_at, "deleted": n}
            self.put(cell_db(a.cell), "shadow_instances", row)
        for m in self.of("nova.migration"):
            row = {f: getattr(m, f) for f in m._fields if f != "cell"}
            row.update(source_node=m.source_compute, dest_node=m.dest_compute, deleted=0)
            self.put(cell_db(m.cell), "migrations", row)
        for s in self.of("nova.compute_service"):
            self.put(
                cell_db(s.cell),
                "services",
                {
                    "host": s.host,
                    "binary": "nova-compute",
                    "topic": "compute",
                    "disabled": s.disabled,
                    "forced_down": s.forced_down,
                    "updated_at": s.updated_at,
                    "last_seen_up": s.last_seen_up,
                    "created_at": s.updated_at or s.last_seen_up,
                    "report_count": 1,
                    "deleted": 0,
                },
            )
        for n in self.of("nova.compute_node"):
            row = {f: getattr(n, f) for f in n._fields if f != "cell"}
            self.put(cell_db(n.cell), "compute_nodes", {**row, "deleted": 0, "cpu_info": "{}", "hypervisor_version": 1})
        for b in self.of("nova.block_device_mapping"):
            row = {f: getattr(b, f) for f in b._fields if f not in ("cell", "iscsi_paths")}
            row["connection_info"] = iscsi_connection_info(b.iscsi_paths)
            self.put(cell_db(b.cell), "block_device_mapping", {**row, "destination_type": "volume", "deleted": 0})
        for a in self.of("nova.instance_action"):
            n = self.rows.next_id("instance_actions")
            self.put(
                cell_db(a.cell),
                "instance_actions",
                {
                    "id": n,
                    "instance_uuid": a.instance_uuid,
                    "action": a.action,
                    "request_id": a.request_id,
                    "start_time": a.start_time,
                    "finish_time": a.finish_time,
                    "created_at": a.start_time,
                    "deleted": 0,
                },
            )
            if a.last_event is not None:
                self.put(
                    cell_db(a.cell),
                    "instance_actions_events",
                    {
                        "id": self.rows.next_id("instance_actions_events"),
                        "action_id": n,
                        "event": a.last_event,
                        "start_time": a.last_event_at,
                        "host": a.last_event_host,
                        "created_at": a.last_event_at,
                        "deleted": 0,
                    },
                )

    # -- Cinder ---------------------------------------------------------------------------
    def cinder(self) -> None:
        default = self.rows.types[DEFAULT_TYPE]
        for v in self.of("cinder.volume"):
            row = {f: getattr(v, f) for f in v._fields if f != "scope"}
            row.update(volume_type_id=default, created_at=v.updated_at, deleted_at=v.updated_at if v.deleted else None)
            self.put("cinder", "volumes", row)
        for a in self.of("cinder.attachment"):
            row = {f: getattr(a, f) for f in a._fields if f not in ("scope", "iscsi_paths")}
            row["connection_info"] = iscsi_connection_info(a.iscsi_paths)
            self.put("cinder", "volume_attachment", {**row, "created_at": a.updated_at})
        for s in self.of("cinder.service"):
            row = {"host": s.host, "binary": s.binary, "disabled": s.disabled, "updated_at": s.updated_at}
            self.put("cinder", "services", {**row, "topic": s.binary, "report_count": 1, "deleted": False})
        for t in self.of("cinder.volume_type"):
            if self.rows.types.get(t.name) != t.id:
                raise NotWritable(f"volume type {t.name} with id {t.id}, not the corpus's")
        for u in self.of("quota.cinder_usage"):
            row = {f: getattr(u, f) for f in u._fields if f != "scope"}
            self.put("cinder", "quota_usages", {**row, "deleted": False})
        for r in self.of("quota.cinder_reservation"):
            row = {f: getattr(r, f) for f in r._fields if f != "scope"}
            self.put("cinder", "reservations", {**row, "deleted": False})
        for c in self.of("quota.cinder_counted"):
            self._cinder_count(c)

    def _cinder_count(self, c) -> None:
        """Rows of `c.table` that the GROUP BY of clients/quota_counts.py reads as `c`:
        the case's own volumes of that project and type, and filler rows for the rest."""
        if c.table in ("volumes", "snapshots") and c.volume_type_id is None:
            raise NotWritable(f"counted {c.table} of {c.project_id} without a volume type: the column is NOT NULL")
        own = [
            r
            for r in self.tables["cinder"]["volumes"]
            if c.table == "volumes" and r["project_id"] == c.project_id and r["volume_type_id"] == c.volume_type_id
        ]
        live = [r for r in own if not r["deleted"] and r["use_quota"]]
        count, gigabytes = c.count - len(live), c.gigabytes - sum(r["size"] for r in live)
        if count < 0 or gigabytes < 0 or (gigabytes and not count):
            raise NotWritable(f"counted {c.table} of {c.project_id} disagree with the case's own rows of that table")
        deleted = max((r["deleted_at"] for r in own if r["deleted_at"]), default=None)
        if any(r["updated_at"] > c.last_updated for r in own) or (
            deleted is not None and (c.last_deleted is None or deleted > c.last_deleted)
        ):
            raise NotWritable(f"counted {c.table} of {c.project_id}: the case's own rows are newer than the count")
        sizes = [gigabytes // count] * count if count else []
        if sizes:
            sizes[-1] += gigabytes - sum(sizes)
        made = [(size, False, None) for size in sizes]
        if c.last_deleted is not None:
            made.append((1, True, c.last_deleted))
        elif not made and not own:
            made.append((1, True, None))  # a group row counting nothing: one deleted row
        for size, deleted, deleted_at in made:
            self._counted_row(c, size, deleted, deleted_at)

    def _counted_row(self, c, size: int, deleted: bool, deleted_at) -> None:
        ns = self.ns
        row = {"id": self.new_uuid(), "project_id": c.project_id, "deleted": deleted, "deleted_at": deleted_at}
        row.update(updated_at=c.last_updated, created_at=c.last_updated, status="deleted" if deleted else "available")
        if c.table == "volumes":
            row.update(
                size=size, volume_type_id=c.volume_type_id, use_quota=True, host=f"{ns.tag}cinder-filler@lvm#pool"
            )
            self.put("cinder", "volumes", {**row, "attach_status": "detached", "multiattach": False})
        elif c.table == "snapshots":
            # its type is its volume's: a deleted volume of that type, in a project of its own
            parent = self.new_uuid()
            self.put(
                "cinder",
                "volumes",
                {
                    "id": parent,
                    "project_id": f"{ns.tag}snapshot-parents",
                    "size": size,
                    "volume_type_id": c.volume_type_id,
                    "status": "deleted",
                    "attach_status": "detached",
                    "deleted": True,
                    "deleted_at": c.last_updated,
                    "updated_at": c.last_updated,
                    "created_at": c.last_updated,
                    "use_quota": True,
                    "multiattach": False,
                },
            )
            row.update(volume_id=parent, volume_size=size, volume_type_id=c.volume_type_id, use_quota=True)
            self.put("cinder", "snapshots", row)
        elif c.table == "backups":
            self.put(
                "cinder",
                "backups",
                {
                    **row,
                    "volume_id": self.new_uuid(),
                    "size": size,
                },
            )
        else:
            self.put("cinder", "groups", row)

    # -- Neutron --------------------------------------------------------------------------
    def _attrs(self, resource_type: str, revision: int, created, updated) -> int:
        n = self.rows.next_id("standardattributes")
        self.put(
            "neutron",
            "standardattributes",
            {
                "id": n,
                "resource_type": resource_type,
                "revision_number": revision,
                "created_at": created,
                "updated_at": updated,
                "description": "",
            },
        )
        return n

    def neutron(self) -> None:
        projects = {}
        for n in self.of("neutron.network"):
            projects[n.id] = n.project_id
            sa = self._attrs("networks", n.revision_number, n.created_at, n.updated_at)
            row = {"id": n.id, "name": n.name, "project_id": n.project_id, "standard_attr_id": sa}
            self.put("neutron", "networks", {**row, "status": "ACTIVE", "admin_state_up": True, "mtu": 1500})
        for s in self.of("neutron.subnet"):
            sa = self._attrs("subnets", s.revision_number, s.updated_at, s.updated_at)
            row = {"id": s.id, "network_id": s.network_id, "cidr": s.cidr, "ip_version": s.ip_version}
            self.put("neutron", "subnets", {**row, "project_id": projects.get(s.network_id), "standard_attr_id": sa})
        for p in self.of("neutron.port"):
            sa = self._attrs("ports", p.revision_number, p.created_at, p.updated_at)
            row = {
                f: getattr(p, f)
                for f in p._fields
                if f not in ("scope", "revision_number", "created_at", "updated_at", "dns_name", "dns_domain")
            }
            self.put("neutron", "ports", {**row, "standard_attr_id": sa, "admin_state_up": True})
            if p.dns_name is not None or p.dns_domain is not None:
                names = {"current_dns_name": p.dns_name or "", "current_dns_domain": p.dns_domain or ""}
                self.put(
                    "neutron",
                    "portdnses",
                    {
                        "port_id": p.id,
                        **names,
                        "previous_dns_name": "",
                        "previous_dns_domain": "",
                        "dns_name": p.dns_name or "",
                    },
                )
        for b in self.of("neutron.port_binding"):
            row = {"port_id": b.port_id, "host": b.host, "status": b.status, "vif_type": b.vif_type}
            self.put("neutron", "ml2_port_bindings", {**row, "vnic_type": "normal", "profile": "", "vif_details": ""})
        for a in self.of("neutron.ip_allocation"):
            self.put("neutron", "ipallocations", {f: getattr(a, f) for f in a._fields if f != "scope"})
        for f in self.of("neutron.floating_ip"):
            sa = self._attrs("floatingips", f.revision_number, f.updated_at, f.updated_at)
            row = {x: getattr(f, x) for x in f._fields if x not in ("scope", "revision_number", "updated_at")}
            self.put("neutron", "floatingips", {**row, "standard_attr_id": sa})
        for r in self.of("neutron.router"):
            sa = self._attrs("routers", r.revision_number, r.created_at, r.updated_at)
            row = {"id": r.id, "name": r.name, "project_id": r.project_id, "gw_port_id": r.gw_port_id}
            self.put("neutron", "routers", {**row, "standard_attr_id": sa, "status": "ACTIVE", "admin_state_up": True})
        for r in self.of("neutron.router_port"):
            self.put(
                "neutron", "routerports", {"router_id": r.router_id, "port_id": r.port_id, "port_type": r.port_type}
            )
        for g in self.of("neutron.security_group"):
            projects[g.id] = g.project_id
            sa = self._attrs("securitygroups", g.revision_number, g.created_at, g.updated_at)
            self.put(
                "neutron",
                "securitygroups",
                {"id": g.id, "name": g.name, "project_id": g.project_id, "standard_attr_id": sa},
            )
        for r in self.of("neutron.security_group_rule"):
            sa = self._attrs("securitygrouprules", r.revision_number, r.created_at, r.created_at)
            row = {"id": r.id, "security_group_id": r.security_group_id, "standard_attr_id": sa}
            # Neutron gives a rule its group's project
            self.put(
                "neutron",
                "securitygrouprules",
                {**row, "project_id": projects.get(r.security_group_id), "direction": "ingress", "ethertype": "IPv4"},
            )
        for b in self.of("neutron.port_security_group"):
            self.put(
                "neutron", "securitygroupportbindings", {"port_id": b.port_id, "security_group_id": b.security_group_id}
            )
        for u in self.of("quota.neutron_usage"):
            self.put("neutron", "quotausages", {f: getattr(u, f) for f in u._fields if f != "scope"})
        for r in self.of("quota.neutron_reservation"):
            self.put("neutron", "reservations", {"id": r.id, "project_id": r.project_id, "expiration": r.expiration})
        for c in self.of("quota.neutron_counted"):
            self._neutron_count(c)

    def _neutron_count(self, c) -> None:
        table = NEUTRON_TRACKED[c.resource]
        have = sum(1 for r in self.tables["neutron"][table] if r.get("project_id") == c.project_id)
        if c.count < have or c.count == 0:
            raise NotWritable(f"counted {c.resource} of {c.project_id} ({c.count}) is not what its rows count ({have})")
        for _ in range(c.count - have):
            rid, other = self.new_uuid(), self.new_uuid()  # the row, and a network or group it hangs on
            n = self.rows.next_id("filler mac")
            sa = self._attrs(table, 1, None, None)
            row = {"id": rid, "project_id": c.project_id, "standard_attr_id": sa}
            extra = {
                "networks": {"name": "filler", "status": "ACTIVE", "admin_state_up": True, "mtu": 1500},
                "subnets": {"network_id": other, "cidr": "192.0.2.0/24", "ip_version": 4},
                "ports": {
                    "network_id": other,
                    "mac_address": f"fa:16:3e:ff:{n // 256 % 256:02x}:{n % 256:02x}",
                    "admin_state_up": True,
                    "status": "DOWN",
                    "device_id": "",
                    "device_owner": "",
                },
                "subnetpools": {
                    "name": "filler",
                    "ip_version": 4,
                    "default_prefixlen": 24,
                    "min_prefixlen": 8,
                    "max_prefixlen": 32,
                },
                "securitygroups": {"name": "filler"},
                "securitygrouprules": {"security_group_id": other, "direction": "ingress", "ethertype": "IPv4"},
                "routers": {"name": "filler", "status": "ACTIVE", "admin_state_up": True},
                "floatingips": {
                    "floating_ip_address": f"198.51.100.{n % 250 + 1}",
                    "floating_network_id": other,
                    "floating_port_id": rid,
                    "status": "DOWN",
                },
            }[table]
            self.put("neutron", table, {**row, **extra})

    # -- Placement -------------------------------------------------------------------------
    def placement(self) -> None:
        ids = {}
        providers = self.of("placement.resource_provider")
        for p in providers:
            ids[p.uuid] = self.rows.next_id("placement.resource_providers")
        for p in providers:
            if p.root_provider_uuid not in ids or (
                p.parent_provider_uuid is not None and p.parent_provider_uuid not in ids
            ):
                raise NotWritable(f"provider {p.uuid} under a provider the case does not have")
            self.put(
                "placement",
                "resource_providers",
                {
                    "id": ids[p.uuid],
                    "uuid": p.uuid,
                    "name": p.name,
                    "generation": p.generation,
                    "root_provider_id": ids[p.root_provider_uuid],
                    "parent_provider_id": ids.get(p.parent_provider_uuid),
                    "created_at": p.created_at,
                    "updated_at": p.updated_at,
                },
            )
        for i in self.of("placement.inventory"):
            row = {
                f: getattr(i, f) for f in ("total", "reserved", "min_unit", "max_unit", "step_size", "allocation_ratio")
            }
            self.put("placement", "inventories", {**row, **self._on(ids, i.provider_uuid, i.resource_class)})
        for a in self.of("placement.allocation"):
            row = {"consumer_id": a.consumer_uuid, "used": a.used, **self._on(ids, a.provider_uuid, a.resource_class)}
            self.put("placement", "allocations", row)
        for c in self.of("placement.consumer"):
            if c.project_id is None or c.user_id is None:
                raise NotWritable(f"consumer {c.uuid} without a project or user: consumers' columns are NOT NULL")
            self.put(
                "placement",
                "consumers",
                {
                    "uuid": c.uuid,
                    "project_id": self.rows.placement_id("projects", c.project_id),
                    "user_id": self.rows.placement_id("users", c.user_id),
                    "generation": c.generation,
                    "consumer_type_id": self.rows.placement_id("consumer_types", c.consumer_type)
                    if c.consumer_type
                    else None,
                    "created_at": c.created_at,
                    "updated_at": c.updated_at,
                },
            )

    def _on(self, ids: dict, provider: str, resource_class: str) -> dict:
        if provider not in ids:
            raise NotWritable(f"an allocation or inventory on provider {provider}, which the case does not have")
        if resource_class in STANDARD_CLASSES:  # no row: the source names it by its id
            rc = STANDARD_CLASSES.index(resource_class)
        else:
            rc = self.rows.placement_id("resource_classes", resource_class)
        return {"resource_provider_id": ids[provider], "resource_class_id": rc}

    # -- Designate ---------------------------------------------------------------------------
    def designate(self) -> None:
        zones, recordsets = {}, set()
        pool = _undashed(self.ns.uuid("00000000-0000-4000-8000-0000000b0001"))
        for r in self.of("designate.record"):
            zid = _undashed(r.zone_id)
            if zones.setdefault(zid, r.zone) != r.zone:
                raise NotWritable(f"zone {r.zone_id} with two names")
            if (r.zone_id, r.name, r.type) in recordsets:
                raise NotWritable(f"two recordsets {r.name} {r.type} in zone {r.zone}: Designate keeps one")
            recordsets.add((r.zone_id, r.name, r.type))
            self.put(
                "designate",
                "recordsets",
                {
                    "id": _undashed(r.recordset_id),
                    "zone_id": zid,
                    "name": r.name,
                    "type": r.type,
                    "ttl": r.ttl,
                    "version": 1,
                },
            )
            self.put(
                "designate",
                "records",
                {
                    "id": _undashed(r.id),
                    "recordset_id": _undashed(r.recordset_id),
                    "zone_id": zid,
                    "data": r.data,
                    "hash": hashlib.md5(r.id.encode()).hexdigest(),
                    "managed_resource_type": r.managed_resource_type,
                    "managed_resource_id": _undashed(r.managed_resource_id),
                    "managed_plugin_name": r.managed_plugin_name,
                    "managed_extra": r.managed_extra,
                    "status": r.status,
                    "action": r.action,
                    "created_at": r.created_at,
                    "updated_at": r.updated_at,
                    "version": 1,
                },
            )
        for zid, name in zones.items():
            self.put(
                "designate",
                "zones",
                {
                    "id": zid,
                    "name": name,
                    "deleted": "0",
                    "pool_id": pool,
                    "email": "hostmaster@example.org",
                    "ttl": 3600,
                    "refresh": 3600,
                    "retry": 600,
                    "expire": 86400,
                    "minimum": 3600,
                    "serial": 1,
                    "version": 1,
                    "status": "ACTIVE",
                    "action": "NONE",
                    "shard": 0,
                },
            )
