"""DNS against a real BIND `named` started on loopback (osfsck_lab.bind): zone transfers
into facts, a wrong TSIG key, DN101 on what was transferred, and delete-dns-records
applied, checked again from a fresh transfer, refused when the record changed, undone."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from osfsck.checks.dns.dns_ptr_mismatch import DnsPtrMismatch
from osfsck.checks.dns.stale_dns_record import StaleDnsRecord
from osfsck.clients.dns import Rr, server_for
from osfsck.config.load import load_settings
from osfsck.engine.context import RepairContext
from osfsck.model.facts.dns import DnsRecord, DnsZone
from osfsck.repairs.base import RepairError
from osfsck.repairs.dns.records import DeleteDnsRecords
from osfsck.sources.dns import DnsZoneSource
from osfsck_lab.bind import Bind
from tests.support.world import World

pytestmark = pytest.mark.integration

FORWARD, REVERSE = "example.test.", "0.10.in-addr.arpa."
STALE_A = "gone-1.example.test. A 10.0.9.9"
STALE_PTR = "9.9.0.10.in-addr.arpa. PTR gone-1.example.test."


@pytest.fixture
def named(tmp_path):
    zones = {
        FORWARD: [
            ("app-1", "A", "10.0.0.3"),
            ("ns1", "A", "192.0.2.53"),
            ("gone-1", "A", "10.0.9.9"),
            ("app-1", "TXT", '"openstack-instance=x"'),
        ],
        REVERSE: [("3.0", "PTR", "app-1.example.test."), ("9.9", "PTR", "gone-1.example.test.")],
    }
    with Bind(tmp_path / "bind", zones) as ns:
        yield ns


def settings_for(tmp_path, ns, secret_line=None, port=None):
    secret = tmp_path / "tsig.secret"
    secret.write_text(secret_line or (tmp_path / "bind" / "tsig.key").read_text())  # tsig-keygen's own file
    conf = tmp_path / "osfsck.toml"
    conf.write_text(
        f'[dns]\nserver = "127.0.0.1:{port or ns.port}"\nkey = "{ns.key_name}"\ntimeout = "3s"\n'
        f'[dns.keys.{ns.key_name}]\nsecret_file = "tsig.secret"\n'
        f'[dns.zones."{FORWARD}"]\n[dns.zones."{REVERSE}"]\n'
    )
    return load_settings(str(conf))


def cloud():
    """Neutron and Nova: one live instance app-1 holding 10.0.0.3 (10.0.0.0/16), and gone-1,
    deleted: the zone's template made its records, which makes them OpenStack's to delete."""
    w = World()
    u = w.instance()
    w.hostname(u, "app-1")
    assert w.address_of(w.instance_port(u)) == "10.0.0.3"
    w.hostname(w.instance(deleted=True), "gone-1")
    return w


def collect(settings, w=None):
    snap = (w or cloud()).snapshot()
    src = DnsZoneSource(settings.dns)
    statuses = src.collect(set(src.provides), snap, snap)
    return snap, statuses


def found(check, snap):
    return {f.subject.id for f in check().evaluate(snap).findings}


def test_zone_transfers_become_facts(tmp_path, named):
    snap, statuses = collect(settings_for(tmp_path, named))
    assert [s.status for s in statuses] == ["ok", "ok"]
    got = {(r.zone, r.name, r.type, r.data) for r in snap.of(DnsRecord)}
    assert got == {
        (FORWARD, "app-1.example.test.", "A", "10.0.0.3"),
        (FORWARD, "ns1.example.test.", "A", "192.0.2.53"),
        (FORWARD, "gone-1.example.test.", "A", "10.0.9.9"),
        (FORWARD, "app-1.example.test.", "TXT", '"openstack-instance=x"'),
        (REVERSE, "3.0.0.10.in-addr.arpa.", "PTR", "app-1.example.test."),
        (REVERSE, "9.9.0.10.in-addr.arpa.", "PTR", "gone-1.example.test."),
    }
    zones = {z.zone: z for z in snap.of(DnsZone)}
    assert zones[FORWARD].serial == 1 and zones[FORWARD].server == f"127.0.0.1:{named.port}"
    assert zones[FORWARD].name_template == "{hostname}.{zone}"
    assert snap.is_complete(DnsRecord, f"dns:{FORWARD}") and snap.is_complete(DnsRecord, f"dns:{REVERSE}")


def test_a_wrong_tsig_key_leaves_the_zones_partial_with_one_line(tmp_path, named):
    settings = settings_for(tmp_path, named, secret_line="c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=")
    snap, statuses = collect(settings)
    assert {s.status for s in statuses} == {"partial"}
    for s in statuses:
        assert "TSIG" in s.reason and "\n" not in s.reason and s.scope in s.reason.replace("AXFR of ", "dns:")
    assert snap.of(DnsRecord) == [] and snap.of(DnsZone) == []
    out = StaleDnsRecord().evaluate(snap)
    assert out.findings == [] and {i.scope for i in out.inconclusive_list} == {f"dns:{FORWARD}", f"dns:{REVERSE}"}


def test_an_unreachable_server_is_partial(tmp_path, named):
    from osfsck_lab.bind import free_port

    _, statuses = collect(settings_for(tmp_path, named, port=free_port()))
    assert {s.status for s in statuses} == {"partial"}
    assert all("connection refused" in s.reason for s in statuses)


def test_the_stale_record_is_found_deleted_settles_and_undo_brings_it_back(tmp_path, named):
    settings = settings_for(tmp_path, named)
    snap, _ = collect(settings)
    out = StaleDnsRecord().evaluate(snap)
    assert {f.subject.id for f in out.findings} == {STALE_A, STALE_PTR}
    assert found(DnsPtrMismatch, snap) == set()

    repair, ctx = DeleteDnsRecords(), RepairContext(settings, snap)
    entries = []
    for f in out.findings:
        plan = repair.plan(f, snap)
        repair.ownership(plan, snap)
        before = repair.before_image(plan, ctx)
        entries.append({"before": before, "result": repair.apply(plan, ctx, before)})
    assert all("deleted" in e["result"] for e in entries)

    # the second run: a fresh transfer shows them gone and the check is clean
    fresh, _ = collect(settings)
    assert found(StaleDnsRecord, fresh) == set()
    assert ("gone-1.example.test.", "A") not in {(r.name, r.type) for r in fresh.of(DnsRecord)}
    assert {r.name for r in fresh.of(DnsRecord)} >= {"app-1.example.test.", "ns1.example.test."}

    for e in entries:
        assert "added back" in repair.undo(e, ctx)
    again, _ = collect(settings)
    assert found(StaleDnsRecord, again) == {STALE_A, STALE_PTR}
    assert {(r.name, r.ttl) for r in again.of(DnsRecord) if r.name.startswith("gone-1")} == {
        ("gone-1.example.test.", 300)
    }
    ctx.close()


def test_a_changed_record_makes_the_repair_refuse(tmp_path, named):
    settings = settings_for(tmp_path, named)
    snap, _ = collect(settings)
    (f,) = [f for f in StaleDnsRecord().evaluate(snap).findings if f.subject.id == STALE_A]
    repair, ctx = DeleteDnsRecords(), RepairContext(settings, snap)
    plan = repair.plan(f, snap)
    before = repair.before_image(plan, ctx)
    # meanwhile someone adds a second address to the name: the RRset is no longer as read
    server = server_for(settings.dns.zone(FORWARD), 3)
    server.update(FORWARD, add=[Rr("gone-1.example.test.", "A", 300, "10.0.9.10")])
    with pytest.raises(RepairError, match="refused .*NXRRSET.*nothing changed"):
        repair.apply(plan, ctx, before)
    assert server.rrset("gone-1.example.test.", "A") == (300, ["10.0.9.10", "10.0.9.9"])
    # and once the record itself is gone, planning again refuses before writing anything
    server.update(FORWARD, delete=[Rr("gone-1.example.test.", "A", 300, "10.0.9.9")])
    with pytest.raises(RepairError, match="no longer in zone"):
        repair.before_image(plan, ctx)


def test_axfr_rate_of_a_large_zone(tmp_path, capsys):
    """A zone of 100,000 A records, transferred into facts: all of them, and how fast."""
    n = 100_000
    records = [(f"vm-{i}", "A", f"10.{i // 65536}.{i // 256 % 256}.{i % 256}") for i in range(n)]
    with Bind(tmp_path / "bind", {FORWARD: records}, timeout=60) as ns:
        settings = settings_for(tmp_path, ns)
        only_forward = tuple(z for z in settings.dns.zones if z.zone == FORWARD)
        settings = replace(settings, dns=replace(settings.dns, zones=only_forward, timeout=10.0))
        t0 = time.perf_counter()
        snap, statuses = collect(settings)
        seconds = time.perf_counter() - t0
    assert [s.status for s in statuses] == ["ok"]
    assert len(snap.of(DnsRecord)) == n
    with capsys.disabled():
        print(f"\nAXFR of {n} records into facts: {seconds:.2f} s, {n / seconds:,.0f} records/s")
