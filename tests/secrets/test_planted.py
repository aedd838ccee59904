"""Secrets planted in every place osfsck reads, on a lab cloud (its real components), then
looked for in everything osfsck writes: the journal, the state file, a snapshot, every
report format (the rows of csv, value and table with every column, yaml, the roll-ups),
the -vv and --debug logs on stderr and in a --log-file, and the error messages of runs
whose sources fail.

Planted (`SECRETS`): CHAP passwords and a Ceph keyring in Nova's block device mappings
and Cinder's attachments; a Keystone token (Fernet-shaped), an admin password, a new_pass,
injected files and a CHAP password in RPC casts waiting in the queues osfsck deletes; the
Placement and Neutron API tokens (config, from the environment); the NSX and RabbitMQ
passwords and the TSIG secret the lab's config names (files); and, in runs whose sources
cannot be reached, database passwords (from the environment, from nova.conf, inline in
cell_mappings, as the base of Nova's templated cell URLs), a Keystone password, and the
RabbitMQ, NSX and Keystone passwords written into their URLs (https://user:password@host).
Every value is looked for as it is, URL-encoded, JSON-escaped and base64-encoded.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest

from osfsck.report import FORMATS
from osfsck.report.rows import FINDING_COLUMNS, JOURNAL_COLUMNS
from osfsck_lab.loopback import free_port

pytestmark = pytest.mark.integration

FERNET = "gAAAAABpPl4nted" + "T0kenBody_-" * 16 + "=="


def _s(name: str) -> str:
    """A planted value: recognisable, and unlike anything osfsck or the lab writes."""
    return f"Pl4nted{name}Zq7x"


SECRETS = {
    "nova BDM CHAP password": _s("NovaChap"),
    "cinder attachment CHAP password": _s("CinderChap"),
    "cinder attachment Ceph keyring": "AQBPl4ntedKeyringZq7x==",
    "RPC cast Keystone token": FERNET,
    "RPC cast admin_password": _s("AdminPass"),
    "RPC cast new_pass": _s("NewPass"),
    "RPC cast injected file": base64.b64encode(b"ssh-ed25519 Pl4ntedInjectedZq7x").decode(),
    "RPC cast CHAP password": _s("CastChap"),
    "RPC reply token in a failure text": _s("ReplyToken"),
    "Placement API token": _s("PlacementToken"),
    "Neutron API token": _s("NeutronToken"),
    "Nova API database password (env)": _s("NovaApiDb") + "@/:%",
    "Nova cell database password (nova.conf)": _s("NovaConfCell"),
    "cell database password inline in cell_mappings": _s("CellInline"),
    "templated cell URL base password (env)": _s("CellBase"),
    "Cinder database password (env)": _s("CinderDb"),
    "Keystone password (env)": _s("Keystone"),
    "Keystone URL password": _s("KeystoneUrl"),
    "RabbitMQ password (env)": _s("RabbitEnv"),
    "RabbitMQ URL password": _s("RabbitUrl"),
    "NSX password (env)": _s("NsxEnv"),
    "NSX URL password": _s("NsxUrl"),
}


def osfsck(*args: str, config: Path, env: dict) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "osfsck.cli.main", "-vv", "-c", str(config), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=900, env={**os.environ, **env})


def forms(value: str) -> set[str]:
    return {value, quote(value, safe=""), json.dumps(value)[1:-1], base64.b64encode(value.encode()).decode()}


def leaks(secrets: dict, artefacts: dict) -> list[tuple[str, str]]:
    return sorted(
        (name, where)
        for name, value in secrets.items()
        for where, text in artefacts.items()
        if any(f in text for f in forms(value))
    )


@pytest.fixture(scope="module")
def lab():
    # not tmp_path: pytest's folders are closed (0700) to the user the lab's libvirtd runs as
    base = Path(tempfile.mkdtemp(prefix="osfsck-secrets-"))
    base.chmod(0o755)
    out = base / "lab"
    p = subprocess.run(
        [sys.executable, "-m", "osfsck.cli.main", "lab", "build", "--out", str(out), "--seed", "1"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert p.returncode == 0, p.stderr
    yield out
    subprocess.run([sys.executable, "-m", "osfsck.cli.main", "lab", "stop", str(out)], capture_output=True, timeout=300)
    shutil.rmtree(base, ignore_errors=True)


def _with_credentials(text: str | None, password: str, keyring: str | None = None) -> str | None:
    if not text:
        return text
    info = json.loads(text)
    data = info.get("data", info)
    data.update({"auth_method": "CHAP", "auth_username": "chap-user", "auth_password": password})
    if keyring:
        data["keyring"] = f"[client.cinder]\n\tkey = {keyring}\n"
    return json.dumps(info)


def plant_in_databases(lab: Path) -> None:
    db = lab / "db"
    for cell in sorted(db.glob("nova_cell*.sqlite")):
        with sqlite3.connect(cell) as c:
            for id_, info in c.execute("SELECT id, connection_info FROM block_device_mapping").fetchall():
                c.execute(
                    "UPDATE block_device_mapping SET connection_info = ? WHERE id = ?",
                    (_with_credentials(info, SECRETS["nova BDM CHAP password"]), id_),
                )
    with sqlite3.connect(db / "cinder.sqlite") as c:
        for id_, info in c.execute("SELECT id, connection_info FROM volume_attachment").fetchall():
            c.execute(
                "UPDATE volume_attachment SET connection_info = ? WHERE id = ?",
                (
                    _with_credentials(
                        info, SECRETS["cinder attachment CHAP password"], SECRETS["cinder attachment Ceph keyring"]
                    ),
                    id_,
                ),
            )


def plant_in_queues(lab: Path) -> None:
    from osfsck.clients.rabbitmq import RabbitClient
    from osfsck.config import load_settings

    truth = json.loads((lab / "truth.json").read_text())["faults"]
    dead = next(f["subject"] for f in truth if f["code"] == "MQ101")
    reply = next(f["subject"] for f in truth if f["code"] == "MQ102" and f["subject"].startswith("reply_"))
    b = load_settings(str(lab / "osfsck.toml")).rabbitmq.brokers[0]
    info = json.dumps(
        {
            "driver_volume_type": "iscsi",
            "data": {"target_iqn": "iqn.x", "auth_method": "CHAP", "auth_password": SECRETS["RPC cast CHAP password"]},
        }
    )
    casts = [
        {
            "method": "rebuild_instance",
            "_context_auth_token": SECRETS["RPC cast Keystone token"],
            "_context_request_id": "req-planted-1",
            "args": {
                "new_pass": SECRETS["RPC cast new_pass"],
                "injected_files": [["/root/.ssh/authorized_keys", SECRETS["RPC cast injected file"]]],
                "bdms": [{"nova_object.data": {"connection_info": info}}],
            },
        },
        {
            "method": "build_and_run_instance",
            "_context_auth_token": SECRETS["RPC cast Keystone token"],
            "args": {"admin_password": SECRETS["RPC cast admin_password"]},
        },
    ]
    failure = {
        "failure": json.dumps(
            {"class": "Unauthorized", "message": f"token={SECRETS['RPC reply token in a failure text']} was refused"}
        ),
        "_msg_id": "m1",
    }
    with RabbitClient(**b.client_kwargs()) as c:
        for queue, body in [(dead, cast) for cast in casts] + [(reply, failure)]:
            envelope = json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(body)})
            assert c.publish("/", queue, {"payload": envelope, "payload_encoding": "string", "properties": {}})


def configure(lab: Path) -> dict:
    """The lab's config with a Placement API token, Keystone password auth for the Neutron
    API (a Keystone that does not answer: delete-port fails) and a state file; returns the
    environment."""
    cfg = lab / "osfsck.toml"
    text = cfg.read_text().replace('auth = "none"', 'token_env = "PLANTED_PLACEMENT_TOKEN"')
    text = text.replace(
        "[neutron]\n",
        "[neutron]\n"
        f'auth_url = "http://osfsck:{SECRETS["Keystone URL password"]}@127.0.0.1:{free_port()}/v3"\n'
        'username = "osfsck"\nproject_name = "admin"\npassword_env = "PLANTED_KEYSTONE"\n',
    )
    text = text.replace("[repair]\n", '[repair]\nstate_file = "state.json"\n')
    cfg.write_text(text)
    return {
        "PLANTED_PLACEMENT_TOKEN": f"admin:{SECRETS['Placement API token']}",
        "PLANTED_KEYSTONE": SECRETS["Keystone password (env)"],
    }


def broken_config(lab: Path, folder: Path) -> tuple[Path, Path, dict]:
    """A config whose databases and Keystone cannot be reached, with their passwords set:
    the runs then fail, and their error messages are searched too."""
    closed = free_port()
    api, neutron = folder / "nova_api.sqlite", folder / "neutron.sqlite"
    shutil.copy(lab / "db" / "nova_api.sqlite", api)
    shutil.copy(lab / "db" / "neutron.sqlite", neutron)  # its repairs change the copy
    with sqlite3.connect(api) as c:
        names = [n for (n,) in c.execute("SELECT name FROM cell_mappings WHERE name != 'cell0' ORDER BY id")]
        c.execute(
            "UPDATE cell_mappings SET database_connection = ? WHERE name = ?",
            (
                f"mysql+pymysql://nova:{SECRETS['cell database password inline in cell_mappings']}"
                f"@127.0.0.1:{closed}/nova_cell1",
                names[0],
            ),
        )
        c.execute(
            "UPDATE cell_mappings SET database_connection = ? WHERE name = ?",
            (f"mysql+pymysql://{{username}}:{{password}}@127.0.0.1:{closed}/nova_cell2", names[1]),
        )
    (folder / "nova.conf").write_text(
        "[api_database]\n"
        f"connection = mysql+pymysql://nova:{quote(SECRETS['Nova API database password (env)'], safe='')}"
        f"@127.0.0.1:{closed}/nova_api\n"
        f"[database]\nconnection = mysql+pymysql://nova:{SECRETS['Nova cell database password (nova.conf)']}"
        f"@127.0.0.1:{closed}/nova\n"
    )
    cfg = folder / "broken.toml"
    cfg.write_text(
        f'[nova]\napi_database = "sqlite:///{api}"\n'
        f'cell_url_base = "mysql+pymysql://nova@127.0.0.1:{closed}/nova"\n'
        'cell_url_base_password_env = "PLANTED_CELL_BASE"\n'
        f'[cinder]\ndatabase = "mysql://cinder@127.0.0.1:{closed}/cinder"\n'
        'database_password_env = "PLANTED_CINDER_DB"\n'
        f'[neutron]\ndatabase = "sqlite:///{neutron}"\n'
        f'endpoint = "http://127.0.0.1:{closed}"\ntoken_env = "PLANTED_NEUTRON_TOKEN"\n'
        f'[rabbitmq]\nurl = "http://osfsck:{SECRETS["RabbitMQ URL password"]}@127.0.0.1:{closed}"\n'
        'username = "osfsck"\npassword_env = "PLANTED_RABBIT"\n'
        f'[nsx]\nurl = "https://admin:{SECRETS["NSX URL password"]}@127.0.0.1:{closed}"\n'
        'username = "admin"\npassword_env = "PLANTED_NSX"\n'
        f'[repair]\njournal = "{folder / "journal.jsonl"}"\nstate_file = "{folder / "state.json"}"\n'
    )
    conf_only = folder / "conf.toml"
    conf_only.write_text(f'[nova]\nnova_conf = "{folder / "nova.conf"}"\n')
    return (
        cfg,
        conf_only,
        {
            "PLANTED_CELL_BASE": SECRETS["templated cell URL base password (env)"],
            "PLANTED_CINDER_DB": SECRETS["Cinder database password (env)"],
            "PLANTED_NEUTRON_TOKEN": SECRETS["Neutron API token"],
            "PLANTED_RABBIT": SECRETS["RabbitMQ password (env)"],
            "PLANTED_NSX": SECRETS["NSX password (env)"],
        },
    )


def files_written(*paths: Path) -> dict:
    out = {}
    for p in paths:
        if p.is_file():
            data = p.read_bytes()
            out[str(p)] = (gzip.decompress(data) if p.suffix == ".gz" else data).decode("utf-8", "replace")
    return out


def test_no_planted_secret_reaches_anything_osfsck_writes(lab, tmp_path):
    plant_in_databases(lab)
    plant_in_queues(lab)
    env = configure(lab)
    secrets = {
        **SECRETS,
        "NSX password (file)": (lab / "nsx" / "password").read_text().strip(),
        "RabbitMQ password (file)": (lab / "rabbitmq" / "password").read_text().strip(),
        "TSIG secret (file)": (lab / "dns" / "tsig.secret").read_text().strip(),
    }
    cfg, snap = lab / "osfsck.toml", tmp_path / "snapshot.json.gz"
    runs = {"collect": osfsck("collect", "-o", str(snap), config=cfg, env=env)}
    every = [a for c in FINDING_COLUMNS for a in ("-c", c)]
    for fmt in FORMATS:
        columns = every if fmt in ("table", "csv", "value") else []
        runs[f"check --format {fmt}"] = osfsck("check", "--format", fmt, *columns, config=cfg, env=env)
        runs[f"check --from --format {fmt}"] = osfsck(
            "check", "--from", str(snap), "--format", fmt, *columns, config=cfg, env=env
        )
    for fmt in ("json", "yaml", "csv", "value"):
        runs[f"check --format {fmt} -c ..."] = osfsck("check", "--format", fmt, *every, config=cfg, env=env)
        runs[f"check --group-by host --format {fmt}"] = osfsck(
            "check", "--group-by", "host", "-f", fmt, config=cfg, env=env
        )
    log = tmp_path / "osfsck.log"
    runs["check --debug --log-file"] = osfsck(
        "--debug", "--log-file", str(log), "check", "-f", "yaml", config=cfg, env=env
    )
    runs["repair"] = osfsck("repair", "--unsafe", "--yes", "--grace", "0", "--format", "json", config=cfg, env=env)
    for fmt in ("json", "yaml", "csv", "value", "table", "text"):
        columns = [a for c in JOURNAL_COLUMNS for a in ("-c", c)] if fmt in ("csv", "value", "table") else []
        runs[f"journal --format {fmt}"] = osfsck("journal", "--format", fmt, *columns, config=cfg, env=env)
    runs["undo"] = osfsck("undo", "--all", "--yes", config=cfg, env=env)
    runs["permissions"] = osfsck("permissions", config=cfg, env=env)
    broken, conf_only, broken_env = broken_config(lab, tmp_path)
    for name, c in (("broken", broken), ("nova.conf", conf_only)):
        runs[f"{name} check"] = osfsck("check", "--format", "json", config=c, env=broken_env)
        runs[f"{name} repair"] = osfsck("repair", "--unsafe", "--yes", "--grace", "0", config=c, env=broken_env)

    # the runs did what they should, so there was something to leak
    assert runs["collect"].returncode == 0 and snap.is_file(), runs["collect"].stderr
    applied = [r for r in json.loads(runs["repair"].stdout)["repairs"] if r["outcome"] == "applied"]
    assert {r["code"] for r in applied} >= {"MQ101", "MQ102", "VL101", "PL101"}, runs["repair"].stderr[-2000:]
    assert any(
        r["code"] == "NT101" and r["outcome"] == "failed" and "Keystone" in r["reason"]
        for r in json.loads(runs["repair"].stdout)["repairs"]
    )
    assert "not republished" in runs["undo"].stdout, runs["undo"].stdout
    assert all(runs[f"{n} check"].returncode & 8 for n in ("broken", "nova.conf"))

    artefacts = {f"{name} {stream}": getattr(p, stream) for name, p in runs.items() for stream in ("stdout", "stderr")}
    artefacts.update(
        files_written(
            lab / "osfsck" / "journal.jsonl",
            lab / "state.json",
            snap,
            tmp_path / "journal.jsonl",
            tmp_path / "state.json",
            log,
        )
    )
    assert {str(lab / "osfsck" / "journal.jsonl"), str(lab / "state.json"), str(snap), str(log)} <= set(artefacts)
    assert "osfsck.engine.collect: nova-db" in artefacts[str(log)]  # the log file did get the lines
    found = leaks(secrets, artefacts)
    assert found == [], f"{len({n for n, _ in found})} of {len(secrets)} planted secrets leaked: {found}"
