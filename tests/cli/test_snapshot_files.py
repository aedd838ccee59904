"""What osfsck itself writes into a snapshot file reads back as it was: the checks of
Snapshot.read must refuse damaged files, never osfsck's own."""

import datetime as dt

from osfsck.model.facts.hypervisor import Domain
from osfsck.model.facts.nova import Instance
from osfsck.model.snapshot import ANYWHERE, Coverage, Snapshot
from tests.cli.bad_inputs import small_snapshot

AT = dt.datetime(2026, 11, 24, 12, 0)


def test_a_kind_collected_nowhere_reads_back(tmp_path):
    # the hypervisor sources found no host to read: incomplete "anywhere" (engine/collect.py)
    snap = Snapshot.from_json(small_snapshot())
    snap.coverage = {k: c for k, c in snap.coverage.items() if c.kind != Domain.kind}
    snap.facts.pop(Domain.kind)
    snap.cover(Coverage(Domain.kind, ANYWHERE, "libvirt", False, "libvirt found nothing to read (no host listed)", AT))
    for name in ("snap.json", "snap.json.gz"):
        snap.write(str(tmp_path / name))
        back = Snapshot.read(str(tmp_path / name))
        assert back.coverage == snap.coverage and back.facts == snap.facts


def test_tuples_and_datetimes_come_back_as_they_were(tmp_path):
    snap = Snapshot.from_json(small_snapshot())
    snap.write(str(tmp_path / "snap.json"))
    back = Snapshot.read(str(tmp_path / "snap.json"))
    assert back.facts == snap.facts and back.taken_at == snap.taken_at
    assert all(isinstance(d.disks, tuple) for d in back.of(Domain))
    assert all(isinstance(i.created_at, dt.datetime) for i in back.of(Instance))
