"""The run-to-run diff across two runs of a real lab cloud (issue 19): between a first and a
second `osfsck check`, one fault is repaired (`osfsck repair`, a safe repair) and one
injected (a Neutron quota usage made wrong in the lab's database).  The second run says the
repaired one is fixed, the injected one new, the rest persisting since the first run;
`--new-only` shows the injected one alone with the whole run's exit code; and the HTML
report of the second run shows the changes in a real Chromium."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from tests.report.test_html import browser, open_file  # noqa: F401 - browser: the fixture
from tests.support.cli import built_lab, osfsck

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPAIRED = "NV204"  # stale-build-request: one in the lab, its repair is safe


@pytest.fixture(scope="module")
def lab():
    with built_lab(5) as out:
        yield out


def check(lab, *extra: str) -> tuple[int, dict]:
    p = osfsck("check", "--format", "json", *extra, config=lab / "osfsck.toml")
    assert p.returncode in (0, 4), p.stderr
    return p.returncode, json.loads(p.stdout)


def inject_quota_drift(lab) -> str:
    """A Neutron quota usage that counts 3 networks more than its project has (and is not
    marked dirty): QU101's finding, on a row the lab left right.  Its subject id."""
    db = sqlite3.connect(lab / "db" / "neutron.sqlite")
    with db:
        project = db.execute(
            "SELECT project_id FROM quotausages WHERE resource = 'network' AND dirty = 0 ORDER BY project_id"
        ).fetchone()[0]
        db.execute(
            "UPDATE quotausages SET in_use = in_use + 3 WHERE project_id = ? AND resource = 'network'", (project,)
        )
    db.close()
    return f"neutron/{project}/network"


def test_the_diff_across_two_runs(lab, browser, tmp_path):  # noqa: F811 - the imported fixture
    code1, first = check(lab)
    assert code1 == 4 and first["fixed"] == []  # a first run: all new, nothing to have fixed
    assert {f["diff"] for f in first["findings"]} == {"new"}
    repaired = [f for f in first["findings"] if f["code"] == REPAIRED]
    assert len(repaired) == 1

    p = osfsck("repair", "--yes", "--grace", "0", "--select", REPAIRED, "--format", "json", config=lab / "osfsck.toml")
    assert p.returncode == 1, p.stderr  # repaired, nothing of NV204's left
    assert [(r["fingerprint"], r["outcome"], r["safety"]) for r in json.loads(p.stdout)["repairs"]] == [
        (repaired[0]["fingerprint"], "applied", "safe")
    ]
    injected = inject_quota_drift(lab)
    assert ("QU101", injected) not in {(f["code"], f["subject"]["id"]) for f in first["findings"]}

    state = lab / "osfsck" / "state.json"
    before = tmp_path / "state.json"
    shutil.copy2(state, before)
    code2, second = check(lab)
    assert [(x["fingerprint"], x["code"]) for x in second["fixed"]] == [(repaired[0]["fingerprint"], REPAIRED)]
    assert [(f["code"], f["subject"]["id"]) for f in second["findings"] if f["diff"] == "new"] == [("QU101", injected)]
    persisting = {f["fingerprint"]: f["first_seen"] for f in second["findings"] if f["diff"] == "persists"}
    assert persisting == {f["fingerprint"]: first["taken_at"] for f in first["findings"] if f["code"] != REPAIRED}
    assert len(second["findings"]) == len(first["findings"])  # one fixed, one new

    # the same second run, seen through --new-only (the state file as it was before it)
    shutil.copy2(before, state)
    code3, new_only = check(lab, "--new-only")
    assert [(f["code"], f["subject"]["id"]) for f in new_only["findings"]] == [("QU101", injected)]
    assert code3 == new_only["exit_code"] == code2 == second["exit_code"] == 4
    assert [x["code"] for x in new_only["fixed"]] == [REPAIRED]

    saved, page_path = tmp_path / "second.json", tmp_path / "second.html"
    saved.write_text(json.dumps(second))
    assert osfsck("report", str(saved), "-o", str(page_path)).returncode == 0
    page, errors, requests, dialogs = open_file(browser, page_path)
    changes = page.locator("#changes").inner_text()
    n = len(second["findings"])
    assert f"1 new, {n - 1} persisting, 1 fixed." in changes
    assert repaired[0]["subject"]["id"] in page.locator("#fixed-findings").inner_text()
    assert injected in page.locator("#new-findings").inner_text()
    rows = page.locator("#findings-table tr.finding")
    assert rows.count() == n
    page.select_option("#f-diff", "new")
    assert rows.count() == 1 and injected in rows.first.inner_text()
    assert rows.first.locator("td.seen").inner_text() == "new"
    page.select_option("#f-diff", "persists")
    assert rows.count() == n - 1
    assert {t.inner_text()[:16] for t in page.locator("td.seen").all()} == {f"since {first['taken_at'][:10]}"}
    assert page.evaluate("Chart.getChart('chart-age').data.datasets[0].data") == [n, 0, 0, 0]
    assert errors == [] and requests == [] and dialogs == []
