"""osfsck host agent: looks at (and quarantines) Nova instance folders on one hypervisor,
and returns what `iscsiadm` says of its iSCSI sessions.

This file is piped to ``python3 -`` on the hypervisor (over SSH, or locally), so nothing has to
be installed there. Hence: standard library only, Python 3.6+ syntax (old hypervisors ship
3.6), no imports from the osfsck package.

Protocol: ``python3 - <base64 of a JSON request>``, script on stdin. The request is
``{"op": ..., "args": {...}}``. Exactly one JSON object is printed on one line of stdout:
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "<one line>"}``, and the exit status
is 0 in both cases; anything else means the channel failed, not the operation.

Nothing here deletes an instance folder: ``quarantine`` renames it into a quarantine folder on
the same filesystem, ``restore`` renames it back, and only ``purge`` deletes, and only entries
that have sat in quarantine longer than the retention the caller gives.
"""

import base64
import calendar
import json
import os
import re
import shutil
import socket
import stat
import sys
import time

# Nova names instance folders by instance uuid; "_resize" is the source copy kept during a
# resize/cold migration and "_del" is what Nova renames a folder to while deleting it
# (nova.virt.libvirt.driver: _cleanup_resize, delete_instance_files).
INSTANCE_DIR_RE = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(_resize|_del)?$",
    re.IGNORECASE,
)

# Files whose presence says which disks Nova put in the folder (libvirt image backends).
DISK_NAMES = frozenset(["disk", "disk.local", "disk.swap", "disk.config", "disk.rescue", "disk.info"])
DISK_PREFIXES = ("disk.eph",)  # disk.eph0, disk.eph1, ...

# A dot-folder so it matches neither the instance pattern nor Nova's own folders (_base, locks).
QUARANTINE_DIR = ".osfsck-quarantine"
TS_FORMAT = "%Y%m%dT%H%M%SZ"
TS_RE = re.compile(r"^\d{8}T\d{6}Z$")

# Filesystems that several hypervisors can mount at once: folders seen there may belong to an
# instance running on another host, so checks must compare them against the whole group.
NETWORK_FSTYPES = frozenset([
    "nfs", "nfs4", "cifs", "smb3", "ceph", "glusterfs", "fuse.glusterfs", "fuse.cephfs",
    # ceph-fuse mounts appear as "fuse.ceph-fuse" in /proc/mounts.
    "fuse.ceph-fuse",
    "lustre", "gpfs", "beegfs", "ocfs2", "gfs2",
])


class AgentError(Exception):
    """A refusal or bad request: its message is shown to the operator as is."""


# ---------------------------------------------------------------------------------------------
# storage identity


def _unescape_mount_field(field):
    # /proc/mounts escapes space, tab, newline and backslash as \ooo octal (see getmntent(3)).
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _storage_identity(path, mounts_text):
    """Identity of the filesystem holding ``path``, given the text of /proc/mounts.

    "local" for a local filesystem; "<fstype>:<device>" for a network one, with the part of
    ``path`` below the mount point appended, so that a host mounting filer:/export at /srv
    (instances in /srv/nova) and one mounting filer:/export/nova directly get the same
    identity, while two hosts using different subfolders of one export do not.
    "unknown" if no mount matches: callers must then not assume the folder is private.
    """
    best = None
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        device, mountpoint, fstype = (_unescape_mount_field(f) for f in fields[:3])
        if mountpoint == "/":
            inside = path.startswith("/")
        else:
            inside = path == mountpoint or path.startswith(mountpoint.rstrip("/") + "/")
        # ">=": a later line with the same mount point is mounted over the earlier one.
        if inside and (best is None or len(mountpoint) >= len(best[1])):
            best = (device, mountpoint, fstype)
    if best is None:
        return "unknown"
    device, mountpoint, fstype = best
    if fstype not in NETWORK_FSTYPES:
        return "local"
    rest = path[len(mountpoint):].strip("/") if mountpoint != "/" else path.strip("/")
    if rest:
        device = device.rstrip("/") + "/" + rest
    return "%s:%s" % (fstype, device)


def _storage(path, mounts_path="/proc/mounts"):
    try:
        with open(mounts_path) as f:
            text = f.read()
    except OSError:
        return "unknown"  # not Linux, or /proc not mounted: do not claim "local"
    return _storage_identity(os.path.realpath(path), text)


# ---------------------------------------------------------------------------------------------
# folder scanning


def _scan(path):
    """Walk ``path`` without following symlinks; sizes count each inode once (hard links)."""
    seen = set()
    allocated = apparent = files = 0
    newest = os.lstat(path).st_mtime
    stack = [path]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    stack.append(entry.path)
                    # A sub-folder's mtime is activity in the instance folder too; counting it
                    # only makes the folder look younger, which is the safe direction for grace.
                    newest = max(newest, st.st_mtime)
                elif stat.S_ISREG(st.st_mode):
                    key = (st.st_dev, st.st_ino)
                    if key in seen:
                        continue
                    seen.add(key)
                    files += 1
                    # st_blocks is in 512-byte units whatever the filesystem block size
                    # (stat(2)); sparse qcow2/raw files are why allocated != apparent.
                    allocated += st.st_blocks * 512
                    apparent += st.st_size
                    newest = max(newest, st.st_mtime)
    return allocated, apparent, files, newest


def _is_disk_name(name):
    return name in DISK_NAMES or name.startswith(DISK_PREFIXES)


def _dir_entry(parent, name, match):
    entry = {"name": name, "uuid": match.group(1).lower(), "suffix": match.group(2) or ""}
    path = os.path.join(parent, name)
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            raise AgentError("is a symlink (not followed)")
        if not stat.S_ISDIR(st.st_mode):
            raise AgentError("not a directory")
        allocated, apparent, files, newest = _scan(path)
        disks = sorted(n for n in os.listdir(path) if _is_disk_name(n))
    except (OSError, AgentError) as e:
        # One unreadable folder must not hide all the others; the caller sees the error and
        # treats this folder as unknown.
        entry["error"] = _one_line(e)
        return entry
    entry.update({
        "bytes": allocated, "apparent_bytes": apparent, "files": files, "mtime": newest,
        "ctime": st.st_ctime, "inode": st.st_ino, "disks": disks,
    })
    return entry


def _parse_quarantine_name(name):
    """(original, epoch) for "<original>.<YYYYmmddTHHMMSSZ>", or (None, None)."""
    original, dot, ts = name.rpartition(".")
    if not dot or not original or not TS_RE.match(ts):
        return None, None
    try:
        when = calendar.timegm(time.strptime(ts, TS_FORMAT))
    except ValueError:
        return None, None
    return original, float(when)


def _entry_bytes(path):
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode):
        return _scan(path)[0]
    return st.st_blocks * 512


def _quarantine_entries(instances_path):
    qdir = os.path.join(instances_path, QUARANTINE_DIR)
    try:
        names = sorted(os.listdir(qdir))
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        original, when = _parse_quarantine_name(name)
        item = {"name": name, "original": original, "quarantined_at": when}
        try:
            item["bytes"] = _entry_bytes(os.path.join(qdir, name))
        except OSError as e:
            item["error"] = _one_line(e)
        out.append(item)
    return out


# ---------------------------------------------------------------------------------------------
# operations


def _instances_path(args):
    path = args.get("instances_path")
    if not isinstance(path, str) or not os.path.isabs(path):
        # A relative path would be resolved against the SSH login's home: surely a mistake.
        raise AgentError("instances_path must be an absolute path, got %r" % (path,))
    return path


def op_collect(args):
    base = _instances_path(args)
    result = {
        "hostname": socket.gethostname(), "instances_path": base, "exists": False,
        "storage": _storage(base), "dirs": [], "quarantine": [],
    }
    try:
        names = sorted(os.listdir(base))
    except FileNotFoundError:
        # A host without the folder has no instance folders; that is a fact, not a failure.
        return result
    result["exists"] = True
    for name in names:
        match = INSTANCE_DIR_RE.match(name)
        if match:
            result["dirs"].append(_dir_entry(base, name, match))
    result["quarantine"] = _quarantine_entries(base)
    return result


def _ensure_quarantine_dir(base):
    qdir = os.path.join(base, QUARANTINE_DIR)
    try:
        os.mkdir(qdir, 0o700)  # disk images of tenants: nobody else needs to read them
    except FileExistsError:
        pass
    st = os.lstat(qdir)
    if not stat.S_ISDIR(st.st_mode):
        # A symlink here could send the rename somewhere else on the filesystem.
        raise AgentError("%s is not a plain directory; refusing" % qdir)
    return qdir


def op_quarantine(args):
    base = _instances_path(args)
    name = args.get("name")
    inode = args.get("inode")
    if not isinstance(name, str) or not INSTANCE_DIR_RE.match(name):
        # Only Nova's instance-folder layout is ours to touch (ownership guard).
        raise AgentError("refusing to quarantine %r: not a Nova instance folder name" % (name,))
    if not isinstance(inode, int) or isinstance(inode, bool):
        raise AgentError("inode must be an integer")
    src = os.path.join(base, name)
    try:
        st = os.lstat(src)
    except FileNotFoundError:
        raise AgentError("%s does not exist" % src)
    if stat.S_ISLNK(st.st_mode):
        raise AgentError("refusing to quarantine %s: it is a symlink" % src)
    if not stat.S_ISDIR(st.st_mode):
        raise AgentError("refusing to quarantine %s: not a directory" % src)
    if st.st_ino != inode:
        # The folder was removed and re-created (e.g. the instance was rebuilt or migrated
        # back) since osfsck looked at it: the finding is about a folder that no longer exists.
        raise AgentError("refusing to quarantine %s: inode %d differs from %d seen at collection; "
                         "it changed since" % (src, st.st_ino, inode))
    qdir = _ensure_quarantine_dir(base)
    entry = "%s.%s" % (name, time.strftime(TS_FORMAT, time.gmtime()))
    dst = os.path.join(qdir, entry)
    # rename(2) silently replaces an empty directory, so the check must come first.
    if os.path.lexists(dst):
        raise AgentError("refusing to quarantine %s: %s already exists" % (src, dst))
    os.rename(src, dst)
    return {"quarantined": entry, "path": dst}


def op_restore(args):
    base = _instances_path(args)
    entry = args.get("quarantined")
    original = None
    if isinstance(entry, str) and "/" not in entry:
        original, _ = _parse_quarantine_name(entry)
    if original is None or not INSTANCE_DIR_RE.match(original):
        raise AgentError("%r is not an osfsck quarantine entry name" % (entry,))
    src = os.path.join(base, QUARANTINE_DIR, entry)
    dst = os.path.join(base, original)
    if not os.path.lexists(src):
        raise AgentError("quarantine entry %s does not exist" % src)
    if os.path.lexists(dst):
        # Nova (or an operator) made a new folder with that name since: never overwrite it.
        raise AgentError("refusing to restore %s: %s exists again" % (entry, dst))
    os.rename(src, dst)
    return {"restored": original}


def op_purge(args):
    base = _instances_path(args)
    older_than = args.get("older_than")
    if isinstance(older_than, bool) or not isinstance(older_than, (int, float)) or older_than < 0:
        raise AgentError("older_than must be a non-negative number of seconds")
    qdir = os.path.join(base, QUARANTINE_DIR)
    cutoff = time.time() - older_than
    purged, freed, errors = [], 0, []
    try:
        names = sorted(os.listdir(qdir))
    except FileNotFoundError:
        names = []
    for name in names:
        original, when = _parse_quarantine_name(name)
        # Entries whose name we did not write are left alone: we do not know their age.
        if original is None or when >= cutoff:
            continue
        path = os.path.join(qdir, name)
        try:
            size = _entry_bytes(path)
            if stat.S_ISDIR(os.lstat(path).st_mode):
                shutil.rmtree(path)
            else:
                os.unlink(path)  # rmtree refuses symlinks; a stray file or link is unlinked
        except OSError as e:
            errors.append({"name": name, "error": _one_line(e)})
            continue
        purged.append(name)
        freed += size
    return {"purged": purged, "bytes": freed, "errors": errors}


# iscsiadm lives in /sbin or /usr/sbin, which a non-login ssh command's PATH often lacks
ISCSIADM_PLACES = ("/usr/sbin/iscsiadm", "/sbin/iscsiadm", "/usr/bin/iscsiadm")
ISCSI_NO_OBJECTS = 21   # "No active sessions." / "No records found": an answer, not an error


def _run(argv, timeout):
    import subprocess   # here: most ops never run a command
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                       universal_newlines=True)
    return {"rc": p.returncode, "out": p.stdout, "err": p.stderr}


def op_iscsi(args):
    """The raw output of `iscsiadm -m session -P 3` and `iscsiadm -m node`; osfsck parses
    it (one parser, tested centrally, whatever open-iscsi version the host runs)."""
    iscsiadm = args.get("iscsiadm") or shutil.which("iscsiadm") or next(
        (p for p in ISCSIADM_PLACES if os.access(p, os.X_OK)), None)
    if not iscsiadm:
        return {"installed": False}
    timeout = float(args.get("timeout") or 30)
    return {"installed": True,
            "session": _run([iscsiadm, "-m", "session", "-P", "3"], timeout),
            "node": _run([iscsiadm, "-m", "node"], timeout)}


def op_ping(args):
    return {"hostname": socket.gethostname(), "python": sys.version}


OPS = {
    "collect": op_collect, "quarantine": op_quarantine, "restore": op_restore,
    "purge": op_purge, "ping": op_ping, "iscsi": op_iscsi,
}


def _one_line(exc):
    if isinstance(exc, AgentError):
        text = str(exc)
    else:
        text = "%s: %s" % (type(exc).__name__, exc)
    return " ".join(text.split())


def handle(request):
    """Run one request; returns the reply envelope and never raises."""
    try:
        if not isinstance(request, dict):
            raise AgentError("request must be a JSON object")
        op = request.get("op")
        if op not in OPS:
            raise AgentError("unknown op %r" % (op,))
        args = request.get("args") or {}
        if not isinstance(args, dict):
            raise AgentError("args must be a JSON object")
        return {"ok": True, "result": OPS[op](args)}
    except Exception as e:  # the reply must stay one JSON object whatever went wrong
        return {"ok": False, "error": _one_line(e)}


def main(argv):
    try:
        if len(argv) != 2:
            raise AgentError("usage: python3 - <base64 JSON request>")
        request = json.loads(base64.b64decode(argv[1], validate=True).decode("utf-8"))
    except Exception as e:
        reply = {"ok": False, "error": "bad request: " + _one_line(e)}
    else:
        reply = handle(request)
    # ensure_ascii: the host's locale may be C/ASCII; one line so the caller can skip any noise
    # that login scripts print before it.
    sys.stdout.write(json.dumps(reply, ensure_ascii=True, sort_keys=True) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
