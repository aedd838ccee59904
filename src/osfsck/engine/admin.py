"""Operations beside check/repair: the catalogue, permissions, journal, undo, purge."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

from osfsck.checks import registry
from osfsck.config.settings import Settings
from osfsck.engine import wiring
from osfsck.engine.context import RepairContext
from osfsck.engine.journal import Journal, now_iso
from osfsck.engine.lock import exclusive
from osfsck.repairs.registry import all_repairs


def catalogue() -> list[dict[str, Any]]:
    repairs = all_repairs()
    out = []
    for cls in registry.all_checks():
        out.append(
            {
                "code": cls.code,
                "name": cls.name,
                "severity": cls.severity.value,
                "summary": cls.summary(),
                "needs": sorted(k.kind for k in cls.needs),
                "relies_on": sorted(k.kind for k in cls.relies_on),
                "repairs": [
                    {"name": r, "safety": repairs[r].safety.value, "writes": repairs[r].writes}
                    for r in cls.repairs
                    if r in repairs
                ],
                "settings": dict(cls.defaults),
                "doc": cls.doc_sections(),
            }
        )
    return out


def find_check(key: str) -> dict[str, Any] | None:
    """The catalogue entry of the check whose code (any case) or name is `key`."""
    return next((c for c in catalogue() if c["code"].lower() == key.lower() or c["name"] == key.lower()), None)


def check_doc(key: str) -> str | None:
    entry = find_check(key)
    if entry is None:
        return None
    lines = [f"{entry['code']} {entry['name']} ({entry['severity']})", "", entry["summary"], ""]
    for section, text in entry["doc"].items():
        lines.append(f"{section}:")
        lines.extend(textwrap.wrap(text, 88, initial_indent="  ", subsequent_indent="  "))
        lines.append("")
    lines.append("Reads: " + ", ".join(entry["needs"]))
    lines.append("Needs complete: " + (", ".join(entry["relies_on"]) or "-"))
    for r in entry["repairs"]:
        lines.append(f"Repair {r['name']} [{r['safety']}]: {r['writes']}")
    if entry["settings"]:
        lines.append(
            "Settings ([checks."
            + entry["name"]
            + "]): "
            + ", ".join(f"{k} = {v}" for k, v in entry["settings"].items())
            + ", grace, repair"
        )
    return "\n".join(lines) + "\n"


def permissions(settings: Settings) -> list[str]:
    checks = wiring.build_checks(settings)
    lines = []
    for src in wiring.build_sources(settings, wiring.needed_kinds(checks)):
        lines += [f"[{src.name}] {line}" for line in src.reads()]
    lines += [
        f"[repair {name}] ({cls.safety.value}) {cls.writes}"
        for name, cls in all_repairs().items()
        if cls.safety.value != "manual"
    ]
    return lines


def journal_entries(settings: Settings) -> list[dict[str, Any]]:
    return Journal(settings.repair.journal).entries()


def undo(
    settings: Settings,
    ids: list[str],
    last: bool = False,
    approve: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None,
) -> list[tuple[str, bool, str]]:
    """Undo applied repairs, newest first, under the journal's writer lock, as `repair`
    applies them: `approve(entries)` is shown what would be undone and returns what to
    undo (the CLI lists them, then asks or takes --yes).  (id, ok, message) per entry."""
    journal = Journal(settings.repair.journal)
    with exclusive(settings.repair.journal, "undo"):
        entries = undo_candidates(journal, ids, last)
        chosen = approve(entries) if approve else entries
        repairs = all_repairs()
        ctx = RepairContext(settings, None)
        results = []
        try:
            for e in chosen:
                repair = repairs.get(e.get("repair") or "")
                if repair is None or not e.get("undoable"):
                    results.append((e["id"], False, f"{e.get('repair')} cannot be undone"))
                    continue
                try:
                    msg = repair().undo(e, ctx)
                    journal.append({"id": e["id"], "status": "undone", "time": now_iso(), "result": msg})
                    results.append((e["id"], True, msg))
                except Exception as ex:  # noqa: BLE001 - one line per entry, keep going
                    why = str(ex).splitlines()[0] if str(ex) else type(ex).__name__
                    if e.get("status") == "uncertain":
                        why += " (its write may never have been made: then there is nothing to undo)"
                    results.append((e["id"], False, why))
        finally:
            ctx.close()
    return results


def undo_candidates(journal: Journal, ids: list[str], last: bool) -> list[dict[str, Any]]:
    """The applied repairs to undo, newest first: those named, the last, or all.  A repair
    whose write may or may not have been made ("uncertain": its answer was lost) is undone
    only when named, after the operator has looked at it."""
    undoable = ("applied", "unsettled")
    entries = [e for e in journal.entries() if e.get("status") in undoable]
    if last:
        entries = entries[-1:]
    elif ids:
        known = {e["id"] for e in journal.entries()}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise KeyError(f"no journal entry {unknown[0]}")
        entries = [e for e in journal.entries() if e["id"] in ids and e.get("status") in undoable + ("uncertain",)]
    return list(reversed(entries))


def purge_quarantine(
    settings: Settings, older_than: float, hosts: list[str] | None = None
) -> list[tuple[str, bool, str]]:
    """Delete quarantined folders older than `older_than` seconds on every hypervisor,
    under the journal's writer lock (an undo may be restoring one of them)."""
    from osfsck.clients.hostagent import HostError
    from osfsck.engine.collect import collect
    from osfsck.sources.hosts import HOST_LIST_KINDS

    kinds = set(HOST_LIST_KINDS)
    with exclusive(settings.repair.journal, "purge-quarantine"):
        snap, _ = collect(wiring.build_sources(settings, kinds), kinds)
        ctx = RepairContext(settings, snap)
        out = []
        for name, target in sorted(ctx.targets().items()):
            if hosts and name not in hosts:
                continue
            try:
                r = ctx.host_channel(name).call("purge", instances_path=target.instances_path, older_than=older_than)
                out.append((name, True, f"purged {len(r['purged'])} folder(s), {r.get('bytes', 0)} bytes"))
            except HostError as e:
                out.append((name, False, str(e)))
    return out
