"""How long a build waits for the broker to show its queues settled: as long as queues keep
settling (the services process declares and consumes them one by one: an L lab's 32,000
took more than the former fixed 60 s + 1 s per 50 queues on a busy machine), and no longer
than `stall` (or three slow listings) once none does; a listing that fails (the management
API cut off at a minute while the services process consumed) is a listing that saw nothing."""

from __future__ import annotations

import pytest

from osfsck_lab.hypervisors import LabError
from osfsck_lab.rpc import Queue, gone, wait_consuming, wait_settled


class Broker:
    """Queues a listing shows consumed, `per_listing` more each time; each listing takes
    `listing_s` seconds of a fake clock."""

    def __init__(self, names, per_listing: int, listing_s: float, stop_at: int | None = None, fail_every: int = 0):
        self.names, self.per_listing, self.listing_s, self.stop_at = names, per_listing, listing_s, stop_at
        self.now, self.consumed, self.listings, self.sleeps = 0.0, 0, 0, []
        self.fail_every = fail_every

    def clock(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s

    def listing(self) -> dict | str:
        self.now += self.listing_s
        self.listings += 1
        if self.fail_every and self.listings % self.fail_every == 0:
            return "connection failed (Server disconnected without sending a response.)"
        self.consumed = min(self.consumed + self.per_listing, self.stop_at or len(self.names))
        return {n: {"name": n, "consumers": int(i < self.consumed), "messages": 0} for i, n in enumerate(self.names)}


def test_a_slow_broker_that_keeps_settling_is_waited_for():
    names = [f"compute.h{i}" for i in range(400)]
    broker = Broker(names, per_listing=1, listing_s=20.0)
    assert wait_settled(broker.listing, [Queue(n) for n in names], 120, broker.clock, broker.sleep) == ([], None)
    # 400 listings of 20 s, each followed by a wait as long: far beyond 60 s + 400 / 50
    assert broker.listings == 400 and broker.now > 15000
    assert set(broker.sleeps) == {20.0}


def test_failed_and_slow_listings_do_not_end_the_wait_too_soon():
    """Every other listing cut off after 60 s: the wait outlasts the 30 s stall by three
    listings' time, and ends when all are settled."""
    names = [f"compute.h{i}" for i in range(10)]
    broker = Broker(names, per_listing=2, listing_s=60.0, fail_every=2)
    assert wait_settled(broker.listing, [Queue(n) for n in names], 30, broker.clock, broker.sleep) == ([], None)
    assert broker.listings == 9


def test_a_listing_that_keeps_failing_is_said_why():
    names = ["compute.h1"]
    broker = Broker(names, per_listing=1, listing_s=5.0, fail_every=1)
    missing, failed = wait_settled(broker.listing, [Queue(n) for n in names], 30, broker.clock, broker.sleep)
    assert missing == names and "Server disconnected" in failed


def test_a_stalled_broker_is_given_up_on_after_the_stall():
    names = [f"compute.h{i}" for i in range(10)]
    broker = Broker(names, per_listing=3, listing_s=0.5, stop_at=6)
    missing, failed = wait_settled(broker.listing, [Queue(n) for n in names], 30, broker.clock, broker.sleep)
    assert missing == names[6:] and failed is None
    # settled up to 6 by the second listing, then 30 s of 1.5 s rounds (a wait of at least 1 s)
    assert 30 <= broker.now <= 36 and min(broker.sleeps) == 1.0


def test_unconsumed_queues_settle_with_their_messages():
    want = [Queue("compute.dead", consumed=False, messages=["a", "b"]), Queue("reply_x", consumed=False)]
    seen = {"compute.dead": {"consumers": 0, "messages": 1}, "reply_x": {"consumers": 0, "messages": 0}}
    t = [0.0]

    def clock():
        return t[0]

    def sleep(s):
        t[0] += s

    assert wait_settled(lambda: seen, want, 5, clock, sleep) == (["compute.dead"], None)
    seen["compute.dead"]["messages"] = 2
    assert wait_settled(lambda: seen, want, 5, clock, sleep) == ([], None)


class _Ended:
    def __init__(self, folder, running=False):
        self.folder, self._running = folder, running

    def running(self):
        return self._running


def test_a_broker_that_ended_says_so_with_its_crash_dump_slogan(tmp_path):
    (tmp_path / "erl_crash.dump").write_text("=erl_crash_dump:0.5\nThu Dec  7\nSlogan: eheap_alloc: Cannot allocate\n")
    said = gone(_Ended(tmp_path))
    assert "no longer running (Slogan: eheap_alloc: Cannot allocate;" in said and str(tmp_path / "log") in said


def test_a_broker_that_ended_without_a_dump_says_so(tmp_path):
    assert "no longer running (no crash dump;" in gone(_Ended(tmp_path))


def test_a_running_broker_adds_nothing(tmp_path):
    (tmp_path / "erl_crash.dump").write_text("Slogan: an old one\n")
    assert gone(_Ended(tmp_path, running=True)) == ""


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_the_wait_for_consumers_ends_when_the_services_process_says_it_consumes(tmp_path):
    log = tmp_path / "services.log"
    log.write_text("consuming 3 queues\nbroker connection lost (x); reconnecting\n")  # a run before this one
    offset = log.stat().st_size
    clock, lines = _Clock(), iter(["", "heartbeat to x failed: busy\n", "consuming 3 queues\n"])

    def sleep(seconds):
        clock.sleep(seconds)
        with open(log, "a") as f:
            f.write(next(lines))

    wait_consuming(log, offset, tmp_path / "no.pid", 3, clock, sleep)
    assert clock.now == 3.0  # not at once: the earlier run's line is before the offset


def test_a_services_process_that_ended_is_said_with_its_last_line(tmp_path):
    import subprocess

    ended = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True).stdout.strip()
    (tmp_path / "pid").write_text(ended + "\n")
    (tmp_path / "log").write_text("Traceback (most recent call last):\npika.exceptions.AMQPConnectionError\n")
    clock = _Clock()
    with pytest.raises(LabError, match=r"process ended; its log's last line: pika.exceptions.AMQPConnectionError"):
        wait_consuming(tmp_path / "log", 0, tmp_path / "pid", 3, clock, clock.sleep)
    assert clock.now == 0.0


def test_a_services_process_that_never_consumes_is_given_up_on_after_its_allowance(tmp_path):
    clock = _Clock()
    with pytest.raises(LabError, match=r"did not consume its 1000 queues within 140s; its log's last line: nothing"):
        wait_consuming(tmp_path / "missing.log", 0, tmp_path / "no.pid", 1000, clock, clock.sleep)
    assert clock.now == 140.0
