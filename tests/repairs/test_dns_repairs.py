"""Planning of the DNS repairs from real check findings (the writes themselves are tested
against a real named in tests/integration/test_dns_bind.py)."""

import dataclasses

import pytest

from osfsck.checks.dns.dns_ptr_mismatch import DnsPtrMismatch
from osfsck.checks.dns.duplicate_dns_record import DuplicateDnsRecord
from osfsck.checks.dns.stale_dns_record import StaleDnsRecord
from osfsck.config.settings import Settings
from osfsck.engine.context import RepairContext
from osfsck.model.plan import RepairPlan, Safety
from osfsck.repairs.base import NotOwned, RepairError
from osfsck.repairs.dns.records import DeleteDnsRecords
from osfsck.repairs.runbooks.dns import DnsRecordRunbook
from tests.support.world import World


def stale(designate=False):
    w = World()
    w.zone("example.test.", designate=designate)
    w.network()
    w.hostname(w.instance(deleted=True), "gone-1")  # the zone's template made its records
    w.host_records("gone-1", "10.0.9.9")
    snap = w.snapshot()
    return sorted(StaleDnsRecord().evaluate(snap).findings, key=lambda f: f.evidence["record"]["type"]), snap


def test_a_stale_record_plans_the_delete_of_exactly_that_record():
    (a, ptr), snap = stale()
    plan = DeleteDnsRecords().plan(a, snap)
    assert isinstance(plan, RepairPlan) and plan.safety == Safety.UNSAFE
    assert plan.params == {
        "zone": "example.test.",
        "records": [{"name": "gone-1.example.test.", "type": "A", "ttl": 300, "data": "10.0.9.9"}],
    }
    DeleteDnsRecords().ownership(plan, snap)
    assert DeleteDnsRecords().plan(ptr, snap).params["zone"] == "9.0.10.in-addr.arpa."


def test_a_finding_without_an_openstack_address_is_not_ours():
    (a, _), snap = stale()
    plan = DeleteDnsRecords().plan(a, snap)
    bare = dataclasses.replace(plan, finding=dataclasses.replace(a, evidence={**a.evidence, "address": None}))
    with pytest.raises(NotOwned):
        DeleteDnsRecords().ownership(bare, snap)


def test_a_zone_designate_writes_gets_the_runbook():
    (a, _), snap = stale(designate=True)
    assert "written by Designate" in DeleteDnsRecords().plan(a, snap)
    text = DnsRecordRunbook().plan(a, snap).runbook
    assert "openstack recordset delete example.test. gone-1.example.test." in text and "nsupdate" not in text


def test_the_runbook_of_a_plain_zone_is_nsupdate_with_a_prerequisite():
    (a, _), snap = stale()
    text = DnsRecordRunbook().text(a)
    assert "prereq yxrrset gone-1.example.test. A 10.0.9.9" in text and "update delete" in text


def test_a_record_no_rule_of_openstacks_made_is_never_deleted():
    # issue 15 #9: an operator's wildcard on a floating IP nobody holds now is stale, and
    # reported, but not OpenStack's: no plan, and the ownership guard refuses it anyway
    w = World()
    w.floating_subnet()
    w.a_record("*.apps.example.test.", "203.0.113.7")
    snap = w.snapshot()
    (f,) = StaleDnsRecord().evaluate(snap).findings
    assert f.evidence["made_by"] is None
    assert not isinstance(DeleteDnsRecords().plan(f, snap), RepairPlan)
    (a, _), snap = stale()
    plan = DeleteDnsRecords().plan(a, snap)
    forced = dataclasses.replace(plan, finding=dataclasses.replace(a, evidence={**a.evidence, "made_by": None}))
    with pytest.raises(NotOwned, match="no naming rule of OpenStack's made this record"):
        DeleteDnsRecords().ownership(forced, snap)


def test_duplicates_with_no_known_owner_are_left_to_a_person():
    w = World()
    ip = w.address_of(w.router_interface(w.router()))
    for name in ("gw-a", "gw-b"):  # names two deleted instances had
        w.hostname(w.instance(deleted=True), name)
        w.a_record(name, ip)
    snap = w.snapshot()
    f = DuplicateDnsRecord().evaluate(snap).findings[0]
    assert "a person must choose" in DeleteDnsRecords().plan(f, snap)
    assert "Decide which of the names" in DnsRecordRunbook().text(f)


def test_a_ptr_mismatch_runbook_names_the_holders_name():
    w = World()
    u = w.instance()
    w.hostname(u, "app-1")
    ip = w.address_of(w.instance_port(u))
    w.a_record("app-1", ip)
    w.hostname(w.instance(deleted=True), "ghost")  # a deleted instance's PTR, by the template
    w.ptr_record(ip, "ghost")
    snap = w.snapshot()
    (f,) = DnsPtrMismatch().evaluate(snap).findings
    assert isinstance(DeleteDnsRecords().plan(f, snap), RepairPlan)
    assert "PTR app-1.example.test." in DnsRecordRunbook().text(f)


def test_a_zone_missing_from_the_config_refuses_before_writing():
    (a, _), snap = stale()
    plan = DeleteDnsRecords().plan(a, snap)
    with pytest.raises(RepairError, match=r"not in \[dns.zones\]"):
        DeleteDnsRecords().before_image(plan, RepairContext(Settings(), snap))
