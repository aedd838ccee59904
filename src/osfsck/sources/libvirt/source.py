"""Read every domain (running and only defined) from each compute host's libvirtd."""

from __future__ import annotations

from collections.abc import Callable

from osfsck.clients import extras
from osfsck.config.settings import HypervisorSettings
from osfsck.model.facts import kind_of
from osfsck.model.facts.hypervisor import Domain, DomainVolume, host_scope
from osfsck.model.result import SourceStatus
from osfsck.model.secrets import redact_url
from osfsck.model.snapshot import ANYWHERE, Snapshot
from osfsck.sources.base import Source, SourceError, cover_all, utcnow
from osfsck.sources.hosts import HOST_LIST_KINDS, HostTarget, scoped_hosts
from osfsck.sources.libvirt.mapping import DomainXMLError, parse_domain
from osfsck.sources.parallel import one_line, run_bounded

# libvirt's VIR_ERR_NO_DOMAIN: the domain went away between listing it and reading it
# (deleted or migrated away meanwhile). It is gone, which is what the listing would say now.
_VIR_ERR_NO_DOMAIN = 42


class LibvirtSource(Source):
    name = "libvirt"
    settings_attr = "hypervisors"
    provides = (Domain, DomainVolume)
    requires = HOST_LIST_KINDS
    scope_noun = "compute host: none in Nova's compute nodes of [hypervisors] hypervisor_types, nor in extra_hosts"

    def __init__(self, settings: HypervisorSettings, connect: Callable | None = None):
        self.settings = settings
        self._connect = connect
        self.progress: Callable[[int, int], None] | None = None

    def reads(self) -> list[str]:
        return [
            "libvirt (read-only) on each compute host: virConnectListAllDomains, "
            "virDomainGetXMLDesc, virDomainGetState, virDomainIsActive "
            f"(URI {redact_url(self.settings.uri_template)}; libvirtd's read-only socket "
            "accepts every local user by default, so over ssh any login on the host will do)",
        ]

    def collect(
        self, kinds: set, known: Snapshot, sink: Snapshot, scopes: set[str] | None = None
    ) -> list[SourceStatus]:
        if not kinds & set(self.provides):
            return []
        wanted = [k for k in self.provides if k in kinds]  # covered: only what was read
        if self._connect is None:
            missing = extras.missing("libvirt")
            if missing:  # no host can be read: said once, and what needs domains is undecided
                return [cover_all(sink, wanted, ANYWHERE, self.name, False, missing, utcnow())]
        connect = self._connect or _default_connect()
        targets = scoped_hosts(known, self.settings, self.within)
        if scopes is not None:
            targets = [t for t in targets if host_scope(t.name) in scopes]
        outcomes = run_bounded(
            targets,
            lambda t: _read_host(t, connect),
            concurrency=self.settings.concurrency,
            timeout=self.settings.timeout,
            progress=self.progress,
        )
        statuses = []
        for target, out in outcomes.items():
            scope = host_scope(target.name)
            if not out.ok:
                # a worker's own failures already name the URI; a timeout does not
                reason = f"no answer from {redact_url(target.uri)}: {out.reason}" if out.timed_out else out.reason
                statuses.append(cover_all(sink, wanted, scope, self.name, False, reason, utcnow()))
                continue
            domains, volumes, problems, at = out.value
            # facts are added here, in the caller's thread, never by a worker: a worker that
            # timed out may still finish later and must not touch the snapshot
            sink.add(kind_of(Domain), domains)
            if DomainVolume in kinds:
                sink.add(kind_of(DomainVolume), volumes)
            reason = ""
            if problems:
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                reason = f"{len(problems)} domain(s) unreadable: {problems[0]}{more}"
            statuses.append(cover_all(sink, wanted, scope, self.name, not problems, reason, at))
        return statuses


def _default_connect() -> Callable:
    try:
        import libvirt
    except ImportError:
        raise SourceError("libvirt-python is not installed (pip install 'osfsck[libvirt]')") from None
    # libvirt prints every error to stderr by default, on top of raising it
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    return libvirt.openReadOnly


def _read_host(target: HostTarget, connect: Callable):
    """(domains, volumes, problems, collected_at) for one host; raises when the host cannot
    be listed."""
    try:
        conn = connect(target.uri)
    except Exception as e:  # noqa: BLE001 - any failure to connect is a partial host
        raise _Unreachable(f"cannot connect to {redact_url(target.uri)}: {one_line(e)}") from None
    if conn is None:  # old libvirt-python returned None instead of raising
        raise _Unreachable(f"cannot connect to {redact_url(target.uri)}")
    try:
        at = utcnow()
        try:
            listed = conn.listAllDomains(0)  # 0: active and inactive (persistent) domains
        except Exception as e:  # noqa: BLE001
            raise _Unreachable(f"cannot list domains at {redact_url(target.uri)}: {one_line(e)}") from None
        domains, volumes, problems = [], [], []
        for dom in listed:
            try:
                xml = dom.XMLDesc(0)
                state = dom.state()[0]
                active = bool(dom.isActive())
            except Exception as e:  # noqa: BLE001
                if _error_code(e) == _VIR_ERR_NO_DOMAIN:
                    continue
                problems.append(f"{_dom_name(dom)}: {one_line(e)}")
                continue
            try:
                domain, disks = parse_domain(target.name, xml, state, active)
            except DomainXMLError as e:
                problems.append(str(e).removeprefix(f"{target.name}: "))
                continue
            domains.append(domain)
            volumes.extend(disks)
        return domains, volumes, problems, at
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - closing a broken connection tells us nothing new
            pass


class _Unreachable(Exception):
    """Raised with the full one-line reason; run_bounded turns it into Outcome.reason."""


def _error_code(e: Exception):
    get = getattr(e, "get_error_code", None)
    return get() if callable(get) else None


def _dom_name(dom) -> str:
    try:
        return dom.name()
    except Exception:  # noqa: BLE001
        return "?"
