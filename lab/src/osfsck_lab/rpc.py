"""RPC in a lab cloud: service heartbeats, instance actions and RabbitMQ queues consistent
with the cloud, then one fault per RPC check and the near misses they must leave alone.

The queues are oslo.messaging's for the cloud's services (research B.4.1): per live host
`compute.<host>` and a `compute_fanout_<id>` with x-expires; `conductor`, `scheduler` and
their hosts' queues; callers' `reply_<id>` queues with x-expires; `cinder-volume.<backend>`.
They are declared durable (amqp_durable_queues = true) so that `lab stop`/`lab start` keep
them.  A lab process (lab/rpc_services.py) plays the live services: it consumes their
queues and keeps their heartbeats fresh, as nova-compute's report_state does, so a lab
checked long after its build still has live services; the dead host's it leaves alone.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

from sqlalchemy import column, create_engine, table, update
from sqlalchemy.pool import NullPool

from osfsck.model.releases import at_least
from osfsck_lab import database, instance_actions, processes, volumes
from osfsck_lab.cloud import Cloud

FANOUT_TTL = 1800000  # oslo.messaging rabbit_transient_queues_ttl, in ms
EXCHANGE = "nova"  # control_exchange
HEARTBEAT_INTERVAL = 10  # nova's report_interval
BROKER_TIMEOUT = 1800.0  # one management API request: the import or the listing of XL's 80,000 queues
STALL = 120.0  # seconds with no queue newly settled before the build gives up on the broker
# ...or one second per this many queues: an XL build gave up on a broker whose statistics
# showed 330 of its 80,000 queues settled a minute after their consumers had all started
# (its Mnesia "overloaded" by their declarations)
STALL_RATE = 200
# the slowest the services process declares and consumes queues (XL's 80,000 took 4
# minutes on these two cores, ~330 a second, beside the broker)
CONSUME_RATE = 50
COMPUTE_ALT_TOPIC = "2026.1"  # the first release whose nova-compute also serves "compute-alt"


@dataclass
class Queue:
    name: str
    consumed: bool = True  # the services process consumes it
    arguments: dict = field(default_factory=dict)
    messages: list = field(default_factory=list)  # payloads published at build
    binding: str | None = None  # routing key on the nova exchange


@dataclass
class RpcState:
    dead: dict = field(default_factory=dict)  # host -> last heartbeat
    actions: list = field(default_factory=list)  # (cell, instance action row, [event rows])
    queues: list = field(default_factory=list)  # Queue
    urls: dict = field(default_factory=dict)  # set by write(): the databases the heartbeats go to


def _state(c: Cloud) -> RpcState:
    if c.rpc is None:
        c.rpc = RpcState()
    return c.rpc


def _hex(c: Cloud) -> str:
    return c.uuid().replace("-", "")


def _action(c: Cloud, cell: str, row: dict, name: str, started: dt.datetime, event: str) -> None:
    """A task in progress: its action and the one event the host started."""
    _state(c).actions.append(
        (cell, *instance_actions.action(c, row, name, started, [instance_actions.event(event, started, row["host"])]))
    )


def _cast(c: Cloud, method: str, uuid: str) -> str:
    """An oslo.messaging cast as a message body: a JSON envelope, as the RPC client sends it."""
    msg = {
        "method": method,
        "args": {"instance": {"nova_object.data": {"uuid": uuid}}},
        "version": "6.0",
        "_unique_id": _hex(c),
        "_msg_id": None,
    }
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(msg)})


# -- faults --------------------------------------------------------------------------------


def inject(c: Cloud, hosts: list[str]) -> None:
    """A dead host with a backlog and a stuck build; a stuck reboot; orphan reply and fanout queues."""
    s = _state(c)
    dead, busy = hosts[0], hosts[1]
    dead_cell, busy_cell = c.cell_of(dead), c.cell_of(busy)
    s.dead[dead] = c.ago(hours=3)
    build = c.add_instance(
        dead_cell,
        dead,
        vm_state="building",
        task_state="spawning",
        power_state=0,
        domain=False,
        folder=False,
        age=dt.timedelta(hours=2),
    )
    c.fault("NV302", build["uuid"], f"building for 2 h on {dead}, whose nova-compute stopped reporting 3 h ago")
    backlog = [_cast(c, "reboot_instance", r["uuid"]) for r in c.instances[dead_cell][:3]]
    backlog.append(_cast(c, "build_and_run_instance", build["uuid"]))
    s.queues.append(Queue(f"compute.{dead}", consumed=False, messages=backlog, binding=f"compute.{dead}"))
    c.fault("MQ101", f"compute.{dead}", f"{len(backlog)} casts queued for {dead}, whose nova-compute is down")
    # the dead compute's fanout queue will expire on its own: a near miss
    s.queues.append(
        Queue(
            f"compute_fanout_{_hex(c)}",
            consumed=False,
            arguments={"x-expires": FANOUT_TTL},
            messages=[json.dumps({"oslo.version": "2.0", "oslo.message": "{}"})] * 2,
        )
    )
    stuck = c.add_instance(busy_cell, busy, task_state="rebooting")
    stuck["updated_at"] = c.ago(hours=4)
    _action(c, busy_cell, stuck, "reboot", c.ago(hours=4), "compute_reboot_instance")
    c.fault("NV301", stuck["uuid"], f"rebooting for 4 h on {busy}; its domain runs")
    orphan = f"reply_{_hex(c)}"
    s.queues.append(
        Queue(
            orphan,
            consumed=False,
            messages=[json.dumps({"oslo.version": "2.0", "oslo.message": '{"result": null}'})] * 5,
        )
    )
    c.fault("MQ102", orphan, "reply queue of a process long gone: no consumer, no x-expires, 5 replies")
    fanout = f"scheduler_fanout_{_hex(c)}"
    s.queues.append(Queue(fanout, consumed=False))
    c.fault("MQ102", fanout, "empty fanout queue declared without x-expires, its process gone")


def near_misses(c: Cloud) -> None:
    s = _state(c)
    h1 = c.hosts[0][0] if c.hosts[0][0] not in s.dead else c.hosts[1][0]
    cell = c.cell_of(h1)
    row = c.add_instance(cell, h1, task_state="rebooting")
    row["updated_at"] = c.ago(minutes=1)
    _action(c, cell, row, "reboot", c.ago(minutes=1), "compute_reboot_instance")
    c.ripens_stuck_task(row, "reboot started a minute ago", started=c.ago(minutes=1))
    # just scheduled: no host yet
    row = c.add_instance(
        cell,
        None,
        vm_state="building",
        task_state="scheduling",
        power_state=0,
        domain=False,
        folder=False,
        age=dt.timedelta(minutes=1),
    )
    c.ripens_stuck_build(row, "build just scheduled, no host yet")
    # a caller's reply queue, in use, declared without x-expires
    s.queues.append(Queue(f"reply_{_hex(c)}"))
    c.notes += [
        "reboot started a minute ago",
        "build just scheduled, no host yet",
        "reply queue in use",
        "fanout queue of the dead host, with x-expires",
    ]
    _consistent_queues(c)


def _compute_topics(c: Cloud) -> tuple[str, ...]:
    """nova-compute's RPC topics: since nova 33.0.0 (2026.1; 82fd8ffdce "Add 2nd RPC server for
    compute service") a second server on "compute-alt" (nova/compute/rpcapi.py RPC_TOPIC_ALT,
    nova/cmd/compute.py)."""
    return ("compute", "compute-alt") if at_least(c.release, COMPUTE_ALT_TOPIC) else ("compute",)


def _consistent_queues(c: Cloud) -> None:
    """What oslo.messaging's rabbit driver declares for each RPC server (impl_rabbit.py):
    `<topic>` and `<topic>.<server>` (declare_topic_consumer), `<topic>_fanout_<uuid hex>`
    with x-expires (declare_fanout_consumer, rabbit_transient_queues_ttl) and callers'
    `reply_<uuid hex>` with x-expires (declare_direct_consumer)."""
    s = _state(c)
    topics = _compute_topics(c)
    for host, _ in c.hosts:
        if host in s.dead:
            continue
        for topic in topics:
            s.queues.append(Queue(f"{topic}.{host}", binding=f"{topic}.{host}"))
            s.queues.append(Queue(f"{topic}_fanout_{_hex(c)}", arguments={"x-expires": FANOUT_TTL}))
    for dead in s.dead:  # the dead host's second server: declared, idle, unconsumed
        for topic in topics[1:]:
            s.queues.append(Queue(f"{topic}.{dead}", consumed=False, binding=f"{topic}.{dead}"))
    for topic in (*topics, "conductor", "scheduler"):
        s.queues.append(Queue(topic, binding=topic))
    for topic in ("conductor", "scheduler"):
        s.queues.append(Queue(f"{topic}.ctl-lab", binding=f"{topic}.ctl-lab"))
        s.queues.append(Queue(f"{topic}_fanout_{_hex(c)}", arguments={"x-expires": FANOUT_TTL}))
    for _ in range(3):  # nova-api, the conductor and the scheduler make calls
        s.queues.append(Queue(f"reply_{_hex(c)}", arguments={"x-expires": FANOUT_TTL}))
    for kind in volumes.BACKENDS:
        s.queues.append(Queue(f"cinder-volume.{volumes.backend(kind)}"))
        s.queues.append(Queue(f"cinder-volume_fanout_{_hex(c)}", arguments={"x-expires": FANOUT_TTL}))
    s.queues.append(Queue("cinder-volume"))
    for name in ("cinder-scheduler", f"cinder-scheduler.{volumes.CINDER_HOST}"):
        s.queues.append(Queue(name))
    s.queues.append(Queue(f"cinder-scheduler_fanout_{_hex(c)}", arguments={"x-expires": FANOUT_TTL}))


# -- databases -----------------------------------------------------------------------------


def write(c: Cloud, urls: dict) -> None:
    """The dead host's stale heartbeat and the instance actions; remembers the databases
    the services process keeps the heartbeats of."""
    s = _state(c)
    s.urls = dict(urls)
    for host, seen in s.dead.items():
        _set(
            urls[f"nova_{c.cell_of(host)}"],
            "services",
            {"host": host, "binary": "nova-compute"},
            {"updated_at": seen, "last_seen_up": seen},
        )
    # every instance's past actions first: the current one of an instance is its last.  The
    # history is made as it is written (the past's instances are not held), a chunk of
    # actions then their events: the events' ids are still in the order of their actions
    for cell, _ in c.cells:
        items = chain(instance_actions.history(c, cell), ((a, e) for at, a, e in s.actions if at == cell))
        numbered = enumerate(items, 1)
        with database.Writer(urls[f"nova_{cell}"]) as w:
            while chunk := list(islice(numbered, database.CHUNK)):
                w.insert("instance_actions", [{"id": i, **a} for i, (a, _) in chunk])
                w.insert("instance_actions_events", [{"action_id": i, **e} for i, (_, events) in chunk for e in events])


def _set(url: str, name: str, where: dict, values: dict) -> None:
    t = table(name, *(column(k) for k in {**where, **values}))
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(update(t).where(*(t.c[k] == v for k, v in where.items())).values(**values))
    engine.dispose()


# -- the broker and the services process --------------------------------------------------


def start(out: Path, c: Cloud, timeout: float = 120) -> tuple[dict, list[str]]:
    """The broker loaded with the cloud's queues, and the process that plays the live
    services; returns (their lab.json entries, osfsck.toml lines)."""
    from osfsck_lab import rabbitmq
    from osfsck_lab.services import start as start_entry
    from osfsck_lab.services import timeout_line

    s = _state(c)
    folder = out / "rabbitmq"
    try:
        broker = rabbitmq.Broker(folder, timeout=timeout)
    except rabbitmq.RabbitError as e:
        raise _lab_error(f"RabbitMQ: {e}") from None
    entries = {
        "rabbitmq": {
            "program": "beam",
            "argv": broker.argv,
            "env": broker.env,
            "pidfile": str(broker.pidfile),
            "log": str(broker.log),
            "port": broker.http_port,
            "epmd_port": broker.epmd_port,
        }
    }
    try:
        load(broker, s.queues)
        config = folder / "services.json"
        config.write_text(json.dumps(services_config(c, broker)))
        config.chmod(0o600)
        pidfile, log = folder / "services.pid", folder / "services.log"
        entries["rpc-services"] = {
            "program": "python",
            "argv": [
                sys.executable,
                "-m",
                "osfsck_lab.rpc_services",
                "--config",
                str(config),
                "--pidfile",
                str(pidfile),
            ],
            "pidfile": str(pidfile),
            "log": str(log),
            "port": broker.amqp_port,
        }
        offset = log.stat().st_size if log.exists() else 0
        pidfile.unlink(missing_ok=True)  # a failed build's, in this folder: its PID has ended
        start_entry(entries["rpc-services"], out)
        # the services process declares and consumes queue by queue: L's 32,000 take minutes
        wait_consuming(log, offset, pidfile, sum(q.consumed for q in s.queues))
        settle(broker, s.queues, stall=max(STALL, len(s.queues) / STALL_RATE))
    except Exception as failed:
        from osfsck_lab.hypervisors import LabError
        from osfsck_lab.services import stop as stop_entry

        # each on its own: the services process not ending must not leave the broker
        # running (its marker names its short home, not the lab, so no sweep finds it)
        for entry in reversed(list(entries.values())):
            try:
                stop_entry(entry, out)
            except LabError as left:
                failed.add_note(str(left))
        raise
    lines = [
        "[rabbitmq]",
        f'url = "{broker.url}"',
        'name = "lab"',
        f'username = "{rabbitmq.USER}"',
        f'password_file = "{broker.password_file.relative_to(out)}"',
        'vhosts = ["/"]',
        # a page of the queue listing costs the broker a sort of every queue
        *timeout_line(len(s.queues), 1000, 30),
        "",
    ]
    return entries, lines


def _lab_error(message: str):
    from osfsck_lab.hypervisors import LabError

    return LabError(message)


def services_config(c: Cloud, broker) -> dict:
    s = _state(c)
    live = [h for h, _ in c.hosts if h not in s.dead]
    cells = {}
    for h in live:
        cells.setdefault(s.urls[f"nova_{c.cell_of(h)}"], []).append(h)
    cinder_hosts = [volumes.backend(k) for k in volumes.BACKENDS] + [volumes.CINDER_HOST]
    return {
        "amqp_url": broker.amqp_url,
        "interval": HEARTBEAT_INTERVAL,
        "queues": [{"name": q.name, "arguments": q.arguments} for q in s.queues if q.consumed],
        "nova": [{"url": url, "hosts": hosts} for url, hosts in sorted(cells.items())],
        "cinder": {"url": s.urls["cinder"], "hosts": cinder_hosts},
    }


# queues per import of definitions: the management API refuses a body over 20 MiB
# (management.http.max_body_size), which XL's 80,000 queues and bindings passed at once
DEFINITIONS_CHUNK = 10_000


def load(broker, queues: list[Queue]) -> None:
    """Declare the queues (durable) and bind the topic ones, by imports of definitions
    (POST /api/definitions/<vhost>: 10,000 queues a request, not two requests each), then
    publish their messages."""
    from osfsck.clients.rabbitmq import RabbitClient, RabbitError

    with RabbitClient(broker.url, "osfsck", broker.password, name="lab", timeout=BROKER_TIMEOUT) as client:
        try:
            for i in range(0, len(queues), DEFINITIONS_CHUNK):
                client.request("POST", "/api/definitions/%2F", body=_definitions(queues[i : i + DEFINITIONS_CHUNK]))
            for q in queues:
                for body in q.messages:
                    client.publish(
                        "/",
                        q.binding or q.name,
                        {
                            "properties": {"delivery_mode": 2, "content_type": "application/json"},
                            "payload": body,
                            "payload_encoding": "string",
                        },
                        exchange=EXCHANGE if q.binding else "amq.default",
                    )
        except RabbitError as e:
            raise _lab_error(f"RabbitMQ: {e}{gone(broker)}") from None


def gone(broker) -> str:
    """Why a broker that stopped answering did, when its Erlang VM has ended: the slogan of
    the crash dump it wrote in its folder (its cwd), else where its logs are; "" while it runs."""
    if broker.running():
        return ""
    why = ""
    try:
        with open(broker.folder / "erl_crash.dump", errors="replace") as dump:
            why = next((line.strip() for line in dump if line.startswith("Slogan:")), "")
    except OSError:
        pass
    return f"; the broker is no longer running ({why or 'no crash dump'}; its logs: {broker.folder / 'log'})"


def _definitions(queues: list[Queue]) -> dict:
    """The topic exchange (declared again by each import: the same, so nothing changes),
    `queues` and the topic ones' bindings."""
    return {
        "exchanges": [
            {
                "name": EXCHANGE,
                "type": "topic",
                "durable": True,
                "auto_delete": False,
                "internal": False,
                "arguments": {},
            }
        ],
        "queues": [{"name": q.name, "durable": True, "auto_delete": False, "arguments": q.arguments} for q in queues],
        "bindings": [
            {
                "source": EXCHANGE,
                "destination": q.name,
                "destination_type": "queue",
                "routing_key": q.binding,
                "arguments": {},
            }
            for q in queues
            if q.binding
        ],
    }


def wait_consuming(
    log: Path, offset: int, pidfile: Path, consumed: int, clock=time.monotonic, sleep=time.sleep
) -> None:
    """Until the services process says (in `log`, past `offset`) that it consumes every
    queue it was given: a queue's consumer shows in the broker's statistics only after, so
    the wait for them to settle starts there.  LabError if the process ends first, or
    after STALL seconds and one per CONSUME_RATE queues."""
    allowed = STALL + consumed / CONSUME_RATE
    deadline = clock() + allowed
    while True:
        try:
            with open(log, "rb") as f:
                f.seek(offset)
                said = f.read().decode(errors="replace")
        except OSError:
            said = ""
        if "\nconsuming " in "\n" + said:
            return
        pid = processes.read_pid(pidfile)
        ended = pid is not None and not processes.alive(pid)
        if ended or clock() >= deadline:
            last = said.strip().splitlines()[-1:] or ["nothing"]
            why = "ended" if ended else f"did not consume its {consumed} queues within {allowed:.0f}s"
            raise _lab_error(f"RabbitMQ: the services process {why}; its log's last line: {last[0]} ({log})")
        sleep(1.0)


def settle(broker, queues: list[Queue], stall: float = STALL) -> None:
    """Until the management API's (sampled) statistics show every queue, each consumed one
    with its consumer and each other with its messages: a check right after the build sees
    the cloud as built."""
    from osfsck.clients.rabbitmq import RabbitClient, RabbitError

    def listing() -> dict | str:
        # one unpaged answer with the three columns needed: each page of a paged listing
        # costs the broker a sort of every queue (L's 32,000 queues: 65 pages, 2 minutes)
        try:
            answer = client.request("GET", "/api/queues/%2F", params={"columns": "name,consumers,messages"})
        except RabbitError as e:
            return str(e)
        return {q["name"]: q for q in answer or ()}

    with RabbitClient(broker.url, "osfsck", broker.password, name="lab", timeout=BROKER_TIMEOUT) as client:
        missing, failed = wait_settled(listing, queues, stall)
    if missing:
        raise _lab_error(
            f"RabbitMQ: {len(missing)} of {len(queues)} queues not settled, none more for {stall:.0f}s or 3 "
            f"listings: {', '.join(missing[:5])}"
            + (f" (the last listing failed: {failed})" if failed else "")
            + gone(broker)
        )


def wait_settled(
    listing, queues: list[Queue], stall: float, clock=time.monotonic, sleep=time.sleep
) -> tuple[list[str], str | None]:
    """Poll `listing()` ({name: the API's queue}, or why it failed) until every queue is
    settled; then ([], None), else (the names not settled, the last failure) once neither
    `stall` seconds nor three listings (and their waits) saw a queue newly settled.  The services process
    declares and consumes queue by queue (L: 32,000 of them, XL: 80,000), as fast as the
    machine lets it: no deadline fits every size and load, a stall does.  A listing of
    that many queues is work for the broker too (a minute at L while the services process
    consumes): the next one waits as long as the last took."""
    want = {q.name: q for q in queues}
    missing, failed = list(want), None
    fewest, since, took = len(want) + 1, clock(), 0.0
    while True:
        started = clock()
        seen = listing()
        took = clock() - started
        if isinstance(seen, str):
            failed = seen
        else:
            failed, missing = None, [n for n, q in want.items() if not _settled(seen.get(n), q)]
            if not missing:
                return [], None
            if len(missing) < fewest:
                fewest, since = len(missing), clock()
        if clock() - since >= max(stall, 6 * took):  # three listings and their waits
            return missing, failed
        sleep(max(1.0, took))


def _settled(seen: dict | None, q: Queue) -> bool:
    if seen is None or not isinstance(seen.get("messages"), int) or not isinstance(seen.get("consumers"), int):
        return False
    return seen["consumers"] >= 1 if q.consumed else (seen["consumers"] == 0 and seen["messages"] == len(q.messages))
