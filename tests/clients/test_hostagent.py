"""The host agent, called in-process on temporary folders, and through a real local subprocess."""

import ast
import base64
import glob
import json
import os
import pickle
import shlex
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from osfsck.clients.hostagent import HostChannel, HostCommandError, HostError, HostUnreachable, agent
from tests.support import sysfs

U1 = "0f3c5f6e-1b2a-4c3d-8e9f-0a1b2c3d4e5f"
U2 = "11111111-2222-3333-4444-555555555555"
U3 = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
MIB = 1024 * 1024
AGENT_SOURCE = Path(agent.__file__).read_text()


def run(op, **args):
    reply = agent.handle({"op": op, "args": args})
    assert reply["ok"], reply
    json.dumps(reply)  # everything must survive the wire
    return reply["result"]


def refused(op, **args):
    reply = agent.handle({"op": op, "args": args})
    assert reply == {"ok": False, "error": reply["error"]}
    assert "\n" not in reply["error"]
    return reply["error"]


def make_instance(base: Path, name: str, sparse=1024 * MIB, real=64 * 1024) -> Path:
    """An instance folder with a sparse 'disk' holding ``real`` bytes of data and a disk.info."""
    d = base / name
    d.mkdir(parents=True)
    disk = d / "disk"
    with open(disk, "wb") as f:
        f.write(os.urandom(real))
        f.truncate(sparse)
    (d / "disk.info").write_text('{"/x/disk": "qcow2"}')
    return d


def by_name(entries):
    return {e["name"]: e for e in entries}


# --- collect -----------------------------------------------------------------------------------


def test_collect_sizes_sparse_files_and_hard_links(tmp_path):
    d = make_instance(tmp_path, U1)
    os.link(d / "disk", d / "disk.hardlink")  # same inode: counted once
    outside = tmp_path / "elsewhere"
    outside.write_bytes(os.urandom(MIB))
    (d / "link-out").symlink_to(outside)  # symlinks are not followed
    (d / "sub").mkdir()
    (d / "sub" / "console.log").write_bytes(b"x" * 10)

    (entry,) = run("collect", instances_path=str(tmp_path))["dirs"]

    apparent = 1024 * MIB + len('{"/x/disk": "qcow2"}') + 10
    assert entry["apparent_bytes"] == apparent
    assert entry["files"] == 3  # disk (once), disk.info, sub/console.log
    # Allocation is filesystem-dependent; it covers the written bytes, not the sparse hole.
    assert 64 * 1024 <= entry["bytes"] < 16 * MIB
    assert entry["bytes"] % 512 == 0
    st = os.lstat(d)
    assert entry["inode"] == st.st_ino
    assert entry["ctime"] == st.st_ctime


def test_collect_names_suffixes_disks_and_ignored_children(tmp_path):
    make_instance(tmp_path, U1)
    make_instance(tmp_path, U2 + "_resize", sparse=MIB, real=4096)
    make_instance(tmp_path, U3.upper() + "_del", sparse=MIB, real=4096)
    for name in (
        "disk.local",
        "disk.swap",
        "disk.config",
        "disk.eph0",
        "disk.rescue",
        "console.log",
        "disk.bak",
        "libvirt.xml",
    ):
        (tmp_path / U1 / name).write_bytes(b"")
    for ignored in (
        "_base",
        "locks",
        "compute_nodes",
        "snapshots",
        ".osfsck-quarantine",
        U1 + "_old",
        U1 + ".bak",
        "not-a-uuid",
    ):
        (tmp_path / ignored).mkdir()
    (tmp_path / "random-file").write_text("x")

    res = run("collect", instances_path=str(tmp_path))

    assert res["exists"] is True
    assert res["instances_path"] == str(tmp_path)
    assert res["storage"] == "local"
    assert res["hostname"]
    assert res["quarantine"] == []
    dirs = by_name(res["dirs"])
    assert sorted(dirs) == sorted([U1, U2 + "_resize", U3.upper() + "_del"])
    assert (dirs[U1]["uuid"], dirs[U1]["suffix"]) == (U1, "")
    assert (dirs[U2 + "_resize"]["uuid"], dirs[U2 + "_resize"]["suffix"]) == (U2, "_resize")
    assert (dirs[U3.upper() + "_del"]["uuid"], dirs[U3.upper() + "_del"]["suffix"]) == (U3, "_del")
    assert dirs[U1]["disks"] == [
        "disk",
        "disk.config",
        "disk.eph0",
        "disk.info",
        "disk.local",
        "disk.rescue",
        "disk.swap",
    ]
    assert dirs[U2 + "_resize"]["disks"] == ["disk", "disk.info"]


def test_collect_mtime_is_newest_of_folder_and_files(tmp_path):
    d = make_instance(tmp_path, U1, sparse=4096, real=4096)
    os.utime(d / "disk", (1_000_000, 2_000_000_000))
    os.utime(d / "disk.info", (1_000_000, 1_000_000))
    os.utime(d, (1_000_000, 1_500_000_000))
    (entry,) = run("collect", instances_path=str(tmp_path))["dirs"]
    assert entry["mtime"] == 2_000_000_000

    os.utime(d / "disk", (1_000_000, 1_000_000))
    (entry,) = run("collect", instances_path=str(tmp_path))["dirs"]
    assert entry["mtime"] == 1_500_000_000


def test_collect_missing_instances_path_is_not_an_error(tmp_path):
    res = run("collect", instances_path=str(tmp_path / "nope"))
    assert res["exists"] is False
    assert res["dirs"] == [] and res["quarantine"] == []


def test_collect_refuses_relative_path():
    assert "absolute" in refused("collect", instances_path="var/lib/nova/instances")


def test_collect_marks_unreadable_entries_instead_of_failing(tmp_path):
    make_instance(tmp_path, U1, sparse=4096, real=4096)
    (tmp_path / U2).write_text("a file named like an instance folder")
    (tmp_path / U3).symlink_to(tmp_path / U1)
    dirs = by_name(run("collect", instances_path=str(tmp_path))["dirs"])
    assert "error" not in dirs[U1]
    assert dirs[U2]["error"] == "not a directory"
    assert "symlink" in dirs[U3]["error"]
    assert dirs[U3]["uuid"] == U3 and "bytes" not in dirs[U3]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads folders whatever their mode")
def test_collect_permission_error_on_one_folder(tmp_path):
    make_instance(tmp_path, U1, sparse=4096, real=4096)
    locked = make_instance(tmp_path, U2, sparse=4096, real=4096)
    locked.chmod(0)
    try:
        dirs = by_name(run("collect", instances_path=str(tmp_path))["dirs"])
    finally:
        locked.chmod(0o755)
    assert "Permission denied" in dirs[U2]["error"]
    assert "error" not in dirs[U1]


# --- storage identity --------------------------------------------------------------------------

MOUNTS = """\
/dev/vda1 / ext4 rw,relatime 0 0
proc /proc proc rw 0 0
filer1:/export/nova /var/lib/nova/instances nfs4 rw,vers=4.2 0 0
10.0.0.1:6789,10.0.0.2:6789:/ /mnt/ceph ceph rw,name=nova 0 0
/dev/sdb1 /mnt/ceph/local ext4 rw 0 0
filer2:/old /srv/space\\040dir nfs rw 0 0
sshfs#me@x: /mnt/sshfs fuse.sshfs rw 0 0
/dev/sdc1 /data xfs rw 0 0
filer3:/data /data nfs rw 0 0
"""


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/var/lib/nova/instances", "nfs4:filer1:/export/nova"),
        ("/var/lib/nova/instances/", "nfs4:filer1:/export/nova"),
        ("/var/lib/nova/instances2", "local"),  # a prefix of a name is not a parent
        ("/var/lib/nova", "local"),
        ("/mnt/ceph/nova/instances", "ceph:10.0.0.1:6789,10.0.0.2:6789:/nova/instances"),
        ("/mnt/ceph/local/instances", "local"),  # longest mount point wins
        ("/srv/space dir/instances", "nfs:filer2:/old/instances"),  # \040 is a space
        ("/mnt/sshfs/instances", "local"),  # not one of the shared cluster filesystems
        ("/data/instances", "nfs:filer3:/data/instances"),  # mounted over /dev/sdc1
    ],
)
def test_storage_identity(path, expected):
    assert agent._storage_identity(path, MOUNTS) == expected


def test_storage_identity_without_a_matching_mount_is_unknown():
    assert agent._storage_identity("/var/lib/nova/instances", "") == "unknown"
    assert agent._storage("/var/lib/nova/instances", mounts_path="/nonexistent/mounts") == "unknown"


def test_same_export_mounted_at_different_depths_has_one_identity():
    a = "filer1:/export /srv nfs4 rw 0 0\n"
    b = "filer1:/export/nova /var/lib/nova/instances nfs4 rw 0 0\n"
    assert (
        agent._storage_identity("/srv/nova", a)
        == agent._storage_identity("/var/lib/nova/instances", b)
        == "nfs4:filer1:/export/nova"
    )


# --- quarantine, restore, purge ----------------------------------------------------------------


def test_quarantine_moves_folder_and_collect_lists_it(tmp_path):
    d = make_instance(tmp_path, U1 + "_del")
    inode = os.lstat(d).st_ino
    before = time.time()

    res = run("quarantine", instances_path=str(tmp_path), name=U1 + "_del", inode=inode)

    assert not d.exists()
    moved = Path(res["path"])
    assert moved.parent == tmp_path / ".osfsck-quarantine"
    assert moved.name == res["quarantined"]
    assert os.lstat(moved).st_ino == inode  # renamed, not copied
    assert (moved / "disk").stat().st_size == 1024 * MIB
    assert stat.S_IMODE(os.stat(moved.parent).st_mode) == 0o700

    col = run("collect", instances_path=str(tmp_path))
    assert col["dirs"] == []
    (q,) = col["quarantine"]
    assert q["name"] == res["quarantined"]
    assert q["original"] == U1 + "_del"
    assert before - 1 <= q["quarantined_at"] <= time.time()
    assert q["bytes"] >= 64 * 1024


@pytest.mark.parametrize("name", ["_base", "locks", "..", "../" + U1, U1 + "/disk", U1 + "_x", ""])
def test_quarantine_refuses_names_nova_does_not_own(tmp_path, name):
    (tmp_path / "_base").mkdir()
    make_instance(tmp_path, U1, sparse=4096, real=4096)
    err = refused("quarantine", instances_path=str(tmp_path), name=name, inode=os.lstat(tmp_path / "_base").st_ino)
    assert "not a Nova instance folder name" in err
    assert (tmp_path / "_base").is_dir() and (tmp_path / U1).is_dir()


def test_quarantine_refuses_symlink_and_plain_file(tmp_path):
    target = make_instance(tmp_path, "real-folder", sparse=4096, real=4096)
    (tmp_path / U1).symlink_to(target)
    (tmp_path / U2).write_text("x")
    err = refused("quarantine", instances_path=str(tmp_path), name=U1, inode=os.lstat(tmp_path / U1).st_ino)
    assert "symlink" in err
    err = refused("quarantine", instances_path=str(tmp_path), name=U2, inode=os.lstat(tmp_path / U2).st_ino)
    assert "not a directory" in err
    assert (tmp_path / U1).is_symlink() and target.is_dir() and (tmp_path / U2).is_file()


def test_quarantine_refuses_when_inode_changed(tmp_path):
    d = make_instance(tmp_path, U1, sparse=4096, real=4096)
    seen = os.lstat(d).st_ino
    # The folder is re-created after osfsck looked at it (e.g. the instance came back).
    os.rename(d, tmp_path / "old")
    make_instance(tmp_path, U1, sparse=4096, real=4096)
    assert os.lstat(d).st_ino != seen
    err = refused("quarantine", instances_path=str(tmp_path), name=U1, inode=seen)
    assert "changed since" in err
    assert d.is_dir()


def test_quarantine_refuses_missing_folder_bad_inode_and_existing_target(tmp_path):
    assert "does not exist" in refused("quarantine", instances_path=str(tmp_path), name=U1, inode=1)
    d = make_instance(tmp_path, U1, sparse=4096, real=4096)
    assert "inode" in refused("quarantine", instances_path=str(tmp_path), name=U1, inode="12")
    # Occupy the entry names the next seconds would get.
    qdir = tmp_path / ".osfsck-quarantine"
    qdir.mkdir()
    now = time.time()
    for delta in range(3):
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now + delta))
        (qdir / f"{U1}.{stamp}").mkdir()
    err = refused("quarantine", instances_path=str(tmp_path), name=U1, inode=os.lstat(d).st_ino)
    assert "already exists" in err
    assert d.is_dir()


def test_quarantine_refuses_symlinked_quarantine_folder(tmp_path):
    d = make_instance(tmp_path, U1, sparse=4096, real=4096)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / ".osfsck-quarantine").symlink_to(tmp_path / "elsewhere")
    err = refused("quarantine", instances_path=str(tmp_path), name=U1, inode=os.lstat(d).st_ino)
    assert "not a plain directory" in err
    assert d.is_dir()


def test_restore_moves_back_and_refuses_when_original_exists(tmp_path):
    d = make_instance(tmp_path, U1, sparse=4096, real=4096)
    inode = os.lstat(d).st_ino
    q = run("quarantine", instances_path=str(tmp_path), name=U1, inode=inode)["quarantined"]

    d.mkdir()  # Nova made a new folder with that name meanwhile
    err = refused("restore", instances_path=str(tmp_path), quarantined=q)
    assert "exists again" in err
    d.rmdir()

    assert run("restore", instances_path=str(tmp_path), quarantined=q) == {"restored": U1}
    assert os.lstat(d).st_ino == inode
    assert run("collect", instances_path=str(tmp_path))["quarantine"] == []

    assert "does not exist" in refused("restore", instances_path=str(tmp_path), quarantined=q)
    for bad in ("../" + q, "x.20240101T000000Z", U1, "/etc/passwd.20240101T000000Z"):
        assert "not an osfsck quarantine entry" in refused("restore", instances_path=str(tmp_path), quarantined=bad)


def test_purge_respects_retention(tmp_path):
    qdir = tmp_path / ".osfsck-quarantine"
    old = make_instance(qdir, f"{U2}_del.20000101T000000Z", sparse=MIB, real=8192)
    stray = qdir / "something-we-did-not-write"
    stray.mkdir()
    fresh = run(
        "quarantine",
        instances_path=str(tmp_path),
        name=U1,
        inode=os.lstat(make_instance(tmp_path, U1, sparse=4096, real=4096)).st_ino,
    )
    sizes = {q["name"]: q["bytes"] for q in run("collect", instances_path=str(tmp_path))["quarantine"]}
    assert sizes[old.name] >= 8192

    res = run("purge", instances_path=str(tmp_path), older_than=3600)

    assert res == {"purged": [old.name], "bytes": sizes[old.name], "errors": []}
    assert not old.exists()
    assert (qdir / fresh["quarantined"]).is_dir() and stray.is_dir()
    left = {q["name"]: q for q in run("collect", instances_path=str(tmp_path))["quarantine"]}
    assert set(left) == {fresh["quarantined"], stray.name}
    assert left[stray.name]["original"] is None and left[stray.name]["quarantined_at"] is None

    assert run("purge", instances_path=str(tmp_path), older_than=3600)["purged"] == []
    assert "non-negative" in refused("purge", instances_path=str(tmp_path), older_than=-1)
    assert run("purge", instances_path=str(tmp_path / "none"), older_than=0)["purged"] == []


def test_ping_and_bad_requests():
    res = run("ping")
    assert res["hostname"] and res["python"] == sys.version
    assert "unknown op" in agent.handle({"op": "rm -rf", "args": {}})["error"]
    assert agent.handle(["collect"])["ok"] is False
    assert agent.handle({"op": "collect", "args": "x"})["ok"] is False


def test_agent_is_stdlib_only_and_python36_syntax():
    # Hypervisors may run Python 3.6 and have nothing of ours installed.
    tree = ast.parse(AGENT_SOURCE, feature_version=(3, 6))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module != "__future__"
            imported.add(node.module.split(".")[0])
    assert imported <= sys.stdlib_module_names, imported - sys.stdlib_module_names
    assert "dataclass" not in AGENT_SOURCE


# --- the wire protocol through a real subprocess ------------------------------------------------

PY = shlex.quote(sys.executable)


def test_agent_script_protocol_on_bad_input():
    for argv in ([], ["not base64!"], [base64.b64encode(b"[1,").decode()]):
        p = subprocess.run([sys.executable, "-", *argv], input=AGENT_SOURCE, capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        reply = json.loads(p.stdout)
        assert reply["ok"] is False and reply["error"]
        assert p.stdout.count("\n") == 1


def test_local_channel_collect_quarantine_restore(tmp_path):
    d = make_instance(tmp_path, U1)
    ch = HostChannel("hv1", "local", python=PY, timeout=30)
    (entry,) = ch.call("collect", instances_path=str(tmp_path))["dirs"]
    assert entry == run("collect", instances_path=str(tmp_path))["dirs"][0]

    q = ch.call("quarantine", instances_path=str(tmp_path), name=U1, inode=entry["inode"])
    assert not d.exists()
    with pytest.raises(HostCommandError) as exc:
        ch.call("quarantine", instances_path=str(tmp_path), name="_base", inode=1)
    assert exc.value.host == "hv1" and exc.value.op == "quarantine"
    assert "not a Nova instance folder name" in exc.value.message
    assert str(exc.value).startswith("hv1: quarantine: ")
    assert ch.call("restore", instances_path=str(tmp_path), quarantined=q["quarantined"]) == {"restored": U1}
    assert os.lstat(d).st_ino == entry["inode"]


def test_local_channel_failures_are_host_unreachable(tmp_path):
    def fails(python, timeout=30):
        with pytest.raises(HostUnreachable) as exc:
            HostChannel("hv1", "local", python=python, timeout=timeout).call("ping")
        assert isinstance(exc.value, HostError)
        assert "\n" not in str(exc.value)
        return exc.value.reason

    assert fails("no-such-python3") == "no-such-python3 not found"
    assert fails(f"{PY} -c 'import time; time.sleep(30)'", timeout=1) == "timed out after 1s"
    assert fails(f"{PY} -c 'print(\"garbage\")'").startswith("agent gave no valid reply")
    assert fails(f"{PY} -c 'import sys; sys.exit(3)'") == "agent exited with status 3"


def test_local_channel_skips_noise_printed_before_the_reply():
    # Login scripts on real hosts sometimes print to stdout before python runs.
    ch = HostChannel("hv1", "local", python=f"sh -c 'echo welcome; exec {PY} \"$@\"' sh")
    assert ch.call("ping")["python"]


def test_inprocess_channel(tmp_path):
    make_instance(tmp_path, U1, sparse=4096, real=4096)
    ch = HostChannel("hv1", "inprocess")
    assert ch.call("collect", instances_path=str(tmp_path)) == run("collect", instances_path=str(tmp_path))
    with pytest.raises(HostCommandError):
        ch.call("restore", instances_path=str(tmp_path), quarantined="nope")


def test_host_errors_survive_pickling():
    # A fan-out over a process pool sends these back to the parent.
    for err in (HostUnreachable("hv1", "timed out after 5s"), HostCommandError("hv1", "quarantine", "refused")):
        copy = pickle.loads(pickle.dumps(err))
        assert type(copy) is type(err) and str(copy) == str(err) and copy.host == "hv1"
    assert str(HostCommandError("hv1", "purge", "bad")) == "hv1: purge: bad"
    assert pickle.loads(pickle.dumps(HostCommandError("hv1", "purge", "bad"))).op == "purge"


# --- iSCSI: node record, logout, login ------------------------------------------------------------
# Real sessions need the kernel's iscsi_tcp module and a target, which this machine lacks: the
# iscsiadm here is a stand-in that records its argv and answers from two flag files, with
# open-iscsi's messages and exit statuses (21 no such session/record, 15 already logged in);
# sysfs and /proc are folders laid out like them (tests/support/sysfs.py).

IQN = "iqn.2010-10.org.openstack:volume-11111111-aaaa-4000-8000-000000000001"
PORTAL = "192.0.2.10:3260"
NODE = f"-m node -T {IQN} -p {PORTAL}"


@pytest.fixture
def iscsiadm(tmp_path):
    """(path of the stand-in, its folder): `session` and `record` files say what exists."""
    d = tmp_path / "iscsi"
    d.mkdir()
    (d / "session").touch()
    (d / "record").write_text("automatic\n")
    script = d / "iscsiadm"
    script.write_text(f"""#!/bin/sh
d={shlex.quote(str(d))}
echo "$*" >> "$d/argv"
for a; do last=$a; done
no_session() {{ echo "iscsiadm: No matching sessions found" >&2; exit 21; }}
no_record() {{ echo "iscsiadm: No records found" >&2; exit 21; }}
case "$*" in
  *" --logout") [ -e "$d/session" ] || no_session; rm "$d/session"; echo "Logout of [...] successful." ;;
  *" -o delete") [ -e "$d/record" ] || no_record; [ -e "$d/locked" ] && {{ echo "iscsiadm: could not remove record" >&2; exit 7; }}
                 rm "$d/record" ;;
  *" -o new") echo automatic > "$d/record"; echo "New iSCSI node [...] added" ;;
  *" -o update -n node.startup -v "*) [ -e "$d/record" ] || no_record; echo "$last" > "$d/record" ;;
  *" --login") [ -e "$d/record" ] || no_record
               [ -e "$d/session" ] && {{ echo "iscsiadm: default: 1 session requested, but 1 already present." >&2; exit 15; }}
               touch "$d/session"; echo "Login to [...] successful." ;;
  "{NODE}") [ -e "$d/record" ] || no_record
            printf '# BEGIN RECORD 2.1.8\\nnode.name = %s\\nnode.startup = %s\\n# END RECORD\\n' "{IQN}" "$(cat "$d/record")" ;;
  *) echo "iscsiadm: unexpected $*" >&2; exit 7 ;;
esac
""")
    script.chmod(0o755)
    return str(script), d


def argv_log(d: Path) -> list[str]:
    return (d / "argv").read_text().splitlines() if (d / "argv").exists() else []


def test_iscsi_logout_and_login_through_a_local_subprocess(iscsiadm):
    path, d = iscsiadm
    ch = HostChannel("hv1", "local", python=PY, timeout=30)
    node = ch.call("iscsi_node", iscsiadm=path, target_iqn=IQN, portal=PORTAL)["node"]
    assert node["rc"] == 0 and "node.startup = automatic" in node["out"]
    out = ch.call("iscsi_logout", iscsiadm=path, target_iqn=IQN, portal=PORTAL, sid=3, devices=["sdc"])
    # no iSCSI in this kernel: no disk of session 3 is found in /sys, so none can be busy
    assert out == {"logged_out": True, "record_deleted": True, "delete_error": None, "disks": []}
    assert argv_log(d) == [f"{NODE}", f"{NODE} --logout", f"{NODE} -o delete"]
    assert ch.call("iscsi_node", iscsiadm=path, target_iqn=IQN, portal=PORTAL)["node"]["rc"] == 21

    back = ch.call(
        "iscsi_login",
        iscsiadm=path,
        target_iqn=IQN,
        portal=PORTAL,
        create_record=True,
        settings={"node.startup": "manual"},
    )
    assert back == {"logged_in": True, "record_created": True}
    assert argv_log(d)[-3:] == [f"{NODE} -o new", f"{NODE} -o update -n node.startup -v manual", f"{NODE} --login"]
    assert (d / "record").read_text() == "manual\n" and (d / "session").exists()
    # logged in already (exit 15) is what undo wants too
    assert ch.call("iscsi_login", iscsiadm=path, target_iqn=IQN, portal=PORTAL)["logged_in"]


def test_iscsi_logout_of_a_session_gone_is_refused_and_keeps_the_record(iscsiadm):
    path, d = iscsiadm
    (d / "session").unlink()
    err = refused("iscsi_logout", iscsiadm=path, target_iqn=IQN, portal=PORTAL, sid=3)
    assert "no session to" in err and "nothing logged out, the node record is kept" in err
    assert argv_log(d) == [f"{NODE} --logout"] and (d / "record").exists()


def test_iscsi_logout_reports_a_record_it_could_not_delete(iscsiadm):
    path, d = iscsiadm
    (d / "locked").touch()
    out = run("iscsi_logout", iscsiadm=path, target_iqn=IQN, portal=PORTAL, sid=3)
    assert (
        out["logged_out"]
        and not out["record_deleted"]
        and out["delete_error"] == "7: iscsiadm: could not remove record"
    )


def test_iscsi_ops_refuse_bad_arguments_before_running_anything(iscsiadm):
    path, d = iscsiadm
    assert "portal must be one word" in refused("iscsi_logout", iscsiadm=path, target_iqn=IQN, portal="-oX", sid=1)
    assert "target_iqn must be one word" in refused("iscsi_node", iscsiadm=path, target_iqn="a b", portal=PORTAL)
    assert "sid must be an integer" in refused("iscsi_logout", iscsiadm=path, target_iqn=IQN, portal=PORTAL, sid="1")
    assert "refusing to set node.session.auth.password" in refused(
        "iscsi_login",
        iscsiadm=path,
        target_iqn=IQN,
        portal=PORTAL,
        create_record=True,
        settings={"node.session.auth.password": "x"},
    )
    assert argv_log(d) == []


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """sysfs and /proc stand-ins: session 3 to IQN with its LUN as sdc (partition sdc1)."""
    sys_root, proc = tmp_path / "sys", tmp_path / "proc"
    sysfs.iscsi_session(sys_root, 3, IQN, "sdc", partitions={"sdc1": ()})
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "mounts").write_text("/dev/vda1 / ext4 rw 0 0\n")
    monkeypatch.setattr(agent, "SYS", str(sys_root))
    monkeypatch.setattr(agent, "PROC", str(proc))
    return sys_root, proc


def test_iscsi_logout_finds_the_session_disks_in_sysfs(iscsiadm, kernel):
    path, d = iscsiadm
    out = run("iscsi_logout", iscsiadm=path, target_iqn=IQN, portal=PORTAL, sid=3, devices=[])
    assert out["disks"] == ["sdc"] and out["logged_out"]


@pytest.mark.parametrize("busy", ["holder", "partition-holder", "open", "mounted"])
def test_iscsi_logout_refuses_while_a_disk_is_in_use(iscsiadm, kernel, busy):
    path, d = iscsiadm
    sys_root, proc = kernel
    disk = sys_root / "block" / "sdc"
    if busy == "holder":
        (disk / "holders" / "dm-0").mkdir()
        expected = "/dev/sdc is held by dm-0"
    elif busy == "partition-holder":
        (disk / "sdc1" / "holders" / "dm-1").mkdir()
        expected = "/dev/sdc1 is held by dm-1"
    elif busy == "open":
        # qemu opened it through /dev/disk/by-path: the fd's link names the device node
        (proc / "4242" / "fd").mkdir(parents=True)
        (proc / "4242" / "fd" / "17").symlink_to("/dev/sdc")
        (proc / "4242" / "comm").write_text("qemu-kvm\n")
        expected = "/dev/sdc is open in process 4242 (qemu-kvm)"
    else:
        (proc / "self" / "mounts").write_text("/dev/sdc1 /mnt/data ext4 rw 0 0\n")
        expected = "/dev/sdc1 is mounted on /mnt/data"
    err = refused("iscsi_logout", iscsiadm=path, target_iqn=IQN, portal=PORTAL, sid=3, devices=["sdc"])
    assert err.startswith(f"refusing to log out of {IQN} at {PORTAL}: ") and expected in err
    assert argv_log(d) == []


def test_iscsi_logout_refuses_a_session_id_now_used_by_another_target(iscsiadm, kernel):
    path, d = iscsiadm
    err = refused("iscsi_logout", iscsiadm=path, target_iqn=IQN + "-other", portal=PORTAL, sid=3)
    assert f"session 3 is now a session to {IQN}" in err and argv_log(d) == []


def test_iscsi_logout_ignores_a_seen_disk_name_now_outside_the_session(iscsiadm, kernel):
    path, d = iscsiadm
    sys_root, _ = kernel
    (sys_root / "devices" / "pci0000:00" / "block" / "sdd" / "holders" / "dm-9").mkdir(parents=True)
    (sys_root / "block" / "sdd").symlink_to(sys_root / "devices" / "pci0000:00" / "block" / "sdd")
    out = run("iscsi_logout", iscsiadm=path, target_iqn=IQN, portal=PORTAL, sid=3, devices=["sdd"])
    assert out["disks"] == ["sdc"] and out["logged_out"]


# --- iscsiadm run through a command prefix (Kolla: `docker exec iscsid iscsiadm`) ----------------


@pytest.fixture
def container_exec(tmp_path, iscsiadm):
    """A `docker exec`-like wrapper: `exec.sh CONTAINER COMMAND...` records its argv, checks
    the container's name and runs the command, passing its exit status and output on."""
    path, d = iscsiadm
    wrapper = tmp_path / "bin dir" / "exec.sh"  # a space: the command is split as a shell would
    wrapper.parent.mkdir()
    wrapper.write_text(
        f"""#!/bin/sh
echo "$*" >> {shlex.quote(str(d / "exec-argv"))}
[ "$1" = iscsid ] || {{ echo "Error: No such container: $1" >&2; exit 1; }}
shift
exec "$@"
"""
    )
    wrapper.chmod(0o755)
    return f"{shlex.quote(str(wrapper))} iscsid {shlex.quote(path)}", d


def test_iscsiadm_through_a_command_prefix(container_exec):
    command, d = container_exec
    ch = HostChannel("hv1", "local", python=PY, timeout=30)
    node = ch.call("iscsi_node", iscsiadm=command, target_iqn=IQN, portal=PORTAL)["node"]
    assert node["rc"] == 0 and "node.startup = automatic" in node["out"]
    out = ch.call("iscsi_logout", iscsiadm=command, target_iqn=IQN, portal=PORTAL, sid=3, devices=[])
    assert out["logged_out"] and out["record_deleted"]
    # the prefix ran each time, and iscsiadm got its own arguments unchanged
    assert argv_log(d) == [NODE, f"{NODE} --logout", f"{NODE} -o delete"]
    assert (d / "exec-argv").read_text().splitlines() == [f"iscsid {d / 'iscsiadm'} {a}" for a in argv_log(d)]


def test_iscsi_listing_through_a_prefix_passes_the_exit_status_on(container_exec):
    command, d = container_exec
    (d / "session").unlink()
    reply = run("iscsi", iscsiadm=command.replace(" iscsid ", " no-such-container "))
    assert reply["installed"] and reply["session"]["rc"] == 1
    assert "No such container: no-such-container" in reply["session"]["err"]


def test_an_unbalanced_quote_in_the_command_is_refused():
    err = refused("iscsi", iscsiadm="docker exec 'iscsid iscsiadm")
    assert err == 'iscsiadm command "docker exec \'iscsid iscsiadm": No closing quotation'


def test_no_iscsiadm_on_a_host_whose_kernel_has_sessions_is_an_error(tmp_path, monkeypatch):
    # Kolla: iscsiadm lives only in the iscsid container.  "Not installed, so no session"
    # would be false there: the host's sessions are unknown, never none.
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(agent, "ISCSIADM_PLACES", ())
    monkeypatch.setattr(agent, "SYS", str(tmp_path / "sys"))
    assert run("iscsi") == {"installed": False}  # no iscsiadm, no session: an RBD-only host
    sysfs.iscsi_session(tmp_path / "sys", 3, IQN, "sdc")
    err = refused("iscsi")
    assert "the kernel has 1 iSCSI session(s)" in err and "docker exec iscsid iscsiadm" in err


def python36() -> str | None:
    """A Python 3.6, as old hypervisors have: python3.6 on PATH, or one of pyenv's."""
    candidates = [shutil.which("python3.6")]
    if shutil.which("pyenv"):
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
        candidates += sorted(glob.glob(f"{root}/versions/3.6*/bin/python3.6")) if root else []
    check = "import sys; sys.exit(sys.version_info[:2] != (3, 6))"
    for c in candidates:
        if c and subprocess.run([c, "-c", check], capture_output=True).returncode == 0:
            return c
    return None


def test_the_agent_runs_on_python36_with_a_prefix(container_exec):
    py36 = python36()
    if py36 is None:
        pytest.skip("no Python 3.6 here (python3.6 on PATH, or pyenv's)")
    command, d = container_exec
    ch = HostChannel("hv1", "local", python=shlex.quote(py36), timeout=30)
    assert ch.call("ping")["python"].startswith("3.6.")
    assert ch.call("iscsi_node", iscsiadm=command, target_iqn=IQN, portal=PORTAL)["node"]["rc"] == 0
