"""`iscsiadm` output -> facts.  Pure: the host agent only runs the commands and returns
their output, so the parsing is done (and tested) here, once, for every host.

A host's sessions are believed only from output read whole: anything else raises
IscsiOutputError (one line, naming the line), and the host is then partial, never a host
with fewer sessions (issue 15: a `Target:` with no portal was read as a target with no
session, and gave false missing-session findings).

`iscsiadm -m session -P 3` (open-iscsi usr/session_info.c, `session_info_print_tree`, the
same shape from 2.0-870 to 2.1): an optional version header, then per target a `Target:`
line (with " (non-flash)" or " (flash)" since 2.0-874), and per session of that target
its portal lines one level in (or, for a second session to the same portal, an empty
line instead), then its details two levels in: interface, SID, states, timeouts and CHAP
(since 2.0-873), negotiated parameters, and last the attached SCSI devices ("Host Number"
or "Unavailable", a "scsiN Channel .. Lun: L" line per LUN and, three levels in, its
"Attached scsi disk sdX").  iscsiadm indents with tabs; captures of it are sometimes
re-indented with spaces, so one consistent unit of either is accepted.

Since 2.0-872 (commit "fix iscsiadm exit codes", 2011) iscsiadm exits 21 when there is no
session or node record, printing nothing (2.0-873 to -875 print the version header
first): so exit status 0 with nothing listed is not "none".
"""

from __future__ import annotations

import re

from osfsck.model.facts.hypervisor import IscsiNode, IscsiSession

# exit status 21 (ISCSI_ERR_NO_OBJS_FOUND): "No active sessions." / "No records found"
NO_OBJECTS = 21

_HEADER = re.compile(r"(iSCSI Transport Class version|version) \S+", re.ASCII)
_TARGET = re.compile(r"Target: (\S+)(?: \([a-z-]+\))?", re.ASCII)
_PORTAL = re.compile(r"(\[[^\]\s]+\]|[^\s,\[\]]+):(\d{1,5}),(-?\d{1,10})", re.ASCII)
_LUN = re.compile(r"scsi\d+ Channel \d+ Id \d+ Lun: (\d{1,20})", re.ASCII)
_DISK = re.compile(r"Attached scsi disk ([a-z][a-z0-9]*)(?:\s.*)?", re.ASCII)  # a kernel disk name: sdc, sdaa
_DEVICE_LINES = re.compile(r"\*+|Host Number: \d+\s.*", re.ASCII)
# what real iscsiadm output never holds: control characters (binary data), and what a
# decoder leaves of bytes that are not UTF-8 (surrogate escapes, U+FFFD)
_NOT_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffd]")


class IscsiOutputError(ValueError):
    """Output osfsck cannot fully read (not iscsiadm's layout, cut short, not text): the
    host's sessions or node records are then unknown.  One line, naming the line."""


def _text_lines(text: str):
    """(line number, line) of `text`, which must be whole lines of text."""
    lines = text.split("\n")
    if lines[-1]:
        # iscsiadm ends every line: a last line without its newline was cut short
        raise IscsiOutputError(f"line {len(lines)}: cut short (no end of line)")
    for n, line in enumerate(lines[:-1], 1):
        line = line.removesuffix("\r")
        if _NOT_TEXT.search(line):
            raise IscsiOutputError(f"line {n}: not text (binary data or bytes that are not UTF-8)")
        yield n, line


def _portal(text: str, n: int) -> tuple[str, int]:
    """ "192.0.2.10:3260,1" -> ("192.0.2.10:3260", 1)."""
    m = _PORTAL.fullmatch(text.strip())
    if m is None:
        raise IscsiOutputError(f"line {n}: portal {text.strip()[:80]!r} is not <address>:<port>,<tpgt>")
    return f"{m.group(1)}:{m.group(2)}", int(m.group(3))


class _Indent:
    """Nesting levels from leading tabs, or from spaces in the one width the output uses."""

    def __init__(self):
        self.char = self.width = None

    def level(self, line: str, n: int) -> int:
        body = line.lstrip(" \t")
        lead = line[: len(line) - len(body)]
        if not lead:
            return 0
        if self.char is None:
            self.char, self.width = lead[0], 1 if lead[0] == "\t" else len(lead)
        if lead != self.char * len(lead) or len(lead) % self.width:
            raise IscsiOutputError(
                f"line {n}: an indent of {lead!r} (the output indents by {self.char * self.width!r})"
            )
        return len(lead) // self.width


class _Session:
    """One session's lines while they are read."""

    def __init__(self, target: str, portal: str, tpgt: int, n: int, persistent: bool):
        self.target, self.portal, self.tpgt, self.line = target, portal, tpgt, n
        self.persistent = persistent  # its Persistent Portal line was read (or inherited)
        self.sid: int | None = None
        self.iface: str | None = None
        self.session_state: str | None = None
        self.connection_state: str | None = None
        self.devices = self.host = False  # the "Attached SCSI devices" section, its host line
        self.disks: list[tuple[int, str]] = []
        self.lun: int | None = None

    def fact(self, host: str) -> IscsiSession:
        where = f"the session at line {self.line} ({self.target} at {self.portal})"
        if self.sid is None:
            raise IscsiOutputError(f"{where} has no SID: cut short?")
        if not self.host:
            raise IscsiOutputError(f"{where} does not list its SCSI devices: cut short?")
        return IscsiSession(
            host,
            self.sid,
            self.target,
            self.portal,
            self.tpgt,
            self.iface,
            self.session_state,
            self.connection_state,
            tuple(lun for lun, _ in self.disks),
            tuple(dev for _, dev in self.disks),
        )

    def detail(self, key: str, value: str, line: str, n: int) -> None:
        """A line two levels in."""
        if self.devices:
            # the devices come last in a session: anything else is another session's
            if line == "Unavailable":
                raise IscsiOutputError(
                    f"line {n}: iscsiadm could not tell the SCSI devices of session {self.sid} (Unavailable)"
                )
            if (lun := _LUN.fullmatch(line)) is not None:
                self.lun = int(lun.group(1))
            elif _DEVICE_LINES.fullmatch(line):
                self.host = self.host or line.startswith("Host Number:")
            else:
                raise IscsiOutputError(f"line {n}: {line[:60]!r} after the SCSI devices of session {self.sid}")
        elif key == "SID":
            if self.sid is not None:
                raise IscsiOutputError(f"line {n}: a second SID in the session of line {self.line}")
            if not (value.isascii() and value.isdigit() and len(value) <= 10):
                raise IscsiOutputError(f"line {n}: SID {value[:20]!r} is not a number")
            self.sid = int(value)
        elif key == "Iface Name":
            self.iface = value
        elif key == "iSCSI Session State":
            self.session_state = value
        elif key == "iSCSI Connection State":
            self.connection_state = value
        elif line == "Attached SCSI devices:":
            self.devices = True

    def disk(self, line: str, n: int) -> None:
        """A line three levels in: the block device of the LUN above."""
        m = _DISK.fullmatch(line)
        if m is None or not self.devices:
            raise IscsiOutputError(f"line {n}: {line[:60]!r} is not a disk of a session's SCSI devices")
        if self.lun is None:
            raise IscsiOutputError(f"line {n}: disk {m.group(1)} with no LUN line before it")
        self.disks.append((self.lun, m.group(1)))
        self.lun = None


def parse_sessions(host: str, text: str, none_found: bool = False) -> list[IscsiSession]:
    """The sessions in `iscsiadm -m session -P 3` output; `none_found`: it exited 21."""
    sessions: list[IscsiSession] = []
    indent = _Indent()
    target = target_line = None
    target_sessions = 0
    current: _Session | None = None
    gap = False  # an empty line: the next details are a new session at the same portal

    def close() -> None:
        nonlocal current, target_sessions
        if current is not None:
            sessions.append(current.fact(host))
            target_sessions += 1
            current = None

    def end_target() -> None:
        close()
        if target is not None and not target_sessions:
            raise IscsiOutputError(f"line {target_line}: Target: {target} has no session (no portal follows it)")

    for n, raw in _text_lines(text):
        if not raw.strip():
            gap = current is not None
            continue
        level = indent.level(raw, n)
        line = raw.strip(" \t")
        key, _, value = line.partition(":")
        value = value.strip()
        if level == 0 and n <= 2 and target is None and _HEADER.fullmatch(line):
            continue
        if level == 0 and (m := _TARGET.fullmatch(line)) is not None:
            end_target()
            target, target_line, target_sessions, gap = m.group(1), n, 0, False
        elif level == 1 and key == "Current Portal" and target is not None:
            close()
            portal, tpgt = _portal(value, n)
            current, gap = _Session(target, portal, tpgt, n, persistent=False), False
        elif (
            level == 1
            and key == "Persistent Portal"
            and current is not None
            and not current.persistent
            and current.line == n - 1
        ):
            _portal(value, n)
            current.persistent = True
        elif level == 2 and current is not None:
            if not current.persistent:
                raise IscsiOutputError(
                    f"line {n}: the Current Portal of line {current.line} has no Persistent Portal after it"
                )
            if gap:
                same = current.target  # the Target: above, as every session of it
                close()
                current = _Session(same, sessions[-1].portal, sessions[-1].tpgt, n, persistent=True)
                gap = False
            current.detail(key, value, line, n)
        elif level == 2 and target is not None:
            raise IscsiOutputError(f"line {n}: session details under Target: {target} with no Current Portal")
        elif level == 3 and current is not None and not gap:
            current.disk(line, n)
        else:
            raise IscsiOutputError(f"line {n}: {line[:60]!r} is not a line of `iscsiadm -m session -P 3`")
    if none_found and target is not None:
        raise IscsiOutputError("sessions are listed, yet iscsiadm's exit status 21 says there is none")
    end_target()
    if not none_found and not sessions:
        raise IscsiOutputError(
            "no session is listed, yet iscsiadm's exit status 0 says there are some (it exits 21 when there is none)"
        )
    return sessions


def parse_nodes(host: str, text: str, none_found: bool = False) -> list[IscsiNode]:
    """`iscsiadm -m node`: one "<portal>,<tpgt> <iqn>" line per record; `none_found`: it
    exited 21."""
    nodes = []
    for n, raw in _text_lines(text):
        line = raw.strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise IscsiOutputError(f"line {n}: {line[:80]!r} is not '<portal>,<tpgt> <iqn>'")
        portal, tpgt = _portal(parts[0], n)
        nodes.append(IscsiNode(host, parts[1], portal, tpgt))
    if none_found and nodes:
        raise IscsiOutputError("node records are listed, yet iscsiadm's exit status 21 says there is none")
    if not none_found and not nodes:
        raise IscsiOutputError(
            "no node record is listed, yet iscsiadm's exit status 0 says there are some "
            "(it exits 21 when there is none)"
        )
    return nodes
