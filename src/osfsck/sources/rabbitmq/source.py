"""RabbitMQ brokers, read-only: every queue of every vhost osfsck is given (or may see),
through the management API's paged `/api/queues/<vhost>`.

One scope per broker and vhost ("rabbitmq:<broker>/<vhost>"), all or nothing: a page that
fails leaves the scope partial and adds no queue of it, so no check takes a queue that was
merely not read for gone.  A broker whose vhosts cannot be listed is one partial scope,
"rabbitmq:<broker>/*".

A `--cell` run reads only its cells' hosts' nova-compute queues (model/cell_slice.py),
filtered by the broker (`name` as an anchored regular expression, `use_regex`; a few
hundred hosts per request, the query staying a few kilobytes): no other queue lies in a
cell (a reply or fanout queue is placed in none).
"""

from __future__ import annotations

import re
from dataclasses import replace

from osfsck.clients.rabbitmq import QUEUE_COLUMNS, RabbitClient, RabbitError
from osfsck.model.cell_slice import HOST_QUEUE_TOPICS, CellKeys, hosts_queue
from osfsck.model.facts import kind_of
from osfsck.model.facts.rpc import RABBITMQ_PREFIX, RabbitQueue, queue_scope
from osfsck.model.result import SourceStatus
from osfsck.model.secrets import redact_url
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import NotConfigured, cover_all, utcnow
from osfsck.sources.cell_part import CellPartSource
from osfsck.sources.detach import detached, facts_from
from osfsck.sources.rabbitmq.mapping import RabbitShapeError, to_fact

# hosts per name filter: a host name is at most 253 characters, most are 10-30
HOSTS_PER_FILTER = 200


def host_filters(hosts) -> list[str]:
    """Anchored regular expressions matching the nova-compute queues of `hosts`, a few
    hundred hosts each (the broker matches names with Erlang's re, PCRE syntax)."""
    topics = "|".join(re.escape(t) for t in HOST_QUEUE_TOPICS)
    names = sorted(hosts)
    return [
        f"^({topics})\\.({'|'.join(re.escape(h) for h in names[i : i + HOSTS_PER_FILTER])})$"
        for i in range(0, len(names), HOSTS_PER_FILTER)
    ]


class RabbitMQSource(CellPartSource):
    name = "rabbitmq"
    settings_attr = "rabbitmq"
    provides = (RabbitQueue,)

    def __init__(self, settings, transport=None):
        if not settings.brokers:
            raise NotConfigured("[rabbitmq] url is not configured")
        self.settings = settings
        self._transport = transport  # tests: an httpx transport standing in for the brokers

    def reads(self) -> list[str]:
        return [
            f"GET on the RabbitMQ management API of broker {b.name} ({redact_url(b.url)}) as {b.username} (the "
            f"`monitoring` tag is enough): /api/vhosts, /api/queues/<vhost>?page=N&columns="
            f"{','.join(QUEUE_COLUMNS)} for {', '.join(b.vhosts) or 'every vhost'}"
            for b in self.settings.brokers
        ]

    def collect(self, kinds, known: Snapshot, sink: Snapshot, scopes=None) -> list[SourceStatus]:
        wanted = None if scopes is None else {s for s in scopes if s.startswith(RABBITMQ_PREFIX)}
        if wanted is not None and not wanted:
            return []
        statuses = []
        for b in self.settings.brokers:
            if wanted is not None and not any(s.startswith(queue_scope(b.name, "")) for s in wanted):
                continue
            statuses += self._broker(b, sink, wanted, self.cell_keys(known))
        return statuses

    def _broker(self, b, sink: Snapshot, wanted, keys: CellKeys | None) -> list[SourceStatus]:
        at = utcnow()
        try:
            client = RabbitClient(**b.client_kwargs(), transport=self._transport)
        except RabbitError as e:
            return [cover_all(sink, self.provides, queue_scope(b.name, "*"), self.name, False, str(e), at)]
        with client:
            if wanted is not None:
                vhosts = sorted(
                    s[len(queue_scope(b.name, "")) :] for s in wanted if s.startswith(queue_scope(b.name, ""))
                )
            elif b.vhosts:
                vhosts = list(b.vhosts)
            else:
                try:
                    vhosts = client.vhosts()
                except RabbitError as e:
                    return [cover_all(sink, self.provides, queue_scope(b.name, "*"), self.name, False, str(e), at)]
                if not vhosts:
                    # a broker always has a vhost: a user with no permission on any sees none
                    why = (
                        f"RabbitMQ {b.name} ({b.url}): user {b.username!r} sees no vhost (permissions on none?); "
                        "no queue was read"
                    )
                    return [cover_all(sink, self.provides, queue_scope(b.name, "*"), self.name, False, why, at)]
            return [self._vhost(client, b.name, v, sink, keys) for v in vhosts]

    def _vhost(self, client: RabbitClient, broker: str, vhost: str, sink: Snapshot, keys) -> SourceStatus:
        scope, at = queue_scope(broker, vhost), utcnow()
        part = keys.part if keys is not None else ""
        try:
            # the facts detached from the pages while they are held: sources/detach.py
            if keys is None:
                facts = facts_from(client.queues(vhost), lambda q: to_fact(broker, vhost, q))
            else:  # the cells' hosts' queues (a broker that ignored the filter: kept by name)
                listed = [q for f in host_filters(keys.hosts) for q in client.queues(vhost, f)]
                facts = detached(
                    [f for f in (to_fact(broker, vhost, q) for q in listed) if hosts_queue(f.name, keys.hosts)]
                )
        except RabbitError as e:
            if e.status == 404:
                e = RabbitError(f"{e}: no vhost {vhost!r} on broker {broker} (or no permission on it)")
            return cover_all(sink, self.provides, scope, self.name, False, str(e), at, part)
        except RabbitShapeError as e:
            why = f"RabbitMQ {broker}: a queue of vhost {vhost!r} of an unexpected shape: {e}"
            return cover_all(sink, self.provides, scope, self.name, False, why, at, part)
        sink.add(kind_of(RabbitQueue), facts)
        status = cover_all(sink, self.provides, scope, self.name, True, "", at, part)
        if keys is None:
            return status
        return replace(status, reason=f"only the nova-compute queues of {part[6:]}'s {len(keys.hosts)} host(s)")
