"""iSCSI sessions and node records of each compute host: the agent runs `iscsiadm`, the
output is parsed here (sources/iscsi/parse.py)."""

from __future__ import annotations

from osfsck.model.facts.hypervisor import IscsiNode, IscsiSession
from osfsck.sources.host_agent import HostAgentSource
from osfsck.sources.hosts import HostTarget
from osfsck.sources.iscsi.parse import NO_OBJECTS, IscsiOutputError, parse_nodes, parse_sessions


class IscsiSource(HostAgentSource):
    name = "iscsi"
    settings_attr = "hypervisors"
    provides = (IscsiSession, IscsiNode)
    op = "iscsi"

    def reads(self) -> list[str]:
        return [
            "on each compute host, through the same agent (one call per host answers every source): "
            "`iscsiadm -m session -P 3` and "
            "`iscsiadm -m node` (read-only; iscsiadm needs root to list node records)"
        ]

    def op_args(self, target: HostTarget) -> dict:
        return {"iscsiadm": target.iscsiadm} if target.iscsiadm else {}

    def parse(self, target: HostTarget, reply) -> tuple[dict, list[str]]:
        if not reply["installed"]:
            # no open-iscsi on the host, so no iSCSI session can exist there (RBD-only hosts)
            return {IscsiSession: [], IscsiNode: []}, []
        problems = []
        facts = {}
        for kind, key, parse in ((IscsiSession, "session", parse_sessions), (IscsiNode, "node", parse_nodes)):
            run = reply[key]
            if run["rc"] not in (0, NO_OBJECTS):
                err = (run["err"] or "").strip().splitlines()
                problems.append(f"iscsiadm -m {key} exited with {run['rc']}" + (f": {err[-1]}" if err else ""))
                continue
            try:
                facts[kind] = parse(target.name, run["out"], none_found=run["rc"] == NO_OBJECTS)
            except IscsiOutputError as e:
                # the host's sessions (or records) are unknown: partial, never fewer of them
                problems.append(f"iscsiadm -m {key}: output osfsck cannot read: {e}")
        return facts, problems
