"""Facts read from a database share one object per repeated value (sources/stored_rows.facts_of):
the same facts as one per row, in less memory."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from osfsck.model.facts.nova import BlockDeviceMapping, Instance, InstanceNetwork
from osfsck.model.facts.placement import Allocation
from osfsck.sources.stored_rows import as_fact, facts_of

T = dt.datetime(2026, 1, 1, 12, 0, 0)


def fresh(text: str) -> str:
    """`text` as a new object, as a driver makes one per row."""
    return "".join(list(text))


def instance_row(i: int, host: str = "hv-01") -> tuple:
    return (
        fresh("cell:c1"), f"uuid-{i}", i, fresh(host), fresh(host), fresh("active"), None, 1, 0, 0,
        fresh("p" * 32), 2, 2048 + 0 * i, 20, T, T, None,
    )  # fmt: skip


def test_the_facts_are_those_of_one_object_per_row():
    rows = [instance_row(i, host=f"hv-{i % 3}") for i in range(10)]
    assert facts_of(Instance, {})(rows) == [as_fact(Instance)(r) for r in rows]
    assert all(type(f) is Instance for f in facts_of(Instance, {})(rows))


def test_equal_values_of_a_repeated_field_become_one_object_and_ids_stay_apart():
    rows = [instance_row(i) for i in range(5)]
    assert rows[0][3] is not rows[1][3]  # the driver's way: one object per row
    facts = facts_of(Instance, {})(rows)
    assert len({id(f.host) for f in facts}) == 1
    assert len({id(f.project_id) for f in facts}) == 1
    assert len({id(f.cell) for f in facts}) == 1
    assert len({f.uuid for f in facts}) == 5  # ids are not repeated values


def test_one_table_per_database_read_is_shared_across_its_batches_and_kinds():
    shared: dict = {}
    first = facts_of(Instance, shared)([instance_row(1)])
    second = facts_of(Instance, shared)([instance_row(2)])
    assert first[0].host is second[0].host
    mapping_like = facts_of(Allocation, shared)([("placement", "uuid-1", "rp-1", fresh("VCPU"), 2)])
    assert mapping_like[0].resource_class == "VCPU"


def test_a_value_keeps_its_type_where_another_field_holds_an_equal_value_of_another_type():
    # 1 == True == Decimal(1): a table per field name keeps each column's own type
    shared: dict = {}
    facts_of(Allocation, shared)([("placement", "c", "rp", "VCPU", Decimal(1))])
    inst = facts_of(Instance, shared)([(*instance_row(1)[:11], True, *instance_row(1)[12:])])
    assert inst[0].vcpus is True
    alloc = facts_of(Allocation, shared)([("placement", "c2", "rp", "VCPU", 1)])
    assert type(alloc[0].used) is Decimal  # the first value read of that name: same column, same type


def test_kinds_whose_rows_are_converted_get_the_converted_facts():
    info = json.dumps(
        {
            "driver_volume_type": "iscsi",
            "data": {
                "target_iqn": "iqn.2010-10.org.openstack:volume-1",
                "target_portal": "192.0.2.10:3260",
                "target_lun": 1,
            },
        }
    )
    bdm = [(fresh("cell:c1"), 1, "b-1", "i-1", "v-1", "a-1", "/dev/vdb", fresh("volume"), None, info, T, T)]
    got = facts_of(BlockDeviceMapping, {})(bdm)
    assert got == [as_fact(BlockDeviceMapping)(bdm[0])]
    assert got[0].iscsi_paths  # read from connection_info, as without sharing
    net = [(fresh("cell:c1"), "i-1", 0, "vm-1", "vm 1", None, T)]
    assert facts_of(InstanceNetwork, {})(net) == [as_fact(InstanceNetwork)(net[0])]


def test_an_empty_batch_gives_no_facts():
    assert facts_of(Instance, {})([]) == []


def test_an_instance_named_as_its_hostname_holds_one_name():
    net = facts_of(InstanceNetwork, {})([(fresh("cell:c1"), "i-1", 0, fresh("vm-1"), fresh("vm-1"), None, T)])
    assert net[0].display_name is net[0].hostname
    other = facts_of(InstanceNetwork, {})([(fresh("cell:c1"), "i-2", 0, fresh("vm-2"), fresh("VM 2"), None, T)])
    assert (other[0].hostname, other[0].display_name) == ("vm-2", "VM 2")


def test_an_instance_uuid_is_one_object_across_the_kinds_of_one_database_read():
    shared: dict = {}
    [inst] = facts_of(Instance, shared)([instance_row(1)])
    [net] = facts_of(InstanceNetwork, shared)([(fresh("cell:c1"), fresh("uuid-1"), 0, "vm-1", "vm-1", None, T)])
    assert net.uuid == inst.uuid and net.uuid is inst.uuid
    [alloc] = facts_of(Allocation, shared)([("placement", fresh("uuid-1"), "rp", "VCPU", 1)])
    assert alloc.consumer_uuid is not inst.uuid  # a consumer's table, not an instance's
