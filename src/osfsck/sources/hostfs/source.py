"""Nova instance folders on each compute host, read by the host agent (clients/hostagent)."""

from __future__ import annotations

import datetime as dt
from typing import Callable

from osfsck.clients.hostagent import HostChannel
from osfsck.config.settings import HypervisorSettings
from osfsck.model.facts.hypervisor import InstanceDir, host_scope
from osfsck.model.result import SourceStatus
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import Source, cover_all, utcnow
from osfsck.sources.hosts import HostTarget, hypervisor_hosts
from osfsck.sources.parallel import run_bounded

# The channel has its own timeout (it kills ssh's process group); ours is only a backstop
# for a channel that hangs anyway, so it must not fire first.
_BACKSTOP = 5.0


class HostFolderSource(Source):
    name = "hostfs"
    provides = (InstanceDir,)
    stage = 1

    def __init__(self, settings: HypervisorSettings,
                 channel_factory: Callable[[HostTarget], object] | None = None):
        self.settings = settings
        self._channel_factory = channel_factory or self._channel
        self.progress: Callable[[int, int], None] | None = None

    def reads(self) -> list[str]:
        s = self.settings
        how = {"local": "a local subprocess", "inprocess": "this process"}.get(s.transport, "ssh")
        return [
            f"on each compute host, via {how}: `{s.python} -I -S -` runs osfsck's stdlib-only agent "
            f"(piped on stdin, nothing installed), which lists {s.instances_path} "
            "(names, sizes, mtimes of instance folders) and reads /proc/mounts; "
            "it needs read access to the instance folders",
        ]

    def _channel(self, target: HostTarget):
        s = self.settings
        return HostChannel(target.name, target.transport, ssh_target=target.ssh_target,
                           ssh_user=s.ssh_user, ssh_port=s.ssh_port, ssh_key=s.ssh_key,
                           ssh_options=tuple(s.ssh_options), python=s.python, timeout=s.timeout)

    def collect(self, kinds: set, known: Snapshot, sink: Snapshot,
                scopes: set[str] | None = None) -> list[SourceStatus]:
        if InstanceDir not in kinds:
            return []
        targets = hypervisor_hosts(known, self.settings)
        if scopes is not None:
            targets = [t for t in targets if host_scope(t.name) in scopes]

        def read(target: HostTarget):
            at = utcnow()
            reply = self._channel_factory(target).call("collect", instances_path=target.instances_path)
            return reply, at

        outcomes = run_bounded(targets, read, concurrency=self.settings.concurrency,
                               timeout=self.settings.timeout + _BACKSTOP, progress=self.progress)
        statuses = []
        for target, out in outcomes.items():
            scope = host_scope(target.name)
            if not out.ok:
                # HostError messages already start with the host's name; a timeout does not
                reason = f"{target.name}: {out.reason}" if out.timed_out else out.reason
                statuses.append(cover_all(sink, self.provides, scope, self.name, False,
                                          reason, utcnow()))
                continue
            reply, at = out.value
            try:
                dirs, problems = instance_dirs(target, reply)
            except (AttributeError, KeyError, TypeError, ValueError) as e:
                # an agent of another version: say so rather than crash the whole run
                statuses.append(cover_all(sink, self.provides, scope, self.name, False,
                                          f"{target.name}: unexpected agent reply "
                                          f"({type(e).__name__}: {e})", at))
                continue
            sink.add(InstanceDir.kind, dirs)
            reason = ""
            if problems:
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                reason = f"{target.name}: {problems[0]}{more}"
            statuses.append(cover_all(sink, self.provides, scope, self.name, not problems, reason, at))
        return statuses


def instance_dirs(target: HostTarget, reply: dict) -> tuple[list[InstanceDir], list[str]]:
    """The agent's `collect` reply -> (facts, problems).  Pure.

    A folder the agent could not read is left out and reported as a problem: the host's
    list is then incomplete, so no check may conclude anything from a folder's absence.
    """
    if not reply.get("exists"):
        return [], []   # no instances folder at all: no instance folders, a complete answer
    storage = target.storage or _storage(target.name, reply.get("storage"))
    base = target.instances_path
    facts, problems = [], []
    for d in reply.get("dirs") or []:
        if d.get("error"):
            problems.append(f"cannot read {base.rstrip('/')}/{d.get('name')}: {d['error']}")
            continue
        mtime = d.get("mtime")
        facts.append(InstanceDir(
            host=target.name, storage=storage, instances_path=base, name=d["name"],
            uuid=d["uuid"].lower(), suffix=d.get("suffix") or "",
            bytes=int(d["bytes"]), apparent_bytes=int(d["apparent_bytes"]), files=int(d["files"]),
            disks=tuple(d.get("disks") or ()),
            mtime=_utc(mtime) if mtime is not None else None, inode=int(d["inode"]),
        ))
    return facts, problems


def _storage(host: str, agent_storage: str | None) -> str:
    if agent_storage == "local":
        return f"host:{host}"
    # "<fstype>:<device>" for network filesystems, shared by every host mounting the export;
    # "unknown" (no /proc/mounts) stays "unknown": we cannot tell it is private to this host
    return agent_storage or "unknown"


def _utc(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(epoch), tz=dt.timezone.utc).replace(tzinfo=None)
