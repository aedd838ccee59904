"""-v, --debug, --log-file and --syslog say what osfsck does, source by source (what it
reads, how long it took, how many facts, complete or not and why), keep the libraries'
own chatter out unless --debug, and never write a secret.

The cloud is real: Nova's API and cell databases on SQLite with the real schema (the
lab's), one cell readable and one whose database is missing (partial), and a volume
mapping whose connection_info holds a CHAP password."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys

import pytest

from osfsck_lab import database, schemas

T0 = dt.datetime(2026, 3, 1, 12, 30, 5)
CHAP = "Pl4ntedChapZq7x"
LIVE = "aaaaaaaa-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    """A folder with osfsck.toml for a Nova whose cell2 cannot be read."""
    folder = tmp_path_factory.mktemp("cloud")
    release = schemas.releases()[-1]
    urls = database.database_urls(folder, None, "t", ["nova_api", "nova_cell1"])
    database.create(urls["nova_api"], "nova_api", release)
    database.create(urls["nova_cell1"], "nova", release)
    cell = {"transport_url": "none:///", "disabled": False, "created_at": T0}
    database.insert_rows(
        urls["nova_api"],
        "cell_mappings",
        [
            {**cell, "id": 1, "uuid": "c1", "name": "cell1", "database_connection": urls["nova_cell1"]},
            {**cell, "id": 2, "uuid": "c2", "name": "cell2", "database_connection": f"sqlite:///{folder}/absent.db"},
        ],
    )
    database.insert_rows(
        urls["nova_api"],
        "instance_mappings",
        [{"instance_uuid": LIVE, "cell_id": 1, "project_id": "p", "queued_for_delete": False, "created_at": T0}],
    )
    row = {"host": "hv1", "node": "hv1", "project_id": "p", "vcpus": 1, "memory_mb": 64, "root_gb": 1}
    database.insert_rows(
        urls["nova_cell1"],
        "instances",
        [{**row, "id": 1, "uuid": LIVE, "deleted": 0, "created_at": T0, "updated_at": T0, "vm_state": "active"}],
    )
    info = {
        "driver_volume_type": "iscsi",
        "data": {"target_iqn": "iqn.2010-10.org.openstack:volume-v1", "target_portal": "192.0.2.10:3260",
                 "target_lun": 1, "auth_method": "CHAP", "auth_username": "u", "auth_password": CHAP},
    }  # fmt: skip
    database.insert_rows(
        urls["nova_cell1"],
        "block_device_mapping",
        [
            {
                "id": 1,
                "uuid": "b1",
                "instance_uuid": LIVE,
                "volume_id": "v1",
                "source_type": "volume",
                "destination_type": "volume",
                "deleted": 0,
                "created_at": T0,
                "connection_info": json.dumps(info),
            }
        ],
    )
    (folder / "osfsck.toml").write_text(
        f'[nova]\napi_database = "{urls["nova_api"]}"\n[repair]\njournal = "{folder}/journal.jsonl"\n'
    )
    return folder


def osfsck(cloud, *args: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "osfsck.cli.main", "-c", str(cloud / "osfsck.toml"), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def check(cloud, *args: str) -> subprocess.CompletedProcess:
    p = osfsck(cloud, *args, "check", "--select", "NV201")
    assert p.returncode == 8, p.stderr  # cell2 could not be read
    assert CHAP not in p.stdout + p.stderr
    return p


def test_without_v_only_the_failed_scope(cloud):
    p = check(cloud)
    assert [line for line in p.stderr.splitlines() if "INFO" in line or "DEBUG" in line] == []
    assert re.search(r"^osfsck: nova-db cell:cell2: partial: cell cell2: .*absent\.db", p.stderr, re.M), p.stderr


def test_v_says_what_each_source_did(cloud):
    err = check(cloud, "-v").stderr
    assert re.search(r"^osfsck: INFO osfsck\.engine\.collect: nova-db: reading .*nova\.instance\b", err, re.M), err
    m = re.search(
        r"^osfsck: INFO osfsck\.engine\.collect: nova-db: 3 scope\(s\) in (\d+\.\d\d) s, (\d+) object\(s\), "
        r"1 not complete$",
        err,
        re.M,
    )
    assert m and int(m[2]) >= 3, err  # the cell, its instance and its mapping at least
    assert re.search(r"nova-db cell:cell2: partial, 0 object\(s\): cell cell2: ", err), err
    assert "nova-db cell:cell1: ok" not in err  # a complete scope is --debug's
    assert not re.search(r"^osfsck: \w+ (sqlalchemy|urllib3|httpx)", err, re.M)


def test_v_puts_the_sources_line_in_the_text_report(cloud):
    out = check(cloud, "-v").stdout
    last = out.rstrip().splitlines()[-1]
    assert re.fullmatch(r"Sources: nova-db \d+\.\d\d s \(3 scope\(s\), \d+ object\(s\), 1 partial\)\.", last), out


def test_debug_names_every_scope_and_the_libraries_by_their_logger(cloud):
    err = check(cloud, "--debug").stderr
    assert re.search(r"^osfsck: DEBUG osfsck\.engine\.collect: nova-db cell:cell1: ok, \d+ object\(s\)$", err, re.M)
    assert re.search(r"^osfsck: DEBUG osfsck\.engine\.collect: nova-db reads SELECT on", err, re.M), err
    # every line says whose it is: ours are osfsck.*, a library's its own logger's name
    assert all(re.match(r"osfsck: (\w+ [\w.]+: |nova-db |INCOMPLETE|\S)", line) for line in err.splitlines())


def test_log_file_keeps_the_v_lines_with_times(cloud):
    log = cloud / "osfsck.log"
    check(cloud, "--log-file", str(log))
    text = log.read_text()
    assert re.search(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} osfsck\[\d+\] INFO osfsck\.engine\.collect: nova-db: 3 scope\(s\)",
        text,
        re.M,
    ), text
    assert CHAP not in text


def test_an_error_goes_to_the_log_file_too(cloud, tmp_path):
    log = tmp_path / "osfsck.log"
    p = osfsck(cloud, "--log-file", str(log), "check", "--from", str(tmp_path / "absent.json"))
    assert p.returncode == 8 and len(p.stderr.splitlines()) == 1
    assert p.stderr.split("osfsck: ", 1)[1].strip() in log.read_text()


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda d: d / "no" / "such" / "folder" / "x.log", "No such file or directory"),
        (lambda d: d, "Is a directory"),
    ],
)
def test_an_unusable_log_file_is_one_line_and_exit_16(cloud, tmp_path, make, says):
    path = make(tmp_path)
    p = osfsck(cloud, "--log-file", str(path), "check")
    assert (p.returncode, p.stdout) == (16, "")
    assert p.stderr == f"osfsck: --log-file {path}: {says}\n"


def test_a_log_file_the_kernel_refuses(cloud):
    # even root cannot append to /proc/version: the open fails, one line
    p = osfsck(cloud, "--log-file", "/proc/version", "check")
    assert (p.returncode, p.stdout, len(p.stderr.splitlines())) == (16, "", 1)
    assert p.stderr.startswith("osfsck: --log-file /proc/version: ")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_a_full_log_file_is_said_once_and_the_run_goes_on(cloud):
    """logging's default is a traceback per line that cannot be written; and the failed
    flush at the end took the run's exit status."""
    p = check(cloud, "-v", "--log-file", "/dev/full")  # exit 8: cell2's, as without the log file
    assert "Traceback" not in p.stderr and "Logging error" not in p.stderr
    assert (
        p.stderr.count("osfsck: warning: --log-file /dev/full: No space left on device; no more log lines go there\n")
        == 1
    )
    assert "Sources: nova-db" in p.stdout


def test_syslog_without_a_socket_is_one_line(cloud, tmp_path):
    p = osfsck(cloud, "--syslog-socket", str(tmp_path / "no-log"), "checks")
    assert (p.returncode, p.stdout) == (16, "")
    assert (
        p.stderr
        == f"osfsck: --syslog: no {tmp_path / 'no-log'} here (no syslog daemon listening); use --log-file instead\n"
    )


def test_syslog_receives_the_v_lines(cloud, tmp_path):
    """A datagram socket standing where /dev/log would: what a syslog daemon receives."""
    path = str(tmp_path / "log")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        server.settimeout(10)
        check(cloud, "--syslog-socket", path)
        got = []
        server.settimeout(0.5)
        try:
            while True:
                got.append(server.recv(65536).decode())
        except TimeoutError:
            pass
    # <30>: facility daemon (3) * 8 + info (6); the ident, then our line
    assert any(re.match(r"<30>osfsck: INFO osfsck\.engine\.collect: nova-db: 3 scope\(s\)", g) for g in got), got
    assert any(g.startswith("<28>osfsck: WARNING") or g.startswith("<27>osfsck: ERROR") for g in got) or got
    assert not any(CHAP in g for g in got)
