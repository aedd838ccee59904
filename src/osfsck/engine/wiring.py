"""Builds sources and checks from settings: the one place that knows which source
provides which fact kind."""

from __future__ import annotations

from typing import Any

from osfsck.checks import registry
from osfsck.checks.base import Check, ParamError
from osfsck.config.settings import ConfigError, Settings
from osfsck.model.facts.base import FactType
from osfsck.model.wording import closest
from osfsck.sources.base import NotConfigured, Source, SourceError
from osfsck.sources.host_agent import share_host_calls


def source_classes() -> list[type[Source]]:
    """Every source: the `Source` subclasses of each `osfsck.sources.<system>.source` module.
    A module whose optional client library is missing (libvirt-python, ...) is left out; its
    kinds are then reported as provided by nobody when a selected check needs them."""
    import importlib
    import pkgutil

    import osfsck.sources as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.ispkg:
            module = f"{pkg.__name__}.{info.name}.source"
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as e:
                if e.name == module:
                    continue  # a package of helpers, not a source
                if (e.name or "").split(".")[0] == "osfsck":
                    raise  # our own bug: never hide a source behind it
                # else an optional client library (libvirt-python) is not installed
    found, stack = {}, list(Source.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        # the product's sources only: a test's stand-in Source registers too, and under
        # xdist may share a process with what builds a cloud's sources
        if "name" in cls.__dict__ and cls.__module__.startswith(pkg.__name__ + "."):
            found[cls.name] = cls
    return [found[n] for n in sorted(found)]


def build_checks(settings: Settings, select: list[str] | None = None, ignore: list[str] | None = None) -> list[Check]:
    """The selected checks, each with its [checks.<code or name>] settings.  Every table of
    [checks] is checked against the catalogue first, selected or not: a typo there must
    not wait for the day its check is selected, nor a wrong type for a repair run."""
    try:
        params = _check_params(settings.checks)
    except ConfigError as e:
        raise ConfigError(f"{settings.source_file}: {e}" if settings.source_file else str(e)) from None
    try:
        classes = registry.select(select, ignore)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    return [cls(params.get(cls.code)) for cls in classes]


def _check_params(tables: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The settings of each check by code: its [checks.<code>] table, then its
    [checks.<name>] table over it; each validated by the check itself."""
    catalogue = registry.all_checks()
    found: dict[str, type[Check]] = {}
    for key in tables:
        cls = registry.find(key)
        if cls is None:
            hint = closest(key, [c.code for c in catalogue] + [c.name for c in catalogue])
            raise ConfigError(f"[checks.{key}]: no check has this code or name{hint} (see `osfsck checks`)")
        found[key] = cls
    merged: dict[str, dict[str, Any]] = {}
    # codes first, so that a name's table wins over its code's whatever the file's order
    for key in sorted(found, key=lambda k: k.lower() == found[k].name):
        cls = found[key]
        try:
            cls(tables[key])
        except ParamError as e:
            raise ConfigError(f"[checks.{key}]{'.' + e.param if e.param else ''}: {e.problem}") from None
        except ValueError as e:
            raise ConfigError(f"[checks.{key}]: {e}") from None
        merged[cls.code] = {**merged.get(cls.code, {}), **tables[key]}
    return merged


def runnable_checks(
    settings: Settings, checks: list[Check], explicit: bool
) -> tuple[list[Check], list[tuple[str, str, str]]]:
    """The checks whose sources are configured, and (code, name, why) for the others.  A
    check the operator selected by name (`explicit`) that cannot run is an error instead:
    a cloud without Cinder in the config still gets its compute checks.  A check with a
    part per service (`needs_one_of`) runs when any part can, its needs narrowed to the
    parts that can (a cloud with Cinder and no Neutron gets the Cinder half of QU101)."""
    missing: dict[FactType, str] = {}
    for cls in source_classes():
        try:
            _make_source(cls, settings)
        except NotConfigured as e:
            missing.update((k, str(e)) for k in cls.provides)
        except SourceError:
            pass  # a real error: build_sources reports it when the source is needed
    kept: list[Check] = []
    skipped: list[tuple[str, str, str]] = []
    for c in checks:
        why, unread = _what_cannot_run(c, missing)
        if why is None:
            if unread:  # read only the parts that can run
                c.needs = tuple(k for k in c.needs if k not in unread)
            kept.append(c)
        elif explicit:
            raise ConfigError(f"{c.code} {c.name} cannot run: {why}")
        else:
            skipped.append((c.code, c.name, why))
    return kept, skipped


def _what_cannot_run(check: Check, missing: dict[FactType, str]) -> tuple[str | None, set[FactType]]:
    """(why `check` cannot run or None, the kinds of its parts that cannot): a needed kind
    whose source is not configured stops it, unless the kind belongs to one of its parts
    (`needs_one_of`), which stop it only all together."""
    parts = {group: next((missing[k] for k in group if k in missing), None) for group in check.needs_one_of}
    alternative = {k for group in parts for k in group}
    why = next((missing[k] for k in check.needs if k in missing and k not in alternative), None)
    if why is None and parts and all(parts.values()):
        why = " and ".join(dict.fromkeys(r for r in parts.values() if r))
    runnable = {k for group, reason in parts.items() if not reason for k in group}
    return why, {k for group, reason in parts.items() if reason for k in group} - runnable


def needed_kinds(checks: list[Check]) -> set[FactType]:
    return {k for c in checks for k in c.needs}


def kinds_to_collect(settings: Settings, checks: list[Check]) -> set[FactType]:
    """What a run of `checks` collects: what they need, and what they use or their
    sources require where a configured source provides it."""
    return needed_kinds(checks) | optional_kinds(settings, checks)


def with_requirements(kinds: set[FactType]) -> set[FactType]:
    """`kinds` and what the sources providing them read from the others' facts (the host
    list a hypervisor source reads from Nova's compute nodes), transitively: whatever
    else is selected, a source gets its inputs."""
    out, classes = set(kinds), source_classes()
    while True:
        more = {r for cls in classes if out & set(cls.provides) for r in cls.requires} - out
        if not more:
            return out
        out |= more


def optional_kinds(settings: Settings, checks: list[Check]) -> set[FactType]:
    """The kinds the checks `use` (Check.uses), and the kinds their sources require, that a
    configured source provides beyond what the checks need: collected when they can be,
    never a reason to skip or fail (without Nova's compute nodes, the hosts are those of
    [hypervisors] alone)."""
    needed = needed_kinds(checks)
    wanted = (with_requirements(needed) | {k for c in checks for k in c.uses}) - needed
    available = set()
    for cls in source_classes():
        if wanted & set(cls.provides):
            try:
                _make_source(cls, settings)
            except SourceError:
                continue
            available |= wanted & set(cls.provides)
    return available


def build_sources(settings: Settings, kinds: set[FactType]) -> list[Source]:
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
    share_host_calls(wanted)  # one agent call per host for all of them
    return wanted


def _make_source(cls: type[Source], settings: Settings) -> Source:
    return cls(getattr(settings, cls.settings_attr))
