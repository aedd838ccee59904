"""The release the databases' schema versions say, in every output format: the text
report's line and notes (each database with -v), the JSON document's `schemas`, jsonl's
schema lines, Prometheus' info series and the HTML page; nothing when no database was
read; a hostile value stays text."""

from __future__ import annotations

import json

from prometheus_client.parser import text_string_to_metric_families

from osfsck.model.schema_versions import SchemaRead
from osfsck.report.render import render
from tests.report.test_render import result

HOSTILE = "<script>alert(1)</script>\x1b[2J"


def with_schemas(*reads: SchemaRead, notes=()):
    r = result()
    r.schemas = {x.scope: x for x in reads}
    r.schema_notes = list(notes)
    return r


CLOUD = (
    SchemaRead("api", "nova_api", "alembic_version", ("cdeec0c85668",)),
    SchemaRead("cell:cell1", "nova", "alembic_version", ("2903cd72dc14",)),
    SchemaRead("cell:cell2", "nova", "alembic_version", ("13863f4e1612",)),
    SchemaRead("cinder", "cinder", "alembic_version", ("9c74c1c6971f",)),
    SchemaRead("neutron", "neutron", "alembic_version", ("5c85685d616d", "ad80a9f07c5c")),
)


def test_text_names_the_release_and_says_what_disagrees():
    out = render(with_schemas(*CLOUD), "text")
    assert "Release: mixed (an upgrade in progress?): from 2024.1–2024.2 (Nova cell database cell2) to 2025.1" in out
    assert "  - Nova cells disagree: cell1 at 2903cd72dc14 (2025.1–2026.1); cell2 at 13863f4e1612" in out
    assert "cell:cell1 (nova)" not in out  # each database only with -v
    verbose = render(with_schemas(*CLOUD), "text", verbose=True)
    assert "  cell:cell1 (nova): alembic_version 2903cd72dc14 = 2025.1–2026.1" in verbose
    assert "  neutron (neutron): alembic_version 5c85685d616d, ad80a9f07c5c = 2025.1" in verbose
    assert out.index("Release: ") < out.index(" finding(s) (")  # before the summary line, which stays where it was


def test_one_release_for_every_database():
    out = render(with_schemas(CLOUD[0], CLOUD[1], CLOUD[3]), "text")
    assert "Release: 2025.1–2026.1 (from the schema versions of 3 database(s))" in out


def test_no_database_read_says_nothing():
    r = result()
    assert "Release" not in render(r, "text")
    doc = json.loads(render(r, "json"))
    assert doc["schemas"] == {"release": None, "releases": [], "notes": [], "databases": []}
    assert "osfsck_release_info" not in render(r, "prometheus")
    assert 'id="release"' not in render(r, "html")


def test_json_and_jsonl_carry_each_database():
    r = with_schemas(*CLOUD, notes=["the snapshots disagree on the Cinder database (cinder): ..."])
    doc = json.loads(render(r, "json"))
    assert doc["schemas"]["release"].startswith("mixed") and doc["schemas"]["releases"] == []
    assert doc["schemas"]["notes"][-1].startswith("the snapshots disagree")
    neutron = doc["schemas"]["databases"][-1]
    assert neutron == {
        "scope": "neutron",
        "database": "neutron",
        "table": "alembic_version",
        "values": ["5c85685d616d", "ad80a9f07c5c"],
        "release": "2025.1",
        "releases": ["2025.1"],
        "state": "release",
        "problem": "",
        "note": "",
    }
    lines = [json.loads(x) for x in render(r, "jsonl").splitlines()]
    assert [x["scope"] for x in lines if x["type"] == "schema"] == [
        "api",
        "cell:cell1",
        "cell:cell2",
        "cinder",
        "neutron",
    ]
    assert lines[-1]["type"] == "summary" and lines[-1]["release"].startswith("mixed")


def test_prometheus_info_series():
    metrics = render(with_schemas(CLOUD[3], SchemaRead("cell:x", "nova", "alembic_version", ("zz",))), "prometheus")
    assert 'osfsck_release_info{release="2024.1–2026.2"} 1.0' in metrics
    assert (
        'osfsck_schema_info{database="cinder",release="2024.1–2026.2",revision="9c74c1c6971f",scope="cinder",'
        'state="release"} 1.0'
    ) in metrics
    assert 'osfsck_schema_known{database="nova",scope="cell:x"} 0.0' in metrics


def test_a_hostile_version_value_stays_text():
    r = with_schemas(SchemaRead("cinder", "cinder", "alembic_version", (HOSTILE,)))
    assert "\x1b" not in render(r, "text", verbose=True)
    assert "<script>alert(1)" not in render(r, "html")
    assert json.loads(render(r, "json"))["schemas"]["databases"][0]["values"] == [HOSTILE]  # data, as read
    families = {f.name: f for f in text_string_to_metric_families(render(r, "prometheus"))}
    (sample,) = families["osfsck_schema_info"].samples
    assert sample.labels["revision"] == HOSTILE  # a label value is any text; the exposition stays parseable


def test_html_shows_the_release_and_each_database():
    page = render(with_schemas(*CLOUD), "html")
    assert '<section id="release">' in page and "Nova cells disagree" in page
    assert "<td>cell:cell2</td><td>nova</td><td>alembic_version</td><td>13863f4e1612</td><td>2024.1–2024.2</td>" in page
