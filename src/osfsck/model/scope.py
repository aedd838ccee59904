"""The scope of a run: which cells, hosts and projects an operator asked about
(`--cell`, `--host`, `--project`).

A scope narrows what is read and what is reported; it never makes anything complete.
What lies outside it is "not read" (no coverage at all), exactly as a source that never
ran, so every check that needs it to decide says it could not (DESIGN §3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

# the scope of the one inconclusive record into which a scoped run gathers, per check,
# what it could not decide because it needs data outside the run's scope
OUTSIDE_SCOPE = "outside-scope"


class ScopeError(ValueError):
    """A scope that names nothing in the cloud (`--cell` of no cell, `--host` of no host)."""


@dataclass(frozen=True)
class RunScope:
    """Cells by name or uuid, hosts by shell glob (`cmp-1*`), projects by id; an empty
    dimension does not narrow.  Several values of one dimension: any of them."""

    cells: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.cells or self.hosts or self.projects)

    def describe(self) -> str:
        """The scope as it was asked for: `--cell cell1 --host 'cmp-*'`."""
        parts = [f"--cell {c}" for c in self.cells] + [f"--host {_quoted(h)}" for h in self.hosts]
        return " ".join(parts + [f"--project {p}" for p in self.projects])

    def host_matches(self, host: str) -> bool:
        return not self.hosts or any(fnmatchcase(host, g) for g in self.hosts)

    def project_inside(self, project: str) -> bool:
        return not self.projects or project in self.projects

    def cells_named(self, cells: Iterable[tuple[str, str]]) -> set[str]:
        """The names of the cells (name, uuid) this scope names, by name or by uuid; a
        value that names none of them is taken as a name (the cell list was not read)."""
        cells = list(cells)
        return {name for name, uuid in cells if name in self.cells or uuid in self.cells} | set(
            self.unknown_cells(cells)
        )

    def unknown_cells(self, cells: Iterable[tuple[str, str]]) -> list[str]:
        """The `--cell` values that name none of `cells` (name, uuid)."""
        known = {x for pair in cells for x in pair}
        return [c for c in self.cells if c not in known]

    def outside(self, scope: str, inside_cells: set[str], host_cells: Mapping[str, str]) -> bool:
        """Whether the coverage scope `scope` ("cell:<name>", "host:<name>") lies outside,
        and so is not read: a cell not named; a host not matched, or not of a named cell
        (`inside_cells`, the named cells' names; `host_cells`, each known host's cell).
        Every other scope (the API database, a service's database, a zone) is read whole."""
        kind, _, name = scope.partition(":")
        if kind == "cell":
            return bool(self.cells) and name not in inside_cells
        if kind == "host":
            return not self.host_matches(name) or (bool(self.cells) and host_cells.get(name) not in inside_cells)
        return False

    def as_dict(self) -> dict[str, list[str]]:
        return {"cells": list(self.cells), "hosts": list(self.hosts), "projects": list(self.projects)}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RunScope:
        """The scope of a snapshot's JSON; ValueError names what is wrong."""
        values = {}
        for key in ("cells", "hosts", "projects"):
            items = data.get(key, [])
            if not isinstance(items, list) or not all(isinstance(x, str) and x for x in items):
                raise ValueError(f"{key}: expected a list of non-empty strings")
            values[key] = tuple(items)
        unknown = sorted(set(data) - {"cells", "hosts", "projects"})
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown key (expected cells, hosts, projects)")
        return cls(**values)

    def within(self, collected: RunScope | None) -> RunScope:
        """The scope of checking a snapshot collected for `collected` with this one: this
        scope's cells and hosts where it names any, else the snapshot's (a cell or host the
        snapshot did not read is then simply not read), and projects among those it was
        collected for (its per-project rows hold no other project's)."""
        if collected is None:
            return self
        extra = [p for p in self.projects if collected.projects and p not in collected.projects]
        if extra:
            raise ScopeError(
                f"--project {extra[0]}: the snapshot was collected for {collected.describe()} and holds "
                "no other project's quota rows"
            )
        return RunScope(
            self.cells or collected.cells, self.hosts or collected.hosts, self.projects or collected.projects
        )


def _quoted(glob: str) -> str:
    return f"'{glob}'" if any(c in glob for c in "*?[") else glob
