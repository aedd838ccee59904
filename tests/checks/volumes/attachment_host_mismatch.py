"""Scenarios of VL104 attachment-host-mismatch: Cinder connects a volume to another host
than the one Nova runs the instance on."""

from osfsck.checks.volumes.attachment_host_mismatch import AttachmentHostMismatch
from tests.checks.scenario import Case
from tests.support.world import MINUTE, World, attachment_uid, iqn_of

CHECK = AttachmentHostMismatch


def connector_of_the_old_host():
    w = World()
    u = w.instance(host="hv1")
    vid = w.volume(status="in-use")
    w.bdm(u, vid, attachment_id=w.attachment(vid, u, host="hv2"))
    w.session("hv1", iqn_of(vid))
    return w.snapshot()


def verify(out):
    (f,) = out.findings
    assert "to hv2" in f.message and "on hv1" in f.message and "sessions to its target are on hv1" in f.message
    assert f.evidence["session_hosts"] == ["hv1"] and f.evidence["instance"]["host"] == "hv1"


def clean():
    w = World()
    w.attached_volume(w.instance(host="hv1"))
    w.attached_volume(w.instance(host="hv2"), kind="rbd")
    u = w.instance(host="cmp3")
    vid = w.volume(status="in-use")
    w.bdm(u, vid, attachment_id=w.attachment(vid, u, host="cmp3.example.org"))  # FQDN connector
    return w.snapshot()


def mid_migration():
    w = World()
    u = w.instance(host="hv1", task_state="migrating")
    vid = w.volume(status="in-use")
    w.bdm(u, vid, attachment_id=w.attachment(vid, u, host="hv2"))
    w.migration(u, type="live-migration", status="running", source="hv1", dest="hv2")
    return w.snapshot()


def just_changed():
    w = World()
    u = w.instance(host="hv1")
    vid = w.volume(status="in-use")
    w.bdm(u, vid, attachment_id=w.attachment(vid, u, host="hv2", updated_age=MINUTE))
    return w.snapshot()


def cinder_partial():
    w = World()
    u = w.instance(host="hv1")
    vid = w.volume(status="in-use")
    w.attachment(vid, u, host="hv2")
    w.cinder_down()
    return w.snapshot()


CASES = [
    Case(
        "found",
        "attachment still names the previous host",
        connector_of_the_old_host,
        [("VL104", attachment_uid(1))],
        verify=verify,
    ),
    Case("clean", "connectors match, a short name and its FQDN included", clean),
    Case("near-miss", "live migration in progress", mid_migration),
    Case("near-miss", "attachment updated a minute ago", just_changed),
    Case("partial", "Cinder unreadable", cinder_partial, ["cinder"]),
]
