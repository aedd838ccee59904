"""The lab's RPC spec, without a broker: queues consistent with the cloud (every live host's
compute queue consumed, transient queues expiring), one fault per RPC check in the truth,
the dead host's stale heartbeat and the instance actions written to the real schema, and
the services process's heartbeats reaching the live hosts only."""

import datetime as dt
import sqlite3

import pytest

from osfsck_lab import build, database, rpc, rpc_services, schemas, volumes

NOW = dt.datetime(2026, 11, 25, 12, 0)


def cloud():
    return build.spec("small", 1, NOW)


def test_one_fault_per_rpc_check_and_queues_consistent_with_the_cloud():
    c = cloud()
    s = c.rpc
    codes = [t["code"] for t in c.truth if t["code"] in ("NV301", "NV302", "MQ101", "MQ102")]
    assert sorted(codes) == ["MQ101", "MQ102", "MQ102", "NV301", "NV302"]
    (dead,) = s.dead
    queues = {q.name: q for q in s.queues}
    assert len(queues) == len(s.queues), "queue names are unique"
    backlog = queues[f"compute.{dead}"]
    assert (
        not backlog.consumed
        and backlog.messages
        and {"MQ101", f"compute.{dead}"} <= {p for t in c.truth for p in (t["code"], t["subject"])}
    )
    for host, _ in c.hosts:
        if host != dead:
            assert queues[f"compute.{host}"].consumed
    for q in s.queues:
        transient = q.name.startswith("reply_") or "_fanout_" in q.name
        orphan = any(t["subject"] == q.name for t in c.truth)
        if transient and not q.consumed and not orphan:
            assert q.arguments.get("x-expires"), f"{q.name}: an unconsumed transient queue that is no fault expires"
    # the stuck build is on the dead host, the stuck reboot elsewhere, with its action
    stuck_build = c.find(next(t["subject"] for t in c.truth if t["code"] == "NV302"))
    assert stuck_build["host"] == dead and stuck_build["vm_state"] == "building"
    stuck = c.find(next(t["subject"] for t in c.truth if t["code"] == "NV301"))
    assert stuck["host"] != dead and stuck["task_state"] == "rebooting"
    assert any(a["instance_uuid"] == stuck["uuid"] for _, a, _ in s.actions)
    assert "reply queue in use" in c.notes and "build just scheduled, no host yet" in c.notes


def test_write_ages_the_dead_host_and_the_services_process_keeps_the_others_fresh(tmp_path):
    c = cloud()
    release = schemas.releases()[0]
    urls = database.database_urls(tmp_path, None, "t", [f"nova_{cell}" for cell, _ in c.cells] + ["cinder"])
    for cell, _ in c.cells:
        database.create(urls[f"nova_{cell}"], "nova", release)
        database.insert_rows(
            urls[f"nova_{cell}"],
            "instances",
            [{k: r[k] for k in ("uuid", "id", "host", "deleted", "created_at")} for r in c.instances.get(cell, [])],
        )
        database.insert_rows(
            urls[f"nova_{cell}"],
            "services",
            [
                {
                    "host": h,
                    "binary": "nova-compute",
                    "topic": "compute",
                    "report_count": 1,
                    "deleted": 0,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "last_seen_up": NOW,
                }
                for h in c.hosts_in(cell)
            ],
        )
    database.create(urls["cinder"], "cinder", release)
    database.insert_rows(
        urls["cinder"],
        "services",
        [
            {
                "host": volumes.backend("iscsi"),
                "binary": "cinder-volume",
                "report_count": 1,
                "deleted": 0,
                "created_at": NOW,
                "updated_at": NOW,
            }
        ],
    )
    rpc.write(c, urls)
    (dead,) = c.rpc.dead

    def heartbeats():
        out = {}
        for cell, _ in c.cells:
            with sqlite3.connect(urls[f"nova_{cell}"][len("sqlite:///") :]) as conn:
                out.update(dict(conn.execute("SELECT host, last_seen_up FROM services")))
        return out

    assert heartbeats()[dead].startswith("2026-11-25 09:00:00")
    with sqlite3.connect(urls[f"nova_{c.cell_of(dead)}"][len("sqlite:///") :]) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM instance_actions a JOIN instance_actions_events e ON e.action_id = a.id"
            ).fetchone()[0]
            >= 1
        )

    class FakeBroker:
        amqp_url = "amqp://x"

    config = rpc.services_config(c, FakeBroker())
    assert dead not in {h for cell in config["nova"] for h in cell["hosts"]}
    rpc_services.report(config, {})
    beats = heartbeats()
    assert beats[dead].startswith("2026-11-25 09:00:00")
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    assert all(beats[h].startswith(today) for h, _ in c.hosts if h != dead)


def test_each_release_declares_its_services_queues():
    """oslo.messaging's rabbit driver declares `<topic>`, `<topic>.<server>` and an expiring
    `<topic>_fanout_<id>` per RPC server; nova-compute runs a second server on
    "compute-alt" since nova 33.0.0 (2026.2), not in 2024.1; Cinder's scheduler and volume
    services have theirs."""
    for release, alt in (("2024.1", False), ("2026.2", True)):
        c = build.spec("small", 1, NOW, release)
        names = {q.name for q in c.rpc.queues}
        (dead,) = c.rpc.dead
        live = [h for h, _ in c.hosts if h != dead]
        assert all((f"compute-alt.{h}" in names) == alt for h in live)
        assert ("compute-alt" in names) == alt and (f"compute-alt.{dead}" in names) == alt
        assert sum(n.startswith("compute-alt_fanout_") for n in names) == (len(live) if alt else 0)
        assert {"cinder-scheduler", f"cinder-scheduler.{volumes.CINDER_HOST}"} <= names
        assert any(n.startswith("cinder-volume_fanout_") for n in names)


def test_a_failed_start_stops_the_broker_even_when_the_services_process_would_not_end(tmp_path, monkeypatch):
    # found on an L build under load: the queues did not settle, the services process
    # did not end in time, and the broker (marked with its own short home, which no
    # sweep of the lab's folder finds) kept running
    from osfsck_lab import rabbitmq, services
    from osfsck_lab.hypervisors import LabError

    class Broker:
        def __init__(self, folder, timeout):
            self.folder = folder
            self.argv, self.env, self.pidfile, self.log = ["beam"], {"HOME": "short"}, "pid", "log"
            self.http_port = self.epmd_port = self.amqp_port = 1

    stopped = []

    def stop(entry, out):
        stopped.append(entry["program"])
        if entry["program"] == "python":
            raise LabError("rpc-services (pid 7) did not end")

    def unsettled(*args, **kwargs):
        raise LabError("RabbitMQ: queues not settled after 705s: compute")

    monkeypatch.setattr(rabbitmq, "Broker", Broker)
    monkeypatch.setattr(rpc, "load", lambda broker, queues: None)
    monkeypatch.setattr(rpc, "services_config", lambda c, broker: {})
    monkeypatch.setattr(services, "start", lambda entry, out: None)
    monkeypatch.setattr(services, "stop", stop)
    monkeypatch.setattr(rpc, "settle", unsettled)
    monkeypatch.setattr(rpc, "wait_consuming", lambda *args: None)
    (tmp_path / "rabbitmq").mkdir()
    with pytest.raises(LabError, match="not settled") as e:
        rpc.start(tmp_path, cloud())
    assert stopped == ["python", "beam"]
    assert "did not end" in "\n".join(e.value.__notes__)


def test_queues_are_declared_by_imports_of_at_most_a_chunk_each(monkeypatch):
    """XL's 80,000 queues in one import passed the management API's 20 MiB body limit."""
    from osfsck.clients import rabbitmq as client_module

    posted, published = [], []

    class Client:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def request(self, method, path, body=None):
            posted.append((method, path, body))

        def publish(self, vhost, key, message, exchange):
            published.append((key, message["payload"], exchange))

    class Broker:
        url, password = "http://127.0.0.1:1", "x"

    monkeypatch.setattr(client_module, "RabbitClient", Client)
    monkeypatch.setattr(rpc, "DEFINITIONS_CHUNK", 2)
    queues = [rpc.Queue(f"q{i}", binding=f"q{i}" if i % 2 else None, messages=[f"m{i}"]) for i in range(5)]
    rpc.load(Broker(), queues)
    assert [(m, p) for m, p, _ in posted] == [("POST", "/api/definitions/%2F")] * 3
    assert [[q["name"] for q in b["queues"]] for _, _, b in posted] == [["q0", "q1"], ["q2", "q3"], ["q4"]]
    assert [[b["destination"] for b in body["bindings"]] for _, _, body in posted] == [["q1"], ["q3"], []]
    assert all(body["exchanges"][0]["name"] == rpc.EXCHANGE for _, _, body in posted)
    assert [p for _, p, _ in published] == [f"m{i}" for i in range(5)]  # every message, once
