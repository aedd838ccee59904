"""Domain XML -> Domain fact, on recorded dumps of the XML Nova writes (fixtures/libvirt)."""

from pathlib import Path

import pytest

from osfsck.sources.libvirt.mapping import DomainXMLError, domain_from_xml, parse_domain

FIXTURES = Path(__file__).parent / "fixtures" / "libvirt"


def load(name: str, state: int = 1, active: bool = True, host: str = "cmp-0042"):
    return domain_from_xml(host, (FIXTURES / name).read_text(), state, active)


def test_nova_11_domain_with_local_disks_and_config_drive():
    d = load("nova-1.1-local.xml")
    assert d.host == "cmp-0042"
    assert d.uuid == "3f1b0a6e-9a47-4c62-8d0f-2a1c5e7b9d10"
    assert d.name == "instance-0000002a"
    assert (d.state, d.active) == (1, True)
    assert d.nova_ns == "1.1"
    assert d.nova_name == "web-01"
    assert d.nova_project == "9e8d7c6b5a4f4e3d2c1b0a9f8e7d6c5b"
    assert (d.vcpus, d.memory_mb) == (2, 2048)
    # the backing file under _base is a <source> of <backingStore>, not a disk of the guest;
    # the serial console's log file is not a disk either
    assert d.disks == (
        "/var/lib/nova/instances/3f1b0a6e-9a47-4c62-8d0f-2a1c5e7b9d10/disk",
        "/var/lib/nova/instances/3f1b0a6e-9a47-4c62-8d0f-2a1c5e7b9d10/disk.config",
    )


def test_nova_10_domain_shut_off():
    d = load("nova-1.0-shutoff.xml", state=5, active=False)
    assert (d.state, d.active) == (5, False)
    assert d.nova_ns == "1.0"
    assert d.nova_name == "db-legacy"
    assert d.nova_project == "a1b2c3d4e5f64a7b8c9d0e1f2a3b4c5d"
    assert (d.vcpus, d.memory_mb) == (4, 8192)
    assert [p.rsplit("/", 1)[1] for p in d.disks] == ["disk", "disk.local", "disk.swap"]


def test_rbd_backed_domain_lists_pool_and_image_names():
    d = load("nova-1.1-rbd.xml")
    assert d.nova_project == "c0ffee00c0ffee00c0ffee00c0ffee00"
    assert d.disks == (
        "vms/7f3a9c10-2222-4b1e-8a7d-0e9f8d7c6b5a_disk",
        "vms/7f3a9c10-2222-4b1e-8a7d-0e9f8d7c6b5a_disk.config",
        "volumes/volume-5d1c3a2b-9e8f-4a7b-b6c5-d4e3f2a1b0c9",
    )
    assert (d.vcpus, d.memory_mb) == (2, 4096)


def test_iscsi_block_and_network_volumes():
    d = load("nova-1.1-iscsi.xml")
    assert d.nova_name == "app-with-volumes"
    assert d.memory_mb == 512
    assert d.disks == (
        "/dev/sdb",
        "/dev/disk/by-path/ip-192.0.2.10:3260-iscsi-iqn.2010-10.org.openstack:"
        "volume-7f3a9c10-bbbb-4b1e-8a7d-0e9f8d7c6b5a-lun-1",
        "iqn.2010-10.org.openstack:volume-e1d2c3b4-cccc-4a5b-9c8d-7e6f5a4b3c2d/1",
    )


def test_hand_made_domain_has_no_nova_metadata():
    d = load("handmade.xml", state=5, active=False)
    assert d.uuid == "c0ffee00-1234-4abc-8def-0123456789ab"  # lower-cased
    assert d.name == "debug-vm"
    assert (d.nova_ns, d.nova_name, d.nova_project) == (None, None, None)
    assert (d.vcpus, d.memory_mb) == (1, 1024)
    assert d.disks == ("default/debug-vm.qcow2",)  # the empty CD-ROM is skipped


def test_malformed_xml_raises_one_line_naming_the_host():
    with pytest.raises(DomainXMLError) as e:
        load("malformed.xml", host="cmp-0099")
    msg = str(e.value)
    assert msg.startswith("cmp-0099: ")
    assert "\n" not in msg


def test_not_a_domain_document():
    with pytest.raises(DomainXMLError, match="root element <network>"):
        domain_from_xml("h", "<network><name>x</name></network>", 1, True)


def test_domain_without_uuid_is_an_error():
    with pytest.raises(DomainXMLError, match="has no <uuid>"):
        domain_from_xml("h", "<domain><name>x</name></domain>", 1, True)


def _with_memory(memory: str) -> str:
    return f"<domain><name>m</name><uuid>00000000-0000-4000-8000-000000000001</uuid>{memory}</domain>"


@pytest.mark.parametrize(
    "memory, mb",
    [
        ("<memory>2097152</memory>", 2048),  # no unit: KiB
        ("<memory unit='KiB'>524288</memory>", 512),
        ("<memory unit='k'>524288</memory>", 512),
        ("<memory unit='KB'>1048576</memory>", 1000),  # KB is 1000 bytes
        ("<memory unit='b'>1073741824</memory>", 1024),
        ("<memory unit='bytes'>33554432</memory>", 32),
        ("<memory unit='M'>64</memory>", 64),
        ("<memory unit='MiB'>64</memory>", 64),
        ("<memory unit='MB'>1000</memory>", 953),  # 10^9 bytes
        ("<memory unit='G'>4</memory>", 4096),
        ("<memory unit='GiB'>4</memory>", 4096),
        ("<memory unit='T'>1</memory>", 1048576),
        ("", 0),  # not stated
    ],
)
def test_memory_units(memory, mb):
    assert domain_from_xml("h", _with_memory(memory), 1, True).memory_mb == mb


@pytest.mark.parametrize(
    "xml, bad",
    [
        ("<memory unit='furlongs'>3</memory>", "bad <memory>"),
        ("<memory>-2097152</memory>", "bad <memory>"),  # libvirt never writes a negative size
        ("<memory>٣</memory>", "bad <memory>"),  # int() reads an Arabic-Indic digit, libvirt never writes one
        ("<memory>1_024</memory>", "bad <memory>"),  # ... nor a Python digit separator
        ("<vcpu>-1</vcpu>", "bad <vcpu>"),
        ("<vcpu>+2</vcpu>", "bad <vcpu>"),
    ],
)
def test_sizes_libvirt_cannot_have_written_are_errors(xml, bad):
    with pytest.raises(DomainXMLError, match=bad):
        domain_from_xml("h", _with_memory(xml), 1, True)


def test_vcpu_defaults_to_one_when_omitted():
    assert domain_from_xml("h", _with_memory(""), 1, True).vcpus == 1


def _volumes(name):
    from osfsck.sources.libvirt.mapping import parse_domain

    _, volumes = parse_domain("hv1", (FIXTURES / name).read_text(), 1, True)
    return volumes


def test_volume_disks_are_keyed_by_serial_whatever_their_source():
    vols = {v.serial: v for v in _volumes("nova-1.1-iscsi.xml")}
    assert set(vols) == {
        "0b6e1b2c-aaaa-4c3a-9d2e-5f1a2b3c4d5e",
        "7f3a9c10-bbbb-4b1e-8a7d-0e9f8d7c6b5a",
        "e1d2c3b4-cccc-4a5b-9c8d-7e6f5a4b3c2d",
    }
    sdb = vols["0b6e1b2c-aaaa-4c3a-9d2e-5f1a2b3c4d5e"]
    assert (sdb.host, sdb.disk_type, sdb.protocol, sdb.source, sdb.target_dev) == (
        "hv1",
        "block",
        None,
        "/dev/sdb",
        "vda",
    )
    by_path = vols["7f3a9c10-bbbb-4b1e-8a7d-0e9f8d7c6b5a"]
    assert by_path.source.startswith("/dev/disk/by-path/ip-192.0.2.10:3260-iscsi-") and by_path.target_dev == "vdb"
    net = vols["e1d2c3b4-cccc-4a5b-9c8d-7e6f5a4b3c2d"]
    assert (net.disk_type, net.protocol, net.target_dev) == ("network", "iscsi", "vdc")
    assert net.source == "iqn.2010-10.org.openstack:volume-e1d2c3b4-cccc-4a5b-9c8d-7e6f5a4b3c2d/1"
    assert {v.domain_uuid for v in vols.values()} == {load("nova-1.1-iscsi.xml").uuid}


def test_rbd_volume_and_no_volume_in_a_local_only_domain():
    [rbd] = _volumes("nova-1.1-rbd.xml")
    assert (rbd.serial, rbd.protocol) == ("5d1c3a2b-9e8f-4a7b-b6c5-d4e3f2a1b0c9", "rbd")
    assert rbd.source.startswith("volumes/volume-")
    # the SMBIOS <entry name='serial'> and the <serial type='pty'> console are not disks
    assert _volumes("nova-1.1-local.xml") == []


@pytest.mark.parametrize(
    "text",
    [
        "\udcff",  # found by tests/fuzz: a byte that is not UTF-8, surrogate-escaped
        "<domain><name>\ud800</name></domain>",
    ],
)
def test_text_that_is_not_unicode_is_a_domain_xml_error(text):
    with pytest.raises(DomainXMLError, match="^hv1: cannot parse domain XML"):
        parse_domain("hv1", text, 1, True)
