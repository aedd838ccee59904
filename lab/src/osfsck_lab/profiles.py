"""Cloud sizes.  M and L follow research/scale.md A.4 (one mid region; a CERN/PayPal-class
region): 70 cells, 8,000 hypervisors, 80,000 live and 400,000 deleted instance rows, and
(issue 3's benchmark figure) about 60,000 volumes and 40,000 live attachments.  XL is the
largest single region of scale.md (issue 20): 400,000 live and 4,000,000 deleted instance
rows on 20,000 hypervisors in 100 cells, 300,000 volumes, ~550,000 ports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    cells: int
    hosts_per_cell: int
    live_per_host: int
    deleted_per_live: float  # soft-deleted rows per live instance
    archived_per_live: float  # rows already moved to shadow_instances
    hypervisors: str  # "libvirtd" (state outlives processes) or "testfiles"
    # Cinder volumes per live instance: attached to it, left available, and deleted with
    # a deleted instance (their attachment and mapping soft-deleted, as Cinder and Nova do)
    attached_per_live: float = 0.5
    spare_per_live: float = 0.15
    gone_per_live: float = 0.1
    # bytes really written per MB a disk file is said to hold: M and L scale it down so
    # 80,000 instance folders fit on a laptop's disk (the rest of every disk is sparse)
    real_bytes_per_mb: int = 1024 * 1024
    # XL: RabbitMQ taking 80,000 queues and their messages (past 9 GB) does not fit beside
    # ovsdb-server (7.4 GB) and the NSX stand-in on a 24 GB machine: they wait, stopped
    broker_alone: bool = False


PROFILES = {
    "small": Profile(
        "small",
        cells=2,
        hosts_per_cell=2,
        live_per_host=3,
        deleted_per_live=2.0,
        archived_per_live=1.0,
        hypervisors="libvirtd",
        attached_per_live=1.5,
        spare_per_live=0.5,
        gone_per_live=0.25,
    ),
    "M": Profile(
        "M",
        cells=5,
        hosts_per_cell=200,
        live_per_host=10,
        deleted_per_live=5.0,
        archived_per_live=0.5,
        hypervisors="testfiles",
        real_bytes_per_mb=4096,
    ),
    "L": Profile(
        "L",
        cells=70,
        hosts_per_cell=115,
        live_per_host=10,
        deleted_per_live=5.0,
        archived_per_live=0.5,
        hypervisors="testfiles",
        real_bytes_per_mb=4096,
    ),
    "XL": Profile(
        "XL",
        cells=100,
        hosts_per_cell=200,
        live_per_host=20,
        deleted_per_live=10.0,
        archived_per_live=0.5,
        hypervisors="testfiles",
        real_bytes_per_mb=1024,
        broker_alone=True,
    ),
}
