"""The shape every host-agent source shares: ask each compute host's agent one question
(an op), in parallel with bounded concurrency, and turn each reply into facts.  A host
whose agent cannot be reached, times out or answers in an unexpected shape is partial."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from osfsck.clients.hostagent import HostChannel
from osfsck.config.settings import HypervisorSettings
from osfsck.model.facts.hypervisor import host_scope
from osfsck.model.result import SourceStatus
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import Source, cover_all, utcnow
from osfsck.sources.hosts import HOST_LIST_KINDS, HostTarget, scoped_hosts
from osfsck.sources.parallel import run_bounded

# The channel has its own timeout (it kills ssh's process group); ours is only a backstop
# for a channel that hangs anyway, so it must not fire first.
_BACKSTOP = 5.0


class Channel(Protocol):
    """What a source asks a host through: a HostChannel, or a test's stand-in."""

    def call(self, op: str, **args: Any) -> Any: ...


class HostAgentSource(Source):
    """Subclasses set `op` and implement `op_args` and `parse`."""

    stage = 1
    requires = HOST_LIST_KINDS
    scope_noun = "compute host: none in Nova's compute nodes of [hypervisors] hypervisor_types, nor in extra_hosts"
    op: ClassVar[str]

    def __init__(self, settings: HypervisorSettings, channel_factory: Callable[[HostTarget], Channel] | None = None):
        self.settings = settings
        self._channel_factory = channel_factory or self._channel
        self.progress: Callable[[int, int], None] | None = None

    def op_args(self, target: HostTarget) -> dict:
        return {}

    def parse(self, target: HostTarget, reply) -> tuple[dict, list[str]]:
        """The agent's reply -> ({fact type: [facts]}, problems).  A problem makes the
        host partial: its facts may be incomplete.  Raise on a reply of another shape."""
        raise NotImplementedError

    def _channel(self, target: HostTarget):
        s = self.settings
        return HostChannel(
            target.name,
            target.transport,
            ssh_target=target.ssh_target,
            ssh_user=s.ssh_user,
            ssh_port=s.ssh_port,
            ssh_key=s.ssh_key,
            ssh_options=tuple(s.ssh_options),
            python=s.python,
            timeout=s.timeout,
        )

    def collect(
        self, kinds: set, known: Snapshot, sink: Snapshot, scopes: set[str] | None = None
    ) -> list[SourceStatus]:
        if not kinds & set(self.provides):
            return []
        wanted = [k for k in self.provides if k in kinds]  # added and covered: only these
        targets = scoped_hosts(known, self.settings, self.within)
        if scopes is not None:
            targets = [t for t in targets if host_scope(t.name) in scopes]

        def ask(target: HostTarget):
            at = utcnow()
            return self._channel_factory(target).call(self.op, **self.op_args(target)), at

        outcomes = run_bounded(
            targets,
            ask,
            concurrency=self.settings.concurrency,
            timeout=self.settings.timeout + _BACKSTOP,
            progress=self.progress,
        )
        statuses = []
        for target, out in outcomes.items():
            scope = host_scope(target.name)
            if not out.ok:
                # HostError messages already start with the host's name; a timeout does not
                reason = f"{target.name}: {out.reason}" if out.timed_out else out.reason
                statuses.append(cover_all(sink, wanted, scope, self.name, False, reason, utcnow()))
                continue
            reply, at = out.value
            try:
                facts, problems = self.parse(target, reply)
            except (AttributeError, KeyError, TypeError, ValueError) as e:
                # an agent of another version, or output we cannot read: say so, don't crash
                statuses.append(
                    cover_all(
                        sink,
                        wanted,
                        scope,
                        self.name,
                        False,
                        f"{target.name}: unexpected agent reply ({type(e).__name__}: {e})",
                        at,
                    )
                )
                continue
            for kind, items in facts.items():
                if kind in wanted:
                    sink.add(kind.kind, items)
            reason = ""
            if problems:
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                reason = f"{target.name}: {problems[0]}{more}"
            statuses.append(cover_all(sink, wanted, scope, self.name, not problems, reason, at))
        return statuses
