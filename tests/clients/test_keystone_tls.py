"""TLS on the way to Keystone and the service: verified by default (a self-signed
certificate is refused, one line, nothing sent), trusted through `ca_file`, or not checked
with `verify = false` (without urllib3's warning on stderr).

A real HTTPS server on loopback (the stdlib's, with a certificate openssl makes) answers
as Keystone v3 and the Networking API document it: the version document, POST
/v3/auth/tokens, GET /v2.0/ports/{id}.  The real Keystone runs in
tests/integration/test_keystone_auth.py (over plain HTTP there)."""

from __future__ import annotations

import json
import ssl
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from osfsck.clients.neutron_api import NeutronApi, NeutronApiError
from osfsck.config.settings import NeutronSettings
from osfsck_lab.nsx_standin import make_certificate
from tests.support.http_double import discovery, keystone_token

PORT_ID = "8e7a2d34-1b7c-4a0e-9a55-3c2f4b6d7e81"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(base URL, certificate path) of an HTTPS Keystone-and-Neutron on 127.0.0.1."""
    cert, key = make_certificate(str(tmp_path_factory.mktemp("tls")))
    base = {}

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status, body, headers=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path.rstrip("/") == "/v3":
                self._answer(200, discovery(base["url"] + "/v3"))
            elif self.path == f"/v2.0/ports/{PORT_ID}" and self.headers.get("X-Auth-Token") == "tok":
                self._answer(200, {"port": {"id": PORT_ID}})
            else:
                self._answer(401, {"error": {"message": "The request you have made requires authentication."}})

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            catalog = [
                {"type": "network", "endpoints": [{"interface": "public", "region_id": "R", "url": base["url"]}]}
            ]
            self._answer(201, keystone_token(catalog), [("X-Subject-Token", "tok")])

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    base["url"] = f"https://127.0.0.1:{httpd.server_address[1]}"
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield base["url"], cert
    httpd.shutdown()
    httpd.server_close()


def settings(url, **kw) -> NeutronSettings:
    return NeutronSettings(auth_url=url + "/v3", username="osfsck", password="pw", project_name="admin", **kw)


def test_a_certificate_no_ca_vouches_for_is_refused_in_one_line(server):
    url, _ = server
    with pytest.raises(NeutronApiError) as e:
        NeutronApi(settings(url)).get_port(PORT_ID)
    assert str(e.value).startswith(f"cannot authenticate osfsck to Keystone at {url}/v3: ")
    assert "CERTIFICATE_VERIFY_FAILED" in str(e.value) and "\n" not in str(e.value)
    assert e.value.answered is None


def test_the_ca_file_makes_it_trusted(server):
    url, cert = server
    assert NeutronApi(settings(url, verify=cert)).get_port(PORT_ID) == {"id": PORT_ID}


def test_verify_false_trusts_it_without_a_warning_per_request(server):
    url, _ = server
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        assert NeutronApi(settings(url, verify=False)).get_port(PORT_ID) == {"id": PORT_ID}
    assert not [w for w in seen if "Unverified HTTPS" in str(w.message)]
