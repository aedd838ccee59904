"""The shape every host-agent source shares: ask each compute host's agent one question
(an op), in parallel with bounded concurrency, and turn each reply into facts.  A host
whose agent cannot be reached, times out or answers in an unexpected shape is partial.

The sources built for one collect pass share a `HostCalls` (engine/wiring.py): the first to
ask a host runs one agent call there carrying the ops of all of them (a `batch`), over one
SSH connection, and each source takes its own op's answer.  A source stays the provider of
its kinds: an op that fails makes only that source's kinds partial on the host."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Protocol

from osfsck.clients.hostagent import HostChannel
from osfsck.clients.hostagent.multiplex import ControlDir
from osfsck.config.settings import HypervisorSettings
from osfsck.model.facts.hypervisor import host_scope
from osfsck.model.result import SourceStatus
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import Source, cover_all, utcnow
from osfsck.sources.hosts import HOST_LIST_KINDS, HostTarget, channel_to, scoped_hosts
from osfsck.sources.parallel import run_bounded

# The channel has its own timeout (it kills ssh's process group); ours is only a backstop
# for a channel that hangs anyway, so it must not fire first.
_BACKSTOP = 5.0


class Channel(Protocol):
    """What a source asks a host through: a HostChannel, or a test's stand-in."""

    def batch(self, ops: dict[str, dict[str, Any]]) -> dict[str, Any]: ...


ChannelFactory = Callable[[HostTarget], Channel]


class HostCalls:
    """One agent call per host for the sources of a collect pass: each source registers its
    op when built; the first `ask` for a host runs every registered op there in one batch
    and keeps the other ops' answers until their sources take them (then forgets them).
    The SSH control folder (one connection per host) is removed when the last registered
    source is done, or at the latest when this object is collected."""

    def __init__(self, settings: HypervisorSettings, channel_factory: ChannelFactory | None = None):
        self.settings = settings
        self._factory = channel_factory or self._channel
        self._ops: dict[str, Callable[[HostTarget], dict]] = {}
        self._users: set[int] = set()
        self._lock = threading.Lock()
        self._hosts: dict[HostTarget, _HostAnswers] = {}
        self.control = ControlDir(settings.ssh_control_persist) if settings.ssh_multiplex else None
        if self.control is not None:  # a run that stops half-way still cleans up
            weakref.finalize(self, self.control.close)

    def register(self, source: HostAgentSource) -> None:
        with self._lock:
            self._ops[source.op] = source.op_args
            self._users.add(id(source))

    def done(self, source: HostAgentSource) -> None:
        """`source` will ask no more: when no registered source will, close the connections."""
        with self._lock:
            self._users.discard(id(source))
            last = not self._users
        if last and self.control is not None:
            self.control.close()

    def ask(self, target: HostTarget, op: str) -> Any:
        """`op`'s answer from `target`: its result; raises the HostError it failed with."""
        with self._lock:
            host = self._hosts.setdefault(target, _HostAnswers())
        with host.lock:
            if op not in host.answers:
                # the first to ask (or an op asked again): every op not yet answered, at once
                ops = {name: args(target) for name, args in self._ops.items() if name not in host.answers}
                ops.setdefault(op, self._ops[op](target) if op in self._ops else {})
                try:
                    host.answers.update(self._factory(target).batch(ops))
                except Exception as e:  # noqa: BLE001 - the channel failed: no op answered
                    host.answers.update(dict.fromkeys(ops, e))
            answer = host.answers.pop(op)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def _channel(self, target: HostTarget) -> HostChannel:
        return channel_to(target, self.settings, self.control)


class _HostAnswers:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answers: dict[str, Any] = {}


def share_host_calls(sources: Iterable[Source]) -> None:
    """Give the host-agent sources among `sources` (one collect pass's) one HostCalls."""
    agents = [s for s in sources if isinstance(s, HostAgentSource)]
    if len(agents) < 2:
        return
    calls = HostCalls(agents[0].settings)
    for src in agents:
        src.use(calls)


class HostAgentSource(Source):
    """Subclasses set `op` and implement `op_args` and `parse`."""

    requires = HOST_LIST_KINDS
    scope_noun = "compute host: none in Nova's compute nodes of [hypervisors] hypervisor_types, nor in extra_hosts"
    op: ClassVar[str]

    def __init__(
        self,
        settings: HypervisorSettings,
        channel_factory: ChannelFactory | None = None,
        calls: HostCalls | None = None,
    ):
        self.settings = settings
        self.progress: Callable[[int, int], None] | None = None
        self.use(calls or HostCalls(settings, channel_factory))

    def use(self, calls: HostCalls) -> None:
        """Ask the hosts through `calls` (shared with the run's other host-agent sources)."""
        self.calls = calls
        calls.register(self)

    def op_args(self, target: HostTarget) -> dict:
        return {}

    def parse(self, target: HostTarget, reply) -> tuple[dict, list[str]]:
        """The agent's reply -> ({fact type: [facts]}, problems).  A problem makes the
        host partial: its facts may be incomplete.  Raise on a reply of another shape."""
        raise NotImplementedError

    def collect(
        self, kinds: set, known: Snapshot, sink: Snapshot, scopes: set[str] | None = None
    ) -> list[SourceStatus]:
        try:
            return self._collect(kinds, known, sink, scopes) if kinds & set(self.provides) else []
        finally:
            self.calls.done(self)

    def _collect(self, kinds: set, known: Snapshot, sink: Snapshot, scopes: set[str] | None) -> list[SourceStatus]:
        wanted = [k for k in self.provides if k in kinds]  # added and covered: only these
        targets = scoped_hosts(known, self.settings, self.within)
        if scopes is not None:
            targets = [t for t in targets if host_scope(t.name) in scopes]

        def ask(target: HostTarget):
            at = utcnow()
            return self.calls.ask(target, self.op), at

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
