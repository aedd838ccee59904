"""Property tests: random and mutated config files, snapshots and journals never make
osfsck raise anything but its own one-line errors (issue 15, defect 7).

Mutations start from valid inputs: a lab-like osfsck.toml (values replaced by values of
other TOML types, lines deleted or repeated, table headers and bytes inserted), the
snapshot of every "found" scenario case of every check (values anywhere replaced by other
JSON values, members deleted, strings cut or spliced, the text cut or spliced, gzip
damaged), and a journal of real records (the same, line by line).  The readers
(`load_settings` + the check build, `Snapshot.read`, `Journal.entries`) may raise only
ConfigError, SnapshotFormatError or JournalError, of one line; `main()` must end with an
exit code and never with its last-resort "internal error" line.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import io
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osfsck.cli.main import main
from osfsck.config.load import load_settings
from osfsck.config.settings import ConfigError
from osfsck.engine import wiring
from osfsck.engine.journal import Journal, JournalError
from osfsck.model.snapshot import Snapshot, SnapshotFormatError
from tests.checks.scenario import FOUND, scenario_modules

FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)

LAB_TOML = """\
# osfsck configuration for a lab cloud, as `osfsck lab build` writes one (and a few more keys)
[nova]
api_database = "sqlite:///db/nova_api.sqlite"
cell_url_base = "mysql://nova@127.0.0.1:3306/nova"

[nova.cells.cell1]
skip = false

[cinder]
database = "sqlite:///db/cinder.sqlite"

[neutron]
database = "sqlite:///db/neutron.sqlite"
endpoint = "http://127.0.0.1:9696"
auth = "none"

[dns]
server = "127.0.0.1:5353"
key = "osfsck"

[dns.keys.osfsck]
algorithm = "hmac-sha256"
secret_file = "dns/osfsck.key"

[dns.zones."lab.example."]
[dns.zones."10.in-addr.arpa."]
hostname_template = "{hostname}.lab.example."

[ovn]
nb_connection = "tcp:127.0.0.1:6641"
timeout = "2m"

[nsx]
url = "https://127.0.0.1:8443"
api = "policy"
username = "admin"
password_file = "nsx/password"
ca_file = "nsx/cert.pem"

[placement]
database = "sqlite:///db/placement.sqlite"
endpoint = "http://127.0.0.1:8778"
auth = "none"

[rabbitmq]
url = "http://127.0.0.1:15672"
name = "lab"
username = "osfsck"
password_env = "OSFSCK_FUZZ_RABBIT"
vhosts = ["/"]

[hypervisors]
transport = "local"
concurrency = 8
timeout = "60s"
uri_template = "qemu+ssh://{host}/system"
ssh_options = ["-o", "BatchMode=yes"]

[hypervisors.hosts."hv1"]
uri = "qemu:///session?socket=/srv/lab/hv1/libvirt-sock"
instances_path = "/srv/lab/hosts/hv1/instances"
iscsiadm = "/srv/lab/hosts/hv1/iscsi/iscsiadm"

[repair]
journal = "journal.jsonl"
grace = "30m"
max_per_check = 25
implausible_share = 0.5

[checks.zombie-domain]
grace = "2h"
repair = "shutdown-domain"

[checks.stuck-instance-task]
service_down_time = 60
thresholds = { rebooting = 1800, migrating = "6h" }

[checks.quota-usage-drift]
no_snapshot_gb_quota = false
"""
LAB_FILES = {"dns/osfsck.key": "c2VjcmV0c2VjcmV0c2VjcmV0\n", "nsx/password": "pw\n", "nsx/cert.pem": "-----\n"}
ENV = {"OSFSCK_FUZZ_RABBIT": "pw"}

TOML_VALUES = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.sampled_from(
        [
            "true",
            "false",
            "inf",
            "-inf",
            "nan",
            "0.0",
            "1e300",
            "-0.5",
            "1979-05-27T07:32:00Z",
            "07:32:00",
            "[]",
            "{}",
            '["a", 1]',
            "{ a = 1 }",
            '"{hots}"',
            '"qemu+ssh://{host/x"',
            '"mysql://u@[::1/x"',
            '"mysql://u@db:99999/x"',
            '"http://[::1"',
            '"30y"',
            '"-5m"',
            '""',
            '"\\u0000"',
            '"a\\nb"',
            '"/"',
            '"."',
            '"x/../../etc/passwd"',
            '"' + "x" * 300 + '"',
        ]
    ),
    st.text(max_size=20).map(json.dumps),
)
NAMES = st.sampled_from(
    [
        "nova",
        "cinder",
        "checks",
        "checks.HV101",
        "checks.nope",
        "repair",
        "hypervisors.hosts.x",
        "nova.cells",
        "dns.zones.x",
        "rabbitmq.brokers.b",
        "nsx",
        "x",
    ]
)


@st.composite
def mutated_toml(draw) -> bytes:
    lines = LAB_TOML.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["value", "value", "value", "delete", "repeat", "key", "header"]))
        if op == "value" and "=" in lines[i]:
            lines[i] = lines[i].split("=", 1)[0] + "= " + draw(TOML_VALUES)
        elif op == "delete":
            del lines[i]
        elif op == "repeat":
            lines.insert(i, lines[i])
        elif op == "key":
            lines.insert(i, draw(st.from_regex(r"[a-z_]{1,12}", fullmatch=True)) + " = " + draw(TOML_VALUES))
        elif op == "header":
            lines.insert(i, draw(st.sampled_from(["[{}]", "[[{}]]"])).format(draw(NAMES)))
    data = "\n".join(lines).encode()
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return data


def _plain(snap) -> dict:
    return json.loads(json.dumps(snap.to_json()))


SEEDS = [_plain(case.build()) for mod in scenario_modules().values() for case in mod.CASES if case.kind == FOUND]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "2026-11-24T12:00:00",
            "2026-11-24T12:00:00+02:00",
            "cell:cell1",
            "host:hv1",
            "*",
            "",
            "osfsck-snapshot/1",
            "nova.instance",
            "0" * 5000,
        ]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


def _mutate(draw, data):
    """One mutation at a random place of a JSON document (which it may replace whole)."""
    path = draw(st.sampled_from(list(_paths(data))))
    op = draw(st.sampled_from(["replace", "replace", "delete", "splice", "append"]))
    if not path:
        return draw(JSON_VALUES) if op == "replace" else data
    parent = data
    for p in path[:-1]:
        parent = parent[p]
    key = path[-1]
    value = parent[key]
    if op == "replace":
        parent[key] = draw(JSON_VALUES)
    elif op == "delete":
        del parent[key]
    elif op == "splice" and isinstance(value, str):
        at = draw(st.integers(0, len(value)))
        parent[key] = value[:at] + draw(st.text(max_size=4)) + value[at + draw(st.integers(0, 3)) :]
    elif op == "splice" and isinstance(value, (int, float)) and not isinstance(value, bool):
        parent[key] = draw(st.sampled_from([-1, 0, 2**70, -(2**70), 1.5, value + 1]))
    elif op == "append" and isinstance(value, list):
        value.append(draw(JSON_VALUES) if draw(st.booleans()) or not value else copy.deepcopy(value[0]))
    return data


def _damage(draw, text: str, gz: bool) -> bytes:
    data = text.encode()
    if gz:
        data = gzip.compress(data, mtime=0)
    how = draw(st.sampled_from(["none"] * 8 + ["cut", "bytes"]))
    if how == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif how == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return data


def _same_type(draw, value):
    """Another value of the same JSON type: what a well-formed snapshot of another cloud,
    or a hand edit, could hold there (the checks must take any of them)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return draw(st.sampled_from([0, 1, -1, 2**31, 2**63, -(2**63), value + 1, value - 1]))
    if isinstance(value, float):
        return draw(st.floats())
    if isinstance(value, str):
        return (
            draw(
                st.sampled_from(
                    [
                        "",
                        " ",
                        "x",
                        "*",
                        ":",
                        "host:",
                        "cell:",
                        "a:b:c",
                        "-1",
                        "0",
                        "None",
                        "2026-11-24T12:00:00",
                        "1970-01-01T00:00:00",
                        "9999-12-31T23:59:59",
                        "0001-01-01T00:00:00",
                        "::",
                        "10.0.0.0/33",
                        "300.1.2.3",
                        "fe80::1%eth0",
                        "..",
                        "a..b.",
                        "/",
                        "instance-zzzzzzzz",
                        "{}",
                        "[]",
                        value.upper(),
                        value[::-1],
                        value * 3,
                    ]
                )
            )
            if draw(st.booleans())
            else draw(st.text(max_size=10))
        )
    if isinstance(value, list):
        return draw(st.lists(st.sampled_from(["", "x", "/", "sda", "iqn.x:y", "10.0.0.1", "::1"]), max_size=3))
    return value


@st.composite
def mutated_snapshot(draw) -> tuple[str, bytes]:
    data = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        rows = [(k, i) for k, block in data["facts"].items() for i in range(len(block["rows"]))]
        if rows and draw(st.integers(0, 2)):
            # a fact's value: most mutations go here, past the format checks, into the checks
            kind, i = draw(st.sampled_from(rows))
            row = data["facts"][kind]["rows"][i]
            j = draw(st.integers(0, len(row) - 1))
            row[j] = None if draw(st.integers(0, 5)) == 0 else _same_type(draw, row[j])
        else:
            data = _mutate(draw, data)
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("facts"), dict)
            or not all(
                isinstance(b, dict) and isinstance(b.get("rows"), list) and all(isinstance(r, list) for r in b["rows"])
                for b in data["facts"].values()
            )
        ):
            break
    gz = draw(st.booleans())
    return ("snap.json.gz" if gz else "snap.json"), _damage(draw, json.dumps(data), gz)


JOURNAL_SEED = [
    {
        "id": "20260101T000000-aaaaaa",
        "status": "intent",
        "time": "2026-01-01T00:00:00",
        "run_mode": "repair",
        "code": "NV201",
        "check": "orphan-instance-mapping",
        "fingerprint": "NV201:x",
        "repair": "delete-instance-mapping",
        "safety": "safe",
        "target": {"kind": "nova.instance_mapping", "id": "x", "scope": "api"},
        "action": "delete the instance mapping of x",
        "params": {"instance_uuid": "x"},
        "undoable": False,
        "before": {"row": {"id": 1, "instance_uuid": "x"}},
    },
    {
        "id": "20260101T000000-aaaaaa",
        "status": "applied",
        "time": "2026-01-01T00:00:01",
        "result": "deleted",
        "after": {},
    },
    {
        "id": "20260101T000001-bbbbbb",
        "status": "intent",
        "time": "2026-01-01T00:00:02",
        "code": "QU101",
        "repair": "recompute-quota-usage",
        "undoable": False,
        "before": {},
    },
    {"id": "20260101T000001-bbbbbb", "status": "failed", "time": "2026-01-01T00:00:03", "error": "row changed"},
]


@st.composite
def mutated_journal(draw) -> bytes:
    records = copy.deepcopy(JOURNAL_SEED)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(records) - 1))
        records[i] = _mutate(draw, records[i])
    text = "".join(json.dumps(r) + "\n" for r in records)
    return _damage(draw, text, gz=False)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    for name, content in LAB_FILES.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(content)
    (d / "empty.toml").write_text('[repair]\njournal = "journal.jsonl"\n')
    (d / "snap.json").write_text(json.dumps(SEEDS[0]))
    old = {k: os.environ.get(k) for k in ENV}
    os.environ.update(ENV)
    yield d
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def run_main(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def assert_clean_exit(code: int, stderr: str) -> None:
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    assert all(line.startswith("osfsck: ") for line in stderr.splitlines()), stderr
    if code == 16:
        assert len(stderr.splitlines()) == 1, stderr


def test_the_lab_like_config_and_the_seeds_are_valid(folder):
    (folder / "osfsck.toml").write_text(LAB_TOML)
    wiring.build_checks(load_settings(str(folder / "osfsck.toml")))
    for seed in SEEDS:
        Snapshot.from_json(copy.deepcopy(seed))
    (folder / "journal.jsonl").write_text("".join(json.dumps(r) + "\n" for r in JOURNAL_SEED))
    assert len(Journal(str(folder / "journal.jsonl")).entries()) == 2
    (folder / "journal.jsonl").unlink()


@FUZZ
@given(data=mutated_toml())
def test_mutated_config_files(folder, data):
    cfg = folder / "osfsck.toml"
    cfg.write_bytes(data)
    try:
        wiring.build_checks(load_settings(str(cfg)))
    except ConfigError as e:
        assert "\n" not in str(e) and str(e)
    assert_clean_exit(
        *run_main(["-c", str(cfg), "check", "--from", str(folder / "snap.json"), "-o", str(folder / "report.txt")])
    )


@FUZZ
@given(snapshot=mutated_snapshot())
def test_mutated_snapshots(folder, snapshot):
    name, data = snapshot
    path = folder / name
    path.write_bytes(data)
    try:
        Snapshot.read(str(path))
    except SnapshotFormatError as e:
        assert "\n" not in str(e) and str(e)
    assert_clean_exit(
        *run_main(["-c", str(folder / "empty.toml"), "check", "--from", str(path), "-o", str(folder / "report.txt")])
    )


@FUZZ
@given(data=mutated_journal())
def test_mutated_journals(folder, data):
    path = folder / "journal.jsonl"
    path.write_bytes(data)
    try:
        Journal(str(path)).entries()
    except JournalError as e:
        assert "\n" not in str(e) and str(e)
    for command in (["journal"], ["undo", "--all", "--yes"]):
        assert_clean_exit(*run_main(["-c", str(folder / "empty.toml"), *command]))
