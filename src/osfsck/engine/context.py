"""Connections that repairs write through, opened on first use and closed at the end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import Engine

from osfsck.clients.db import make_engine
from osfsck.config.settings import ConfigError, Database, Settings
from osfsck.model.snapshot import Snapshot
from osfsck.sources.hosts import HostTarget, channel_to, hypervisor_hosts

if TYPE_CHECKING:
    from osfsck.clients.hostagent import HostChannel

_T = TypeVar("_T")


class RepairContext:
    def __init__(self, settings: Settings, snap: Snapshot | None):
        self.settings = settings
        self.snap = snap
        self._engines: dict[str, Engine] = {}  # "api", "cell:<name>", "cinder", "neutron" -> Engine
        self._libvirt: dict[str, Any] = {}  # host -> libvirt.virConnect (an untyped library)
        self._targets: dict[str, HostTarget] | None = None

    def targets(self) -> dict[str, HostTarget]:
        if self._targets is None:
            # no snapshot (undo): no host list from Nova; the clock is not read
            base = self.snap if self.snap is not None else Snapshot(taken_at=dt.datetime.min)
            self._targets = {t.name: t for t in hypervisor_hosts(base, self.settings.hypervisors)}
        return self._targets

    def target(self, host: str) -> HostTarget:
        t = self.targets().get(host)
        if t is None:
            hv = self.settings.hypervisors
            # a host from the journal that Nova no longer lists: use the defaults
            t = HostTarget(
                host, hv.uri_template.format(host=host), hv.instances_path, hv.transport, host, None, hv.iscsiadm
            )
        return t

    def _engine(self, scope: str, url_of: Callable[[], str]) -> Engine:
        """The engine of `scope`, made from `url_of()` on first use."""
        if scope not in self._engines:
            self._engines[scope] = make_engine(url_of(), readonly=False)
        return self._engines[scope]

    def nova_api(self) -> Engine:
        return self._engine("api", lambda: _url(self.settings.nova.api_database, "[nova] api_database"))

    def service_database(self, service: str) -> Engine:
        """The engine of a service's own database: "cinder", "neutron", ..."""
        settings = getattr(self.settings, service)
        return self._engine(service, lambda: _url(settings.database, f"[{service}] database (or {service}_conf)"))

    def cells(self) -> list[dict[str, Any]]:
        from osfsck.sources.nova_db.source import read_cells

        if not hasattr(self, "_cells"):
            with self.nova_api().connect() as conn:
                self._cells = read_cells(conn)
        return self._cells

    def database(self, scope: str) -> Engine:
        """A read-write engine for "api", "cell:<name>" or a service ("cinder", "neutron")."""
        if scope == "api":
            return self.nova_api()
        if not scope.startswith("cell:"):
            return self.service_database(scope)
        from osfsck.sources.nova_db.cell_urls import resolve_cell_url

        name = scope.split(":", 1)[1]

        def url() -> str:
            cell = next((c for c in self.cells() if c["name"] == name), None)
            if cell is None:
                raise ConfigError(f"no cell named {name} in cell_mappings")
            found, why = resolve_cell_url(self.settings.nova, cell)
            if found is None:
                raise ConfigError(f"cell {name}: {why}")
            return found

        return self._engine(f"cell:{name}", url)

    def libvirt(self, host: str) -> Any:
        conn = self._libvirt.get(host)
        if conn is None:
            import libvirt

            conn = self._libvirt[host] = libvirt.open(self.target(host).uri)
        return conn

    def host_channel(self, host: str) -> HostChannel:
        return channel_to(self.target(host), self.settings.hypervisors)

    def client(self, key: str, make: Callable[[], _T]) -> _T:
        """A client kept for the run (a DNS updater, an OVN or NSX connection): `make()` on
        first use; closed at the end when it has a close()."""
        clients: dict[str, Any] = self.__dict__.setdefault("_clients", {})
        if key not in clients:
            clients[key] = make()
        made: _T = clients[key]
        return made

    def close(self) -> None:
        for c in self.__dict__.pop("_clients", {}).values():
            try:
                getattr(c, "close", lambda: None)()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        for conn in self._libvirt.values():
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        self._libvirt.clear()
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()


def _url(db: Database | None, setting: str) -> str:
    if db is None:
        raise ConfigError(f"{setting} is not configured")
    return db.url
