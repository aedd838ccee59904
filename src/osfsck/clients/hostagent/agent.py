"""osfsck host agent: looks at (and quarantines) Nova instance folders on one hypervisor,
returns what `iscsiadm` says of its iSCSI sessions, and logs a leaked session out (and
back in, for undo).

This file is piped to ``python3 -`` on the hypervisor (over SSH, or locally), so nothing has to
be installed there. Hence: standard library only, Python 3.6+ syntax (old hypervisors ship
3.6), no imports from the osfsck package.

Protocol: ``python3 - <base64 of a JSON request>``, script on stdin. The request is
``{"op": ..., "args": {...}}``; the op ``batch`` carries several read ops and answers each
(one agent start per host per run, whatever the run asks there). Exactly one JSON object is printed on one line of stdout:
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "<one line>"}``, and the exit status
is 0 in both cases; anything else means the channel failed, not the operation.

Nothing here deletes an instance folder: ``quarantine`` renames it into a quarantine folder on
the same filesystem, ``restore`` renames it back, and only ``purge`` deletes, and only entries
that have sat in quarantine longer than the retention the caller gives.
"""

# Only what every call needs is imported here: the agent starts once per host per run, and
# each module costs its import there (calendar, shutil, socket and glob cost ~8 ms together,
# a quarter of a call).  The rest is imported where it is used.
import base64
import json
import os
import re
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


def _hostname():
    return os.uname()[1]  # what socket.gethostname() answers on Linux, without importing socket


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
        import calendar
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
        "hostname": _hostname(), "instances_path": base, "exists": False,
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
                import shutil
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
# iscsiadm's exit statuses (open-iscsi include/iscsi_err.h)
ISCSI_SESSION_EXISTS = 15   # ISCSI_ERR_SESS_EXISTS: a login to a target already logged in
ISCSI_NO_OBJECTS = 21       # "No active sessions." / "No records found": an answer, not an error
# The node settings undo may write back: the one that decides whether the record logs in
# at boot.  The CHAP secret is not among them: `iscsiadm -m node` prints it masked.
RESTORABLE_SETTINGS = frozenset(["node.startup"])
# Where the kernel shows sessions, disks and processes (tests point these elsewhere).
SYS = "/sys"
PROC = "/proc"
DISK_RE = re.compile(r"^[a-z][a-z0-9]*$")     # a kernel disk name (sdc, sdaa), never a path


def _run(argv, timeout):
    import subprocess   # here: most ops never run a command
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                       universal_newlines=True)
    return {"rc": p.returncode, "out": p.stdout, "err": p.stderr}


def _find_iscsiadm(args):
    """iscsiadm's command line, as a list: the one configured (a path, or a command that
    runs iscsiadm elsewhere, e.g. `docker exec iscsid iscsiadm` where open-iscsi lives in a
    container; split as a shell would, run without one), else iscsiadm on PATH or in the
    usual places; None when there is none."""
    given = args.get("iscsiadm")
    if given:
        import shlex
        try:
            words = shlex.split(given)
        except ValueError as e:
            raise AgentError("iscsiadm command %r: %s" % (given, e))
        if words:
            return words
    import shutil
    found = shutil.which("iscsiadm") or next((p for p in ISCSIADM_PLACES if os.access(p, os.X_OK)), None)
    return [found] if found else None


def op_iscsi(args):
    """The raw output of `iscsiadm -m session -P 3` and `iscsiadm -m node`; osfsck parses
    it (one parser, tested centrally, whatever open-iscsi version the host runs)."""
    iscsiadm = _find_iscsiadm(args)
    if not iscsiadm:
        # No iscsiadm here means no session only if the kernel has none: on a Kolla host
        # open-iscsi lives in the iscsid container, and the sessions are the kernel's.
        sessions = [n for n in _listdir(os.path.join(SYS, "class", "iscsi_session")) if n.startswith("session")]
        if sessions:
            raise AgentError("iscsiadm is not found but the kernel has %d iSCSI session(s) (%s): if iscsiadm "
                             "runs in a container, set [hypervisors] iscsiadm to its command, e.g. "
                             "\"docker exec iscsid iscsiadm\"" % (len(sessions), ", ".join(sessions[:3])))
        return {"installed": False}
    timeout = float(args.get("timeout") or 30)
    return {"installed": True,
            "session": _run(iscsiadm + ["-m", "session", "-P", "3"], timeout),
            "node": _run(iscsiadm + ["-m", "node"], timeout)}


class _Node(object):
    """One node record's iscsiadm command line (`-m node -T IQN -p PORTAL`) from a request."""

    def __init__(self, args):
        self.iscsiadm = _find_iscsiadm(args)
        if not self.iscsiadm:
            raise AgentError("iscsiadm is not installed")
        self.iqn, self.portal = args.get("target_iqn"), args.get("portal")
        for name, value in (("target_iqn", self.iqn), ("portal", self.portal)):
            # argv, not a shell; but a leading "-" would still be read as an option
            if not isinstance(value, str) or not value or value.startswith("-") or len(value.split()) != 1:
                raise AgentError("%s must be one word not starting with '-', got %r" % (name, value))
        self.timeout = float(args.get("timeout") or 30)

    def run(self, *extra):
        return _run(self.iscsiadm + ["-m", "node", "-T", self.iqn, "-p", self.portal] + list(extra), self.timeout)

    def must(self, *extra):
        r = self.run(*extra)
        if r["rc"] != 0:
            raise AgentError("iscsiadm -m node -T %s -p %s %s exited with %d: %s"
                             % (self.iqn, self.portal, " ".join(extra), r["rc"], _last(r["err"]) or _last(r["out"])))
        return r


def _last(text):
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def op_iscsi_node(args):
    """The raw node record (`iscsiadm -m node -T IQN -p PORTAL`), for a before-image; exit
    21 means there is no record."""
    node = _Node(args)
    return {"node": node.run()}


def op_iscsi_logout(args):
    """Log a session out and delete its node record, as os-brick's disconnect does, after
    checking on this host that none of the session's disks is in use.

    Exit 21 from --logout means there is no such session any more: that is a refusal, not
    success, and the record is then kept.  The caller's view is stale, and deleting the
    record alone would make its undo (a login) create a session that was never there.
    """
    node = _Node(args)
    sid = args.get("sid")
    if sid is None and args.get("keep_record"):
        sid = _sid_of(node)   # undoing a login: the session osfsck made has a sid only the host knows
    if not isinstance(sid, int) or isinstance(sid, bool):
        raise AgentError("sid must be an integer")
    disks = _session_disks(sid, node.iqn, args.get("devices") or [])
    busy = _busy(disks)
    if busy:
        raise AgentError("refusing to log out of %s at %s: %s" % (node.iqn, node.portal, "; ".join(busy)))
    out = node.run("--logout")
    if out["rc"] == ISCSI_NO_OBJECTS:
        raise AgentError("no session to %s at %s any more: nothing logged out, the node record is kept"
                         % (node.iqn, node.portal))
    if out["rc"] != 0:
        node.must("--logout")   # raises with iscsiadm's message
    if args.get("keep_record"):   # the undo of a login osfsck made: the record was there before
        return {"logged_out": True, "record_deleted": False, "delete_error": None, "disks": disks}
    # Without the record the session does not come back at the next boot (node.startup).
    gone = node.run("-o", "delete")
    error = None if gone["rc"] in (0, ISCSI_NO_OBJECTS) else "%d: %s" % (gone["rc"], _last(gone["err"]))
    return {"logged_out": True, "record_deleted": gone["rc"] == 0, "delete_error": error, "disks": disks}


# `iscsiadm -m session`: "tcp: [3] 192.0.2.10:3260,1 iqn.2010-10.org.openstack:volume-... (non-flash)"
_SESSION_LINE = re.compile(r"^\S+: \[(\d+)\] (\S+),\d+ (\S+)")


def _sid_of(node):
    out = _run(node.iscsiadm + ["-m", "session"], node.timeout)
    for line in out["out"].splitlines() if out["rc"] == 0 else ():
        m = _SESSION_LINE.match(line.strip())
        if m and m.group(3) == node.iqn and m.group(2) == node.portal:
            return int(m.group(1))
    raise AgentError("no session to %s at %s any more" % (node.iqn, node.portal))


def op_iscsi_login(args):
    """Undo of iscsi_logout: the node record again (with the settings it had) and a login."""
    node = _Node(args)
    settings = args.get("settings") or {}
    for name, value in settings.items():
        if name not in RESTORABLE_SETTINGS or not isinstance(value, str) or not value or value.startswith("-"):
            raise AgentError("refusing to set %s=%r on a node record" % (name, value))
    if args.get("create_record"):
        node.must("-o", "new")
    for name, value in sorted(settings.items()):
        node.must("-o", "update", "-n", name, "-v", value)
    login = node.run("--login")
    if login["rc"] not in (0, ISCSI_SESSION_EXISTS):
        node.must("--login")
    return {"logged_in": True, "record_created": bool(args.get("create_record"))}


def _session_disks(sid, iqn, claimed):
    """The SCSI disks of session `sid`, as the kernel shows them now: those under its
    sysfs node, and those of `claimed` (the disks osfsck saw) that sysfs still places
    under this session; a disk name freed by the session may name another disk now."""
    base = os.path.join(SYS, "class", "iscsi_session", "session%d" % sid)
    found = set()
    if os.path.isdir(base):
        name = _read_text(os.path.join(base, "targetname"))
        if name is not None and name != iqn:
            raise AgentError("session %d is now a session to %s, not %s: check again" % (sid, name, iqn))
        import glob
        found.update(os.path.basename(p) for p in glob.glob(os.path.join(base, "device", "target*", "*", "block", "*")))
    marker = "/session%d/" % sid
    for disk in claimed:
        if isinstance(disk, str) and DISK_RE.match(disk) and \
                marker in os.path.realpath(os.path.join(SYS, "block", disk)):
            found.add(disk)
    return sorted(found)


def _read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _busy(disks):
    """Why the disks (or their partitions) are in use, one phrase each; empty when free.

    Three ways a disk is used: something stacked on it (a multipath map, LVM, dm-crypt:
    sysfs `holders`), a mounted filesystem, or a process holding it open, qemu above all.
    An fd's link names the device node itself even when it was opened through a
    /dev/disk/by-path link (Nova gives qemu those), so the by-path case is covered; a
    guest on a multipath map holds /dev/dm-N, which is a holder of the disk.
    """
    nodes, reasons = set(), []
    for disk in disks:
        base = os.path.join(SYS, "block", disk)
        for name, folder in [(disk, base)] + [(p, os.path.join(base, p)) for p in _partitions(base, disk)]:
            nodes.add("/dev/" + name)
            held = _listdir(os.path.join(folder, "holders"))
            if held:
                reasons.append("/dev/%s is held by %s" % (name, ", ".join(held)))
    if nodes:
        reasons += _mounted(nodes) + _opened(nodes)
    return reasons


def _partitions(base, disk):
    return [p for p in _listdir(base) if p.startswith(disk) and os.path.exists(os.path.join(base, p, "partition"))]


def _mounted(nodes):
    text = _read_text(os.path.join(PROC, "self", "mounts")) or ""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].startswith("/"):
            source = os.path.realpath(_unescape_mount_field(fields[0]))
            if source in nodes:
                out.append("%s is mounted on %s" % (source, _unescape_mount_field(fields[1])))
    return out


def _opened(nodes):
    out, unreadable = [], 0
    for pid in _listdir(PROC):
        if not pid.isdigit():
            continue
        fd_dir = os.path.join(PROC, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except FileNotFoundError:
            continue   # the process ended meanwhile
        except PermissionError:
            unreadable += 1
            continue
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target in nodes:
                comm = _read_text(os.path.join(PROC, pid, "comm")) or "?"
                out.append("%s is open in process %s (%s)" % (target, pid, comm))
                break
    if unreadable:
        # qemu runs as another user: without root its open files cannot be seen, so
        # "not open" could not be told from "not visible"
        out.append("the open files of %d process(es) cannot be read (run the agent as root)" % unreadable)
    return out


def op_ping(args):
    return {"hostname": _hostname(), "python": sys.version}


# What a batch may hold: the ops that only read.  A batch answers every question a run asks
# of a host in one agent start; a change (quarantine, logout, ...) stays a call of its own,
# journalled and checked one at a time.
READ_OPS = frozenset(["collect", "iscsi", "iscsi_node", "ping"])


def op_batch(args):
    """Several read ops in one run of the agent: ``{"ops": {op: args, ...}}`` ->
    ``{op: its reply envelope}``, each as ``handle`` gives it, so that one op failing fails
    only its own envelope and the others still answer."""
    ops = args.get("ops")
    if not isinstance(ops, dict) or not ops:
        raise AgentError("ops must be a non-empty JSON object of op -> args")
    out = {}
    for op in sorted(ops):
        if op not in READ_OPS:
            out[op] = {"ok": False, "error": "op %r cannot be batched: a batch only reads" % (op,)}
        else:
            out[op] = handle({"op": op, "args": ops[op]})
    return out


OPS = {
    "collect": op_collect, "quarantine": op_quarantine, "restore": op_restore,
    "purge": op_purge, "ping": op_ping, "iscsi": op_iscsi, "iscsi_node": op_iscsi_node,
    "iscsi_logout": op_iscsi_logout, "iscsi_login": op_iscsi_login, "batch": op_batch,
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
