"""The HTML report: hostile text stays text, secrets stay out, `osfsck report` reads a
saved result and refuses anything else; and in a real headless Chromium (Debian's,
driven by Playwright): no console error, no network request, filters, sorting, a row's
evidence, charts that draw, and an alert() that never runs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
import shutil
import sys

import pytest

from osfsck.cli.main import main
from osfsck.engine import state
from osfsck.model.finding import Finding, Inconclusive, Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.result import CheckStats, Fixed, RunDiff
from osfsck.report import render
from osfsck.report.html import script_json
from tests.cli.hostile import hostile_snapshot
from tests.report.test_render import AT, CHAP, TOKEN, result

HOSTILE = "<script>alert(1)</script> and </script><img src=x onerror=alert(2)>"
CHROMIUM = shutil.which("chromium")


def hostile_result():
    r = result()
    extra = [
        Finding(
            code="NV201",
            name="orphan-domain",
            severity=Severity.HIGH,
            subject=ObjectRef("domain", f"d{i}", f"host:hv{i % 2}"),
            message=f"domain d{i} on hv{i % 2}: {HOSTILE}" if i == 0 else f"domain d{i} has no instance",
            related=(ObjectRef("instance", f"i{i}", "cell:cell2"),),
            evidence={"project_id": f"proj{i % 3}", "note": HOSTILE if i == 0 else ""},
            reclaim={"vcpus": 2, "memory_mb": 2048, "disk_bytes": 20 << 30},
        )
        for i in range(5)
    ]
    # text the template writes itself (autoescape), not through the data's JSON
    undecided = Inconclusive("NV201", f"host:{HOSTILE}", f"libvirt: {HOSTILE}")
    return dataclasses.replace(
        r,
        findings=[*r.findings, *extra],
        checks=[*r.checks, CheckStats("NV201", "orphan-domain", 9, 5, [undecided])],
    )


def diffed_result():
    """hostile_result compared with a previous run: VL101 and d0 persist (40 and 3 days),
    d1 for 2 days, d2..d4 are new; an earlier finding whose name is hostile was fixed."""
    r = hostile_result()
    days = {"v1": 40, "d0": 3, "d1": 2}
    first = {f.fingerprint: AT - dt.timedelta(days=days.get(f.subject.id, 0)) for f in r.findings}
    new = frozenset(f.fingerprint for f in r.findings if f.subject.id not in days)
    gone = Fixed("ab12", "NV202", HOSTILE, "domain", "d9", "host:hv9", AT - dt.timedelta(days=5), AT - dt.timedelta(1))
    r.diff = RunDiff(first, new, (gone,))
    return r


def test_cloud_text_is_escaped_and_secrets_are_out():
    page = render(hostile_result(), "html")
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert page.count("</script>") == 3  # the data's, the library's and the app's own ends
    assert CHAP not in page and TOKEN not in page


def test_what_changed_since_the_previous_run():
    page = render(diffed_result(), "html")
    data = json.loads(page.split('id="osfsck-data">')[1].split("</script>")[0])
    assert data["changes"]["new"] == 3 and data["changes"]["persists"] == 3
    assert [(x["code"], x["subject"], x["last_seen"]) for x in data["changes"]["fixed"]] == [
        ("NV202", "domain d9", "2026-11-23T12:00:00")
    ]
    assert data["charts"]["age"] == {
        "labels": ["< 1 day", "1–7 days", "1–4 weeks", "over 4 weeks"],
        "values": [3, 2, 0, 1],
    }
    assert sorted((r["subject"], r["diff"], r["age_days"]) for r in data["rows"])[:3] == [
        ("domain d0", "persists", 3.0),
        ("domain d1", "persists", 2.0),
        ("domain d2", "new", 0.0),
    ]
    assert "3 new, 3 persisting, 1 fixed." in page and 'id="f-diff"' in page and 'id="chart-age"' in page
    assert "No previous run" not in page and "<script>alert(1)" not in page  # the fixed one's name, escaped


def test_without_a_previous_run_the_page_says_so():
    page = render(hostile_result(), "html")  # a --from check: nothing compared, fixed is null
    assert "No previous run to compare with" in page and "no previous run: no finding has an age yet" in page
    assert 'id="f-diff"' not in page and 'id="chart-age"' not in page and 'data-sort="age_days"' not in page
    data = json.loads(page.split('id="osfsck-data">')[1].split("</script>")[0])
    assert data["changes"] is None and data["charts"]["age"] is None


def test_reclaimable_for_people_with_the_exact_figure_in_the_title():
    page = render(hostile_result(), "html")  # 5 x (2 vCPU, 2048 MiB, 20 GiB) + 10 GiB
    assert "<th>vCPU</th><th>RAM</th><th>disk</th>" in page
    assert 'data-key="memory_mb" data-value="10240" title="10240 (memory_mb)">10.0 GiB</td>' in page
    assert f'data-key="disk_bytes" data-value="{110 << 30}" title="{110 << 30} (disk_bytes)">110.0 GiB</td>' in page
    assert ">10 vCPU</td>" in page


def test_script_json_cannot_end_its_element():
    text = script_json({"m": "</script><!-- \u2028"})
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert json.loads(text) == {"m": "</script><!-- \u2028"}


def test_report_from_saved_result(tmp_path, capsys):
    saved = tmp_path / "r.json"
    saved.write_text(render(hostile_result(), "json"))
    out = tmp_path / "r.html"
    assert main(["report", str(saved), "-o", str(out)]) == 0
    assert out.read_text() == render(hostile_result(), "html")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"format": "osfsck-snapshot/1"}', "bad.json: taken_at: missing"),  # as check --from says it
        ('{"format": "other"}', "neither a JSON result nor a snapshot of osfsck (format 'other'"),
        ("not json", "neither a JSON result nor a snapshot of osfsck"),
        ("", "neither a JSON result nor a snapshot of osfsck"),
        ('{"format": "osfsck-result/1", "fixed": "x"}', "not a JSON result of osfsck (fixed: not a list of objects)"),
        ('{"format": "osfsck-result/1", "findings": [1]}', "(findings: not a list of objects)"),
        ('{"format": "osfsck-result/1", "reclaimable": [1]}', "(reclaimable: not an object)"),
    ],
)
def test_report_refuses_what_is_neither_result_nor_snapshot(tmp_path, capsys, content, says):
    bad = tmp_path / "bad.json"
    bad.write_text(content.replace("osfsck-snapshot/1", _snapshot_format()))
    out = tmp_path / "r.html"
    assert main(["report", str(bad), "-o", str(out)]) == 8
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_report_of_a_snapshot_is_check_from_it(tmp_path, monkeypatch, capsys):
    """`report SNAP` runs the checks as `check --from SNAP -f html` does: the same page, the
    same exit status, --select and --ignore as check's, and the state file untouched (a
    report of an old snapshot is no run to compare the next one with)."""
    monkeypatch.chdir(hostile_snapshot(tmp_path))
    config = ["-c", "osfsck.toml"]
    state_file = tmp_path / "state.json"
    assert main([*config, "check", "--from", "snap.json", "--select", "HV", "-f", "html", "-o", "check.html"]) == 4
    assert not state_file.exists()  # check --from records nothing
    assert main([*config, "report", "snap.json", "--select", "HV", "-o", "report.html"]) == 4
    assert not state_file.exists()
    strip = lambda p: (tmp_path / p).read_text()  # noqa: E731
    assert strip("report.html") == strip("check.html")
    assert "HV101" in strip("report.html") and "No previous run to compare with" in strip("report.html")

    # a state file there is read (for the repairs' dates), never written
    state.record(str(state_file), AT, [], {})
    before = (state_file.read_bytes(), state_file.stat().st_mtime_ns)
    assert main([*config, "report", "snap.json", "--select", "HV", "--ignore", "HV101", "-o", "report.html"]) == 0
    assert (state_file.read_bytes(), state_file.stat().st_mtime_ns) == before
    page = (tmp_path / "report.html").read_text()
    assert "zombie" not in page.split('id="osfsck-data">')[1]  # HV101's findings are gone
    gz = tmp_path / "snap.json.gz"
    gz.write_bytes(gzip.compress((tmp_path / "snap.json").read_bytes()))
    assert main([*config, "report", str(gz), "--select", "HV", "-o", "gz.html"]) == 4
    assert (tmp_path / "gz.html").read_text() == strip("check.html")
    capsys.readouterr()


def test_a_saved_result_takes_no_check_selection(tmp_path, capsys):
    saved = tmp_path / "r.json"
    saved.write_text(render(result(), "json"))
    assert main(["report", str(saved), "--select", "HV", "-o", str(tmp_path / "r.html")]) == 16
    err = capsys.readouterr().err
    assert "choose the checks run on a snapshot" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.html").exists()


def _snapshot_format() -> str:
    from osfsck.model.snapshot import FORMAT

    return FORMAT


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (apt-get install chromium; scripts/setup does)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def open_page(browser, tmp_path, r):
    """`r`'s report in a new page, and the console errors, requests and dialogs it makes."""
    path = tmp_path / "report.html"
    path.write_text(render(r, "html"))
    return open_file(browser, path)


def open_file(browser, path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(120_000)  # two cores shared by many: a slow start is no failure
    errors, requests, dialogs = [], [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith("file:") else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors, requests, dialogs


def test_in_a_real_browser(browser, tmp_path):
    page, errors, requests, dialogs = open_page(browser, tmp_path, hostile_result())

    rows = page.locator("#findings-table tr.finding")
    assert rows.count() == 6
    assert page.locator("#shown").inner_text() == "6 of 6 shown"

    page.fill("#f-code", "VL101")  # a check code narrows the table
    assert rows.count() == 1
    page.fill("#f-code", "")
    page.fill("#f-project", "proj1")
    assert rows.count() == 2
    page.fill("#f-project", "")
    page.select_option("#f-severity", "medium")
    assert rows.count() == 1
    page.select_option("#f-severity", "")
    page.fill("#f-host", "hv1")
    assert rows.count() == 3  # VL101's related host hv1 and NV201's d1, d3
    page.fill("#f-host", "")

    first = rows.first.locator("td").first
    assert first.inner_text() == "high"  # by severity, most severe first
    page.click("th[data-sort=severity]")  # the same column again: reversed
    assert first.inner_text() == "medium"
    page.click("th[data-sort=code]")
    assert rows.first.locator("td").nth(1).inner_text() == "NV201 orphan-domain"
    page.click("th[data-sort=code]")
    assert rows.first.locator("td").nth(1).inner_text() == "VL101 stale-volume-attachment"

    page.fill("#f-text", "alert(1)")
    assert rows.count() == 1
    assert HOSTILE in rows.first.locator("td.msg").inner_text()  # shown as text
    rows.first.click()
    evidence = page.locator("tr.detail pre.evidence").inner_text()
    assert '"project_id": "proj0"' in evidence and "</script>" in evidence
    assert page.locator("tr.detail pre.plan").count() == 1
    rows.first.click()
    assert page.locator("tr.detail").count() == 0

    for canvas in page.locator("canvas").all():
        box = canvas.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0
    assert page.evaluate("Object.keys(Chart.instances).length") == 5
    assert page.locator("img").count() == 0  # the hostile <img> is no element
    assert f"could not decide host:{HOSTILE}: libvirt: {HOSTILE}" in page.locator("#not-checked").inner_text()
    assert "No previous run to compare with" in page.locator("#changes").inner_text()
    assert page.locator("#f-diff").count() == 0 and page.locator("th[data-sort=age_days]").count() == 0
    assert page.locator("#reclaimable td[data-key=disk_bytes]").inner_text() == "110.0 GiB"
    assert errors == [] and requests == [] and dialogs == []


def test_the_diff_in_a_real_browser(browser, tmp_path):
    page, errors, requests, dialogs = open_page(browser, tmp_path, diffed_result())
    rows = page.locator("#findings-table tr.finding")
    assert rows.count() == 6
    page.select_option("#f-diff", "new")
    assert rows.count() == 3 and {t.inner_text() for t in page.locator("td.seen").all()} == {"new"}
    page.select_option("#f-diff", "persists")
    assert rows.count() == 3
    page.select_option("#f-diff", "")
    page.click("th[data-sort=age_days]")  # the newest first, then the oldest
    page.click("th[data-sort=age_days]")
    assert rows.first.locator("td.seen").inner_text() == "since 2026-10-15 (40 d)"
    assert rows.first.locator("td").nth(1).inner_text() == "VL101 stale-volume-attachment"
    rows.first.click()
    detail = page.locator("tr.detail td")
    assert detail.get_attribute("colspan") == "9"
    assert "persists; first seen 2026-10-15T12:00:00" in detail.inner_text()

    changes = page.locator("#changes").inner_text()
    assert "3 new, 3 persisting, 1 fixed." in changes and f"NV202 {HOSTILE}" in changes
    assert page.locator("#fixed-findings").get_attribute("open") == ""  # a short list is open
    assert page.locator("#new-findings tr").count() == 4  # a head and the three new
    assert page.evaluate("Object.keys(Chart.instances).length") == 6
    age = page.evaluate("Chart.getChart('chart-age').data")
    assert age["labels"] == ["< 1 day", "1–7 days", "1–4 weeks", "over 4 weeks"]
    assert age["datasets"][0]["data"] == [3, 2, 0, 1]
    assert page.locator("img").count() == 0
    assert errors == [] and requests == [] and dialogs == []


def test_without_jinja2_is_one_line(monkeypatch, tmp_path, capsys):
    saved = tmp_path / "r.json"
    saved.write_text(render(result(), "json"))
    monkeypatch.setitem(sys.modules, "jinja2", None)  # import jinja2 raises ImportError
    assert main(["report", str(saved), "-o", str(tmp_path / "r.html")]) == 16
    assert capsys.readouterr().err == "osfsck: -f html needs Jinja2: pip install 'osfsck[html]'\n"
    assert not (tmp_path / "r.html").exists()
