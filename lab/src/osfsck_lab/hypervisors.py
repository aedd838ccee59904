"""Simulated compute hosts: one unprivileged session-mode libvirtd per host.

The libvirt test driver keeps its state per connection (research/test-components §1), so a
"check -> repair -> check" sequence run by separate processes needs a daemon that outlives
them. A session-mode libvirtd (the per-user daemon, no root, no systemd) keeps its domain
definitions in XDG folders under the host's `base_dir`, so they also survive a restart.

When we are root, the daemon runs as an unprivileged user (`osfsck-lab` by default): as root
libvirtd would run in system mode and write to /etc/libvirt, /run/libvirt and /var/lib/libvirt.
Root can still connect to the session daemon's socket.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from osfsck_lab import processes

DEFAULT_USER = "osfsck-lab"
NOVA_NS_11 = "http://openstack.org/xmlns/libvirt/nova/1.1"

# sun_path is 108 bytes including the trailing NUL (unix(7)).
_SOCKET_MAX = 107
# The longest socket libvirt binds below XDG_CONFIG_HOME: each running guest's QEMU monitor,
# <cfg>/libvirt/qemu/lib/domain-<id>-<name cut to 20 chars>/monitor.sock (libvirt 9). With a
# long base_dir (pytest's tmp_path) a guest cannot start: "UNIX socket path ... too long".
_MONITOR_TAIL = "/libvirt/qemu/lib/domain-99999-" + "n" * 20 + "/monitor.sock"
_SOCKET_TAIL = "/libvirt/libvirt-sock"
_START_TIMEOUT = 10.0
# written before the host's libvirtd starts: `lab stop` finds every host a build started
STATE_FILE = "lab-host.json"


class LabError(Exception):
    """The lab could not do what was asked: one line an operator can act on."""


@dataclass(frozen=True)
class LabHost:
    name: str
    base_dir: Path
    uri: str
    pidfile: Path
    user: str | None = None  # the account libvirtd runs as when started by root


# -- paths ------------------------------------------------------------------------------------


def _layout(base: Path) -> tuple[Path, Path, Path | None]:
    """(XDG_CONFIG_HOME, XDG_RUNTIME_DIR, short dir or None) for a host's base_dir.

    The daemon's own files stay in base_dir. When base_dir is too long for the sockets
    libvirt binds, both folders are reached through a short private folder in the temp dir:
    `run` really lives there, `cfg` is a symlink back to base_dir/cfg (bind() accepts a
    path through a symlink; only the string's length is limited).
    """
    cfg, run = base / "cfg", base / "run"
    if _fits(cfg, _MONITOR_TAIL) and _fits(run, _SOCKET_TAIL):
        return cfg, run, None
    digest = hashlib.sha256(os.fsencode(base)).hexdigest()[:12]
    short = Path(tempfile.gettempdir()) / f"osfsck-lab-{digest}"
    if not _fits(short / "cfg", _MONITOR_TAIL):
        raise LabError(
            f"temporary folder {tempfile.gettempdir()} is too long for libvirt's "
            "unix sockets; set TMPDIR to a shorter folder"
        )
    return short / "cfg", short / "run", short


def _fits(folder: Path, tail: str) -> bool:
    return len(os.fsencode(folder)) + len(tail) <= _SOCKET_MAX


def _uri(run: Path) -> str:
    return f"qemu+unix:///session?socket={run}{_SOCKET_TAIL}"


def _find(program: str) -> str | None:
    # sbin is often missing from a non-root PATH
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin:/usr/local/sbin"
    return shutil.which(program, path=path)


# -- start ------------------------------------------------------------------------------------


def start_host(base_dir: Path, run_as: str | None = None) -> LabHost:
    """Start (or find already running) the libvirtd of the host whose folder is base_dir."""
    base = Path(base_dir).resolve()
    libvirtd = _find("libvirtd")
    if libvirtd is None:
        raise LabError(
            "libvirtd not found: install it with: apt-get install "
            "--no-install-recommends libvirt-daemon qemu-system-x86"
        )
    user, uid, gid = _daemon_user(run_as)
    runuser = _find("runuser")
    if user is not None and runuser is None:
        raise LabError(f"runuser not found (util-linux): needed to run libvirtd as {user}")
    cfg, run, short = _layout(base)
    pidfile = base / "libvirtd.pid"
    host = LabHost(name=base.name, base_dir=base, uri=_uri(run), pidfile=pidfile, user=user)
    if is_running(pidfile):
        return host

    for d in (base, base / "cfg" / "libvirt", base / "cache", base / "data"):
        d.mkdir(parents=True, exist_ok=True)
    if short is not None:
        _private_dir(short, uid)
        link = short / "cfg"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(base / "cfg")
    _private_dir(run, uid)
    log = base / "libvirtd.log"
    _write_config(base / "cfg" / "libvirt", log)
    log.touch()
    if uid is not None:
        # base_dir itself but not what else the lab keeps in it (instance folders...)
        os.chown(base, uid, gid)
        _chown_tree(
            [base / "cfg", base / "cache", base / "data", run, log, *([short, short / "cfg"] if short else [])],
            uid,
            gid,
        )
        _check_reachable(runuser, user, base)
    socket = run / "libvirt" / "libvirt-sock"
    if socket.exists() or socket.is_symlink():
        socket.unlink()  # left by a killed daemon: must not pass for the new one's
    (base / STATE_FILE).write_text(
        json.dumps(
            {"name": host.name, "uri": host.uri, "run": str(run), "short": str(short) if short else None, "user": user}
        )
    )

    env = {
        "HOME": str(base),
        "XDG_RUNTIME_DIR": str(run),
        "XDG_CONFIG_HOME": str(cfg),
        "XDG_CACHE_HOME": str(base / "cache"),
        "XDG_DATA_HOME": str(base / "data"),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LC_ALL": "C",
        **processes.marker_env(base),
    }
    # --daemon: libvirtd forks, and the first process exits only once the daemon is set up
    # (its exit status says whether it was), so nothing of ours is left waiting on it.
    argv = [libvirtd, "--daemon", "--pid-file", str(pidfile)]
    if user is not None:
        # runuser resets HOME; `env` sets the environment after the switch
        argv = [runuser, "-u", user, "--", "env", *(f"{k}={v}" for k, v in env.items()), *argv]
    with open(log, "ab") as out:
        try:
            proc = subprocess.run(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
                timeout=_START_TIMEOUT,
                cwd=base,
            )
        except subprocess.TimeoutExpired:
            raise LabError(
                f"libvirtd for {host.name} did not finish starting within {_START_TIMEOUT:g} s: {_last_line(log)}"
            ) from None
    if proc.returncode != 0:
        raise LabError(f"libvirtd for {host.name} failed to start (exit status {proc.returncode}): {_last_line(log)}")
    deadline = time.monotonic() + _START_TIMEOUT
    while not socket.exists():
        if time.monotonic() > deadline:
            raise LabError(
                f"libvirtd for {host.name} did not create {socket} within {_START_TIMEOUT:g} s: {_last_line(log)}"
            )
        time.sleep(0.02)
    return host


def _daemon_user(run_as: str | None) -> tuple[str | None, int | None, int | None]:
    """(user, uid, gid) to run libvirtd as, or Nones to run it as ourselves."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        if run_as not in (None, me):
            raise LabError(f"only root can run libvirtd as {run_as}; we are {me}")
        return None, None, None
    user = run_as or DEFAULT_USER
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise LabError(
            f"user {user} does not exist (libvirtd must not run as root here): "
            f"create it with: useradd -r -M -s /usr/sbin/nologin {user}"
        ) from None
    if pw.pw_uid == 0:
        raise LabError(f"user {user} is root: libvirtd would run in system mode")
    return user, pw.pw_uid, pw.pw_gid


def _private_dir(path: Path, uid: int | None) -> None:
    """mkdir 0700, refusing anything already there that is not our own plain folder
    (the short folder is at a predictable name in a world-writable temp dir)."""
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        st = path.lstat()
        owners = {os.geteuid()} | ({uid} if uid is not None else set())
        if path.is_symlink() or not path.is_dir() or st.st_uid not in owners:
            raise LabError(f"{path} exists and is not a folder of ours; remove it") from None
    os.chmod(path, 0o700)


def _write_config(libvirt_cfg: Path, log: Path) -> None:
    # Warnings and errors to our log file (as a daemon, libvirtd's stderr is /dev/null).
    (libvirt_cfg / "libvirtd.conf").write_text(f'log_outputs = "3:file:{log}"\n')
    # Guest consoles to files rather than through virtlogd, which libvirtd would spawn and
    # which would outlive it (it exits on its own only after an idle timeout).
    (libvirt_cfg / "qemu.conf").write_text('stdio_handler = "file"\n')


def _chown_tree(paths, uid: int, gid: int) -> None:
    for p in paths:
        os.chown(p, uid, gid, follow_symlinks=False)
        if p.is_dir() and not p.is_symlink():
            for root, dirs, files in os.walk(p):
                for n in dirs + files:
                    os.chown(os.path.join(root, n), uid, gid, follow_symlinks=False)


def _check_reachable(runuser: str, user: str, base: Path) -> None:
    # e.g. pytest's tmp_path lives under /tmp/pytest-of-root, which is 0700
    probe = subprocess.run(
        [runuser, "-u", user, "--", "test", "-w", str(base)], stdin=subprocess.DEVNULL, capture_output=True
    )
    if probe.returncode != 0:
        raise LabError(
            f"user {user} cannot write {base}: a parent folder is closed to it "
            "(chmod o+x the parents, or put the lab under a folder such as /var/tmp)"
        )


def _last_line(log: Path) -> str:
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "(no log)"
    return lines[-1] if lines else "(empty log)"


# -- status and stop --------------------------------------------------------------------------


def is_running(pidfile: Path) -> bool:
    """Whether the libvirtd that wrote `pidfile` is alive (not just some process with its PID)."""
    return _daemon(Path(pidfile).resolve()) is not None


def _daemon(pidfile: Path) -> processes.Proc | None:
    return processes.identify(processes.read_pid(pidfile), "libvirtd", str(pidfile))


def stop_host(host_or_pidfile: LabHost | Path | str) -> None:
    """Destroy the host's running guests, stop its libvirtd, and leave no process behind:
    also a libvirtd whose PID was never written or was lost, and guests that outlived
    their daemon.  Safe to call on a host that is already stopped.  LabError, one line
    each, for what would not end."""
    pidfile = (host_or_pidfile.pidfile if isinstance(host_or_pidfile, LabHost) else Path(host_or_pidfile)).resolve()
    base = pidfile.parent
    state = _read_state(base)
    daemon = _daemon(pidfile)
    if daemon is not None:
        _destroy_guests(state["uri"])
    # libvirt starts each guest with an environment of its own (no lab marker): its QEMU is
    # found by the daemon's configuration folder, which its arguments name (the guest's
    # master key lives there)
    cfg = f"{state['short']}/cfg" if state.get("short") else str(base / "cfg")
    processes.stopped(([daemon] if daemon else []) + processes.marked(base) + processes.find("qemu-system", cfg))
    pidfile.unlink(missing_ok=True)
    if state.get("short"):
        # sockets and runtime state only; `cfg` inside is a symlink, which rmtree unlinks
        shutil.rmtree(state["short"], ignore_errors=True)


def _read_state(base: Path) -> dict:
    try:
        return json.loads((base / STATE_FILE).read_text())
    except (OSError, ValueError):
        cfg, run, short = _layout(base)  # started by an older lab, or never started
        return {"uri": _uri(run), "run": str(run), "short": str(short) if short else None}


def _destroy_guests(uri: str) -> None:
    """Stop running guests through the daemon (a hung daemon is given up on after 10 s)."""
    try:
        import libvirt
    except ImportError:
        return  # the PID sweep in stop_host still stops the guests
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)

    def destroy(dom):
        try:
            dom.destroy()
        except libvirt.libvirtError:
            pass  # already gone; the PID sweep handles one that would not go

    def destroy_all():
        try:
            conn = libvirt.open(uri)
        except libvirt.libvirtError:
            return
        try:
            # one thread per guest: libvirt takes 1-2 s per destroy here, even though QEMU
            # exits within milliseconds of its SIGTERM
            threads = [
                threading.Thread(target=destroy, args=(d,), daemon=True)
                for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(10.0)
        except libvirt.libvirtError:
            pass
        finally:
            try:
                conn.close()
            except libvirt.libvirtError:
                pass

    t = threading.Thread(target=destroy_all, daemon=True, name="osfsck-lab-destroy")
    t.start()
    t.join(15.0)


# -- domains ----------------------------------------------------------------------------------


def domain_xml(
    name: str,
    uuid: str,
    *,
    nova: dict | None,
    vcpus: int = 1,
    memory_mb: int = 32,
    disks: list[str] | tuple = (),
    volumes: list[tuple[str, str, str]] | tuple = (),
) -> str:
    """A tiny TCG guest that really starts here (no KVM, no graphics, no NIC), with Nova's
    1.1 metadata block when `nova` is given.

    `nova` keys (all optional): name, user_id, user_name, project_id, project_name, flavor,
    root_type ("image" | "volume") and root_uuid (no <nova:root> without it), created
    ("YYYY-mm-dd HH:MM:SS"), package.
    Each disk is a raw file (a small sparse file will do: SeaBIOS finds nothing to boot and
    the guest idles, which is all a lab needs).  `volumes` are (file, serial, target dev):
    Cinder volumes as Nova attaches them, with the volume id as <serial>.
    """
    parts = ["<domain type='qemu'>", f"  <name>{escape(name)}</name>", f"  <uuid>{escape(uuid)}</uuid>"]
    if nova is not None:
        parts.append(_nova_metadata(nova, vcpus, memory_mb))
    parts += [
        f"  <memory unit='MiB'>{int(memory_mb)}</memory>",
        f"  <vcpu>{int(vcpus)}</vcpu>",
        "  <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>",
        "  <devices>",
    ]
    parts += [_file_disk(path, f"vd{chr(ord('a') + i)}") for i, path in enumerate(disks)]
    parts += [_file_disk(path, dev, serial) for path, serial, dev in volumes]
    # no balloon: one device less for TCG to emulate
    parts += ["    <memballoon model='none'/>", "  </devices>", "</domain>", ""]
    return "\n".join(parts)


def _file_disk(path, dev: str, serial: str | None = None) -> str:
    serial_xml = f"<serial>{escape(serial)}</serial>" if serial else ""
    return (
        "    <disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        f"<source file={quoteattr(str(path))}/><target dev={quoteattr(dev)} bus='virtio'/>{serial_xml}</disk>"
    )


def _nova_metadata(nova: dict, vcpus: int, memory_mb: int) -> str:
    def q(key, default=""):
        return quoteattr(str(nova.get(key, default)))

    def t(key, default=""):
        return escape(str(nova.get(key, default)))

    return "\n".join(
        [
            "  <metadata>",
            f'    <nova:instance xmlns:nova="{NOVA_NS_11}">',
            f"      <nova:package version={q('package', '31.0.0')}/>",
            f"      <nova:name>{t('name')}</nova:name>",
            f"      <nova:creationTime>{t('created', '2026-01-01 00:00:00')}</nova:creationTime>",
            f"      <nova:flavor name={q('flavor', 'm1.nano')}>",
            f"        <nova:memory>{int(memory_mb)}</nova:memory>",
            "        <nova:disk>1</nova:disk>",
            "        <nova:swap>0</nova:swap>",
            "        <nova:ephemeral>0</nova:ephemeral>",
            f"        <nova:vcpus>{int(vcpus)}</nova:vcpus>",
            "      </nova:flavor>",
            "      <nova:owner>",
            f"        <nova:user uuid={q('user_id')}>{t('user_name', 'admin')}</nova:user>",
            f"        <nova:project uuid={q('project_id')}>{t('project_name', 'demo')}</nova:project>",
            "      </nova:owner>",
            *(
                [f"      <nova:root type={q('root_type', 'image')} uuid={q('root_uuid')}/>"]
                if nova.get("root_uuid")
                else []
            ),
            "    </nova:instance>",
            "  </metadata>",
        ]
    )


def define(uri: str, xml: str, start: bool = False) -> str:
    """Define (and optionally start) a domain through a new connection; returns its UUID."""
    try:
        import libvirt
    except ImportError:
        raise LabError("libvirt-python is not installed (pip install 'osfsck[libvirt]')") from None
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    try:
        conn = libvirt.open(uri)
        try:
            dom = conn.defineXML(xml)
            if start:
                dom.create()
            return dom.UUIDString()
        finally:
            conn.close()
    except libvirt.libvirtError as e:
        msg = " ".join(str(e).split())
        raise LabError(f"cannot {'define and start' if start else 'define'} domain at {uri}: {msg}") from None


def hand_over(host: LabHost, *paths: Path) -> None:
    """Give files (guest disks) to the daemon's user, so its QEMU can open them."""
    if host.user is None or os.geteuid() != 0:
        return
    pw = pwd.getpwnam(host.user)
    for p in paths:
        os.chown(p, pw.pw_uid, pw.pw_gid)
