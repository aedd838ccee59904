"""Scenarios of HV102 unknown-domain: a Nova-made domain that no cell or API table knows."""

from osfsck.checks.hypervisor.unknown_domain import UnknownDomain
from osfsck.model.facts.nova import BuildRequest, Cell, InstanceMapping
from osfsck.model.finding import Confidence, Severity
from tests.checks.scenario import Case
from tests.support.world import World, uid

CHECK = UnknownDomain
STRAY = uid(202)


def restored_from_backup():
    # the cell database was restored from before this guest was created
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.domain("hv2", STRAY, vcpus=8, memory_mb=16384)
    return w.snapshot()


def verify_stray(out):
    (f,) = out.findings
    assert f.subject.scope == "host:hv2" and "hv2" in f.message
    assert f.confidence == Confidence.HIGH and f.severity == Severity.HIGH
    assert f.reclaim == {"vcpus": 8, "memory_mb": 16384}
    assert f.evidence["cells_searched"] == ["cell1"]


def name_pattern_only():
    w = World()
    w.instance(host="hv1")
    w.domain("hv1", STRAY, nova=False, state=5)
    return w.snapshot()


def verify_name_only(out):
    (f,) = out.findings
    assert f.confidence == Confidence.MEDIUM
    assert f.severity == Severity.MEDIUM and f.reclaim == {}


def clean():
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    u = w.instance(cell="cell2", host="hv3")
    w.domain("hv3", u)
    return w.snapshot()


def hand_made_domain():
    w = World()
    w.domain("hv1", STRAY, name="pxe-test", nova=False)
    return w.snapshot()


def mapped_but_missing_from_its_cell():
    # the mapping knows the uuid (an orphan mapping is NV201's business, not an unknown domain)
    w = World()
    w.mapping(STRAY, "cell1")
    w.domain("hv1", STRAY)
    return w.snapshot()


def only_a_build_request():
    w = World()
    w.build_request(STRAY, age=30, mapped=False)
    w.domain("hv1", STRAY, state=3)
    return w.snapshot()


def archived_instance():
    # known to the shadow tables: that is a zombie (HV101), not an unknown domain
    w = World()
    w.archived(STRAY)
    w.domain("hv1", STRAY)
    return w.snapshot()


def another_cell_down():
    w = World()
    w.domain("hv1", STRAY)  # could be a live instance of cell2
    w.cell_down("cell2", "cell2: Access denied for user 'nova'")
    return w.snapshot()


def cell_list_partial():
    w = World()
    w.domain("hv1", STRAY)
    w.partial(Cell, "api", "cell_mappings: connection reset")
    return w.snapshot()


def mappings_partial():
    w = World()
    w.domain("hv1", STRAY)
    w.partial(InstanceMapping, "api", "instance_mappings: query timed out")
    return w.snapshot()


def build_requests_partial():
    # the uuid may be a server being built, in no cell yet
    w = World()
    w.instance(host="hv1")
    w.domain("hv1", STRAY, state=3)
    w.partial(BuildRequest, "api", "nova_api: SELECT from build_requests interrupted")
    return w.snapshot()


def a_libvirt_host_never_read():
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.host("hv2", covered=False)
    return w.snapshot()


CASES = [
    Case("found", "guest of a restored cell database", restored_from_backup, [("HV102", STRAY)], verify=verify_stray),
    Case(
        "found",
        "matched by name pattern only: medium confidence",
        name_pattern_only,
        [("HV102", STRAY)],
        verify=verify_name_only,
    ),
    Case("clean", "every domain belongs to a live instance, two cells", clean),
    Case("near-miss", "hand-made domain without metadata and another name", hand_made_domain),
    Case("near-miss", "uuid known to an instance mapping", mapped_but_missing_from_its_cell),
    Case("near-miss", "uuid known to a build request", only_a_build_request),
    Case("near-miss", "archived instance is a zombie, not unknown", archived_instance),
    Case("partial", "another cell could not be read", another_cell_down, ["cell:cell2"]),
    Case("partial", "cell list partial", cell_list_partial, ["api"]),
    Case("partial", "instance mappings partial", mappings_partial, ["api"]),
    Case("partial", "build requests partial", build_requests_partial, ["api"]),
    Case("partial", "a libvirt host Nova lists was never read", a_libvirt_host_never_read, ["host:hv2"]),
]
