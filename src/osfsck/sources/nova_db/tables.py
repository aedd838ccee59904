"""The columns osfsck reads from Nova's databases, and only those.

Lightweight `table()`/`column()` constructs (no reflection, no metadata round trip):
the types only tell SQLAlchemy how to convert values (SQLite keeps DATETIME as text).
Nova's Boolean columns are declared FLAG (clients/db.py): facts keep them as MySQL and
SQLite store them (0/1), since converting a million flags costs more than reading them;
PostgreSQL's real booleans are converted to 0/1 (`deleted` is an Integer everywhere).
"""

from __future__ import annotations

from sqlalchemy import Boolean, DateTime, Integer, String, column, table

from osfsck.clients.db import FLAG

cell_mappings = table(
    "cell_mappings",
    column("id", Integer),
    column("uuid", String),
    column("name", String),
    column("database_connection", String),
    column("disabled", Boolean),
)
instance_mappings = table(
    "instance_mappings",
    column("instance_uuid", String),
    column("cell_id", Integer),
    column("project_id", String),
    column("queued_for_delete", FLAG),
    column("created_at", DateTime),
    column("updated_at", DateTime),
)
build_requests = table(
    "build_requests",
    column("instance_uuid", String),
    column("project_id", String),
    column("created_at", DateTime),
    column("updated_at", DateTime),
)
instances = table(
    "instances",
    column("uuid", String),
    column("id", Integer),
    column("host", String),
    column("node", String),
    column("vm_state", String),
    column("task_state", String),
    column("power_state", Integer),
    column("deleted", Integer),
    column("hidden", FLAG),
    column("project_id", String),
    column("vcpus", Integer),
    column("memory_mb", Integer),
    column("root_gb", Integer),
    column("created_at", DateTime),
    column("updated_at", DateTime),
    column("deleted_at", DateTime),
)
instance_names = table(
    "instances",
    column("uuid", String),
    column("deleted", Integer),
    column("hostname", String),
    column("display_name", String),
)
instance_info_caches = table(
    "instance_info_caches",
    column("instance_uuid", String),
    column("network_info", String),
    column("updated_at", DateTime),
)
shadow_instances = table(
    "shadow_instances",
    column("uuid", String),
    column("host", String),
    column("deleted_at", DateTime),
)
migrations = table(
    "migrations",
    column("id", Integer),
    column("uuid", String),
    column("instance_uuid", String),
    column("migration_type", String),
    column("status", String),
    column("source_compute", String),
    column("dest_compute", String),
    column("created_at", DateTime),
    column("updated_at", DateTime),
    column("deleted", Integer),
)
services = table(
    "services",
    column("host", String),
    column("binary", String),
    column("disabled", FLAG),
    column("forced_down", FLAG),
    column("updated_at", DateTime),
    column("last_seen_up", DateTime),
    column("deleted", Integer),
)
compute_nodes = table(
    "compute_nodes",
    column("uuid", String),
    column("host", String),
    column("hypervisor_hostname", String),
    column("hypervisor_type", String),
    column("deleted", Integer),
)
block_device_mapping = table(
    "block_device_mapping",
    column("id", Integer),
    column("uuid", String),
    column("instance_uuid", String),
    column("volume_id", String),
    column("attachment_id", String),
    column("device_name", String),
    column("source_type", String),
    column("destination_type", String),
    column("boot_index", Integer),
    column("connection_info", String),
    column("created_at", DateTime),
    column("updated_at", DateTime),
    column("deleted", Integer),
)
instance_actions = table(
    "instance_actions",
    column("id", Integer),
    column("instance_uuid", String),
    column("action", String),
    column("request_id", String),
    column("start_time", DateTime),
    column("finish_time", DateTime),
    column("deleted", Integer),
)
instance_actions_events = table(
    "instance_actions_events",
    column("id", Integer),
    column("action_id", Integer),
    column("event", String),
    column("start_time", DateTime),
    column("finish_time", DateTime),
    column("host", String),
)
