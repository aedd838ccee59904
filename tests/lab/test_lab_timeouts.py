"""What a lab the size of XL needs of its servers' and sources' time limits: osfsck.toml
gives a source a timeout fitting the objects it reads where the default would not do
(and nothing where it does), and a server waited for that long is given up on as soon as
it exits with an error."""

from __future__ import annotations

import sys
import time

import pytest

from osfsck.config.load import load_settings
from osfsck_lab.hypervisors import LabError
from osfsck_lab.loopback import free_port
from osfsck_lab.services import start, timeout_line


def test_a_source_gets_a_timeout_only_where_its_default_is_too_short():
    assert timeout_line(15_000, 1000, 120) == []  # M's northbound: the default 2 minutes
    assert timeout_line(650_000, 1000, 120) == ['timeout = "650s"']  # XL's
    assert timeout_line(80_000, 1000, 30) == ['timeout = "80s"']  # XL's queues
    assert timeout_line(0, 1000, 30) == []


def test_osfsck_reads_the_timeouts_the_lab_writes(tmp_path):
    (tmp_path / "pw").write_text("secret\n")
    (tmp_path / "osfsck.toml").write_text(
        "\n".join(
            [
                "[nova]",
                'api_database = "sqlite:///api.sqlite"',
                "[ovn]",
                'nb_connection = "tcp:127.0.0.1:6641"',
                *timeout_line(650_000, 1000, 120),
                "[rabbitmq]",
                'url = "http://127.0.0.1:15672"',
                'username = "osfsck"',
                'password_file = "pw"',
                *timeout_line(80_000, 1000, 30),
            ]
        )
    )
    settings = load_settings(str(tmp_path / "osfsck.toml"))
    assert settings.ovn.timeout == 650 and settings.rabbitmq.brokers[0].timeout == 80


def test_a_server_that_exits_with_an_error_is_not_waited_for(tmp_path):
    entry = {
        "program": "python",
        "argv": [sys.executable, "-c", "import sys; sys.exit(3)"],
        "pidfile": str(tmp_path / "x.pid"),
        "log": str(tmp_path / "x.log"),
        "port": free_port(),
    }
    t = time.monotonic()
    with pytest.raises(LabError, match="exited with status 3 before it answered"):
        start(entry, tmp_path, timeout=600)
    assert time.monotonic() - t < 60
