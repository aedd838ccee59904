"""Everything in a lab cloud that a repair can change, as {key: digest}, to tell what a run
changed: database rows, libvirt domains, instance folders (and the quarantine), iSCSI
sessions and node records, OVN northbound rows, DNS records, NSX objects and RabbitMQ
queues.  Each key comes with the identifiers that name it (uuids, names, IQNs), so a
change can be traced to the journal record that names the same object.

Left out on purpose: what the lab's stand-in for the live services changes by itself
(the services' heartbeat columns), SOA serials (every RFC 2136 update bumps them) and
queue message counts (the live services consume)."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

HEARTBEAT_COLUMNS = {"services": {"updated_at", "last_seen_up", "report_count"}}
# Placement's own bookkeeping, which any write through its API may add to: named as the
# API (and so the journal) names them, a project's or user's external id, a consumer
# type's name
PLACEMENT_NAMES = {"projects": "external_id", "users": "external_id", "consumer_types": "name"}
_TOKEN = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}|iqn\.[^\s\"',]+"
    r"|instance-[0-9a-f]{8}|[a-z]+_fanout_[0-9a-f]+|reply_[0-9a-f]+|[\w.-]+\.[a-z]+\.?$",
    re.IGNORECASE,
)


class State(dict):
    """{key: digest}; `names[key]` are the identifiers of the object behind a key."""

    def __init__(self):
        super().__init__()
        self.names: dict[str, set[str]] = {}

    def put(self, key: str, value, names) -> None:
        self[key] = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:20]
        self.names.setdefault(key, set()).update(n for n in names if n)


def tokens(value) -> set[str]:
    """The identifiers in any JSON-like value: uuids, hex ids, IQNs, domain names, DNS names."""
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            out |= tokens(k) | tokens(v)
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            out |= tokens(v)
    elif isinstance(value, str):
        out |= {m.group(0).lower().rstrip(".") for m in _TOKEN.finditer(value)}
    return out


def capture(lab: Path, db_urls: dict[str, str] | None = None) -> State:
    """The lab's state now.  `db_urls` ({name: SQLAlchemy URL}) replaces the SQLite files
    of a lab built with --db-url."""
    state = State()
    info = json.loads((lab / "lab.json").read_text())
    config = tomllib.loads((lab / "osfsck.toml").read_text())
    _databases(lab, state, db_urls)
    for host, h in info["hosts"].items():
        _domains(host, h["uri"], state)
        _folders(host, Path(h["instances_path"]), state)
        _iscsi(host, lab / "hosts" / host / "iscsi" / "state.json", state)
    if (lab / "ovn" / "nb.sock").exists():
        _ovn(lab / "ovn" / "nb.sock", state)
    if "dns" in config:
        _dns(lab, config["dns"], state)
    if (lab / "nsx" / "state.json").exists():
        _nsx(lab / "nsx" / "state.json", state)
    if "rabbitmq" in config:
        _queues(lab, config["rabbitmq"], state)
    return state


def row_name(table: str, key_values) -> str:
    """How a row is named both here and in a journal record ({"table": ..., "key": {...}})."""
    return f"{table}:" + ",".join(sorted(str(v) for v in key_values))


def _databases(lab: Path, state: State, db_urls) -> None:
    if db_urls:
        from sqlalchemy import create_engine, inspect, text

        for name, url in sorted(db_urls.items()):
            engine = create_engine(url)
            with engine.connect() as conn:
                insp = inspect(conn)
                for table in insp.get_table_names():
                    pk = insp.get_pk_constraint(table)["constrained_columns"]
                    result = conn.execute(text(f"SELECT * FROM `{table}`"))
                    cols = list(result.keys())
                    _rows(state, name, table, cols, [tuple(r) for r in result], [cols.index(c) for c in pk], {})
            engine.dispose()
        return
    for path in sorted((lab / "db").glob("*.sqlite")):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        # Placement's rows name their provider by its internal id; the API (and so the
        # journal) by its uuid
        providers = dict(conn.execute("SELECT id, uuid FROM resource_providers")) if path.stem == "placement" else {}
        try:
            for (table,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            ):
                info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
                cols = ["rowid"] + [c[1] for c in info]
                pk = [cols.index(c[1]) for c in sorted(info, key=lambda c: c[5]) if c[5]] or [0]
                rows = conn.execute(f'SELECT rowid, * FROM "{table}"').fetchall()
                _rows(state, path.stem, table, cols, rows, pk, providers)
        finally:
            conn.close()


def _rows(state: State, db: str, table: str, cols: list[str], rows, pk: list[int], providers: dict) -> None:
    skip = HEARTBEAT_COLUMNS.get(table, set())
    keep = [i for i, c in enumerate(cols) if c not in skip and c != "rowid"]
    rp = cols.index("resource_provider_id") if "resource_provider_id" in cols else None
    for row in rows:
        values = [row[i] for i in keep]
        name = row_name(table, (row[i] for i in pk))
        names = {name} | tokens([v for v in values if isinstance(v, str)])
        if rp is not None and row[rp] in providers:
            names.add(providers[row[rp]])
        if db.endswith("placement") and table in PLACEMENT_NAMES:
            names.add(str(row[cols.index(PLACEMENT_NAMES[table])]).lower())
        state.put(f"db:{db}:{name}", values, names)


def _domains(host: str, uri: str, state: State) -> None:
    import libvirt

    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    conn = libvirt.openReadOnly(uri)
    try:
        for dom in conn.listAllDomains(0):
            name, uuid = dom.name(), dom.UUIDString()
            state.put(f"domain:{host}:{name}", [uuid, bool(dom.isActive()), dom.XMLDesc(0)], {name.lower(), uuid})
    finally:
        conn.close()


def _folders(host: str, base: Path, state: State) -> None:
    if not base.is_dir():
        return
    for entry in sorted(base.iterdir()):
        children = sorted(p.name for p in entry.iterdir()) if entry.is_dir() else None
        if entry.name == ".osfsck-quarantine":
            for q in children:
                state.put(f"folder:{host}:quarantine/{q}", q, tokens(q))
            continue
        state.put(f"folder:{host}:{entry.name}", children, tokens(entry.name))


def _iscsi(host: str, path: Path, state: State) -> None:
    if not path.exists():
        return
    data = json.loads(path.read_text())
    for s in data.get("sessions", []):
        state.put(f"iscsi-session:{host}:{s['target_iqn']}:{s['portal']}", s, tokens(s["target_iqn"]))
    for n in data.get("nodes", []):
        state.put(f"iscsi-node:{host}:{n['target_iqn']}:{n['portal']}", n, tokens(n["target_iqn"]))


def _ovn(sock: Path, state: State) -> None:
    out = subprocess.run(
        ["ovsdb-client", "-f", "json", "--timeout=30", "dump", f"unix:{sock}", "OVN_Northbound"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    for line in out.splitlines():
        if not line.strip():
            continue
        t = json.loads(line)
        heads = t["headings"]
        table = t["caption"].removesuffix(" table")
        for row in t["data"]:
            rec = dict(zip(heads, row))
            uuid = rec["_uuid"][1]
            rec.pop("_version", None)
            state.put(
                f"ovn:{table}:{uuid}", rec, {uuid} | tokens(rec.get("name", "")) | tokens(rec.get("external_ids"))
            )


def _dns(lab: Path, cfg: dict, state: State) -> None:
    import dns.name
    import dns.query
    import dns.rdatatype
    import dns.tsigkeyring

    host, _, port = cfg["server"].rpartition(":")
    key = cfg["keys"][cfg["key"]]
    secret = (lab / key["secret_file"]).read_text().strip()
    ring = dns.tsigkeyring.from_text({cfg["key"]: (key["algorithm"], secret)})
    for zone in sorted(cfg.get("zones", {})):
        records: dict[tuple, list] = {}
        for message in dns.query.xfr(
            host, zone, port=int(port), keyring=ring, keyalgorithm=key["algorithm"], timeout=30, lifetime=60
        ):
            for rrset in message.answer:
                if rrset.rdtype == dns.rdatatype.SOA:
                    continue
                name = rrset.name.derelativize(dns.name.from_text(zone)).to_text()
                records.setdefault((name, dns.rdatatype.to_text(rrset.rdtype)), []).extend(r.to_text() for r in rrset)
        for (name, rtype), data in records.items():
            state.put(
                f"dns:{zone}:{name}:{rtype}",
                sorted(set(data)),
                tokens(name) | tokens(data) | {name.lower().rstrip(".")},
            )


def _nsx(path: Path, state: State) -> None:
    for collection, objects in json.loads(path.read_text()).items():
        for obj in objects:
            names = {obj.get("id", "")} | tokens(obj.get("tags")) | tokens(obj.get("display_name", ""))
            state.put(f"nsx:{collection}:{obj.get('id')}", obj, names)


def _queues(lab: Path, rabbit: dict, state: State) -> None:
    password = (lab / rabbit["password_file"]).read_text().strip()
    with httpx.Client(base_url=rabbit["url"], auth=(rabbit["username"], password), timeout=30) as http:
        queues = http.get("/api/queues", params={"columns": "name,vhost,durable,auto_delete,arguments"}).json()
        for q in queues:
            state.put(f"queue:{q['vhost']}:{q['name']}", q, {q["name"].lower()} | tokens(q["name"]))
        for b in http.get("/api/bindings").json():
            if b.get("destination_type") == "queue" and b.get("source"):
                state.put(
                    f"binding:{b['vhost']}:{b['source']}:{b['destination']}:{b['routing_key']}",
                    b,
                    {b["destination"].lower()} | tokens(b["destination"]),
                )


def journal_names(records: list[dict]) -> set[str]:
    """Every name the given journal records use for what they touch: their words, the
    identifiers in them, and each database row they key ({"table": t, "key": {...}})."""
    out: set[str] = set()

    def walk(v) -> None:
        if isinstance(v, dict):
            if isinstance(v.get("table"), str) and isinstance(v.get("key"), dict):
                out.add(row_name(v["table"], v["key"].values()))
            for x in v.values():
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            out.update(w.lower().rstrip(".,;") for w in re.split(r"[\s()\[\]\"',]+", v) if w)
            out.update(tokens(v))

    walk(records)
    return out


def changes(before: State, after: State) -> dict[str, set[str]]:
    """Every key added, removed or changed, with the names of its object (before or after)."""
    keys = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return {k: before.names.get(k, set()) | after.names.get(k, set()) for k in sorted(keys)}
