"""LibvirtSource against libvirt's test driver: one node XML file per fake hypervisor.

The test driver (built into libvirt itself, no daemon) speaks the real libvirt API; each
`test:///<abs path>.xml` connection builds its own hypervisor from the file.
"""

import datetime as dt
import threading

import pytest

libvirt = pytest.importorskip("libvirt")

from osfsck.config.settings import HostOverride, HypervisorSettings  # noqa: E402
from osfsck.model.facts.hypervisor import Domain, DomainVolume  # noqa: E402
from osfsck.model.facts.nova import ComputeNode  # noqa: E402
from osfsck.model.snapshot import Snapshot  # noqa: E402
from osfsck.sources.libvirt import LibvirtSource  # noqa: E402

NOVA_11 = "http://openstack.org/xmlns/libvirt/nova/1.1"


def guest(name, uuid, *, shut_off=False, nova_name=None, project="p-1", disk=None, volume=None):
    """One <domain type='test'> of a node file, shaped like a Nova guest."""
    runstate = "<test:runstate>5</test:runstate>" if shut_off else ""
    meta = ""
    if nova_name is not None:
        meta = (
            f'<metadata><nova:instance xmlns:nova="{NOVA_11}"><nova:name>{nova_name}</nova:name>'
            f'<nova:owner><nova:user uuid="u-1">admin</nova:user>'
            f'<nova:project uuid="{project}">demo</nova:project></nova:owner>'
            "</nova:instance></metadata>"
        )
    disk = disk or f"/var/lib/nova/instances/{uuid}/disk"
    vol = (
        (
            f"<disk type='block' device='disk'><source dev='/dev/sdc'/><target dev='vdb' bus='virtio'/>"
            f"<serial>{volume}</serial></disk>"
        )
        if volume
        else ""
    )
    return f"""
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>{name}</name><uuid>{uuid}</uuid>{meta}
    <memory unit='MiB'>512</memory><vcpu>2</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <devices>
      <disk type='file' device='disk'><source file='{disk}'/><target dev='vda' bus='virtio'/></disk>{vol}
      <interface type='bridge'><mac address='fa:16:3e:00:00:01'/><source bridge='br-int'/>
        <virtualport type='openvswitch'><parameters interfaceid='{uuid}'/></virtualport></interface>
    </devices>{runstate}
  </domain>"""


def node_file(path, *domains):
    path.write_text(
        "<node><cpu><mhz>2000</mhz><model>i686</model><active>2</active><nodes>1</nodes>"
        "<sockets>1</sockets><cores>2</cores><threads>1</threads></cpu>"
        "<memory>8388608</memory>" + "".join(domains) + "\n</node>\n"
    )
    return f"test://{path}"


U = {i: f"00000000-0000-4000-8000-{i:012d}" for i in range(1, 10)}


@pytest.fixture
def cloud(tmp_path):
    """Three compute hosts known to Nova: hv1 and hv2 have node files, hv3's URI is dead."""
    uris = {
        "hv1": node_file(
            tmp_path / "hv1.xml",
            guest("instance-00000001", U[1], nova_name="web-1", volume=U[9]),
            guest("instance-00000002", U[2], nova_name="web-2", shut_off=True),
        ),
        "hv2": node_file(
            tmp_path / "hv2.xml",
            guest("instance-00000003", U[3], nova_name="db-1", project="p-2"),
            guest("debug-vm", U[4]),
        ),
        # a remote libvirtd that is not there: the client gets "connection refused"-like errors
        "hv3": f"test+unix:///default?socket={tmp_path}/no-such-libvirt-sock",
    }
    known = Snapshot(taken_at=dt.datetime(2026, 1, 1))
    known.add(ComputeNode.kind, [ComputeNode("cell1", f"cn-{h}", h, h, "QEMU") for h in uris])
    settings = HypervisorSettings(hosts={h: HostOverride(uri=u) for h, u in uris.items()}, timeout=10.0)
    return known, settings, uris


def collect(settings, known, scopes=None, connect=None):
    sink = Snapshot(taken_at=dt.datetime(2026, 1, 1))
    src = LibvirtSource(settings, connect=connect)
    statuses = src.collect({Domain}, known, sink, scopes=scopes)
    return sink, statuses


def test_two_hosts_complete_one_unreachable(cloud, capfd):
    known, settings, uris = cloud
    sink, statuses = collect(settings, known)

    by_uuid = {d.uuid: d for d in sink.of(Domain)}
    assert sorted(by_uuid) == [U[1], U[2], U[3], U[4]]
    assert (by_uuid[U[1]].host, by_uuid[U[1]].active, by_uuid[U[1]].state) == ("hv1", True, 1)
    assert (by_uuid[U[2]].active, by_uuid[U[2]].state) == (False, 5)  # defined, shut off
    assert (by_uuid[U[3]].nova_ns, by_uuid[U[3]].nova_name, by_uuid[U[3]].nova_project) == ("1.1", "db-1", "p-2")
    assert by_uuid[U[4]].nova_ns is None  # not Nova's
    assert (by_uuid[U[1]].vcpus, by_uuid[U[1]].memory_mb) == (2, 512)
    assert by_uuid[U[1]].disks == (f"/var/lib/nova/instances/{U[1]}/disk", "/dev/sdc")

    assert sink.is_complete(Domain, "host:hv1") and sink.is_complete(Domain, "host:hv2")
    assert not sink.is_complete(Domain, "host:hv3")
    reason = sink.why_incomplete(Domain, "host:hv3")
    assert reason.startswith(f"cannot connect to {uris['hv3']}: ")
    assert "\n" not in reason
    assert sink.coverage[(Domain.kind, "host:hv1")].collected_at is not None

    assert [(s.scope, s.status) for s in statuses] == [("host:hv1", "ok"), ("host:hv2", "ok"), ("host:hv3", "partial")]
    # libvirt's default error handler would have printed the connect failure to stderr
    assert capfd.readouterr().err == ""


def test_scopes_restrict_the_hosts_read(cloud):
    known, settings, _ = cloud
    sink, statuses = collect(settings, known, scopes={"host:hv2"})
    assert [s.scope for s in statuses] == ["host:hv2"]
    assert {d.host for d in sink.of(Domain)} == {"hv2"}
    assert sink.scopes(Domain) == ["host:hv2"]


def test_a_hung_host_times_out_and_the_others_are_read(cloud):
    known, settings, uris = cloud
    settings = HypervisorSettings(hosts=settings.hosts, timeout=0.5)
    release = threading.Event()

    def connect(uri):
        if uri == uris["hv2"]:
            release.wait(30)  # a libvirtd that accepts and never answers
        return libvirt.openReadOnly(uri)

    try:
        sink, statuses = collect(settings, known, scopes={"host:hv1", "host:hv2"}, connect=connect)
    finally:
        release.set()
    assert sink.is_complete(Domain, "host:hv1")
    assert not sink.is_complete(Domain, "host:hv2")
    assert sink.why_incomplete(Domain, "host:hv2") == f"no answer from {uris['hv2']}: timed out after 0.5s"
    assert {d.host for d in sink.of(Domain)} == {"hv1"}


class _BadXMLDomain:
    """A domain whose XML libvirt hands back damaged (test double: the test driver cannot)."""

    def name(self):
        return "instance-broken"

    def XMLDesc(self, flags):
        return "<domain><name>instance-broken</name><uuid>"

    def state(self):
        return [1, 0]

    def isActive(self):
        return 1


class _WithBadDomain:
    """A real test-driver connection plus one domain with unreadable XML."""

    def __init__(self, conn):
        self._conn = conn

    def listAllDomains(self, flags):
        return [*self._conn.listAllDomains(flags), _BadXMLDomain()]

    def close(self):
        return self._conn.close()


def test_unreadable_domain_xml_makes_the_host_partial_but_keeps_the_others(cloud):
    known, settings, _ = cloud
    sink, statuses = collect(
        settings, known, scopes={"host:hv1"}, connect=lambda uri: _WithBadDomain(libvirt.openReadOnly(uri))
    )
    assert sorted(d.uuid for d in sink.of(Domain)) == [U[1], U[2]]
    assert not sink.is_complete(Domain, "host:hv1")
    reason = sink.why_incomplete(Domain, "host:hv1")
    assert reason.startswith("1 domain(s) unreadable: cannot parse domain XML")
    assert statuses[0].status == "partial"


def test_volume_disks_only_when_asked_and_covered_per_host(cloud):
    known, settings, _ = cloud
    sink = Snapshot(taken_at=dt.datetime(2026, 1, 1))
    LibvirtSource(settings).collect({Domain, DomainVolume}, known, sink)
    [vol] = sink.of(DomainVolume)
    assert (vol.host, vol.domain_uuid, vol.serial, vol.source, vol.target_dev) == ("hv1", U[1], U[9], "/dev/sdc", "vdb")
    assert sink.is_complete(DomainVolume, "host:hv2") and not sink.is_complete(DomainVolume, "host:hv3")
    only_domains, _ = collect(settings, known)
    assert only_domains.of(DomainVolume) == [] and (DomainVolume.kind, "host:hv1") not in only_domains.coverage


def test_progress_and_kinds(cloud):
    known, settings, _ = cloud
    src = LibvirtSource(settings)
    seen = []
    src.progress = lambda done, total: seen.append((done, total))
    sink = Snapshot(taken_at=dt.datetime(2026, 1, 1))
    src.collect({Domain}, known, sink)
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert src.collect(set(), known, Snapshot(taken_at=dt.datetime(2026, 1, 1))) == []


def test_reads_names_the_libvirt_calls():
    lines = LibvirtSource(HypervisorSettings()).reads()
    assert any("virConnectListAllDomains" in ln and "virDomainGetXMLDesc" in ln for ln in lines)


# -- run_bounded, which runs this source's hosts (and hostfs's) ----------------------------


def test_run_bounded_caps_concurrency_and_keeps_input_order():
    from osfsck.sources.parallel import run_bounded

    lock, running, peak = threading.Lock(), [0], [0]

    def work(n):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        threading.Event().wait(0.02 * (n % 3))  # finish out of order
        with lock:
            running[0] -= 1
        if n == 4:
            raise RuntimeError("first line\nsecond line")
        return n * 10

    out = run_bounded(range(8), work, concurrency=3, timeout=5)
    assert list(out) == list(range(8))
    assert peak[0] <= 3
    assert [o.value for o in out.values() if o.ok] == [0, 10, 20, 30, 50, 60, 70]
    assert (out[4].ok, out[4].reason, out[4].timed_out) == (False, "first line", False)


def test_run_bounded_gives_a_hung_items_slot_to_the_next():
    from osfsck.sources.parallel import run_bounded

    release = threading.Event()
    try:
        out = run_bounded(
            ["hung", "a", "b"], lambda s: release.wait(30) if s == "hung" else s, concurrency=1, timeout=0.3
        )
    finally:
        release.set()
    assert (out["hung"].ok, out["hung"].reason, out["hung"].timed_out) == (False, "timed out after 0.3s", True)
    assert [out["a"].value, out["b"].value] == ["a", "b"]
