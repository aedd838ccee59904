"""engine/collect.py measures each source where it runs: the time of its pass (shared by
the scopes it read together) and the facts it read per scope, and logs what it did: -v a
line per source and per scope not read completely, --debug every scope and what it reads."""

from __future__ import annotations

import logging

from osfsck.engine.collect import collect
from osfsck.model.facts.nova import Instance, cell_scope
from osfsck.sources.base import Source, cover_all, utcnow


def instance(cell: str, n: int) -> Instance:
    return Instance(cell, f"u-{cell}-{n}", n, "hv1", "hv1", "active", None, 1, 0, 0, "p", 1, 64, 1, None, None, None)


class TwoCells(Source):
    """Reads cell1 (3 instances) and cell2 (1), and cannot read cell3."""

    name = "test-cells"
    settings_attr = "nova"
    provides = (Instance,)

    def reads(self) -> list[str]:
        return ["SELECT on every cell's instances"]

    def collect(self, kinds, known, sink, scopes=None):
        sink.add(Instance.kind, [instance("cell1", n) for n in range(3)])
        sink.add(Instance.kind, [instance("cell2", 9)])
        return [
            cover_all(sink, [Instance], cell_scope("cell1"), self.name, True, at=utcnow()),
            cover_all(sink, [Instance], cell_scope("cell2"), self.name, True, at=utcnow()),
            cover_all(sink, [Instance], cell_scope("cell3"), self.name, False, "cell cell3: access denied"),
        ]


def test_each_scope_has_its_facts_and_the_pass_time():
    _, statuses = collect([TwoCells(None)], {Instance})
    assert [(s.scope, s.status, s.objects) for s in statuses] == [
        ("cell:cell1", "ok", 3),
        ("cell:cell2", "ok", 1),
        ("cell:cell3", "partial", 0),
    ]
    seconds = {s.seconds for s in statuses}
    assert len(seconds) == 1 and isinstance(seconds.pop(), float)
    assert statuses[0].as_dict() == {
        "name": "test-cells",
        "scope": "cell:cell1",
        "status": "ok",
        "reason": "",
        "seconds": statuses[0].seconds,
        "objects": 3,
    }


def test_facts_already_in_the_snapshot_are_not_counted_again():
    # a second source adding to a kind the first filled counts only its own
    class More(TwoCells):
        name = "test-more"

        def collect(self, kinds, known, sink, scopes=None):
            sink.add(Instance.kind, [instance("cell1", 7)])
            return [cover_all(sink, [Instance], cell_scope("cell1"), self.name, True)]

    _, statuses = collect([TwoCells(None), More(None)], {Instance})
    assert [(s.source, s.scope, s.objects) for s in statuses if s.scope == "cell:cell1"] == [
        ("test-cells", "cell:cell1", 3),
        ("test-more", "cell:cell1", 1),
    ]


def test_info_says_what_each_source_read_and_debug_each_scope(caplog):
    with caplog.at_level(logging.INFO, logger="osfsck.engine.collect"):
        collect([TwoCells(None)], {Instance})
    info = [r.getMessage() for r in caplog.records]
    assert info[0] == "test-cells: reading nova.instance"
    assert info[1].startswith("test-cells: 3 scope(s) in ") and info[1].endswith(" s, 4 object(s), 1 not complete")
    assert info[2:] == ["test-cells cell:cell3: partial, 0 object(s): cell cell3: access denied"]
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="osfsck.engine.collect"):
        collect([TwoCells(None)], {Instance})
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert debug == [
        "test-cells reads SELECT on every cell's instances",
        "test-cells cell:cell1: ok, 3 object(s)",
        "test-cells cell:cell2: ok, 1 object(s)",
    ]
