"""The NSX test double (osfsck_lab.nsx_standin) answers as the NSX API documents: list
envelopes and cursors, page sizes, `_revision` and 412, detach on logical port deletes,
basic auth, HTTPS, injected faults; in a thread and as a process.  Spoken to with plain
httpx, not with osfsck's client, so the double is tested on its own."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from osfsck_lab import nsx_standin
from osfsck_lab.nsx_standin import MANAGER, POLICY, NsxStandin

AUTH = ("admin", "secret")
SEGMENTS = f"{POLICY}/segments"


@pytest.fixture
def nsx():
    with NsxStandin(*AUTH) as s:
        yield s


def http(s: NsxStandin, **kw) -> httpx.Client:
    return httpx.Client(base_url=s.url, auth=AUTH, **kw)


def test_list_pages_carry_a_cursor_and_result_count_only_on_the_first(nsx):
    for i in range(2500):
        nsx.store.add(SEGMENTS, {"id": f"seg{i:04d}"})
    with http(nsx) as c:
        first = c.get(SEGMENTS).json()
        assert len(first["results"]) == 1000 and first["result_count"] == 2500
        assert first["results"][0]["path"] == "/infra/segments/seg0000"
        ids, page = [o["id"] for o in first["results"]], first
        while "cursor" in page:
            assert not page["cursor"].startswith("0000")
            page = c.get(SEGMENTS, params={"cursor": page["cursor"]}).json()
            assert "result_count" not in page
            ids += [o["id"] for o in page["results"]]
        assert ids == [f"seg{i:04d}" for i in range(2500)]
        assert len(c.get(SEGMENTS, params={"page_size": 5000}).json()["results"]) == 1000  # capped
        assert c.get(SEGMENTS, params={"cursor": "bogus"}).status_code == 400


def test_nsgroups_come_fifty_to_a_page(nsx):
    for i in range(120):
        nsx.store.add(f"{MANAGER}/ns-groups", {"display_name": f"g{i}"})
    with http(nsx) as c:
        page = c.get(f"{MANAGER}/ns-groups", params={"page_size": 1000}).json()
    assert len(page["results"]) == 50 and page["result_count"] == 120 and page["cursor"]


def test_revision_counts_changes_and_a_stale_one_gets_412(nsx):
    with http(nsx) as c:
        made = c.patch(f"{SEGMENTS}/s1", json={"display_name": "a"}).json()
        assert made["_revision"] == 0 and made["resource_type"] == "Segment" and made["_create_time"] > 0
        assert c.patch(f"{SEGMENTS}/s1", json={"display_name": "b", "_revision": 0}).json()["_revision"] == 1
        stale = c.put(f"{SEGMENTS}/s1", json={"display_name": "c", "_revision": 0})
        assert stale.status_code == 412 and "modified by somebody else" in stale.json()["error_message"]
        assert c.get(f"{SEGMENTS}/s1").json()["display_name"] == "b"
        # Manager API: POST makes a new id; PUT must carry _revision
        ls = c.post(f"{MANAGER}/logical-switches", json={"display_name": "x"}).json()
        url = f"{MANAGER}/logical-switches/{ls['id']}"
        assert c.put(url, json={"display_name": "y"}).status_code == 412
        assert c.put(url, json={"display_name": "y", "_revision": 0}).json()["_revision"] == 1


def test_deletes_follow_nsx_rules(nsx):
    ls = nsx.store.add(f"{MANAGER}/logical-switches", {"display_name": "net"})
    port = nsx.store.add(
        f"{MANAGER}/logical-ports",
        {"logical_switch_id": ls["id"], "attachment": {"attachment_type": "VIF", "id": "vif1"}},
    )
    nsx.store.add(SEGMENTS, {"id": "s1"})
    nsx.store.add(f"{SEGMENTS}/s1/ports", {"id": "p1"})
    with http(nsx) as c:
        assert c.delete(f"{MANAGER}/logical-switches/{ls['id']}").status_code == 400  # it has a port
        assert c.delete(f"{MANAGER}/logical-ports/{port['id']}").status_code == 400  # attached
        assert c.delete(f"{MANAGER}/logical-ports/{port['id']}", params={"detach": "true"}).status_code == 200
        assert c.delete(f"{MANAGER}/logical-ports/{port['id']}").status_code == 404
        assert c.delete(f"{SEGMENTS}/s1").status_code == 400  # it has a port
        assert c.delete(f"{SEGMENTS}/s1/ports/p1").status_code == 200
        assert c.delete(f"{SEGMENTS}/s1").status_code == 200
        assert c.delete(f"{SEGMENTS}/s1").status_code == 200  # idempotent
        assert c.get(f"{SEGMENTS}/s1").status_code == 404


def test_wrong_or_missing_credentials_get_401(nsx):
    with httpx.Client(base_url=nsx.url) as c:
        assert c.get(SEGMENTS).status_code == 401
    with httpx.Client(base_url=nsx.url, auth=("admin", "wrong")) as c:
        assert c.get(SEGMENTS).status_code == 401


def test_injected_faults_then_normal_answers(nsx):
    nsx.inject(503, count=2)
    nsx.inject(429, count=1, retry_after=3)
    with http(nsx) as c:
        assert [c.get(SEGMENTS).status_code for _ in range(2)] == [503, 503]
        r = c.get(SEGMENTS)
        assert r.status_code == 429 and r.headers["Retry-After"] == "3"
        assert c.get(SEGMENTS).status_code == 200


def test_https_with_a_certificate(tmp_path):
    cert, key = nsx_standin.make_certificate(str(tmp_path))
    with NsxStandin(*AUTH, certfile=cert, keyfile=key) as s:
        assert s.url.startswith("https://")
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(s.url + SEGMENTS, auth=AUTH)
        import ssl

        with httpx.Client(base_url=s.url, auth=AUTH, verify=ssl.create_default_context(cafile=cert)) as c:
            assert c.get(SEGMENTS).json()["result_count"] == 0


def test_runs_as_a_process_and_keeps_its_state(tmp_path):
    (tmp_path / "pw").write_text("secret\n")
    state = tmp_path / "nsx.json"
    state.write_text(json.dumps({SEGMENTS: [{"id": "s1", "resource_type": "Segment", "_revision": 4}]}))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "osfsck_lab.nsx_standin",
            "--password-file",
            str(tmp_path / "pw"),
            "--state",
            str(state),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        with httpx.Client(base_url=url, auth=AUTH) as c:
            assert c.get(f"{SEGMENTS}/s1").json()["_revision"] == 4
            c.patch(f"{SEGMENTS}/s2", json={"display_name": "new"})
        saved = json.loads(state.read_text())
        assert sorted(o["id"] for o in saved[SEGMENTS]) == ["s1", "s2"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
