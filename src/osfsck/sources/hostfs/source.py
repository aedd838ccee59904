"""Nova instance folders on each compute host, read by the host agent (clients/hostagent)."""

from __future__ import annotations

import datetime as dt

from osfsck.model.facts.hypervisor import InstanceDir
from osfsck.sources.host_agent import HostAgentSource
from osfsck.sources.hosts import HostTarget


class HostFolderSource(HostAgentSource):
    name = "hostfs"
    settings_attr = "hypervisors"
    provides = (InstanceDir,)
    op = "collect"

    def reads(self) -> list[str]:
        s = self.settings
        how = {"local": "a local subprocess", "inprocess": "this process"}.get(s.transport, "ssh")
        return [
            f"on each compute host, via {how}: `{s.python} -I -S -` runs osfsck's stdlib-only agent "
            f"(piped on stdin, nothing installed), which lists {s.instances_path} "
            "(names, sizes, mtimes of instance folders) and reads /proc/mounts; "
            "it needs read access to the instance folders",
        ]

    def op_args(self, target: HostTarget) -> dict:
        return {"instances_path": target.instances_path}

    def parse(self, target: HostTarget, reply) -> tuple[dict, list[str]]:
        dirs, problems = instance_dirs(target, reply)
        return {InstanceDir: dirs}, problems


def instance_dirs(target: HostTarget, reply: dict) -> tuple[list[InstanceDir], list[str]]:
    """The agent's `collect` reply -> (facts, problems).  Pure.

    A folder the agent could not read is left out and reported as a problem: the host's
    list is then incomplete, so no check may conclude anything from a folder's absence.
    """
    if not reply.get("exists"):
        return [], []  # no instances folder at all: no instance folders, a complete answer
    storage = target.storage or _storage(target.name, reply.get("storage"))
    base = target.instances_path
    facts, problems = [], []
    for d in reply.get("dirs") or []:
        if d.get("error"):
            problems.append(f"cannot read {base.rstrip('/')}/{d.get('name')}: {d['error']}")
            continue
        mtime = d.get("mtime")
        facts.append(
            InstanceDir(
                host=target.name,
                storage=storage,
                instances_path=base,
                name=d["name"],
                uuid=d["uuid"].lower(),
                suffix=d.get("suffix") or "",
                bytes=int(d["bytes"]),
                apparent_bytes=int(d["apparent_bytes"]),
                files=int(d["files"]),
                disks=tuple(d.get("disks") or ()),
                mtime=_utc(mtime) if mtime is not None else None,
                inode=int(d["inode"]),
            )
        )
    return facts, problems


def _storage(host: str, agent_storage: str | None) -> str:
    if agent_storage == "local":
        return f"host:{host}"
    # "<fstype>:<device>" for network filesystems, shared by every host mounting the export;
    # "unknown" (no /proc/mounts) stays "unknown": we cannot tell it is private to this host
    return agent_storage or "unknown"


def _utc(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(epoch), tz=dt.timezone.utc).replace(tzinfo=None)
