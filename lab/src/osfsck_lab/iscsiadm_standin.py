"""A stand-in for open-iscsi's `iscsiadm` on the lab's simulated compute hosts.

A real iSCSI session needs the kernel's initiator (iscsi_tcp), iscsid and a reachable
target; the machines the lab runs on have none of these, and the lab's hosts are simulated
anyway.  So each lab host gets a state file (its sessions and node records) and a small
generated `iscsiadm` script that answers the forms osfsck and its repairs use, with the
real command's output layouts, messages and exit statuses (open-iscsi 2.1, iscsiadm.c):

    -m session -P 3     the session tree (exit 21 "No active sessions." when empty)
    -m session          "tcp: [sid] portal,tpgt iqn (non-flash)" lines
    -m node             "portal,tpgt iqn" lines (exit 21 "No records found" when empty)
    -m node -T IQN [-p PORTAL]                 print the node record(s)
    -m node -T IQN [-p PORTAL] -o new|delete   add / remove a node record
    -m node -T IQN [-p PORTAL] -o update -n KEY -v VALUE
    -m node -T IQN [-p PORTAL] --login|--logout
    -m session -r SID --logout

The two read forms osfsck runs on every host are answered by the script with `cat` of
pre-rendered files (the L lab has 8,050 hosts); every other form runs this file as a
script: `python3 -I -S iscsiadm_standin.py STATE_DIR ARGS...`.  It locks the state,
applies the change, re-renders the files (atomically: a concurrent `cat` sees the old or
the new text), and appends one JSON line per change to `iscsiadm.log` so tests can see
what a repair did.

Standard library only, and no imports from osfsck: it runs as a plain script.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import sys
import time

STATE = "state.json"
SESSIONS_TEXT = "session.txt"
NODES_TEXT = "node.txt"
SCRIPT = "iscsiadm"
LOG = "iscsiadm.log"

# iscsiadm's exit statuses (open-iscsi include/iscsi_err.h)
OK = 0
ERR_INVAL = 7  # ISCSI_ERR_INVAL: bad arguments
ERR_SESS_EXISTS = 15  # ISCSI_ERR_SESS_EXISTS
ERR_NO_OBJS_FOUND = 21  # ISCSI_ERR_NO_OBJS_FOUND

DEFAULT_PORT = 3260
VERSION = "2.1.8"


class IscsiadmError(Exception):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


# -- state ------------------------------------------------------------------------------


def new_state(host: str, initiator: str, address: str) -> dict:
    """A host with no sessions and no node records.  sda is the host's own disk, so the
    first iSCSI LUN becomes sdb."""
    return {
        "host": host,
        "initiator": initiator,
        "address": address,
        "next_sid": 1,
        "next_scsi_host": 2,
        "next_disk": 1,
        "sessions": [],
        "nodes": [],
    }


def normalise_portal(text: str) -> str:
    """ "192.0.2.10" / "192.0.2.10:3260" / "192.0.2.10:3260,1" -> "192.0.2.10:3260"
    (iscsiadm accepts all three for -p; the tpgt is dropped, the port defaults to 3260)."""
    portal = text.strip().split(",")[0]
    host, _, port = portal.rpartition(":")
    if portal.startswith("[") and portal.endswith("]") or not host or (":" in host and not host.endswith("]")):
        return f"{portal}:{DEFAULT_PORT}"  # no port given (an IPv6 address is bracketed with one)
    return f"{host}:{port}"


def disk_name(index: int) -> str:
    """The kernel's SCSI disk names: 0 -> sda, 25 -> sdz, 26 -> sdaa."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return "sd" + letters


def _matching(items: list, iqn: str | None, portal: str | None) -> list:
    return [i for i in items if (iqn is None or i["target_iqn"] == iqn) and (portal is None or i["portal"] == portal)]


def add_node(state: dict, iqn: str, portal: str, tpgt: int = 1, luns: tuple = (1,), controller: bool = False) -> dict:
    """Like `-o new`: (re)writes the record; os-brick and discovery both end here.  `luns`
    and `controller` are the lab's own: what the target exports to this host (tgt shows
    its controller as LUN 0, with no disk), so a login shows the same devices again."""
    portal = normalise_portal(portal)
    for old in _matching(state["nodes"], iqn, portal):
        state["nodes"].remove(old)
    node = {
        "target_iqn": iqn,
        "portal": portal,
        "tpgt": tpgt,
        "settings": {"node.startup": "automatic"},
        "lab_luns": list(luns),
        "lab_controller": controller,
    }
    state["nodes"].append(node)
    return node


def login(state: dict, node: dict, luns: tuple | None = None) -> dict:
    """A session for a node record, its LUNs attached as the next free disks."""
    session = {
        "sid": state["next_sid"],
        "target_iqn": node["target_iqn"],
        "portal": node["portal"],
        "tpgt": node["tpgt"],
        "iface": "default",
        "state": "LOGGED_IN",
        "scsi_host": state["next_scsi_host"],
        "luns": [],
        "controller": node.get("lab_controller", False),
    }
    for lun in node.get("lab_luns", [1]) if luns is None else luns:
        session["luns"].append([lun, disk_name(state["next_disk"])])
        state["next_disk"] += 1
    state["next_sid"] += 1
    state["next_scsi_host"] += 1
    state["sessions"].append(session)
    return session


def add_lun(state: dict, iqn: str, portal: str, lun: int) -> str:
    """A LUN of a shared target scanned in under the host's session to it (os-brick's
    `iscsiadm -m session -r SID --rescan`), logged in first when there is no session;
    returns the SCSI disk's name."""
    portal = normalise_portal(portal)
    found = _matching(state["sessions"], iqn, portal)
    if not found:
        return login(state, add_node(state, iqn, portal, luns=(lun,)))["luns"][0][1]
    session, [node] = found[0], _matching(state["nodes"], iqn, portal)
    disk = disk_name(state["next_disk"])
    state["next_disk"] += 1
    session["luns"].append([lun, disk])
    node["lab_luns"].append(lun)
    return disk


def remove_lun(state: dict, iqn: str, portal: str, lun: int) -> None:
    """os-brick's disconnect of one LUN of a shared target: its disk deleted; the session
    logged out and its record deleted only when no LUN is left on it."""
    portal = normalise_portal(portal)
    for s in _matching(state["sessions"], iqn, portal):
        s["luns"] = [entry for entry in s["luns"] if entry[0] != lun]
        if not s["luns"]:
            state["sessions"].remove(s)
    for n in _matching(state["nodes"], iqn, portal):
        n["lab_luns"] = [x for x in n["lab_luns"] if x != lun]
        if not n["lab_luns"]:
            state["nodes"].remove(n)


def remove_session(state: dict, iqn: str, portal: str) -> None:
    """What the lab's faults use for a session that went away without a logout."""
    for s in _matching(state["sessions"], iqn, normalise_portal(portal)):
        state["sessions"].remove(s)


# -- rendering --------------------------------------------------------------------------


def render_sessions(state: dict) -> str:
    """`iscsiadm -m session -P 3`, tab-indented as open-iscsi 2.1 prints it: a target's
    sessions (one per portal) under one "Target:" line."""
    out = ["iSCSI Transport Class version 2.0-870", f"version {VERSION}"]
    target = None
    for s in sorted(state["sessions"], key=lambda s: (s["target_iqn"], s["portal"], s["sid"])):
        if s["target_iqn"] != target:
            target = s["target_iqn"]
            out.append(f"Target: {target} (non-flash)")
        out += [
            f"\tCurrent Portal: {s['portal']},{s['tpgt']}",
            f"\tPersistent Portal: {s['portal']},{s['tpgt']}",
            "\t\t**********",
            "\t\tInterface:",
            "\t\t**********",
            f"\t\tIface Name: {s['iface']}",
            "\t\tIface Transport: tcp",
            f"\t\tIface Initiatorname: {state['initiator']}",
            f"\t\tIface IPaddress: {state['address']}",
            "\t\tIface HWaddress: default",
            "\t\tIface Netdev: default",
            f"\t\tSID: {s['sid']}",
            f"\t\tiSCSI Connection State: {'LOGGED IN' if s['state'] == 'LOGGED_IN' else 'TRANSPORT WAIT'}",
            f"\t\tiSCSI Session State: {s['state']}",
            "\t\tInternal iscsid Session State: NO CHANGE",
            "\t\t*********",
            "\t\tTimeouts:",
            "\t\t*********",
            "\t\tRecovery Timeout: 120",
            "\t\tTarget Reset Timeout: 30",
            "\t\tLUN Reset Timeout: 30",
            "\t\tAbort Timeout: 15",
            "\t\t*****",
            "\t\tCHAP:",
            "\t\t*****",
            "\t\tusername: <empty>",
            "\t\tpassword: ********",
            "\t\tusername_in: <empty>",
            "\t\tpassword_in: ********",
            "\t\t************************",
            "\t\tNegotiated iSCSI params:",
            "\t\t************************",
            "\t\tHeaderDigest: None",
            "\t\tDataDigest: None",
            "\t\tMaxRecvDataSegmentLength: 262144",
            "\t\tMaxXmitDataSegmentLength: 262144",
            "\t\tFirstBurstLength: 65536",
            "\t\tMaxBurstLength: 262144",
            "\t\tImmediateData: Yes",
            "\t\tInitialR2T: Yes",
            "\t\tMaxOutstandingR2T: 1",
            "\t\t************************",
            "\t\tAttached SCSI devices:",
            "\t\t************************",
            f"\t\tHost Number: {s['scsi_host']}\tState: running",
        ]
        if s.get("controller"):  # a SCSI device but no disk: no "Attached scsi disk" line
            out.append(f"\t\tscsi{s['scsi_host']} Channel 00 Id 0 Lun: 0")
        for lun, disk in s["luns"]:
            out += [
                f"\t\tscsi{s['scsi_host']} Channel 00 Id 0 Lun: {lun}",
                f"\t\t\tAttached scsi disk {disk}\t\tState: running",
            ]
    return "\n".join(out) + "\n"


def render_session_list(state: dict) -> str:
    return "".join(
        f"tcp: [{s['sid']}] {s['portal']},{s['tpgt']} {s['target_iqn']} (non-flash)\n"
        for s in sorted(state["sessions"], key=lambda s: s["sid"])
    )


def render_nodes(state: dict) -> str:
    return "".join(
        f"{n['portal']},{n['tpgt']} {n['target_iqn']}\n"
        for n in sorted(state["nodes"], key=lambda n: (n["target_iqn"], n["portal"]))
    )


def render_record(node: dict) -> str:
    """The record as `iscsiadm -m node -T IQN -p PORTAL` prints it (an excerpt of its ~80 keys)."""
    address, _, port = node["portal"].rpartition(":")
    settings = {
        "node.name": node["target_iqn"],
        "node.tpgt": str(node["tpgt"]),
        "node.startup": "automatic",
        "node.leading_login": "No",
        "iface.iscsi_ifacename": "default",
        "iface.transport_name": "tcp",
        "node.discovery_address": "<empty>",
        "node.session.auth.authmethod": "CHAP",
        "node.session.timeo.replacement_timeout": "120",
        "node.session.scan": "auto",
        "node.conn[0].address": address.strip("[]"),
        "node.conn[0].port": port,
        "node.conn[0].startup": "manual",
    }
    settings.update(node["settings"])
    lines = [f"# BEGIN RECORD {VERSION}"] + [f"{k} = {v}" for k, v in settings.items()] + ["# END RECORD"]
    return "\n".join(lines) + "\n"


def _display_portal(portal: str) -> str:
    """iscsiadm's messages print "address,port" (persistent_address, port)."""
    address, _, port = portal.rpartition(":")
    return f"{address},{port}"


# -- files ------------------------------------------------------------------------------


def _write(path: str, text: str, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with open(fd, "w") as f:
        f.write(text)


def _replace(path: str, text: str, mode: int = 0o644) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    _write(tmp, text, mode)
    os.replace(tmp, path)


def save(state_dir: str, state: dict, fresh: bool = False) -> None:
    """Write the state and the pre-rendered answers of the two read forms, each replaced
    atomically.  `fresh`: a host being built, which nothing reads yet: written in place,
    and an empty answer left out (the script treats a missing file as empty), as the L lab
    writes 8,050 of these."""
    write = _write if fresh else _replace
    for name, text in (
        (STATE, json.dumps(state)),
        (SESSIONS_TEXT, render_sessions(state) if state["sessions"] else ""),
        (NODES_TEXT, render_nodes(state)),
    ):
        path = os.path.join(state_dir, name)
        if fresh and not text:
            _unlink(path)
        else:
            write(path, text)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def script_text(state_dir: str, python: str, helper: str) -> str:
    d, py, helper = (shlex.quote(x) for x in (state_dir, python, helper))
    return f"""#!/bin/sh
# iscsiadm stand-in for a lab host, written by `osfsck lab build`: the lab has no kernel
# iSCSI, see osfsck_lab/iscsiadm_standin.py.  The read forms osfsck runs on every host are
# answered from pre-rendered files; every other form goes to the Python helper.
d={d}
case "$*" in
"-m session -P 3")
    if [ -s "$d/{SESSIONS_TEXT}" ]; then exec cat "$d/{SESSIONS_TEXT}"; fi
    echo "iscsiadm: No active sessions." >&2; exit {ERR_NO_OBJS_FOUND} ;;
"-m node")
    if [ -s "$d/{NODES_TEXT}" ]; then exec cat "$d/{NODES_TEXT}"; fi
    echo "iscsiadm: No records found" >&2; exit {ERR_NO_OBJS_FOUND} ;;
esac
exec {py} -I -S {helper} "$d" "$@"
"""


def install(state_dir: str, state: dict, python: str = sys.executable) -> str:
    """Create a host's stand-in: its state, rendered answers and executable; returns the
    path to give osfsck as that host's `iscsiadm`."""
    os.makedirs(state_dir, exist_ok=True)
    save(state_dir, state, fresh=True)
    _unlink(os.path.join(state_dir, LOG))  # a rebuilt lab starts with no history
    path = os.path.join(state_dir, SCRIPT)
    _write(path, script_text(os.path.abspath(state_dir), python, os.path.abspath(__file__)), 0o755)
    return path


def _log(state_dir: str, **entry) -> None:
    with open(os.path.join(state_dir, LOG), "a") as f:
        f.write(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **entry}) + "\n")


# -- the command line -------------------------------------------------------------------

_OPTIONS = {  # short and long forms of the options taking a value
    "-m": "mode",
    "--mode": "mode",
    "-T": "target",
    "--targetname": "target",
    "-p": "portal",
    "--portal": "portal",
    "-P": "print",
    "--print": "print",
    "-o": "op",
    "--op": "op",
    "-r": "sid",
    "--sid": "sid",
    "-I": "iface",
    "--interface": "iface",
    "-n": "name",
    "--name": "name",
    "-v": "value",
    "--value": "value",
}
_FLAGS = {"-l": "login", "--login": "login", "-u": "logout", "--logout": "logout"}


def parse_args(argv: list) -> dict:
    opts = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _FLAGS:
            opts[_FLAGS[arg]] = True
        elif arg in _OPTIONS and i + 1 < len(argv):
            opts[_OPTIONS[arg]] = argv[i + 1]
            i += 1
        else:
            raise IscsiadmError(f"iscsiadm: unrecognized option '{arg}'", ERR_INVAL)
        i += 1
    if opts.get("iface", "default") != "default":
        raise IscsiadmError(f"iscsiadm: Could not read iface info for {opts['iface']}.", ERR_INVAL)
    return opts


def run(state: dict, opts: dict, log) -> str:
    """Apply one command to `state`; returns its stdout, raises IscsiadmError."""
    mode = opts.get("mode")
    if mode == "session":
        return _session_mode(state, opts, log)
    if mode == "node":
        return _node_mode(state, opts, log)
    raise IscsiadmError(f"iscsiadm: the lab stand-in does not handle mode {mode!r}", ERR_INVAL)


def _session_mode(state: dict, opts: dict, log) -> str:
    if opts.get("logout"):
        if "sid" not in opts:
            raise IscsiadmError("iscsiadm: session mode: logout needs a session id (-r SID)", ERR_INVAL)
        found = [s for s in state["sessions"] if str(s["sid"]) == opts["sid"]]
        if not found:
            raise IscsiadmError(f"iscsiadm: Could not get session info for sid {opts['sid']}", ERR_NO_OBJS_FOUND)
        return _logout(state, found, log)
    if not state["sessions"]:
        raise IscsiadmError("iscsiadm: No active sessions.", ERR_NO_OBJS_FOUND)
    level = opts.get("print", "0")
    if level == "3":
        return render_sessions(state)
    if level == "0":
        return render_session_list(state)
    raise IscsiadmError(f"iscsiadm: the lab stand-in prints -P 0 and -P 3 only, not -P {level}", ERR_INVAL)


def _node_mode(state: dict, opts: dict, log) -> str:
    iqn = opts.get("target")
    portal = normalise_portal(opts["portal"]) if "portal" in opts else None
    op = opts.get("op")
    if op == "new":
        if iqn is None or portal is None:
            raise IscsiadmError("iscsiadm: --op new needs a target name (-T) and a portal (-p)", ERR_INVAL)
        add_node(state, iqn, portal)
        log(op="new", target_iqn=iqn, portal=portal)
        return f"New iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=default] {_display_portal(portal)},-1 {iqn}] added\n"
    nodes = _matching(state["nodes"], iqn, portal)
    if op is None and not (opts.get("login") or opts.get("logout")) and iqn is None and portal is None:
        if not nodes:
            raise IscsiadmError("iscsiadm: No records found", ERR_NO_OBJS_FOUND)
        return render_nodes(state)
    if opts.get("logout"):
        sessions = _matching(state["sessions"], iqn, portal)
        if not sessions:
            raise IscsiadmError("iscsiadm: No matching sessions found", ERR_NO_OBJS_FOUND)
        return _logout(state, sessions, log)
    if not nodes:
        raise IscsiadmError("iscsiadm: No records found", ERR_NO_OBJS_FOUND)
    if opts.get("login"):
        return _login(state, nodes, log)
    if op == "delete":
        return _delete(state, nodes, log)
    if op == "update":
        if "name" not in opts or "value" not in opts:
            raise IscsiadmError("iscsiadm: --op update needs a name (-n) and a value (-v)", ERR_INVAL)
        for n in nodes:
            n["settings"][opts["name"]] = opts["value"]
            log(op="update", target_iqn=n["target_iqn"], portal=n["portal"], name=opts["name"], value=opts["value"])
        return ""
    if op is not None:
        raise IscsiadmError(f"iscsiadm: the lab stand-in does not handle --op {op}", ERR_INVAL)
    return "".join(render_record(n) for n in nodes)


def _logout(state: dict, sessions: list, log) -> str:
    out = []
    for s in sessions:
        what = f"[sid: {s['sid']}, target: {s['target_iqn']}, portal: {_display_portal(s['portal'])}]"
        out += [f"Logging out of session {what}", f"Logout of {what} successful."]
        state["sessions"].remove(s)
        log(op="logout", target_iqn=s["target_iqn"], portal=s["portal"], sid=s["sid"])
    return "\n".join(out) + "\n"


def _login(state: dict, nodes: list, log) -> str:
    out = []
    for n in nodes:
        if _matching(state["sessions"], n["target_iqn"], n["portal"]):
            raise IscsiadmError("iscsiadm: default: 1 session requested, but 1 already present.", ERR_SESS_EXISTS)
        what = f"[iface: default, target: {n['target_iqn']}, portal: {_display_portal(n['portal'])}]"
        s = login(state, n)
        out += [f"Logging in to {what}", f"Login to {what} successful."]
        log(op="login", target_iqn=n["target_iqn"], portal=n["portal"], sid=s["sid"])
    return "\n".join(out) + "\n"


def _delete(state: dict, nodes: list, log) -> str:
    for n in nodes:
        # open-iscsi 2.1 refuses to delete the record of a logged-in session
        if _matching(state["sessions"], n["target_iqn"], n["portal"]):
            raise IscsiadmError(
                f"iscsiadm: This command will remove the record [iface: default, target: {n['target_iqn']}, "
                f"portal: {_display_portal(n['portal'])}], but a session is using it. Logout session then "
                "rerun command to remove record.",
                ERR_SESS_EXISTS,
            )
    for n in nodes:
        state["nodes"].remove(n)
        log(op="delete", target_iqn=n["target_iqn"], portal=n["portal"])
    return ""


def main(argv: list) -> int:
    state_dir, args = argv[0], argv[1:]
    with open(os.path.join(state_dir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one change at a time per host, as iscsid serialises them
        with open(os.path.join(state_dir, STATE)) as f:
            state = json.load(f)
        before = json.dumps(state, sort_keys=True)
        try:
            out = run(state, parse_args(args), lambda **e: _log(state_dir, **e))
        except IscsiadmError as e:
            print(str(e), file=sys.stderr)
            return e.status
        if json.dumps(state, sort_keys=True) != before:
            save(state_dir, state)
    sys.stdout.write(out)
    return OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
