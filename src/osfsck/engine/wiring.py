"""Builds sources and checks from settings: the one place that knows which source
provides which fact kind."""

from __future__ import annotations

from osfsck.checks import registry
from osfsck.checks.base import Check
from osfsck.config.settings import ConfigError, Settings
from osfsck.sources.base import Source, SourceError


def source_classes() -> list[type[Source]]:
    # imported here so that a missing optional client library (libvirt) only matters
    # when a selected check needs that source
    from osfsck.sources.cinder_db import CinderDatabaseSource
    from osfsck.sources.nova_db import NovaDatabaseSource
    classes: list[type[Source]] = [NovaDatabaseSource, CinderDatabaseSource]
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


def needed_kinds(checks: list[Check]) -> set:
    return {k for c in checks for k in c.needs}


def build_sources(settings: Settings, kinds: set) -> list[Source]:
    """The sources that provide `kinds`; a kind nobody provides is a configuration error."""
    wanted = []
    provided = set()
    for cls in source_classes():
        if not kinds & set(cls.provides):
            continue
        settings_for = {"nova-db": settings.nova, "cinder-db": settings.cinder, "libvirt": settings.hypervisors,
                        "hostfs": settings.hypervisors, "iscsi": settings.hypervisors}[cls.name]
        try:
            wanted.append(cls(settings_for))
        except SourceError as e:
            raise ConfigError(str(e)) from None
        provided |= set(cls.provides)
    missing = sorted(k.kind for k in kinds - provided)
    if missing:
        raise ConfigError(f"no source can provide {', '.join(missing)} (is libvirt-python installed?)")
    return sorted(wanted, key=lambda s: s.stage)
