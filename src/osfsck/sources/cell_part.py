"""What a source of a whole-cloud service (OVN, NSX, RabbitMQ) shares when a `--cell` run
reads only its cells' part of it (model/cell_slice.py): it reads after the cells' own rows
(and Neutron's part, for what stands for Neutron's objects), and says which part it read."""

from __future__ import annotations

from typing import ClassVar

from osfsck.model.cell_slice import KEY_KINDS, CellKeys, cell_keys
from osfsck.model.facts.nova import Cell
from osfsck.model.scope import RunScope
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import Source


class CellPartSource(Source):
    """A Source whose --cell run reads the cells' part: `part_requires` are read first."""

    part_requires: ClassVar[tuple] = KEY_KINDS
    _within: RunScope | None = None

    @property
    def within(self) -> RunScope | None:
        return self._within

    @within.setter
    def within(self, scope: RunScope | None) -> None:
        self._within = scope
        self.requires = self.part_requires if scope is not None and scope.cells else ()

    def cell_keys(self, known: Snapshot) -> CellKeys | None:
        """What the run's cells name, or None (no --cell, or their instances not read):
        then the service is read whole."""
        if self.within is None or not self.within.cells:
            return None
        cells = self.within.cells_named((c.name, c.uuid) for c in known.of(Cell))
        return cell_keys(known.facts, known.coverage, cells)
