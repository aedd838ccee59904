"""Faults on the wire, between osfsck and a real server: a TCP (or Unix socket) proxy that
cuts a connection after some bytes and counts what it relayed, and an HTTP proxy whose
answers a test may replace (a 5xx, a 401) or around whose writes it may act (kill the
server behind it).  Both run in threads of the test process."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


class TcpProxy:
    """Listens on a loopback port (or on the Unix socket `listen_unix`) and relays each
    connection to `target` ((host, port) or a Unix socket path).

    `cut_after`: after relaying that many bytes from the server to the client on one
    connection, call `on_cut()` (if given) and close both ends, as a server that died or a
    network that broke mid-answer; with `hold` the connection stays open instead and
    nothing more passes (a network that black-holes the rest) until the proxy closes.
    `relayed` lists the bytes each connection carried from the server, so a test can
    measure a whole answer first and cut the next one half-way.
    """

    def __init__(
        self,
        target,
        *,
        listen_unix: str | None = None,
        cut_after: int | None = None,
        on_cut: Callable[[], None] | None = None,
        hold: bool = False,
    ):
        self.target, self.cut_after, self.on_cut, self.hold = target, cut_after, on_cut, hold
        self._stop = threading.Event()
        self.relayed: list[int] = []
        self.cuts = 0
        family = socket.AF_UNIX if listen_unix else socket.AF_INET
        self._server = socket.socket(family, socket.SOCK_STREAM)
        if listen_unix:
            self._server.bind(listen_unix)
            os.chmod(listen_unix, 0o777)
        else:
            self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.address = listen_unix or self._server.getsockname()[1]
        self._closed = False
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return self.address

    def _connect(self) -> socket.socket:
        if isinstance(self.target, str):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.target)
            return s
        return socket.create_connection(self.target)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = self._connect()
            except OSError:
                client.close()  # the server is gone: as a refused connection would
                continue
            with self._lock:
                index = len(self.relayed)
                self.relayed.append(0)
            pair = _Pair(client, upstream)
            threading.Thread(target=self._pump, args=(client, upstream, None, pair), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, index, pair), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, index: int | None, pair: _Pair) -> None:
        """Copy src -> dst; `index` is set for the server-to-client direction (counted, cut)."""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if index is not None and self.cut_after is not None:
                    room = self.cut_after - self.relayed[index]
                    if len(data) >= room:
                        dst.sendall(data[: max(room, 0)])
                        self.relayed[index] += max(room, 0)
                        self._cut()
                        if self.hold:
                            self._stop.wait()
                        pair.close()
                        return
                dst.sendall(data)
                if index is not None:
                    self.relayed[index] += len(data)
        except OSError:
            pair.close()
            return
        pair.half_closed(dst)

    def _cut(self) -> None:
        with self._lock:
            self.cuts += 1
            first = self.cuts == 1
        if first and self.on_cut:
            self.on_cut()

    def close(self) -> None:
        self._closed = True
        self._stop.set()
        self._server.close()
        if isinstance(self.address, str):
            try:
                os.unlink(self.address)
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Pair:
    """A relayed connection's two sockets: an end of stream is passed on as a half-close
    (the other direction may still carry the last answer: closing at once would reset it),
    and both close when both directions have ended, or at once when cut."""

    def __init__(self, a: socket.socket, b: socket.socket):
        self.sockets, self.ended, self._lock = (a, b), 0, threading.Lock()

    def half_closed(self, dst: socket.socket) -> None:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        with self._lock:
            self.ended += 1
            last = self.ended == 2
        if last:
            self.close()

    def close(self) -> None:
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


# (status, body, headers) a rule answers instead of the server; None: forward the request
Answer = tuple[int, bytes, dict]
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


class HttpProxy:
    """An HTTP/1.1 reverse proxy to `target` (http://host:port).  `rule(method, path)`
    returns an Answer to send instead of forwarding, or None.  `around_write(method, path,
    forward)` (when set) is called for every PUT, POST, PATCH and DELETE with a function
    that forwards it; it returns an Answer, or None to drop the connection unanswered.
    `requests` lists (method, path) as received."""

    def __init__(
        self,
        target: str,
        rule: Callable[[str, str], Answer | None] | None = None,
        around_write: Callable[[str, str, Callable[[], Answer]], Answer | None] | None = None,
    ):
        self.target = target.rstrip("/")
        self.rule = rule or (lambda method, path: None)
        self.around_write = around_write
        self.requests: list[tuple[str, str]] = []
        self._http = httpx.Client(timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.requests.append((self.command, self.path))
                answer = proxy.rule(self.command, self.path)
                if answer is None:

                    def forward() -> Answer:
                        return proxy._forward(self.command, self.path, dict(self.headers), body)

                    if proxy.around_write and self.command in ("PUT", "POST", "PATCH", "DELETE"):
                        answer = proxy.around_write(self.command, self.path, forward)
                        if answer is None:
                            self.close_connection = True
                            self.connection.shutdown(socket.SHUT_RDWR)
                            return
                    else:
                        try:
                            answer = forward()
                        except httpx.TransportError:
                            self.close_connection = True
                            self.connection.shutdown(socket.SHUT_RDWR)
                            return
                status, data, headers = answer
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _forward(self, method: str, path: str, headers: dict, body: bytes) -> Answer:
        r = self._http.request(
            method,
            self.target + path,
            content=body,
            headers={k: v for k, v in headers.items() if k.lower() not in _HOP},
        )
        return r.status_code, r.content, {k: v for k, v in r.headers.items() if k.lower() not in _HOP}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def json_error(status: int, message: str = "injected fault", headers: dict | None = None) -> Answer:
    import json

    return status, json.dumps({"error": message}).encode(), {"Content-Type": "application/json", **(headers or {})}
