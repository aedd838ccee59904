"""OpenStackClient's output habits on `check`, `checks` and `journal`: -f table, csv,
value, json, yaml (plus jsonl and prometheus, and `text`, the report for people), -c to
pick columns and --group-by roll-ups; every machine format parses back to what the JSON
document holds, with hostile cloud data in a finding (control and bidi characters, a NUL,
a lone surrogate, quotes, commas and a newline, 200,000 characters long).

The runs check a saved snapshot (two zombie domains, on two hosts of two projects) through
`osfsck.cli.main.main`, as the command line does."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
import yaml

from osfsck.cli import main as cli
from osfsck.report.rows import FINDING_COLUMNS, FINDING_DEFAULT, JOURNAL_COLUMNS, group_columns
from tests.cli.hostile import HOSTILE, check_argv, hostile_snapshot


@pytest.fixture
def snapshot_folder(tmp_path):
    return hostile_snapshot(tmp_path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def utf8(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def check(capsys, folder, *extra: str) -> str:
    code, out, err = run(capsys, *check_argv(folder, *extra))
    assert (code, err) == (4, ""), err
    return out


def test_json_is_the_result_document_with_source_fields(snapshot_folder, capsys):
    doc = json.loads(check(capsys, snapshot_folder, "-f", "json"))
    assert doc["format"] == "osfsck-result/1" and len(doc["findings"]) == 2
    assert doc["findings"][1]["evidence"]["domain"]["name"] == HOSTILE
    # a saved snapshot records no timing: the fields are there, empty
    assert {(s["name"], s["seconds"], s["objects"]) for s in doc["sources"]} == {
        ("hypervisor", None, None),
        ("nova-db", None, None),
    }


def test_yaml_holds_the_json_document(snapshot_folder, capsys):
    as_json = json.loads(check(capsys, snapshot_folder, "-f", "json"))
    assert yaml.safe_load(check(capsys, snapshot_folder, "-f", "yaml")) == as_json


def test_csv_parses_back_to_the_rows_of_json(snapshot_folder, capsys):
    every = [a for c in FINDING_COLUMNS for a in ("-c", c)]
    rows = json.loads(check(capsys, snapshot_folder, "-f", "json", *every))
    csv.field_size_limit(sys.maxsize)  # the hostile message is longer than csv's default field limit
    back = list(csv.reader(io.StringIO(check(capsys, snapshot_folder, "-f", "csv", *every), newline="")))
    assert back[0] == list(FINDING_COLUMNS)
    # csv is UTF-8 text: a lone surrogate (JSON keeps it as \\udcff) is written as that escape
    assert back[1:] == [["" if r[c] is None else utf8(str(r[c])) for c in FINDING_COLUMNS] for r in rows]
    assert rows[1]["message"].startswith("Domain " + HOSTILE) and rows[1]["host"] == "hv2"


def test_default_columns(snapshot_folder, capsys):
    header = next(csv.reader(io.StringIO(check(capsys, snapshot_folder, "-f", "csv"))))
    assert header == list(FINDING_DEFAULT)


def test_value_is_space_separated_without_header(snapshot_folder, capsys):
    out = check(capsys, snapshot_folder, "-f", "value", "-c", "code", "-c", "HOST", "-c", "project", "-c", "vcpus")
    assert [line.split(" ") for line in out.splitlines()] == [
        ["HV101", "hv1", "project-a", "2"],
        ["HV101", "hv2", "project-b", "2"],
    ]


@pytest.mark.parametrize("fmt", ["text", "table", "value"])
def test_terminal_formats_show_control_characters_escaped(snapshot_folder, capsys, fmt):
    out = check(capsys, snapshot_folder, "-f", fmt, *(("-c", "message") if fmt != "text" else ()))
    assert not {"\x1b", "\u202e", "\x00", "\udcff"} & set(out)
    assert "evil\\x1b[2J\\u202e\\n  - HIGH fake" in out and "\\x00\\udcff" in out
    if fmt == "value":
        assert len(out.splitlines()) == 2  # one line per finding, whatever its text holds


def test_table_is_a_box_table(snapshot_folder, capsys):
    out = check(capsys, snapshot_folder, "-f", "table", "-c", "code", "-c", "host", "-c", "vcpus")
    assert out == (
        "+-------+------+-------+\n"
        "| code  | host | vcpus |\n"
        "+-------+------+-------+\n"
        "| HV101 | hv1  |     2 |\n"
        "| HV101 | hv2  |     2 |\n"
        "+-------+------+-------+\n"
    )


def test_columns_without_a_format_give_the_table(snapshot_folder, capsys):
    assert check(capsys, snapshot_folder, "-c", "code").startswith("+-------+\n| code  |")


@pytest.mark.parametrize(
    "axis, expected",
    [
        ("host", [("hv1", 1), ("hv2", 1)]),
        ("project", [("project-a", 1), ("project-b", 1)]),
        ("cell", [("cell1", 2)]),
        ("check", [("HV101", 2)]),
    ],
)
def test_group_by(snapshot_folder, capsys, axis, expected):
    rows = json.loads(check(capsys, snapshot_folder, "--group-by", axis, "-f", "json"))
    assert [(r[axis], r["findings"]) for r in rows] == expected
    assert all(list(r) == list(group_columns(axis)) for r in rows)
    assert sum(r["high"] for r in rows) == 2 and sum(r["vcpus"] for r in rows) == 4
    assert sum(r["memory_mb"] for r in rows) == 4096


def test_group_by_in_csv_and_table(snapshot_folder, capsys):
    back = list(csv.reader(io.StringIO(check(capsys, snapshot_folder, "--group-by", "host", "-f", "csv"))))
    assert back == [list(group_columns("host")), ["hv1", "1", "0", "1", "0", "0", "0", "2", "2048", "0"], back[2]]
    table = check(capsys, snapshot_folder, "--group-by", "check")
    assert "| check | findings |" in table and "| HV101 |        2 |" in table


@pytest.mark.parametrize(
    "extra, says",
    [
        (("-c", "nope"), "-c: no column 'nope': the columns are code, name"),
        (("-c", "osfsck.toml"), "(-c before the command is the config file: osfsck -c osfsck.toml check)"),
        (("--group-by", "host", "-c", "message"), "no column 'message': the columns are host, findings"),
        (("-f", "jsonl", "-c", "code"), "-c and --group-by go with -f table, csv, value, json, yaml, not -f jsonl"),
        (("-f", "prometheus", "--group-by", "host"), "not -f prometheus"),
        (("-f", "xml"), "argument -f/--format: invalid choice: 'xml'"),
        (("--group-by", "zone"), "argument --group-by: invalid choice: 'zone'"),
    ],
)
def test_bad_output_options_are_one_line_and_exit_16(snapshot_folder, capsys, extra, says):
    code, out, err = run(capsys, *check_argv(snapshot_folder, *extra))
    assert (code, out) == (16, "") and len(err.splitlines()) == 1 and says in err, err


def test_a_report_file_takes_the_same_format(snapshot_folder, capsys):
    report = snapshot_folder / "report.csv"
    check(capsys, snapshot_folder, "-f", "csv", "-c", "code", "-c", "message", "-o", str(report))
    text = report.read_text(encoding="utf-8")  # valid UTF-8: the lone surrogate is escaped
    assert text.startswith("code,message\nHV101,") and "\\udcff" in text


def test_a_strict_utf8_locale_does_not_fail_the_report(snapshot_folder):
    """In a UTF-8 locale Python's stdout is strict: one lone surrogate in a finding (a
    file name on a hypervisor that is not UTF-8) failed the whole report with exit 8."""
    for fmt in ("text", "csv", "yaml"):
        p = subprocess.run(
            [sys.executable, "-m", "osfsck.cli.main", *check_argv(snapshot_folder, "-f", fmt)],
            capture_output=True,
            env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
            timeout=120,
        )
        assert (p.returncode, p.stderr) == (4, b""), (fmt, p.stderr)
        assert "udcff" in p.stdout.decode("utf-8").lower(), fmt  # yaml spells it \\uDCFF


def test_text_is_the_report_for_people(snapshot_folder, capsys):
    out = check(capsys, snapshot_folder)
    assert out == check(capsys, snapshot_folder, "-f", "text")
    assert out.startswith("HIGH  HV101 zombie-domain\n  - Domain instance-00000002")
    assert out.rstrip().endswith("exit 4.") and "Sources:" not in out


def test_text_with_v_names_each_source(snapshot_folder, capsys):
    out = check(capsys, snapshot_folder, "-v")
    assert out.rstrip().splitlines()[-1] == (
        "Sources: hypervisor (2 scope(s), 0 object(s)); nova-db (2 scope(s), 0 object(s))."
    )


# -- the catalogue and the journal ------------------------------------------------------
def test_checks_formats(capsys):
    code, out, _ = run(capsys, "checks", "-f", "json")
    catalogue = json.loads(out)
    assert code == 0 and {"code", "name", "doc", "settings"} <= set(catalogue[0])
    assert yaml.safe_load(run(capsys, "checks", "-f", "yaml")[1]) == catalogue
    back = list(csv.reader(io.StringIO(run(capsys, "checks", "-f", "csv", "-c", "code", "-c", "repairs")[1])))
    assert back[0] == ["code", "repairs"] and len(back) == len(catalogue) + 1
    assert back[1] == [catalogue[0]["code"], ", ".join(f"{r['name']} [{r['safety']}]" for r in catalogue[0]["repairs"])]
    values = run(capsys, "checks", "-f", "value", "-c", "code", "-c", "severity")[1].splitlines()
    assert values[0] == f"{catalogue[0]['code']} {catalogue[0]['severity']}" and len(values) == len(catalogue)
    assert run(capsys, "checks", "-c", "name")[1].startswith("+-")
    assert run(capsys, "checks", "-c", "nope")[0] == 16


def test_journal_formats(tmp_path, capsys):
    (tmp_path / "osfsck.toml").write_text('[repair]\njournal = "journal.jsonl"\n')
    entry = {
        "id": "20261124T120000-a1b2c3",
        "status": "intent",
        "time": "2026-11-24T12:00:00",
        "code": "HV101",
        "check": "zombie-domain",
        "repair": "undefine-domain",
        "safety": "unsafe",
        "target": {"kind": "domain", "id": "u1", "scope": "host:hv1"},
        "action": "destroy and undefine domain instance-1 on hv1",
        "undoable": True,
        "before": {"xml": "<domain/>"},
    }
    done = {"id": entry["id"], "status": "applied", "time": "2026-11-24T12:00:01", "result": "undefined"}
    (tmp_path / "journal.jsonl").write_text(json.dumps(entry) + "\n" + json.dumps(done) + "\n")
    cfg = ("-c", str(tmp_path / "osfsck.toml"), "journal")
    whole = json.loads(run(capsys, *cfg, "-f", "json")[1])
    assert whole == [{**entry, **done}]
    assert yaml.safe_load(run(capsys, *cfg, "-f", "yaml")[1]) == whole
    every = [a for c in JOURNAL_COLUMNS for a in ("-c", c)]
    back = list(csv.reader(io.StringIO(run(capsys, *cfg, "-f", "csv", *every)[1])))
    assert back == [
        list(JOURNAL_COLUMNS),
        [
            entry["id"],
            done["time"],
            "applied",
            "HV101",
            "zombie-domain",
            "undefine-domain",
            "unsafe",
            "domain",
            "u1",
            "host:hv1",
            entry["action"],
            "undefined",
            "True",
        ],
    ]
    assert run(capsys, *cfg, "-f", "value", "-c", "id", "-c", "status")[1] == f"{entry['id']} applied\n"
    assert run(capsys, *cfg)[1].startswith(f"{entry['id']}  applied   HV101 undefine-domain: destroy")
