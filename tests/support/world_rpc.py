"""World builders for stale RPC: service heartbeats, Nova's instance actions and RabbitMQ
queues.

    w = World()
    u = w.instance(host="hv1", task_state="rebooting", updated_age=5 * HOUR)
    w.action(u, "reboot", age=5 * HOUR)        # the last action and its last event
    w.service_down("hv2", age=2 * HOUR)         # hv2's nova-compute stopped reporting
    w.queue("compute.hv2", messages=3, consumers=0)
    w.queue("reply_0a1b", messages=0, consumers=1, expires=1800000)
    w.rabbit_down()                             # the broker's queue list could not be read

Queues live on broker "rabbit1", vhost "/" unless told; a broker's vhost is read completely
from its first queue (or `w.rabbit()`).  A host's service (World.host) reported 30 s ago.
"""

from __future__ import annotations

from osfsck.model.facts.nova import ComputeService, cell_scope
from osfsck.model.facts.rpc import InstanceAction, RabbitQueue, queue_scope
from osfsck.model.snapshot import Coverage

BROKER, VHOST = "rabbit1", "/"


class RpcWorld:
    """Mixed into World (tests/support/world.py), which provides `ago`, `_facts`, `_cover`,
    `_coverage`, `_dropped`, `_rows` and `host`."""

    def _rpc_init(self) -> None:
        pass

    # -- Nova: services and instance actions --------------------------------------------
    def service_down(self, host: str, *, age=7200, forced: bool = False, cell: str = "cell1") -> None:
        """`host`'s nova-compute last reported `age` ago (and is forced down if told)."""
        self._replace_service(
            host,
            cell,
            lambda s: s._replace(updated_at=self.ago(age), last_seen_up=self.ago(age), forced_down=int(forced)),
        )

    def service_deleted(self, host: str, *, cell: str = "cell1") -> None:
        """`host` has no live nova-compute row any more (`openstack compute service delete`)."""
        self._replace_service(host, cell, lambda s: None)

    def _replace_service(self, host: str, cell: str, change) -> None:
        self.host(host, cell=cell)
        rows = self._facts[ComputeService.kind]
        for i, s in enumerate(rows):
            if s.host == host:
                new = change(s)
                if new is None:
                    del rows[i]
                else:
                    rows[i] = new
                return

    def action(
        self,
        instance_uuid: str,
        action: str = "reboot",
        *,
        age=3600,
        event: str | None = "auto",
        event_age=None,
        finished: bool = False,
        host: str | None = None,
        request_id: str | None = None,
    ) -> None:
        """The instance's last action, started `age` ago, with one event started `event_age`
        ago (default: with the action; event=None: no event yet)."""
        row = self._rows[instance_uuid]
        start = self.ago(age)
        ev_at = self.ago(event_age) if event_age is not None else start
        name = f"compute_{action.replace('-', '_')}_instance" if event == "auto" else event
        self._facts[InstanceAction.kind].append(
            InstanceAction(
                row.cell,
                instance_uuid,
                action,
                request_id or f"req-{instance_uuid[-8:]}",
                start,
                start if finished else None,
                name,
                ev_at if name else None,
                (host or row.host) if name else None,
            )
        )

    # -- RabbitMQ -----------------------------------------------------------------------
    def rabbit(self, broker: str = BROKER, vhost: str = VHOST) -> str:
        """Declare `broker`'s `vhost` read completely; returns its scope."""
        scope = queue_scope(broker, vhost)
        if (RabbitQueue.kind, scope) not in self._coverage:
            self._cover_queues(scope, True)
        return scope

    def queue(
        self,
        name: str,
        *,
        messages: int | None = 0,
        consumers: int | None = 1,
        expires: int | None = None,
        policy_expires: bool = False,
        broker: str = BROKER,
        vhost: str = VHOST,
        durable: bool = False,
        auto_delete: bool = False,
        exclusive: bool = False,
        idle_since: str | None = None,
    ) -> str:
        """A queue (messages/consumers None: the broker has no statistics for it yet);
        returns its scope."""
        scope = self.rabbit(broker, vhost)
        self._facts[RabbitQueue.kind].append(
            RabbitQueue(
                scope,
                broker,
                vhost,
                name,
                messages,
                consumers,
                durable,
                auto_delete,
                exclusive,
                expires,
                None if expires is None else ("policy" if policy_expires else "argument"),
                "classic",
                idle_since,
            )
        )
        return scope

    def rabbit_down(
        self,
        broker: str = BROKER,
        vhost: str = VHOST,
        reason: str = "RabbitMQ rabbit1 (http://rabbit1:15672): GET /api/queues/%2F: unreachable (connection refused)",
    ) -> str:
        """The vhost's queue list could not be read: partial and empty."""
        scope = self.rabbit(broker, vhost)
        self._cover_queues(scope, False, reason)
        self._dropped.add((RabbitQueue.kind, scope))
        return scope

    def _cover_queues(self, scope: str, complete: bool, reason: str = "") -> None:
        self._coverage[(RabbitQueue.kind, scope)] = Coverage(
            RabbitQueue.kind, scope, "rabbitmq", complete, reason, self.taken_at
        )

    def actions_partial(self, cell: str = "cell1", reason: str = "cell1: instance_actions: lost connection") -> None:
        self.partial(InstanceAction, cell_scope(cell), reason)
