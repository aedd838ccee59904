"""A test double of a VMware NSX manager's REST API: NSX cannot run here.

It serves the objects the vmware-nsx plugins make and osfsck reads or deletes, and follows
the documented behaviour osfsck relies on (NSX-T API reference, `*ListResult` schemas;
vmware_nsxlib v3 client.py and core_resources.py for how a client uses it):

    Policy API   /policy/api/v1/infra/segments[/<id>]
                 /policy/api/v1/infra/segments/<id>/ports[/<id>]
                 /policy/api/v1/infra/tier-1s[/<id>]
                 /policy/api/v1/infra/domains/default/groups[/<id>]
                 /policy/api/v1/infra/domains/default/security-policies[/<id>]
    Manager API  /api/v1/logical-switches, logical-ports, logical-routers, ns-groups,
                 firewall/sections [/<id>]

- Lists: `{"results": [...], "result_count": <total>, "cursor": "<opaque>"}`;
  `result_count` on the first page only; `cursor` on every page but the last; `page_size`
  defaults to and is capped at 1000, NSGroups at 50 ("The page size is restricted to 50
  NSGroups").
- Server-set fields on every object: `_revision` (0 at creation, +1 on every change),
  `_create_time`/`_last_modified_time` (epoch ms), `_create_user`/`_last_modified_user`,
  `_protection`, `_system_owned`; Policy objects also `path`, `parent_path`,
  `relative_path`, `marked_for_delete`.
- Writes: Policy PATCH and PUT create or update an object with the id in the URL; Manager
  POST creates one with a new id, PUT updates it and must carry `_revision`.  A PUT or
  PATCH whose `_revision` is not the current one gets 412 (the object was changed by
  somebody else).
- Deletes: a Manager logical port with an attachment needs `?detach=true`; a segment or
  logical switch with ports, a tier-1 a segment connects to, a group a security policy
  uses and an NSGroup a firewall section applies to are refused with 400 (a logical
  switch's ports go with `?cascade=true`).  A Policy DELETE of an absent object answers 200
  (Policy deletes are idempotent); a Manager one 404.
- HTTP basic authentication: a wrong or missing user/password gets 401.  HTTPS when given a
  certificate and key.
- Injected faults for tests (`inject`): an HTTP status (503, 429 with Retry-After, 500...)
  or a body that is not JSON, for the next N matching requests or for ever.

It omits everything else: sessions (`/api/session/create`, XSRF tokens), the search API,
sort_by and included_fields, realization state, child objects of ports (binding maps),
rules of sections, logical router ports, enforcement points and the Policy hierarchical
API; object bodies are stored as given, not validated against the schema.  A list read
while objects change may skip or repeat one (pages are offsets), as real cursors never do.

Run it in a thread (`NsxStandin(...).start()`, tests) or as a process (the lab):
    python -m osfsck_lab.nsx_standin --port 8443 --state nsx.json \
        --password-file pw [--cert c.pem --key k.pem] [--pidfile nsx.pid]
which keeps its objects in the state file (loaded at start, rewritten after every change).
Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import re
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_PAGE = 1000
NSGROUP_PAGE = 50
POLICY = "/policy/api/v1/infra"
MANAGER = "/api/v1"

# collection path (a pattern for segment ports) -> resource_type of its objects
COLLECTIONS = {
    f"{POLICY}/segments": "Segment",
    f"{POLICY}/tier-1s": "Tier1",
    f"{POLICY}/domains/default/groups": "Group",
    f"{POLICY}/domains/default/security-policies": "SecurityPolicy",
    f"{MANAGER}/logical-switches": "LogicalSwitch",
    f"{MANAGER}/logical-ports": "LogicalPort",
    f"{MANAGER}/logical-routers": "LogicalRouter",
    f"{MANAGER}/ns-groups": "NSGroup",
    f"{MANAGER}/firewall/sections": "FirewallSection",
}
_SEGMENT_PORTS = re.compile(rf"^{re.escape(POLICY)}/segments/([^/]+)/ports$")
_SERVER_FIELDS = (
    "_revision",
    "_create_time",
    "_create_user",
    "_last_modified_time",
    "_last_modified_user",
    "_protection",
    "_system_owned",
)


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: int = 0):
        super().__init__(message)
        self.status, self.code = status, code

    def body(self) -> dict:
        return {
            "httpStatus": _REASONS.get(self.status, str(self.status)),
            "error_code": self.code or self.status,
            "module_name": "nsx-standin",
            "error_message": str(self),
        }


_REASONS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    404: "NOT_FOUND",
    412: "PRECONDITION_FAILED",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def collection_of(path: str) -> str | None:
    """The collection a request path names, or None."""
    if path in COLLECTIONS or _SEGMENT_PORTS.match(path):
        return path
    return None


def resource_type_of(collection: str) -> str:
    return COLLECTIONS.get(collection) or "SegmentPort"


def is_policy(path: str) -> bool:
    return path.startswith(POLICY)


def _encode_cursor(collection: str, offset: int) -> str:
    # opaque to clients, and never starting with "0000" (nsxlib's end-of-list prefix)
    return "c" + base64.urlsafe_b64encode(f"{offset}|{collection}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, collection: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor[1:] + "=" * (-len(cursor[1:]) % 4)).decode()
        offset, _, where = raw.partition("|")
        if where != collection or not cursor.startswith("c"):
            raise ValueError
        return int(offset)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ApiError(400, f"Invalid cursor {cursor!r}") from None


class Store:
    """The manager's objects: collection path -> {id: object}, in creation order."""

    def __init__(self, user: str = "admin"):
        self.user = user
        self.collections: dict[str, dict[str, dict]] = {}
        self.lock = threading.RLock()
        self.changed = None  # called after every change (the process saves its state)

    def _now(self) -> int:
        return int(time.time() * 1000)

    def put_new(self, collection: str, obj: dict) -> dict:
        """Create an object as NSX would (server fields set, `_revision` 0)."""
        obj = {k: v for k, v in obj.items() if k not in _SERVER_FIELDS}
        obj.setdefault("id", str(uuid.uuid4()))
        obj.setdefault("resource_type", resource_type_of(collection))
        obj.setdefault("display_name", obj["id"])
        obj.setdefault("tags", [])
        now = self._now()
        obj.update(
            {
                "_revision": 0,
                "_create_time": now,
                "_create_user": self.user,
                "_last_modified_time": now,
                "_last_modified_user": self.user,
                "_protection": "NOT_PROTECTED",
                "_system_owned": False,
            }
        )
        if is_policy(collection):
            path = collection[len(POLICY) - len("/infra") :] + "/" + obj["id"]
            obj.update(
                {
                    "path": path,
                    "parent_path": path.rsplit("/", 2)[0],
                    "relative_path": obj["id"],
                    "marked_for_delete": False,
                }
            )
        self.collections.setdefault(collection, {})[obj["id"]] = obj
        return obj

    def add(self, collection: str, obj: dict, **server_fields) -> dict:
        """For tests and the lab: store an object, overriding server fields if asked
        (e.g. `_create_time` of an object made days ago)."""
        with self.lock:
            made = self.put_new(collection, obj)
            made.update(server_fields)
            return made

    def objects(self, collection: str) -> list[dict]:
        with self.lock:
            return list(self.collections.get(collection, {}).values())

    def get(self, collection: str, oid: str) -> dict | None:
        with self.lock:
            return self.collections.get(collection, {}).get(oid)

    def to_json(self) -> dict:
        with self.lock:
            return {c: list(objs.values()) for c, objs in self.collections.items() if objs}

    def load(self, data: dict) -> None:
        with self.lock:
            self.collections = {c: {o["id"]: o for o in objs} for c, objs in data.items()}

    # -- the API's semantics ---------------------------------------------------------
    def list_page(self, collection: str, query: dict) -> dict:
        cap = NSGROUP_PAGE if collection.endswith("/ns-groups") else MAX_PAGE
        try:
            size = int(query.get("page_size", [MAX_PAGE])[0])
        except ValueError:
            raise ApiError(400, "page_size must be an integer") from None
        size = max(1, min(size, cap))
        cursor = query.get("cursor", [None])[0]
        offset = _decode_cursor(cursor, collection) if cursor else 0
        with self.lock:
            if collection not in COLLECTIONS:
                seg = _SEGMENT_PORTS.match(collection).group(1)
                if seg not in self.collections.get(f"{POLICY}/segments", {}):
                    raise ApiError(404, f"Segment {seg} not found", 500012)
            objs = self.collections.get(collection, {})
            if offset == 0 and len(objs) <= size:
                results = list(objs.values())
            else:
                results = list(objs.values())[offset : offset + size]
            total = len(objs)
        page = {"results": results}
        if offset == 0:
            page["result_count"] = total
        if offset + size < total:
            page["cursor"] = _encode_cursor(collection, offset + size)
        return page

    def write(self, method: str, collection: str, oid: str | None, body: dict, query: dict) -> dict:
        with self.lock:
            objs = self.collections.setdefault(collection, {})
            if method == "POST":
                if is_policy(collection) or oid is not None:
                    raise ApiError(400, "POST creates Manager API objects only, on their collection")
                made = self.put_new(collection, body)
                self._changed()
                return made
            current = objs.get(oid)
            seen = body.get("_revision")
            if current is None:
                if not is_policy(collection):
                    raise ApiError(
                        404,
                        f"The requested object : {oid} could not be found. Object identifiers are case sensitive.",
                        600,
                    )
                if collection not in COLLECTIONS:
                    seg = _SEGMENT_PORTS.match(collection).group(1)
                    if seg not in self.collections.get(f"{POLICY}/segments", {}):
                        raise ApiError(400, f"Segment {seg} does not exist", 500012)
                made = self.put_new(collection, {**body, "id": oid})
                self._changed()
                return made
            if seen is None and not is_policy(collection):
                raise ApiError(412, "The _revision property must be supplied when updating an object", 244)
            if seen is not None and seen != current["_revision"]:
                raise ApiError(
                    412,
                    f"The object {oid} was modified by somebody else (revision "
                    f"{current['_revision']}, not {seen}). Try again.",
                    604,
                )
            if method == "PATCH":
                merged = {**current, **{k: v for k, v in body.items() if k not in _SERVER_FIELDS}}
            else:
                keep = {
                    k: current[k]
                    for k in (*_SERVER_FIELDS, "path", "parent_path", "relative_path", "marked_for_delete")
                    if k in current
                }
                merged = {**{k: v for k, v in body.items() if k not in _SERVER_FIELDS}, **keep}
            merged.update(
                {
                    "id": oid,
                    "_revision": current["_revision"] + 1,
                    "_last_modified_time": self._now(),
                    "_last_modified_user": self.user,
                }
            )
            objs[oid] = merged
            self._changed()
            return merged

    def delete(self, collection: str, oid: str, query: dict) -> None:
        flag = lambda name: query.get(name, ["false"])[0].lower() == "true"  # noqa: E731
        with self.lock:
            objs = self.collections.get(collection, {})
            obj = objs.get(oid)
            if obj is None:
                if is_policy(collection):
                    return
                raise ApiError(
                    404, f"The requested object : {oid} could not be found. Object identifiers are case sensitive.", 600
                )
            rtype = obj.get("resource_type")
            if rtype == "LogicalPort" and obj.get("attachment") and not flag("detach"):
                raise ApiError(400, f"Logical port {oid} has an attachment; delete it with detach=true", 8407)
            if rtype == "Segment" and self.collections.get(f"{collection}/{oid}/ports"):
                raise ApiError(400, f"Segment {oid} has ports; delete them first", 503040)
            if rtype == "LogicalSwitch":
                ports = [
                    p
                    for p in self.collections.get(f"{MANAGER}/logical-ports", {}).values()
                    if p.get("logical_switch_id") == oid
                ]
                if ports and not flag("cascade"):
                    raise ApiError(400, f"Logical switch {oid} has {len(ports)} logical port(s)", 5070)
                for p in ports:
                    del self.collections[f"{MANAGER}/logical-ports"][p["id"]]
            self._refuse_if_used(rtype, obj)
            del objs[oid]
            if rtype == "Segment":
                self.collections.pop(f"{collection}/{oid}/ports", None)
            self._changed()

    def _refuse_if_used(self, rtype: str, obj: dict) -> None:
        """Objects others refer to cannot be deleted (NSX answers 400 "in use")."""
        if rtype == "Tier1":
            users = [
                s["id"]
                for s in self.collections.get(f"{POLICY}/segments", {}).values()
                if s.get("connectivity_path") == obj["path"]
            ]
        elif rtype == "Group":
            users = [
                p["id"]
                for p in self.collections.get(f"{POLICY}/domains/default/security-policies", {}).values()
                if obj["path"] in json.dumps([p.get("scope"), p.get("rules")])
            ]
        elif rtype == "NSGroup":
            users = [
                s["id"]
                for s in self.collections.get(f"{MANAGER}/firewall/sections", {}).values()
                if any(t.get("target_id") == obj["id"] for t in s.get("applied_tos") or ())
            ]
        else:
            return
        if users:
            raise ApiError(400, f"{rtype} {obj['id']} is in use by {', '.join(sorted(users))}", 500030)

    def _changed(self) -> None:
        if self.changed:
            self.changed()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as NSX's front end (clients reuse connections)
    server_version = "NSX-standin"
    # headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK hold every keep-alive answer back by tens of milliseconds
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # requests are recorded in standin.requests instead
        pass

    def _reply(self, status: int, body, headers: dict | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        standin: NsxStandin = self.server.standin
        url = urlsplit(self.path)
        path, query = url.path.rstrip("/"), parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        standin.requests.append((method, self.path))
        if self.headers.get("Authorization") != standin.auth_header:
            return self._reply(
                401,
                ApiError(
                    401, "The username/password combination is incorrect or the account specified has been locked.", 403
                ).body(),
            )
        fault = standin.take_fault(method, path, query)
        if fault is not None:
            status, body, headers = fault
            return self._reply(status, body, headers)
        try:
            self._reply(200, self._dispatch(standin.store, method, path, query, raw))
        except ApiError as e:
            self._reply(e.status, e.body())

    @staticmethod
    def _dispatch(store: Store, method: str, path: str, query: dict, raw: bytes):
        collection = collection_of(path)
        oid = None
        if collection is None:
            parent, _, oid = path.rpartition("/")
            collection = collection_of(parent)
            if collection is None:
                raise ApiError(404, f"No API at {path}", 404)
        body = {}
        if method in ("PUT", "PATCH", "POST"):
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise ApiError(400, "The request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise ApiError(400, "The request body must be a JSON object")
        if method == "GET":
            if oid is None:
                return store.list_page(collection, query)
            obj = store.get(collection, oid)
            if obj is None:
                raise ApiError(
                    404, f"The requested object : {oid} could not be found. Object identifiers are case sensitive.", 600
                )
            return obj
        if method == "DELETE":
            if oid is None:
                raise ApiError(400, "DELETE names one object")
            store.delete(collection, oid, query)
            return b""
        if method == "POST" or oid is not None:
            return store.write(method, collection, oid, body, query)
        raise ApiError(400, f"{method} needs an object id")

    def do_GET(self):
        self._handle("GET")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")


class NsxStandin:
    """The server.  `store` holds the objects; `requests` lists (method, path?query) as
    received; `inject` queues faults."""

    def __init__(
        self,
        username: str = "admin",
        password: str = "secret",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        certfile: str | None = None,
        keyfile: str | None = None,
    ):
        self.store = Store(username)
        self.requests: list[tuple[str, str]] = []
        self.auth_header = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self._faults: list[dict] = []
        self._fault_lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), _Handler)
        self.server.daemon_threads = True
        self.server.standin = self
        self.scheme = "http"
        if certfile:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile, keyfile)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def inject(
        self,
        status: int,
        *,
        count: int | None = 1,
        method: str | None = None,
        path: str | None = None,
        paged: bool = False,
        retry_after: float | None = None,
        body: bytes | None = None,
    ) -> None:
        """Answer the next `count` (None: every) matching request with `status` instead.
        Matching: `method`, a `path` prefix, and with `paged` only requests that carry a
        cursor (a second or later page).  `body` replaces the JSON error (e.g. b"<html>")."""
        with self._fault_lock:
            self._faults.append(
                {
                    "status": status,
                    "count": count,
                    "method": method,
                    "path": path,
                    "paged": paged,
                    "retry_after": retry_after,
                    "body": body,
                }
            )

    def clear_faults(self) -> None:
        with self._fault_lock:
            self._faults.clear()

    def take_fault(self, method: str, path: str, query: dict):
        with self._fault_lock:
            for f in self._faults:
                if (
                    (f["method"] and f["method"] != method)
                    or (f["path"] and not path.startswith(f["path"]))
                    or (f["paged"] and "cursor" not in query)
                ):
                    continue
                if f["count"] is not None:
                    f["count"] -= 1
                    if f["count"] <= 0:
                        self._faults.remove(f)
                headers = {"Retry-After": str(f["retry_after"])} if f["retry_after"] is not None else {}
                body = f["body"] if f["body"] is not None else ApiError(f["status"], "injected fault").body()
                return f["status"], body, headers
        return None

    def start(self) -> NsxStandin:
        self._thread = threading.Thread(target=self.server.serve_forever, name="nsx-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def make_certificate(folder: str, host: str = "127.0.0.1") -> tuple[str, str]:
    """A self-signed certificate for `host` (an IP address) made with `openssl`: (cert, key)
    paths.  The certificate is its own CA: a client trusts it only when given it."""
    import subprocess

    cert, key = os.path.join(folder, "nsx-cert.pem"), os.path.join(folder, "nsx-key.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={host}",
            "-addext",
            f"subjectAltName=IP:{host}",
            "-keyout",
            key,
            "-out",
            cert,
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _save(store: Store, path: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(store.to_json(), f)
    os.replace(tmp, path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="A test double of an NSX manager's REST API (not NSX).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--username", default="admin")
    p.add_argument("--password-file", required=True)
    p.add_argument("--state", help="JSON file of the objects: loaded at start, rewritten after every change")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--pidfile", help="write this process's PID here")
    a = p.parse_args(argv)
    if a.pidfile:
        with open(a.pidfile, "w", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")
    with open(a.password_file, encoding="utf-8") as f:
        password = f.read().strip()
    standin = NsxStandin(a.username, password, host=a.host, port=a.port, certfile=a.cert, keyfile=a.key)
    if a.state:
        if os.path.exists(a.state):
            with open(a.state, encoding="utf-8") as f:
                standin.store.load(json.load(f))
        standin.store.changed = lambda: _save(standin.store, a.state)
    print(standin.url, flush=True)  # the caller reads the address (port 0: a free one)
    try:
        standin.server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
