"""osfsck.clients.nsx against the NSX test double (osfsck_lab.nsx_standin; NSX cannot run
here): cursor paging, back-off on 429/503, bounded retries, TLS verified by default, and
every error one line."""

from __future__ import annotations

import json
import socket

import pytest

from osfsck.clients.nsx import NsxClient, NsxError
from osfsck_lab import nsx_standin
from osfsck_lab.nsx_standin import MANAGER, POLICY, NsxStandin

SEGMENTS = f"{POLICY}/segments"


@pytest.fixture
def nsx():
    with NsxStandin("admin", "secret") as s:
        yield s


def client(s: NsxStandin, sleeps: list | None = None, **kw) -> NsxClient:
    kw.setdefault("verify", False)
    return NsxClient(
        s.url,
        kw.pop("username", "admin"),
        kw.pop("password", "secret"),
        backoff=0.5,
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
        **kw,
    )


def test_list_follows_the_cursor_with_the_page_size(nsx):
    for i in range(25):
        nsx.store.add(SEGMENTS, {"id": f"s{i:02d}"})
    with client(nsx, page_size=10) as c:
        got = c.list(SEGMENTS)
    assert [o["id"] for o in got] == [f"s{i:02d}" for i in range(25)]
    lists = [p for m, p in nsx.requests if m == "GET"]
    assert len(lists) == 3 and all("page_size=10" in p for p in lists)
    assert "cursor=" not in lists[0] and all("cursor=" in p for p in lists[1:])


def test_nsgroups_take_as_many_pages_as_the_cap_needs(nsx):
    for i in range(120):
        nsx.store.add(f"{MANAGER}/ns-groups", {"display_name": f"g{i}"})
    with client(nsx) as c:
        assert len(c.list(f"{MANAGER}/ns-groups")) == 120
    assert len(nsx.requests) == 3


def test_a_cursor_starting_with_0000_ends_the_list(nsx):
    nsx.store.add(SEGMENTS, {"id": "s1"})
    page = {"results": [{"id": "s1"}], "result_count": 1, "cursor": "00000001"}
    nsx.inject(200, body=json.dumps(page).encode())
    with client(nsx) as c:
        assert [o["id"] for o in c.list(SEGMENTS)] == ["s1"]
    assert len(nsx.requests) == 1


def test_503_and_429_are_retried_with_back_off(nsx):
    nsx.inject(503, count=2)
    nsx.inject(429, count=1, retry_after=7)
    sleeps = []
    with client(nsx, sleeps) as c:
        assert c.list(SEGMENTS) == []
    assert sleeps == [0.5, 1.0, 7.0]  # exponential, and Retry-After when it asks for longer


def test_retries_are_bounded(nsx):
    nsx.inject(503, count=None)
    sleeps = []
    with client(nsx, sleeps, retries=2) as c, pytest.raises(NsxError) as e:
        c.list(SEGMENTS)
    assert e.value.status == 503 and "after 3 attempt(s)" in str(e.value) and sleeps == [0.5, 1.0]
    assert "\n" not in str(e.value)


def test_a_page_that_fails_fails_the_list(nsx):
    for i in range(5):
        nsx.store.add(SEGMENTS, {"id": f"s{i}"})
    nsx.inject(500, paged=True, count=None)
    with client(nsx, page_size=2) as c, pytest.raises(NsxError, match="500 injected fault"):
        c.list(SEGMENTS)


def test_bad_credentials_are_one_line_and_not_retried(nsx):
    with client(nsx, password="wrong") as c, pytest.raises(NsxError) as e:
        c.list(SEGMENTS)
    assert e.value.status == 401 and "bad credentials" in str(e.value) and "'admin'" in str(e.value)
    assert len(nsx.requests) == 1


def test_an_answer_that_is_not_json(nsx):
    nsx.inject(200, body=b"<html>maintenance</html>")
    with client(nsx) as c, pytest.raises(NsxError, match="the answer is not JSON"):
        c.get(SEGMENTS)


def test_unreachable_manager():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with NsxClient(f"http://127.0.0.1:{port}", "admin", "x", retries=1, sleep=lambda s: None) as c:
        with pytest.raises(NsxError, match=r"unreachable .*after 2 attempt\(s\)") as e:
            c.get(SEGMENTS)
    assert e.value.status is None and "\n" not in str(e.value)


def test_tls_is_verified_by_default(tmp_path):
    cert, key = nsx_standin.make_certificate(str(tmp_path))
    with NsxStandin("admin", "secret", certfile=cert, keyfile=key) as s:
        with (
            NsxClient(s.url, "admin", "secret", sleep=lambda s: None) as c,
            pytest.raises(NsxError, match="TLS verification failed .*ca_file") as e,
        ):
            c.get(SEGMENTS)
        assert len(s.requests) == 0 and "\n" not in str(e.value)  # refused before any request, not retried
        with NsxClient(s.url, "admin", "secret", verify=cert) as c:
            assert c.list(SEGMENTS) == []


def test_a_ca_file_that_is_not_a_certificate_is_one_line(tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(NsxError, match="cannot use the CA file") as e:
        NsxClient("https://127.0.0.1:1", "admin", "x", verify=str(bad))
    assert "\n" not in str(e.value)


# -- broken paging and bodies, answered by an httpx MockTransport (the test double pages
#    well); each found by tests/fuzz/test_nsx_fuzz.py ---------------------------------------


def replay(*pages) -> tuple[NsxClient, list]:
    """A client whose manager answers each request with the next of `pages` (bytes or
    JSON values), then 400 as NSX does for a cursor it does not know."""
    import httpx

    seen = []

    def handler(request):
        seen.append(str(request.url))
        page = pages[len(seen) - 1] if len(seen) <= len(pages) else {"error_message": "invalid cursor"}
        body = page if isinstance(page, bytes) else json.dumps(page).encode()
        return httpx.Response(200 if len(seen) <= len(pages) else 400, content=body)

    return NsxClient("https://nsx.test", "admin", "x", retries=0, transport=httpx.MockTransport(handler)), seen


def test_a_cursor_that_comes_back_ends_the_list_with_an_error():
    # before: the client asked for the same page for ever
    c, seen = replay(*[{"results": [{"id": "s1"}], "cursor": "c1"}] * 50)
    with c, pytest.raises(NsxError, match="cursor 'c1' came back after 1 pages"):
        c.list(SEGMENTS)
    assert len(seen) == 2


@pytest.mark.parametrize(
    "pages, why",
    [
        ([{"result_count": 0}], "no results in page 1"),  # before: []
        ([{"results": [{"id": "s1"}], "cursor": "c1"}, {"cursor": None}], "no results in page 2"),  # before: [s1]
        (
            [{"results": [{"id": "s1"}], "result_count": 3, "cursor": "c1"}, {"results": [{"id": "s2"}]}],
            "2 objects listed of the 3 it counted",
        ),  # before: [s1, s2]
        ([{"results": [], "cursor": {"next": 2}}], "a cursor that is not text"),
    ],
)
def test_a_list_is_believed_only_whole(pages, why):
    c, _ = replay(*pages)
    with c, pytest.raises(NsxError, match=why) as e:
        c.list(SEGMENTS)
    assert "\n" not in str(e.value)


def test_a_body_nested_too_deep_to_decode_is_one_line():
    # before: RecursionError out of json.loads, through the NSX source
    c, _ = replay(b"[" * 100_000 + b"]" * 100_000)
    with c, pytest.raises(NsxError, match="the answer is not JSON"):
        c.list(SEGMENTS)


def test_more_objects_than_counted_are_fine():
    # objects made while the list was read: nothing is missing
    c, _ = replay({"results": [{"id": "s1"}], "result_count": 1, "cursor": "c1"}, {"results": [{"id": "s2"}]})
    with c:
        assert [o["id"] for o in c.list(SEGMENTS)] == ["s1", "s2"]
