"""The table of bad inputs that test_bad_inputs.py feeds to `osfsck` (issue 15, defects 6
and 7): hostile or mistaken config files, services' config files, snapshots, journals and
command lines.

Each case is run in a folder of its own holding its `files`, with `argv` as the command
line.  It must end with exactly one line on stderr that contains every fragment of `says`
(the file or key at fault and what is wrong with it), the exit `code` (16 usage or
configuration, 8 operational), and nothing written in that folder.
"""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from osfsck.model.facts.nsx import NsxObject
from tests.support.world import DAY, World

CONFIG, OPERATIONAL = 16, 8
TOML = "osfsck.toml"
JOURNAL_CONFIG = '[repair]\njournal = "journal.jsonl"\nstate_file = "state.json"\n'

# a section's keys that make it valid on its own, to add the key under test to
NSX_OK = '[nsx]\nurl = "https://nsx.example"\nusername = "ro"\npassword_env = "NSX_PW"\n'
RABBIT_OK = '[rabbitmq]\nurl = "https://rabbit.example:15671"\nusername = "ro"\npassword_env = "RABBIT_PW"\n'
DNS_OK = '[dns]\nserver = "192.0.2.53"\n[dns.zones."example.test."]\n'
SECRETS = {"NSX_PW": "pw", "RABBIT_PW": "pw"}
SECTIONS = (
    "nova",
    "cinder",
    "neutron",
    "dns",
    "designate",
    "ovn",
    "nsx",
    "placement",
    "rabbitmq",
    "hypervisors",
    "repair",
    "checks",
)


@dataclass(frozen=True)
class Bad:
    id: str
    argv: tuple
    code: int
    says: tuple  # fragments the one line on stderr must contain
    files: dict = field(default_factory=dict)  # name -> str | bytes | a callable making either
    env: dict = field(default_factory=dict)


def cfg(id: str, text: str, *says: str, files: dict | None = None, argv=("check",), env=None) -> Bad:
    """A bad osfsck.toml: exit 16, and the line names the config file and the fragments."""
    return Bad(
        id, ("-c", TOML, *argv), CONFIG, (TOML, *says), {TOML: text, **(files or {})}, {**SECRETS, **(env or {})}
    )


# -- snapshots -----------------------------------------------------------------------------
def small_snapshot() -> dict:
    """A small valid snapshot as plain JSON: instances (one deleted), their domains (one a
    zombie), an attached iSCSI volume in all five places."""
    w = World()
    u = w.instance(host="hv1")
    w.domain("hv1", u)
    gone = w.instance(host="hv1", deleted=True, deleted_age=2 * DAY)
    w.domain("hv1", gone)
    w.attached_volume(u)
    return json.loads(json.dumps(w.snapshot().to_json()))


def snap(change: Callable[[dict], object] | None = None) -> Callable[[], str]:
    """The small snapshot's JSON text after `change` (which edits the dict in place)."""

    def make() -> str:
        d = small_snapshot()
        if change is not None:
            change(d)
        return json.dumps(d)

    return make


def put(path: tuple, value) -> Callable[[dict], None]:
    """A change that sets the value at `path` (keys and indexes) of the snapshot."""

    def change(d: dict) -> None:
        for p in path[:-1]:
            d = d[p]
        d[path[-1]] = copy.deepcopy(value)

    return change


def drop(path: tuple) -> Callable[[dict], None]:
    def change(d: dict) -> None:
        for p in path[:-1]:
            d = d[p]
        del d[path[-1]]

    return change


def fact(kind: str, name: str, value, row: int = 0) -> Callable[[dict], None]:
    """A change that sets field `name` of row `row` of `kind`."""

    def change(d: dict) -> None:
        block = d["facts"][kind]
        block["rows"][row][block["fields"].index(name)] = copy.deepcopy(value)

    return change


def gz(make: Callable[[], str], cut: float | None = None) -> Callable[[], bytes]:
    def build() -> bytes:
        data = gzip.compress(make().encode(), mtime=0)
        return data[: int(len(data) * cut)] if cut else data

    return build


def corrupt_deflate() -> bytes:
    """A gzip member whose header is right and whose deflate stream is not."""
    data = bytearray(gzip.compress(b'{"format": "osfsck-snapshot/1"}' * 50, mtime=0))
    data[10] = 0xFF  # the first deflate block header: an invalid block type
    return bytes(data)


def nsx_object_of_kind(kind: str) -> Callable[[dict], None]:
    """A change that adds an NSX object standing for a Neutron object of `kind`, with NSX
    and Neutron read completely (so that orphan-nsx-object looks it up by that kind)."""

    def change(d: dict) -> None:
        d["facts"]["nsx.object"] = {
            "fields": list(NsxObject._fields),
            "rows": [
                [
                    "nsx",
                    "policy",
                    "Segment",
                    "n1",
                    None,
                    None,
                    None,
                    kind,
                    "n1",
                    None,
                    None,
                    False,
                    False,
                    False,
                    1,
                    None,
                    None,
                ]
            ],
        }
        for k, scope in (
            ("nsx.object", "nsx"),
            ("neutron.network", "neutron"),
            ("neutron.port", "neutron"),
            ("neutron.router", "neutron"),
            ("neutron.security_group", "neutron"),
        ):
            d["coverage"].append(
                {
                    "kind": k,
                    "scope": scope,
                    "source": "test",
                    "complete": True,
                    "reason": "",
                    "collected_at": d["taken_at"],
                }
            )

    return change


def from_snapshot(id: str, name: str, make, *says: str) -> Bad:
    """`check --from` on a bad snapshot: exit 8, the line names the file and what is wrong;
    the report (-o) must not be written."""
    return Bad(
        id,
        ("-c", TOML, "check", "--from", name, "-o", "report.txt"),
        OPERATIONAL,
        (name, *says),
        {TOML: "", **({name: make} if make is not None else {})},
    )


def snapshot_case(id: str, change, *says: str) -> Bad:
    return from_snapshot(id, "snap.json", snap(change), *says)


# -- journals -------------------------------------------------------------------------------
GOOD_LINE = json.dumps(
    {
        "id": "20260101T000000-abcdef",
        "status": "intent",
        "time": "2026-01-01T00:00:00",
        "code": "MQ102",
        "repair": "delete-orphan-rpc-queue",
        "action": "delete queue q",
        "undoable": True,
        "before": {},
    }
)


def journal_cases(id: str, content, *says: str) -> list[Bad]:
    """The same damaged journal read by `journal` and by `undo --all`: exit 8, the line
    names the journal (and the line at fault), nothing appended to it."""
    files = {TOML: JOURNAL_CONFIG, "journal.jsonl": content}
    return [
        Bad(f"{id}-{cmd[0]}", ("-c", TOML, *cmd), OPERATIONAL, ("journal.jsonl", *says), files)
        for cmd in (("journal",), ("undo", "--all", "--yes"))
    ]


def cli(id: str, argv: tuple, *says: str, files: dict | None = None, code: int = CONFIG) -> Bad:
    return Bad(id, argv, code, says, {TOML: "", **(files or {})})


def _plan_file(drop: str | None = None, **changes: str) -> str:
    """A plan file of one zombie-domain entry, with `changes` to it (or a key dropped)."""
    entry = {
        "fingerprint": "0123456789abcdef",
        "code": "HV101",
        "check": "zombie-domain",
        "repair": "undefine-domain",
        "safety": "unsafe",
        "action": "destroy and undefine domain x",
        "target": {"kind": "domain", "id": "x", "scope": "host:hv1"},
        "params": {},
        "evidence_digest": "sha256:0",
        "subject": {"kind": "domain", "id": "x", "scope": "host:hv1"},
        "message": "m",
        "note": "",
        **changes,
    }
    entry.pop(drop or "", None)
    return json.dumps({"format": "osfsck-plan/1", "scope": None, "plans": [entry]})


DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INT = "1" * 5000

CASES: list[Bad] = [
    # -- the config file itself ------------------------------------------------------------
    Bad("toml-binary", ("-c", TOML, "check"), CONFIG, (TOML, "not UTF-8"), {TOML: b"\x00\x01\xff\xfe[nova]\n"}),
    Bad(
        "toml-latin1",
        ("-c", TOML, "check"),
        CONFIG,
        (TOML, "not UTF-8"),
        {TOML: b'[hypervisors]\ninstances_path = "/srv/caf\xe9"\n'},
    ),
    Bad("toml-directory", ("-c", "conf.d", "check"), CONFIG, ("conf.d", "is a directory"), {"conf.d/x": ""}),
    Bad("toml-missing", ("-c", "absent.toml", "check"), CONFIG, ("absent.toml", "does not exist")),
    Bad(
        "toml-env-missing", ("check",), CONFIG, ("absent.toml", "does not exist"), {}, {"OSFSCK_CONFIG": "absent.toml"}
    ),
    Bad("toml-device", ("-c", "/dev/zero", "check"), CONFIG, ("/dev/zero", "not a regular file")),
    Bad("toml-syntax", ("-c", TOML, "check"), CONFIG, (TOML, "not valid TOML"), {TOML: "[nova\n"}),
    Bad("toml-deep", ("-c", TOML, "check"), CONFIG, (TOML, "nested too deeply"), {TOML: "a = " + DEEP + "\n"}),
    Bad("no-config", ("check",), CONFIG, ("no config file",)),
    cfg("toml-unknown-section", "[nvoa]\n", "unknown key 'nvoa'", "nova"),
    *[cfg(f"section-{s}-scalar", f"{s} = 1\n", f"[{s}]", "must be a table") for s in SECTIONS],
    *[cfg(f"section-{s}-array", f"[[{s}]]\n", f"[{s}]", "must be a table") for s in SECTIONS],
    cfg("section-dns-empty-array", "dns = []\n", "[dns]", "must be a table"),
    cfg("section-nsx-false", "nsx = false\n", "[nsx]", "must be a table"),
    cfg("section-ovn-empty-string", 'ovn = ""\n', "[ovn]", "must be a table"),
    cfg("section-rabbitmq-zero", "rabbitmq = 0\n", "[rabbitmq]", "must be a table"),
    # -- [nova] ------------------------------------------------------------------------------
    cfg("nova-api-int", "[nova]\napi_database = 42\n", "[nova].api_database", "expected a database URL"),
    cfg("nova-api-not-url", '[nova]\napi_database = "not a url"\n', "[nova].api_database", "expected a database URL"),
    cfg("nova-api-ipv6", '[nova]\napi_database = "mysql://u@[::1/x"\n', "[nova].api_database", "IPv6"),
    cfg("nova-api-ipv6-password", '[nova]\napi_database = "mysql://u:hunter2@[::1/x"\n', "[nova].api_database", "IPv6"),
    cfg("nova-api-port-range", '[nova]\napi_database = "mysql://u@db:99999/nova"\n', "[nova].api_database", "port"),
    cfg("nova-api-port-text", '[nova]\napi_database = "mysql://u@db:http/nova"\n', "[nova].api_database", "port"),
    cfg("nova-api-scheme", '[nova]\napi_database = "oracle://u@db/nova"\n', "[nova].api_database", "oracle"),
    cfg(
        "nova-password-env-int",
        '[nova]\napi_database = "mysql://nova@db/nova"\napi_database_password_env = 5\n',
        "[nova].api_database_password_env",
        "expected",
    ),
    cfg(
        "nova-password-env-unset",
        '[nova]\napi_database = "mysql://nova@db/nova"\napi_database_password_env = "OSFSCK_TEST_UNSET"\n',
        "OSFSCK_TEST_UNSET",
        "is not set",
    ),
    cfg(
        "nova-password-file-list",
        '[nova]\napi_database = "mysql://nova@db/nova"\napi_database_password_file = ["nova.pw"]\n',
        "[nova].api_database_password_file",
        "expected",
    ),
    cfg(
        "nova-password-file-missing",
        '[nova]\napi_database = "mysql://nova@db/nova"\napi_database_password_file = "absent.pw"\n',
        "absent.pw",
        "No such file",
    ),
    cfg(
        "nova-password-file-binary",
        '[nova]\napi_database = "mysql://nova@db/nova"\napi_database_password_file = "nova.pw"\n',
        "nova.pw",
        "not UTF-8",
        files={"nova.pw": b"\xff\xfe\x00pw"},
    ),
    cfg(
        "nova-password-file-dir",
        '[nova]\napi_database = "mysql://nova@db/nova"\napi_database_password_file = "."\n',
        "api_database_password_file",
        "is a directory",
    ),
    cfg(
        "nova-password-no-user",
        '[nova]\napi_database = "mysql://db/nova"\napi_database_password_env = "NSX_PW"\n',
        "[nova].api_database",
        "names no user",
    ),
    cfg("nova-cell-url-base-int", "[nova]\ncell_url_base = 1\n", "[nova].cell_url_base", "expected a database URL"),
    cfg("nova-conf-int", "[nova]\nnova_conf = 42\n", "[nova].nova_conf", "expected a file path"),
    cfg("nova-conf-list", '[nova]\nnova_conf = ["nova.conf", 1]\n', "[nova].nova_conf[1]", "expected a file path"),
    cfg("nova-conf-dir-missing", '[nova]\nnova_conf_dir = "nova.conf.d"\n', "[nova].nova_conf_dir", "does not exist"),
    cfg(
        "nova-conf-d-binary",
        '[nova]\nnova_conf_dir = "nova.conf.d"\n',
        "[nova].nova_conf_dir",
        "nova.conf.d/20-extra.conf is not UTF-8",
        files={
            "nova.conf.d/10.conf": "[api_database]\nconnection = sqlite:///x\n",
            "nova.conf.d/20-extra.conf": b"\xff\xd8\xff\xe0JFIF",
        },
    ),
    cfg(
        "nova-conf-continuation",
        '[nova]\nnova_conf = "nova.conf"\n',
        "nova.conf:2: an indented line that continues no key",
        files={"nova.conf": "[api_database]\n  connection = mysql://nova:pw@db/nova\n"},
    ),
    cfg("nova-conf-missing", '[nova]\nnova_conf = "absent.conf"\n', "absent.conf", "No such file"),
    cfg("nova-conf-dir", '[nova]\nnova_conf = "."\n', "[nova].nova_conf", "is a directory"),
    cfg(
        "nova-conf-binary",
        '[nova]\nnova_conf = "nova.conf"\n',
        "nova.conf",
        "not UTF-8",
        files={"nova.conf": b"\x00\x9f\x92\x96\xff" * 20},
    ),
    cfg(
        "nova-conf-latin1",
        '[nova]\nnova_conf = "nova.conf"\n',
        "nova.conf",
        "not UTF-8",
        files={"nova.conf": b"[api_database]\nconnection = mysql://nova@db/nova_caf\xe9\n"},
    ),
    cfg(
        "nova-conf-not-ini",
        '[nova]\nnova_conf = "nova.conf"\n',
        "nova.conf:1: a key before any [section]",
        files={"nova.conf": "connection = mysql://nova@db/nova\n"},
    ),
    cfg(
        "nova-conf-no-section",
        '[nova]\nnova_conf = "nova.conf"\n',
        "nova.conf",
        "no [api_database] connection",
        files={"nova.conf": "[DEFAULT]\ndebug = true\n"},
    ),
    cfg(
        "nova-conf-bad-url",
        '[nova]\nnova_conf = "nova.conf"\n',
        "nova.conf",
        "[api_database] connection",
        "expected a database URL",
        files={"nova.conf": "[api_database]\nconnection = garbage\n"},
    ),
    cfg(
        "nova-conf-ipv6",
        '[nova]\nnova_conf = "nova.conf"\n',
        "nova.conf",
        "IPv6",
        files={"nova.conf": "[api_database]\nconnection = mysql+pymysql://nova:pw@[fd00::1/nova_api\n"},
    ),
    cfg(
        "nova-conf-cell-base-port",
        '[nova]\nnova_conf = "nova.conf"\n',
        "nova.conf",
        "[database] connection",
        "port",
        files={
            "nova.conf": "[api_database]\nconnection = mysql://n@db/api\n[database]\nconnection = mysql://n@db:x/n\n"
        },
    ),
    cfg("nova-cells-string", '[nova]\ncells = "cell1"\n', "[nova].cells", "must be a table"),
    cfg("nova-cells-array", '[nova]\ncells = ["cell1"]\n', "[nova].cells", "must be a table"),
    cfg("nova-cell-scalar", "[nova.cells]\ncell1 = 1\n", "[nova.cells.cell1]", "must be a table"),
    cfg("nova-cell-skip-string", '[nova.cells.cell1]\nskip = "no"\n', "[nova.cells.cell1].skip", "true or false"),
    cfg("nova-cell-skip-int", "[nova.cells.cell1]\nskip = 1\n", "[nova.cells.cell1].skip", "true or false"),
    cfg(
        "nova-cell-database-int",
        "[nova.cells.cell1]\ndatabase = 7\n",
        "[nova.cells.cell1].database",
        "expected a database URL",
    ),
    cfg(
        "nova-cell-unknown-key",
        '[nova.cells.cell1]\ndatbase = "sqlite:///x"\n',
        "[nova.cells.cell1]",
        "unknown key 'datbase'",
        "database",
    ),
    # -- the other services' databases and APIs ------------------------------------------------
    *[
        cfg(
            f"{s}-conf-binary",
            f'[{s}]\n{s}_conf = "{s}.conf"\n',
            f"{s}.conf",
            "not UTF-8",
            files={f"{s}.conf": b"[database]\nconnection = \xff\xfe\n"},
        )
        for s in ("cinder", "neutron", "placement", "designate")
    ],
    cfg("cinder-conf-int", "[cinder]\ncinder_conf = 42\n", "[cinder].cinder_conf", "expected a file path"),
    cfg("cinder-conf-dir", '[cinder]\ncinder_conf = "."\n', "[cinder].cinder_conf", "is a directory"),
    cfg(
        "cinder-database-list",
        '[cinder]\ndatabase = ["mysql://c@db/cinder"]\n',
        "[cinder].database",
        "expected a database URL",
    ),
    cfg(
        "cinder-conf-port-zero",
        '[cinder]\ncinder_conf = "cinder.conf"\n',
        "cinder.conf",
        "port",
        files={"cinder.conf": "[database]\nconnection = mysql://c@db:0/cinder\n"},
    ),
    cfg("neutron-endpoint-int", '[neutron]\nendpoint = 5\nauth = "none"\n', "[neutron].endpoint", "expected"),
    cfg(
        "neutron-endpoint-ftp",
        '[neutron]\nendpoint = "ftp://neutron"\nauth = "none"\n',
        "[neutron].endpoint",
        "http(s) URL",
    ),
    cfg(
        "neutron-endpoint-ipv6",
        '[neutron]\nendpoint = "http://[::1:9696"\nauth = "none"\n',
        "[neutron].endpoint",
        "IPv6",
    ),
    cfg(
        "neutron-verify-string",
        '[neutron]\nendpoint = "http://n:9696"\nauth = "none"\nverify = "yes"\n',
        "[neutron].verify",
        "true or false",
    ),
    cfg(
        "neutron-timeout-word",
        '[neutron]\nendpoint = "http://n:9696"\nauth = "none"\ntimeout = "soon"\n',
        "[neutron].timeout",
        "not a duration",
    ),
    cfg(
        "neutron-timeout-negative",
        '[neutron]\nendpoint = "http://n:9696"\nauth = "none"\ntimeout = -5\n',
        "[neutron].timeout",
        "negative",
    ),
    cfg("neutron-auth-int", '[neutron]\nendpoint = "http://n:9696"\nauth = 1\n', "[neutron].auth", "expected"),
    cfg(
        "placement-endpoint-port",
        '[placement]\nendpoint = "http://127.0.0.1:99999"\nauth = "none"\n',
        "[placement].endpoint",
        "port",
    ),
    cfg(
        "placement-ca-file-int",
        '[placement]\nendpoint = "https://p:8778"\nauth = "none"\nca_file = 5\n',
        "[placement].ca_file",
        "expected",
    ),
    cfg("designate-database-int", "[designate]\ndatabase = 3306\n", "[designate].database", "expected a database URL"),
    # -- [dns] -----------------------------------------------------------------------------
    cfg(
        "dns-secret-file-binary",
        DNS_OK + '[dns.keys.k]\nsecret_file = "k.key"\n',
        "[dns.keys.k].secret_file",
        "not UTF-8",
        files={"k.key": b"\xff\xfe\x00"},
    ),
    cfg("dns-secret-env-int", DNS_OK + "[dns.keys.k]\nsecret_env = 5\n", "[dns.keys.k].secret_env", "expected"),
    cfg("dns-secret-file-int", DNS_OK + "[dns.keys.k]\nsecret_file = 5\n", "[dns.keys.k].secret_file", "expected"),
    cfg(
        "dns-template-malformed",
        DNS_OK.replace("[dns.zones", 'hostname_template = "{hostname.{zone}"\n[dns.zones'),
        "[dns].hostname_template",
        "{hostname.{zone}",
    ),
    cfg(
        "dns-template-attribute",
        DNS_OK.replace("[dns.zones", 'hostname_template = "{hostname.x}.{zone}"\n[dns.zones'),
        "[dns].hostname_template",
        "hostname.x",
    ),
    cfg(
        "dns-template-unclosed",
        DNS_OK.replace("[dns.zones", 'hostname_template = "{hostname}.{zone"\n[dns.zones'),
        "[dns].hostname_template",
        "{zone",
    ),
    cfg("dns-zones-scalar", '[dns]\nserver = "192.0.2.53"\nzones = 5\n', "[dns].zones", "must be a table"),
    cfg("dns-server-int", '[dns]\nserver = 53\n[dns.zones."example.test."]\n', "server", "host:port"),
    cfg("dns-designate-string", DNS_OK + 'designate = "yes"\n', "designate", "true or false"),
    cfg("dns-timeout-negative", DNS_OK.replace("[dns.zones", "timeout = -1\n[dns.zones"), "[dns].timeout", "negative"),
    cfg(
        "dns-zone-name-space",
        '[dns]\nserver = "192.0.2.53"\n[dns.zones."example test."]\n',
        "example test.",
        "not a DNS name",
    ),
    cfg(
        "dns-key-algorithm-int",
        DNS_OK + '[dns.keys.k]\nalgorithm = 256\nsecret_env = "NSX_PW"\n',
        "[dns.keys.k].algorithm",
        "expected",
    ),
    # -- [ovn] -----------------------------------------------------------------------------
    cfg("ovn-connection-int", "[ovn]\nnb_connection = 6641\n", "[ovn].nb_connection", "expected"),
    cfg("ovn-connection-port", '[ovn]\nnb_connection = "tcp:127.0.0.1:99999"\n', "[ovn].nb_connection", "tcp:IP:PORT"),
    cfg("ovn-connection-ipv6", '[ovn]\nnb_connection = "tcp:[::1:6641"\n', "[ovn].nb_connection", "tcp:IP:PORT"),
    cfg(
        "ovn-private-key-int",
        '[ovn]\nnb_connection = "ssl:127.0.0.1:6641"\nprivate_key = 5\n',
        "[ovn].private_key",
        "file path",
    ),
    cfg(
        "ovn-timeout-negative",
        '[ovn]\nnb_connection = "tcp:127.0.0.1:6641"\ntimeout = -1\n',
        "[ovn].timeout",
        "negative",
    ),
    # -- [nsx] -----------------------------------------------------------------------------
    cfg("nsx-url-ipv6", NSX_OK.replace("https://nsx.example", "https://[::1"), "[nsx].url", "IPv6"),
    cfg("nsx-url-no-host", NSX_OK.replace("https://nsx.example", "https://"), "[nsx].url", "host"),
    cfg("nsx-ca-file-int", NSX_OK + "ca_file = 5\n", "[nsx].ca_file", "expected"),
    cfg(
        "nsx-password-env-int",
        NSX_OK.replace('password_env = "NSX_PW"', "password_env = 5"),
        "[nsx].password_env",
        "expected",
    ),
    cfg(
        "nsx-password-file-list",
        NSX_OK.replace('password_env = "NSX_PW"', 'password_file = ["pw"]'),
        "[nsx].password_file",
        "expected",
    ),
    cfg("nsx-page-size-bool", NSX_OK + "page_size = true\n", "[nsx].page_size", "integer"),
    cfg("nsx-insecure-string", NSX_OK + 'insecure = "no"\n', "[nsx].insecure", "true or false"),
    cfg("nsx-timeout-inf", NSX_OK + "timeout = inf\n", "[nsx].timeout", "duration"),
    # -- [rabbitmq] --------------------------------------------------------------------------
    cfg("rabbit-ca-file-int", RABBIT_OK + "ca_file = 5\n", "[rabbitmq].ca_file", "expected"),
    cfg(
        "rabbit-password-file-int",
        RABBIT_OK.replace('password_env = "RABBIT_PW"', "password_file = 5"),
        "[rabbitmq].password_file",
        "expected",
    ),
    cfg("rabbit-url-port", RABBIT_OK.replace("rabbit.example:15671", "rabbit.example:0"), "[rabbitmq].url", "port"),
    cfg("rabbit-brokers-scalar", RABBIT_OK + "brokers = 5\n", "[rabbitmq.brokers]", "must be"),
    cfg("rabbit-timeout-zero", RABBIT_OK + "timeout = 0\n", "[rabbitmq].timeout", "positive"),
    cfg("rabbit-vhosts-int", RABBIT_OK + "vhosts = 5\n", "[rabbitmq].vhosts", "list"),
    cfg(
        "rabbit-broker-url-int",
        '[rabbitmq]\nusername = "ro"\npassword_env = "RABBIT_PW"\n[rabbitmq.brokers.cell1]\nurl = 15672\n',
        "[rabbitmq.brokers.cell1].url",
        "expected",
    ),
    # -- [hypervisors] -----------------------------------------------------------------------
    cfg("hv-uri-template-int", "[hypervisors]\nuri_template = 42\n", "[hypervisors].uri_template", "expected"),
    cfg(
        "hv-uri-template-unknown-field",
        '[hypervisors]\nuri_template = "qemu+ssh://{hots}/system"\n',
        "[hypervisors].uri_template",
        "{hots}",
        "{host}",
    ),
    cfg(
        "hv-uri-template-malformed",
        '[hypervisors]\nuri_template = "qemu+ssh://{host/system"\n',
        "[hypervisors].uri_template",
        "not a valid template",
    ),
    cfg(
        "hv-uri-template-positional",
        '[hypervisors]\nuri_template = "qemu+ssh://{}/system"\n',
        "[hypervisors].uri_template",
        "{}",
    ),
    cfg(
        "hv-uri-template-attribute",
        '[hypervisors]\nuri_template = "qemu+ssh://{host.name}/system"\n',
        "[hypervisors].uri_template",
        "{host.name}",
    ),
    cfg(
        "hv-uri-template-stray-brace",
        '[hypervisors]\nuri_template = "qemu+ssh://{host}}/system"\n',
        "[hypervisors].uri_template",
        "not a valid template",
    ),
    cfg(
        "hv-uri-template-not-uri",
        '[hypervisors]\nuri_template = "{host}"\n',
        "[hypervisors].uri_template",
        "libvirt URI",
    ),
    cfg(
        "hv-instances-path-int", "[hypervisors]\ninstances_path = 5\n", "[hypervisors].instances_path", "absolute path"
    ),
    cfg(
        "hv-instances-path-relative",
        '[hypervisors]\ninstances_path = "instances"\n',
        "[hypervisors].instances_path",
        "absolute path",
    ),
    cfg("hv-transport-int", "[hypervisors]\ntransport = 1\n", "[hypervisors].transport", "ssh, local, inprocess"),
    cfg("hv-ssh-port-bool", "[hypervisors]\nssh_port = true\n", "[hypervisors].ssh_port", "port"),
    cfg("hv-ssh-port-string", '[hypervisors]\nssh_port = "22"\n', "[hypervisors].ssh_port", "port"),
    cfg("hv-ssh-port-range", "[hypervisors]\nssh_port = 70000\n", "[hypervisors].ssh_port", "port"),
    cfg("hv-ssh-user-int", "[hypervisors]\nssh_user = 0\n", "[hypervisors].ssh_user", "expected"),
    cfg("hv-ssh-key-list", "[hypervisors]\nssh_key = []\n", "[hypervisors].ssh_key", "expected"),
    cfg(
        "hv-ssh-options-string", '[hypervisors]\nssh_options = "-o X"\n', "[hypervisors].ssh_options", "list of strings"
    ),
    cfg("hv-python-empty", '[hypervisors]\npython = ""\n', "[hypervisors].python", "expected"),
    cfg("hv-iscsiadm-int", "[hypervisors]\niscsiadm = 1\n", "[hypervisors].iscsiadm", "expected"),
    cfg(
        "hv-iscsiadm-quote",
        '[hypervisors]\niscsiadm = "docker exec \'iscsid iscsiadm"\n',
        "[hypervisors].iscsiadm",
        "No closing quotation",
    ),
    cfg(
        "hv-host-iscsiadm-empty-word",
        "[hypervisors.hosts.hv1]\niscsiadm = \"''\"\n",
        "[hypervisors.hosts.hv1].iscsiadm",
        "a command",
    ),
    cfg("hv-concurrency-bool", "[hypervisors]\nconcurrency = true\n", "[hypervisors].concurrency", "positive integer"),
    cfg("hv-concurrency-zero", "[hypervisors]\nconcurrency = 0\n", "[hypervisors].concurrency", "positive integer"),
    cfg("hv-timeout-negative", "[hypervisors]\ntimeout = -1\n", "[hypervisors].timeout", "negative"),
    cfg("hv-timeout-word", '[hypervisors]\ntimeout = "forever"\n', "[hypervisors].timeout", "not a duration"),
    cfg(
        "hv-types-string",
        '[hypervisors]\nhypervisor_types = "QEMU"\n',
        "[hypervisors].hypervisor_types",
        "list of strings",
    ),
    cfg("hv-extra-hosts-int", "[hypervisors]\nextra_hosts = [1]\n", "[hypervisors].extra_hosts", "list of strings"),
    cfg("hv-hosts-string", '[hypervisors]\nhosts = "compute-1"\n', "[hypervisors].hosts", "must be a table"),
    cfg("hv-hosts-array", '[hypervisors]\nhosts = ["compute-1"]\n', "[hypervisors].hosts", "must be a table"),
    cfg("hv-host-scalar", "[hypervisors.hosts]\ncompute-1 = 1\n", "[hypervisors.hosts.compute-1]", "must be a table"),
    cfg("hv-host-uri-int", "[hypervisors.hosts.h]\nuri = 42\n", "[hypervisors.hosts.h].uri", "expected"),
    cfg(
        "hv-host-uri-not-uri", '[hypervisors.hosts.h]\nuri = "compute-1"\n', "[hypervisors.hosts.h].uri", "libvirt URI"
    ),
    cfg("hv-host-skip-string", '[hypervisors.hosts.h]\nskip = "no"\n', "[hypervisors.hosts.h].skip", "true or false"),
    cfg(
        "hv-host-instances-path-list",
        "[hypervisors.hosts.h]\ninstances_path = []\n",
        "[hypervisors.hosts.h].instances_path",
        "absolute path",
    ),
    cfg("hv-host-storage-int", "[hypervisors.hosts.h]\nstorage = 1\n", "[hypervisors.hosts.h].storage", "expected"),
    cfg(
        "hv-host-unknown-key",
        '[hypervisors.hosts.h]\nurl = "qemu:///system"\n',
        "[hypervisors.hosts.h]",
        "unknown key 'url'",
        "uri",
    ),
    # -- [repair] ----------------------------------------------------------------------------
    cfg("repair-share-string", '[repair]\nimplausible_share = "lots"\n', "[repair].implausible_share", "(0, 1]"),
    cfg("repair-share-zero", "[repair]\nimplausible_share = 0\n", "[repair].implausible_share", "(0, 1]"),
    cfg("repair-share-above-one", "[repair]\nimplausible_share = 1.5\n", "[repair].implausible_share", "(0, 1]"),
    cfg("repair-share-bool", "[repair]\nimplausible_share = true\n", "[repair].implausible_share", "(0, 1]"),
    cfg("repair-share-nan", "[repair]\nimplausible_share = nan\n", "[repair].implausible_share", "(0, 1]"),
    cfg("repair-max-bool", "[repair]\nmax_per_check = true\n", "[repair].max_per_check", "non-negative integer"),
    cfg("repair-max-float", "[repair]\nmax_per_check = 2.5\n", "[repair].max_per_check", "non-negative integer"),
    cfg("repair-max-negative", "[repair]\nmax_per_check = -1\n", "[repair].max_per_check", "non-negative integer"),
    cfg(
        "repair-min-examined-string",
        '[repair]\nimplausible_min_examined = "20"\n',
        "[repair].implausible_min_examined",
        "non-negative integer",
    ),
    cfg("repair-confirm-bool", "[repair]\nconfirm_runs = false\n", "[repair].confirm_runs", "integer"),
    cfg("repair-grace-negative", "[repair]\ngrace = -300\n", "[repair].grace", "negative"),
    cfg("repair-grace-word", '[repair]\ngrace = "soon"\n', "[repair].grace", "not a duration"),
    cfg("repair-grace-inf", "[repair]\ngrace = inf\n", "[repair].grace", "duration"),
    cfg("repair-grace-bool", "[repair]\ngrace = true\n", "[repair].grace", "not a duration"),
    cfg(
        "repair-retention-unit",
        '[repair]\nquarantine_retention = "1y"\n',
        "[repair].quarantine_retention",
        "not a duration",
    ),
    cfg("repair-journal-int", "[repair]\njournal = 5\n", "[repair].journal", "expected a file path"),
    cfg("repair-journal-list", '[repair]\njournal = ["j"]\n', "[repair].journal", "expected a file path"),
    cfg("repair-journal-empty", '[repair]\njournal = ""\n', "[repair].journal", "expected a file path"),
    cfg("repair-journal-dir", '[repair]\njournal = "."\n', "[repair].journal", "is a directory"),
    cfg(
        "repair-journal-device",
        '[repair]\njournal = "/dev/zero"\n',
        "[repair].journal",
        "not a regular file",
        argv=("journal",),
    ),
    cfg("repair-state-int", "[repair]\nstate_file = 5\n", "[repair].state_file", "expected a file path"),
    cfg("repair-state-bool", "[repair]\nstate_file = true\n", "[repair].state_file", "expected a file path"),
    cfg("repair-unknown-key", '[repair]\ngraze = "1h"\n', "[repair]", "unknown key 'graze'", "grace"),
    cfg(
        "repair-unknown-key-journal-cmd",
        '[repair]\njournal = "j.jsonl"\ngraze = "1h"\n',
        "unknown key 'graze'",
        argv=("journal",),
    ),
    # -- [checks] ----------------------------------------------------------------------------
    cfg(
        "checks-unknown-name",
        '[checks.zombie-domian]\ngrace = "1h"\n',
        "[checks.zombie-domian]",
        "no check",
        "zombie-domain",
    ),
    cfg("checks-unknown-code", '[checks.HV199]\ngrace = "1h"\n', "[checks.HV199]", "no check"),
    cfg(
        "checks-unknown-in-journal-cmd",
        JOURNAL_CONFIG + '[checks.zombie-domian]\ngrace = "1h"\n',
        "[checks.zombie-domian]",
        "no check",
        argv=("journal",),
    ),
    cfg(
        "checks-thresholds-in-undo",
        JOURNAL_CONFIG + "[checks.stuck-instance-task]\nthresholds = 5\n",
        "[checks.stuck-instance-task].thresholds",
        "table",
        argv=("undo", "--all", "--yes"),
    ),
    cfg("checks-scalar", "[checks]\nHV101 = 5\n", "[checks.HV101]", "must be a table"),
    cfg(
        "checks-repair-unknown",
        '[checks.zombie-domain]\nrepair = "delete-everything"\n',
        "[checks.zombie-domain].repair",
        "undefine-domain, shutdown-domain",
    ),
    cfg(
        "checks-repair-int",
        "[checks.zombie-domain]\nrepair = 5\n",
        "[checks.zombie-domain].repair",
        "undefine-domain, shutdown-domain",
    ),
    cfg(
        "checks-grace-word",
        '[checks.zombie-domain]\ngrace = "soon"\n',
        "[checks.zombie-domain].grace",
        "not a duration",
    ),
    cfg("checks-grace-negative", "[checks.zombie-domain]\ngrace = -1\n", "[checks.zombie-domain].grace", "negative"),
    cfg(
        "checks-min-age-negative",
        "[checks.orphan-instance-dir]\nmin_age = -60\n",
        "[checks.orphan-instance-dir].min_age",
        "negative",
    ),
    cfg(
        "checks-min-age-list",
        "[checks.orphan-instance-dir]\nmin_age = [1]\n",
        "[checks.orphan-instance-dir].min_age",
        "not a duration",
    ),
    cfg(
        "checks-unknown-param",
        '[checks.orphan-instance-dir]\nmin_aeg = "1h"\n',
        "[checks.orphan-instance-dir]",
        "min_aeg",
        "min_age",
    ),
    cfg("checks-lowercase-code-unknown-param", "[checks.hv110]\nmin_aeg = 60\n", "[checks.hv110]", "min_aeg"),
    cfg(
        "checks-thresholds-int",
        "[checks.stuck-instance-task]\nthresholds = 5\n",
        "[checks.stuck-instance-task].thresholds",
        "table",
    ),
    cfg(
        "checks-thresholds-word",
        '[checks.stuck-instance-task]\nthresholds = { rebooting = "soon" }\n',
        "[checks.stuck-instance-task].thresholds.rebooting",
        "not a duration",
    ),
    cfg(
        "checks-thresholds-unknown-task",
        "[checks.stuck-instance-task]\nthresholds = { rebootin = 60 }\n",
        "[checks.stuck-instance-task].thresholds",
        "rebootin",
        "rebooting",
    ),
    cfg(
        "checks-bool-param-string",
        '[checks.quota-usage-drift]\nno_snapshot_gb_quota = "yes"\n',
        "[checks.quota-usage-drift].no_snapshot_gb_quota",
        "true or false",
    ),
    cfg(
        "checks-interval-word",
        '[checks.expired-reservation]\ncinder_clean_interval = "daily"\n',
        "[checks.expired-reservation].cinder_clean_interval",
        "not a duration",
    ),
    cfg(
        "checks-service-down-bool",
        "[checks.stuck-build]\nservice_down_time = true\n",
        "[checks.stuck-build].service_down_time",
        "not a duration",
    ),
    # -- the command line ------------------------------------------------------------------------
    cli("cli-unknown-command", ("frobnicate",), "frobnicate"),
    cli("cli-unknown-option", ("-c", TOML, "check", "--bogus"), "--bogus"),
    cli("cli-bad-format", ("-c", TOML, "check", "--format", "xml"), "--format", "xml"),
    cli("cli-config-without-value", ("-c",), "-c/--config", "expected one argument"),
    cli("cli-select-unknown", ("-c", TOML, "check", "--select", "XX999"), "XX999", "no check matches"),
    cli("cli-ignore-unknown", ("-c", TOML, "check", "--ignore", "zombie-domian"), "zombie-domian", "no check matches"),
    cli("cli-select-unconfigured", ("-c", TOML, "check", "--select", "DN101"), "DN101", "cannot run"),
    cli("cli-undo-nothing-named", ("-c", TOML, "undo"), "--last or --all"),
    cli(
        "cli-undo-unknown-id",
        ("-c", TOML, "undo", "nope", "--yes"),
        "no journal entry nope",
        files={TOML: JOURNAL_CONFIG},
    ),
    cli("cli-checks-show-unknown", ("checks", "show", "NOPE"), "NOPE"),
    cli("cli-purge-without-yes", ("-c", TOML, "purge-quarantine"), "--yes"),
    cli(
        "cli-purge-older-than-word",
        ("-c", TOML, "purge-quarantine", "--older-than", "soon", "--yes"),
        "--older-than",
        "not a duration",
    ),
    cli(
        "cli-purge-older-than-negative", ("-c", TOML, "purge-quarantine", "--older-than", "-5", "--yes"), "--older-than"
    ),
    cli("cli-lab-build-without-out", ("lab", "build"), "--out"),
    cli("cli-lab-build-seed-word", ("lab", "build", "--out", "lab", "--seed", "abc"), "--seed", "abc"),
    cli("cli-collect-without-output", ("-c", TOML, "collect"), "-o/--output"),
    cli("cli-repair-unattended", ("-c", TOML, "repair"), "--yes"),
    cli("cli-repair-with-from", ("-c", TOML, "repair", "--from", "snap.json"), "--from"),
    cli(
        "cli-cell-unknown-in-snapshot",
        ("-c", TOML, "check", "--from", "snap.json", "--cell", "cell9", "-o", "report.txt"),
        "--cell cell9",
        "no cell of that name or uuid",
        "(cells: cell1)",
        files={"snap.json": snap()},
    ),
    cli("cli-cell-without-value", ("-c", TOML, "check", "--cell"), "--cell", "expected one argument"),
    *[
        cli(
            f"plan-{id}",
            ("-c", TOML, "repair", "--yes", "--plan", "plan.json"),
            "plan.json",
            *says,
            files={"plan.json": text},
        )
        for id, text, says in (
            ("not-json", "{plans: []", ("not JSON",)),
            ("binary", b"\xff\xfe\x00", ("not UTF-8",)),
            (
                "wrong-version",
                '{"format": "osfsck-plan/2", "plans": []}',
                ("osfsck-plan/2", "expected format osfsck-plan/1"),
            ),
            ("a-snapshot", snap(), ("not an osfsck plan file", "osfsck-snapshot/1")),
            ("unknown-check", _plan_file(code="XX999"), ("plans[0].code", "no check 'XX999'")),
            (
                "unknown-repair",
                _plan_file(repair="rm-rf"),
                ("plans[0].repair", "HV101 zombie-domain has no repair 'rm-rf'"),
            ),
            ("missing-key", _plan_file(drop="params"), ("plans[0].params", "expected an object")),
        )
    ],
    cli("plan-missing", ("-c", TOML, "repair", "--yes", "--plan", "absent.json"), "absent.json", "cannot read"),
    cli(
        "plan-with-select",
        ("-c", TOML, "repair", "--yes", "--plan", "plan.json", "--select", "HV"),
        "--plan fixes which checks run",
        "--select",
        files={"plan.json": _plan_file()},
    ),
    cli(
        "plan-out-in-missing-folder",
        ("-c", TOML, "check", "--from", "snap.json", "--plan-out", "nodir/plan.json"),
        "--plan-out nodir/plan.json",
        "no folder",
        files={"snap.json": snap()},
    ),
    cli("cli-max-count-zero", ("-c", TOML, "repair", "--yes", "--max-count", "0"), "--max-count 0", "1 to"),
    cli("cli-max-count-over-cap", ("-c", TOML, "repair", "--yes", "--max-count", "26"), "--max-count 26", "(25)"),
    cli("cli-max-count-word", ("-c", TOML, "repair", "--yes", "--max-count", "all"), "--max-count", "'all'"),
    cli(
        "cli-output-in-missing-folder",
        ("-c", TOML, "check", "--from", "snap.json", "-o", "nodir/report.txt"),
        "nodir/report.txt",
        "no folder",
        files={"snap.json": snap()},
    ),
    # -- check --from: the snapshot ----------------------------------------------------------------
    from_snapshot("snap-missing", "absent.json", None, "No such file"),
    Bad(
        "snap-directory",
        ("-c", TOML, "check", "--from", "snapdir", "-o", "report.txt"),
        OPERATIONAL,
        ("snapdir", "is a directory"),
        {TOML: "", "snapdir/x": ""},
    ),
    Bad(
        "snap-device",
        ("-c", TOML, "check", "--from", "/dev/zero", "-o", "report.txt"),
        OPERATIONAL,
        ("/dev/zero", "not a regular file"),
        {TOML: ""},
    ),
    Bad(  # collectors' snapshots taken too far apart to be one run's
        "snap-merge-apart",
        ("-c", TOML, "check", "--from", "a.json", "--from", "b.json", "-o", "report.txt"),
        CONFIG,
        ("a.json and b.json were taken 120 min apart, more than the grace",),
        {TOML: "", "a.json": snap(), "b.json": snap(put(("taken_at",), "2026-11-24T14:00:00"))},
    ),
    Bad(  # two regions' snapshots: their "cell1" would be one scope
        "snap-merge-regions",
        ("-c", TOML, "check", "--from", "a.json", "--from", "b.json", "-o", "report.txt"),
        CONFIG,
        ("a.json and b.json are of different clouds (cell cell1 is",),
        {TOML: "", "a.json": snap(), "b.json": snap(fact("nova.cell", "uuid", "11111111-2222-3333-4444-555555555555"))},
    ),
    from_snapshot("snap-empty", "snap.json", "", "not JSON"),
    from_snapshot("snap-text", "snap.json", "hello\n", "not JSON"),
    from_snapshot("snap-binary", "snap.json", b"\x00\x9f\xff\xfe" * 64, "not UTF-8"),
    from_snapshot("snap-gz-garbage", "snap.json.gz", b"this is no gzip file", "gzip"),
    from_snapshot("snap-gz-plain-json", "snap.json.gz", snap(), "gzip"),
    from_snapshot("snap-gz-corrupt", "snap.json.gz", corrupt_deflate, "damaged"),
    from_snapshot("snap-gz-truncated", "snap.json.gz", gz(snap(), cut=0.5), "truncated"),
    from_snapshot("snap-gz-binary", "snap.json.gz", lambda: gzip.compress(bytes(range(256)) * 8, mtime=0), "not UTF-8"),
    from_snapshot("snap-gz-empty", "snap.json.gz", b"", "not JSON"),
    from_snapshot("snap-deep-array", "snap.json", DEEP, "nested too deeply"),
    from_snapshot("snap-deep-object", "snap.json", '{"a":' * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
    from_snapshot("snap-deep-gz", "snap.json.gz", lambda: gzip.compress(DEEP.encode(), mtime=0), "nested too deeply"),
    from_snapshot("snap-huge-int", "snap.json", '{"format": ' + HUGE_INT + "}", "not JSON"),
    from_snapshot("snap-array", "snap.json", "[]", "not an osfsck snapshot"),
    from_snapshot("snap-string", "snap.json", '"osfsck-snapshot/1"', "not an osfsck snapshot"),
    from_snapshot("snap-number", "snap.json", "5", "not an osfsck snapshot"),
    from_snapshot("snap-null", "snap.json", "null", "not an osfsck snapshot"),
    snapshot_case("snap-format-newer", put(("format",), "osfsck-snapshot/9"), "osfsck-snapshot/1"),
    snapshot_case("snap-no-taken-at", drop(("taken_at",)), "taken_at", "missing"),
    snapshot_case("snap-taken-at-int", put(("taken_at",), 5), "taken_at", "ISO"),
    snapshot_case("snap-taken-at-word", put(("taken_at",), "yesterday"), "taken_at", "ISO"),
    snapshot_case("snap-taken-at-zone", put(("taken_at",), "2026-11-24T12:00:00+02:00"), "taken_at", "UTC"),
    snapshot_case("snap-no-coverage", drop(("coverage",)), "coverage", "missing"),
    snapshot_case("snap-coverage-object", put(("coverage",), {}), "coverage", "list"),
    snapshot_case("snap-coverage-strings", put(("coverage",), ["cell:cell1"]), "coverage[0]", "object"),
    snapshot_case("snap-coverage-no-kind", drop(("coverage", 0, "kind")), "coverage[0]", "kind"),
    snapshot_case(
        "snap-coverage-complete-string", put(("coverage", 0, "complete"), "no"), "coverage[0].complete", "true or false"
    ),
    snapshot_case("snap-coverage-scope-int", put(("coverage", 0, "scope"), 5), "coverage[0].scope", "string"),
    snapshot_case("snap-coverage-reason-list", put(("coverage", 0, "reason"), ["x"]), "coverage[0].reason", "string"),
    snapshot_case(
        "snap-coverage-host-unprefixed",
        lambda d: next(c for c in d["coverage"] if c["kind"] == "hv.domain").update(scope="hv1"),
        "coverage[",
        ".scope",
        "host:<name>",
    ),
    snapshot_case(
        "snap-coverage-unknown-kind", put(("coverage", 0, "kind"), "nova.unicorn"), "nova.unicorn", "unknown"
    ),
    snapshot_case(
        "snap-coverage-collected-at-word",
        put(("coverage", 0, "collected_at"), "noon"),
        "coverage[0].collected_at",
        "ISO",
    ),
    snapshot_case("snap-no-facts", drop(("facts",)), "facts", "missing"),
    snapshot_case("snap-facts-list", put(("facts",), []), "facts", "object"),
    snapshot_case(
        "snap-facts-unknown-kind", put(("facts", "nova.unicorn"), {"fields": [], "rows": []}), "nova.unicorn", "unknown"
    ),
    snapshot_case("snap-block-list", put(("facts", "nova.instance"), []), "facts.nova.instance", "object"),
    snapshot_case("snap-block-no-rows", drop(("facts", "nova.instance", "rows")), "facts.nova.instance", "rows"),
    snapshot_case("snap-fields-other", put(("facts", "nova.instance", "fields"), ["uuid"]), "nova.instance", "fields"),
    snapshot_case("snap-fields-string", put(("facts", "nova.instance", "fields"), "uuid"), "nova.instance", "fields"),
    snapshot_case(
        "snap-rows-string", put(("facts", "nova.instance", "rows"), "abc"), "facts.nova.instance.rows", "list"
    ),
    snapshot_case(
        "snap-rows-object", put(("facts", "nova.instance", "rows"), {"0": []}), "facts.nova.instance.rows", "list"
    ),
    snapshot_case("snap-row-string", put(("facts", "nova.cell", "rows", 0), "abcd"), "facts.nova.cell.rows[0]", "list"),
    snapshot_case("snap-row-number", put(("facts", "nova.cell", "rows", 0), 4), "facts.nova.cell.rows[0]", "list"),
    snapshot_case(
        "snap-row-short",
        lambda d: d["facts"]["nova.instance"]["rows"][0].pop(),
        "facts.nova.instance.rows[0]",
        "values",
    ),
    snapshot_case(
        "snap-row-long",
        lambda d: d["facts"]["nova.instance"]["rows"][1].append(1),
        "facts.nova.instance.rows[1]",
        "values",
    ),
    snapshot_case("snap-datetime-word", fact("nova.instance", "created_at", "yesterday"), "created_at", "ISO"),
    snapshot_case("snap-datetime-int", fact("nova.instance", "deleted_at", 5, row=1), "deleted_at", "ISO"),
    snapshot_case(
        "snap-datetime-zone", fact("nova.instance", "updated_at", "2026-11-24T11:00:00+02:00"), "updated_at", "UTC"
    ),
    snapshot_case("snap-int-string", fact("nova.instance", "vcpus", "four"), "vcpus", "integer"),
    snapshot_case("snap-int-float", fact("hv.domain", "memory_mb", 1.5), "memory_mb", "integer"),
    snapshot_case("snap-int-list", fact("nova.instance", "deleted", [1], row=1), "deleted", "integer"),
    snapshot_case("snap-str-list", fact("nova.instance", "uuid", ["x"]), "uuid", "string"),
    snapshot_case("snap-str-null", fact("nova.instance_mapping", "instance_uuid", None), "instance_uuid", "string"),
    snapshot_case("snap-str-int", fact("hv.domain", "host", 1), "hv.domain", "host", "string"),
    snapshot_case("snap-optional-str-object", fact("nova.instance", "host", {"h": 1}), "host", "string"),
    snapshot_case("snap-bool-string", fact("hv.domain", "active", "yes"), "active", "true or false"),
    snapshot_case("snap-tuple-string", fact("hv.domain", "disks", "/var/lib/disk"), "disks", "list"),
    snapshot_case("snap-tuple-nested", fact("hv.domain", "disks", [["/var/lib/disk"]]), "disks", "list"),
    snapshot_case(
        "snap-choice-unknown",
        nsx_object_of_kind("SECURITY-GROUP"),
        "facts.nsx.object.rows[0].neutron_kind",
        "expected one of",
    ),
    snapshot_case("snap-tuple-ints-of-strings", fact("hv.iscsi_session", "luns", ["one"]), "luns", "integers"),
    snapshot_case(
        "snap-paths-not-a-list", fact("nova.block_device_mapping", "iscsi_paths", "iqn.x"), "iscsi_paths", "list of"
    ),
    snapshot_case(
        "snap-paths-short",
        fact("cinder.attachment", "iscsi_paths", [["10.0.0.1:3260", "iqn.2010-10.org.openstack:v"]]),
        "iscsi_paths[0]",
        "[string or null, string, integer or null]",
    ),
    snapshot_case(
        "snap-paths-lun-string",
        fact("nova.block_device_mapping", "iscsi_paths", [[None, "iqn.2010-10.org.openstack:v", "1"]]),
        "iscsi_paths[0]",
        "expected [string or null, string, integer or null], not [None,",
    ),
    snapshot_case(
        "snap-paths-iqn-null",
        fact("nova.block_device_mapping", "iscsi_paths", [["10.0.0.1:3260", None, 1]]),
        "iscsi_paths[0]",
        "not ['10.0.0.1:3260', None, 1]",
    ),
    # -- the journal ------------------------------------------------------------------------------
    *journal_cases("journal-binary", b"\x00\x9f\xff\xfe\n", "journal.jsonl:1", "not UTF-8"),
    *journal_cases("journal-latin1", b'{"id": "caf\xe9"}\n', "journal.jsonl:1", "not UTF-8"),
    *journal_cases("journal-array", "[1, 2]\n", "journal.jsonl:1", "not a JSON object"),
    *journal_cases("journal-string", '"applied"\n', "journal.jsonl:1", "not a JSON object"),
    *journal_cases("journal-number", "5\n", "journal.jsonl:1", "not a JSON object"),
    *journal_cases("journal-null", GOOD_LINE + "\nnull\n", "journal.jsonl:2", "not a JSON object"),
    *journal_cases("journal-no-id", '{"status": "applied"}\n', "journal.jsonl:1", "id"),
    *journal_cases("journal-id-int", '{"id": 5, "status": "applied"}\n', "journal.jsonl:1", "id", "string"),
    *journal_cases("journal-id-list", '{"id": [5], "status": "applied"}\n', "journal.jsonl:1", "id", "string"),
    *journal_cases("journal-id-empty", '{"id": ""}\n', "journal.jsonl:1", "id"),
    *journal_cases("journal-time-int", GOOD_LINE + '\n{"id": "x", "time": 5}\n', "journal.jsonl:2", "time", "string"),
    *journal_cases("journal-status-null", '{"id": "x", "status": null}\n', "journal.jsonl:1", "status"),
    *journal_cases("journal-status-list", '{"id": "x", "status": ["applied"]}\n', "journal.jsonl:1", "status"),
    *journal_cases(
        "journal-repair-list",
        '{"id": "x", "status": "applied", "undoable": true, "repair": []}\n',
        "journal.jsonl:1",
        "repair",
    ),
    *journal_cases(
        "journal-target-string", '{"id": "x", "status": "applied", "target": "hv1"}\n', "journal.jsonl:1", "target"
    ),
    *journal_cases("journal-damaged", GOOD_LINE + "\n{not json\n", "journal.jsonl:2", "damaged"),
    *journal_cases("journal-deep", DEEP + "\n", "journal.jsonl:1", "nested too deeply"),
    *journal_cases("journal-huge-line", "x" * 5_000_000 + "\n", "journal.jsonl:1", "damaged"),
    *journal_cases("journal-huge-int", '{"id": "x", "n": ' + HUGE_INT + "}\n", "journal.jsonl:1", "damaged"),
]
