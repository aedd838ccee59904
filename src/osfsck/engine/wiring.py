"""Builds sources and checks from settings: the one place that knows which source
provides which fact kind."""

from __future__ import annotations

from osfsck.checks import registry
from osfsck.checks.base import Check
from osfsck.config.settings import ConfigError, Settings
from osfsck.sources.base import NotConfigured, Source, SourceError


def source_classes() -> list[type[Source]]:
    # imported here so that a missing optional client library (libvirt) only matters
    # when a selected check needs that source
    from osfsck.sources.cinder_db import CinderDatabaseSource
    from osfsck.sources.neutron_db import NeutronDatabaseSource
    from osfsck.sources.nova_db import NovaDatabaseSource
    classes: list[type[Source]] = [NovaDatabaseSource, CinderDatabaseSource, NeutronDatabaseSource]
    try:
        from osfsck.sources.libvirt.source import LibvirtSource
        classes.append(LibvirtSource)
    except ImportError:  # pragma: no cover - depends on the machine
        pass
    from osfsck.sources.hostfs.source import HostFolderSource
    from osfsck.sources.iscsi.source import IscsiSource
    classes += [HostFolderSource, IscsiSource]
    return classes


def build_checks(settings: Settings, select=None, ignore=None) -> list[Check]:
    try:
        classes = registry.select(select, ignore)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    checks = []
    for cls in classes:
        params = {**settings.checks.get(cls.code, {}), **settings.checks.get(cls.name, {})}
        try:
            checks.append(cls(params))
        except ValueError as e:
            raise ConfigError(f"[checks.{cls.name}]: {e}") from None
    return checks


def runnable_checks(settings: Settings, checks: list[Check], explicit: bool) -> tuple[list[Check], list[tuple]]:
    """The checks whose sources are configured, and (code, name, why) for the others.  A
    check the operator selected by name (`explicit`) that cannot run is an error instead:
    a cloud without Cinder in the config still gets its compute checks."""
    missing = {}
    for cls in source_classes():
        try:
            _make_source(cls, settings)
        except NotConfigured as e:
            missing.update((k, str(e)) for k in cls.provides)
        except SourceError:
            pass   # a real error: build_sources reports it when the source is needed
    kept, skipped = [], []
    for c in checks:
        why = next((missing[k] for k in c.needs if k in missing), None)
        if why is None:
            kept.append(c)
        elif explicit:
            raise ConfigError(f"{c.code} {c.name} cannot run: {why}")
        else:
            skipped.append((c.code, c.name, why))
    return kept, skipped


def needed_kinds(checks: list[Check]) -> set:
    return {k for c in checks for k in c.needs}


def build_sources(settings: Settings, kinds: set) -> list[Source]:
    """The sources that provide `kinds`; a kind nobody provides is a configuration error."""
    wanted = []
    provided = set()
    for cls in source_classes():
        if not kinds & set(cls.provides):
            continue
        try:
            wanted.append(_make_source(cls, settings))
        except SourceError as e:
            raise ConfigError(str(e)) from None
        provided |= set(cls.provides)
    missing = sorted(k.kind for k in kinds - provided)
    if missing:
        raise ConfigError(f"no source can provide {', '.join(missing)} (is libvirt-python installed?)")
    return sorted(wanted, key=lambda s: s.stage)


def _make_source(cls: type[Source], settings: Settings) -> Source:
    return cls({"nova-db": settings.nova, "cinder-db": settings.cinder, "neutron-db": settings.neutron,
                "libvirt": settings.hypervisors,
                "hostfs": settings.hypervisors, "iscsi": settings.hypervisors}[cls.name])
