"""The renderers over a run result built by hand: per-source timings in every format (a
field in json, yaml and jsonl, metrics in Prometheus, a line in the text report with -v),
Prometheus labels that stay on their line, and no secret in any format, even one a
source failed to keep out (a CHAP password in a connection_info, a URL's password, a
token in a message)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from osfsck.model.finding import Finding, Severity
from osfsck.model.plan import Outcome, PlanResult, RepairPlan, Safety
from osfsck.model.refs import ObjectRef
from osfsck.model.result import CheckStats, Fixed, RunDiff, RunResult, SourceStatus
from osfsck.report import FORMATS, render
from osfsck.report.rows import FINDING_COLUMNS, new_only

AT = dt.datetime(2026, 11, 24, 12, 0)
CHAP = "Pl4ntedChapZq7x"
TOKEN = "gAAAAABpPl4nted" + "T0kenBody_-" * 4
CONNECTION_INFO = json.dumps(
    {"driver_volume_type": "iscsi", "data": {"target_iqn": "iqn.x:v1", "auth_method": "CHAP", "auth_password": CHAP}}
)


def result() -> RunResult:
    f = Finding(
        code="VL101",
        name="stale-volume-attachment",
        severity=Severity.MEDIUM,
        subject=ObjectRef("volume", "v1", "cinder"),
        message=f"Volume v1 is attached to gone; its connection_info {CONNECTION_INFO}, auth_password={CHAP}",
        related=(ObjectRef("instance", "i1", "cell:cell1"), ObjectRef("host", "hv1", "host:hv1")),
        evidence={"attachment": {"connection_info": CONNECTION_INFO, "project_id": "p1"}, "token": TOKEN},
        reclaim={"disk_bytes": 10 << 30},
    )
    plan = RepairPlan(
        "delete-volume-attachment",
        Safety.UNSAFE,
        f,
        f.subject,
        f"delete attachment a1 (Authorization: Bearer {TOKEN})",
        params={"connection_info": CONNECTION_INFO},
    )
    return RunResult(
        mode="check",
        taken_at=AT,
        findings=[f],
        checks=[CheckStats("VL101", "stale-volume-attachment", 4, 1, severity="medium")],
        sources=[
            SourceStatus("cinder-db", "cinder", "ok", "", 0.25, 40),
            SourceStatus("nova-db", "api", "ok", "", 1.5, 7),
            SourceStatus("nova-db", "cell:cell1", "ok", "", 1.5, 12),
            SourceStatus(
                "nova-db", "cell:cell\n2", "partial", f"mysql://nova:{CHAP}@db/nova_cell2: access denied", 1.5, 0
            ),
        ],
        plans=[PlanResult(f, plan, Outcome.PLANNED, "read-only run")],
    )


def test_json_and_yaml_carry_each_scope_time_and_facts():
    doc = json.loads(render(result(), "json"))
    assert [(s["name"], s["scope"], s["seconds"], s["objects"]) for s in doc["sources"]] == [
        ("cinder-db", "cinder", 0.25, 40),
        ("nova-db", "api", 1.5, 7),
        ("nova-db", "cell:cell1", 1.5, 12),
        ("nova-db", "cell:cell\n2", 1.5, 0),
    ]
    assert yaml.safe_load(render(result(), "yaml")) == doc
    sources = [json.loads(line) for line in render(result(), "jsonl").splitlines() if '"type": "source"' in line]
    assert [(s["seconds"], s["objects"]) for s in sources] == [(0.25, 40), (1.5, 7), (1.5, 12), (1.5, 0)]


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """The exposition text as Prometheus reads it (prometheus_client's own parser)."""
    return {
        (x.name, frozenset(x.labels.items())): x.value
        for fam in text_string_to_metric_families(text)
        for x in fam.samples
    }


def test_prometheus_has_the_source_metrics():
    text = render(result(), "prometheus")
    got = samples(text)
    assert got[("osfsck_source_duration_seconds", frozenset({("source", "cinder-db")}))] == 0.25
    assert got[("osfsck_source_duration_seconds", frozenset({("source", "nova-db")}))] == 1.5  # one pass, once
    assert got[("osfsck_source_objects", frozenset({("source", "nova-db"), ("scope", "cell:cell1")}))] == 12
    assert got[("osfsck_source_up", frozenset({("source", "nova-db"), ("scope", "cell:cell1")}))] == 1
    # a newline in a label is escaped: the sample stays on its line
    assert got[("osfsck_source_up", frozenset({("source", "nova-db"), ("scope", "cell:cell\n2")}))] == 0
    assert got[("osfsck_source_ok", frozenset({("source", "nova-db"), ("scope", "cell:cell\n2")}))] == 0
    assert all(line.startswith(("# HELP ", "# TYPE ", "osfsck_")) for line in text.splitlines())


def test_prometheus_leaves_out_what_a_saved_snapshot_did_not_measure():
    r = result()
    r.sources = [SourceStatus(s.source, s.scope, s.status, s.reason) for s in r.sources]
    got = samples(render(r, "prometheus"))
    assert not {name for name, _ in got} & {"osfsck_source_duration_seconds", "osfsck_source_objects"}
    assert got[("osfsck_source_up", frozenset({("source", "cinder-db"), ("scope", "cinder")}))] == 1


def test_prometheus_series_are_the_same_with_findings_and_clean():
    # a series that comes and goes (a severity label "none" at zero) breaks rate() and alerts
    dirty, clean = result(), result()
    clean.findings, clean.plans = [], []
    clean.checks = [CheckStats("VL101", "stale-volume-attachment", 4, 0, severity="medium")]
    d, c = samples(render(dirty, "prometheus")), samples(render(clean, "prometheus"))
    assert set(d) == set(c)
    key = (
        "osfsck_findings",
        frozenset({("code", "VL101"), ("name", "stale-volume-attachment"), ("severity", "medium")}),
    )
    assert (d[key], c[key]) == (1, 0)


def diffed() -> RunResult:
    r = result()
    r.findings.append(
        Finding("VL101", "stale-volume-attachment", Severity.MEDIUM, ObjectRef("volume", "v2", "cinder"), "old")
    )
    new, old = (f.fingerprint for f in r.findings)
    gone = Fixed("ab12", "VL102", "x-y", "volume", "v9", "cinder", AT - dt.timedelta(days=2), AT - dt.timedelta(days=1))
    r.diff = RunDiff({new: AT, old: AT - dt.timedelta(days=3)}, frozenset({new}), (gone,))
    return r


def test_every_format_says_what_is_new_persists_and_was_fixed():
    r = diffed()
    rows = list(csv.DictReader(io.StringIO(render(r, "csv", ["subject_id", "diff", "first_seen"]))))
    assert [(x["subject_id"], x["diff"], x["first_seen"]) for x in rows] == [
        ("v1", "new", "2026-11-24T12:00:00"),
        ("v2", "persists", "2026-11-21T12:00:00"),
    ]
    doc = json.loads(render(r, "json"))
    assert [(f["diff"], f["first_seen"]) for f in doc["findings"]] == [
        ("new", "2026-11-24T12:00:00"),
        ("persists", "2026-11-21T12:00:00"),
    ]
    assert [(x["code"], x["subject"]["id"], x["first_seen"]) for x in doc["fixed"]] == [
        ("VL102", "v9", "2026-11-22T12:00:00")
    ]
    assert yaml.safe_load(render(r, "yaml"))["fixed"] == doc["fixed"]
    lines = [json.loads(x) for x in render(r, "jsonl").splitlines()]
    assert [x["subject"]["id"] for x in lines if x["type"] == "fixed"] == ["v9"]
    assert {k: lines[-1][k] for k in ("new", "persists", "fixed")} == {"new": 1, "persists": 1, "fixed": 1}
    text = render(r, "text")
    assert "  - [new] Volume v1" in text and "  - old" in text
    assert "Since the last run: 1 new, 1 persisting, 1 fixed." in text
    assert render(r, "table").rstrip().endswith("Since the last run: 1 new, 1 persisting, 1 fixed.")
    got = samples(render(r, "prometheus"))
    assert (got[("osfsck_findings_new", frozenset())], got[("osfsck_findings_fixed", frozenset())]) == (1, 1)


def test_a_run_that_compared_nothing_says_nothing_of_a_diff():
    r = result()  # a check of a saved snapshot: no diff
    assert json.loads(render(r, "json"))["fixed"] is None
    assert json.loads(render(r, "json"))["findings"][0]["diff"] is None
    assert "Since the last run" not in render(r, "text") + render(r, "table")


def test_new_only_is_a_view_that_keeps_the_run_exit_code():
    r = diffed()
    r.findings.reverse()  # the new finding is not the first
    shown = new_only(r)
    assert [f.subject.id for f in shown.findings] == ["v1"] and len(r.findings) == 2
    assert shown.exit_code() == r.exit_code() == 12  # findings left, a scope partial
    assert json.loads(render(shown, "json"))["exit_code"] == 12
    assert "shown: the 1 new" in render(shown, "text")
    # nothing new: nothing shown, the exit code still the run's
    r.diff = RunDiff(r.diff.first_seen, frozenset(), ())
    assert new_only(r).findings == [] and new_only(r).exit_code() == 12


def test_text_with_verbose_ends_with_the_sources_line():
    assert "Sources:" not in render(result(), "text")
    last = render(result(), "text", verbose=True).rstrip().splitlines()[-1]
    assert last == (
        "Sources: cinder-db 0.25 s (1 scope(s), 40 object(s)); nova-db 1.50 s (3 scope(s), 19 object(s), 1 partial)."
    )


def test_group_by_host_takes_a_related_host_and_the_evidence_project():
    rows = json.loads(render(result(), "json", group_by="host"))
    assert rows == [
        {
            "host": "hv1",
            "findings": 1,
            "critical": 0,
            "high": 0,
            "medium": 1,
            "low": 0,
            "repaired": 0,
            "vcpus": 0,
            "memory_mb": 0,
            "disk_bytes": 10 << 30,
        }
    ]
    assert json.loads(render(result(), "json", ["project", "cell"])) == [{"project": "p1", "cell": "cell1"}]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("group_by", [None, "host"])
def test_no_secret_in_any_format(fmt, group_by):
    every = [] if fmt in ("text", "jsonl", "prometheus") or group_by else list(FINDING_COLUMNS)
    out = render(result(), fmt, every, None if fmt in ("text", "jsonl", "prometheus") else group_by, verbose=True)
    assert CHAP not in out and TOKEN not in out
    if fmt == "csv" and not group_by:
        row = next(csv.DictReader(io.StringIO(out)))
        assert row["message"].startswith("Volume v1 is attached to gone; its connection_info {")
        assert "***" in row["message"] and row["action"] == "delete attachment a1 (Authorization: Bearer ***)"


def test_what_is_no_secret_stays():
    doc = json.loads(render(result(), "json"))
    evidence = doc["findings"][0]["evidence"]
    info = json.loads(evidence["attachment"]["connection_info"])
    assert info["data"] == {"target_iqn": "iqn.x:v1", "auth_method": "CHAP", "auth_password": "***"}
    assert evidence["token"] == "***" and evidence["attachment"]["project_id"] == "p1"


def test_a_cinder_backend_is_no_host():
    r = result()
    f = r.findings[0]
    r.findings = [
        Finding(
            f.code,
            f.name,
            f.severity,
            f.subject,
            "m",
            evidence={"volume": {"host": "cinder-1@lvm#lvm"}, "instance": {"host": "hv7"}},
        )
    ]
    assert json.loads(render(r, "json", ["host"])) == [{"host": "hv7"}]
