"""The services' own config files read as oslo.config reads them (config/oslo_conf.py):
quotes, comments, continuation lines, repeated keys, several files and --config-dir
folders, section names, $ variables; each bad file is one line naming file:line.

Every sample whose values both can give is also read by the real oslo.config (Neutron's
virtualenv has it, scripts/setup makes it), which must give the same values."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from osfsck.config.common import ConfigError
from osfsck.config.load import load_settings
from osfsck.config.oslo_conf import ServiceConf, parse, read_service_conf
from osfsck_lab.neutron_server import available as neutron_python


def conf_of(text: str, file: str = "nova.conf") -> ServiceConf:
    conf = ServiceConf([file], "[nova].nova_conf")
    parse(text, file, conf)
    return conf


def value(text: str, section: str = "database", key: str = "connection") -> str | None:
    found = conf_of(text).get(section, key)
    return None if found is None else found.text


# (name, files {name: text}, --config-file names in order, --config-dir names, reads
# {(section, key): the value oslo.config gives})
SAMPLES = [
    (
        "double quotes",
        {"a.conf": '[database]\nconnection = "mysql+pymysql://nova:pw@db/nova"\n'},
        ["a.conf"],
        [],
        {("database", "connection"): "mysql+pymysql://nova:pw@db/nova"},
    ),
    (
        "single quotes, and Kolla's disk_cachemodes",
        {"a.conf": "[database]\nconnection = 'sqlite:///n.db'\n[libvirt]\ndisk_cachemodes=\"network=writeback\"\n"},
        ["a.conf"],
        [],
        {("database", "connection"): "sqlite:///n.db", ("libvirt", "disk_cachemodes"): "network=writeback"},
    ),
    (
        "only the outer pair of quotes goes, and only a matching pair",
        {"a.conf": '[x]\na = "p"w"\nb = "pw\nc = "pw\'\nd = "\ne = \'\'\nf = " spaced "\n'},
        ["a.conf"],
        [],
        {
            ("x", "a"): 'p"w',
            ("x", "b"): '"pw',
            ("x", "c"): "\"pw'",
            ("x", "d"): "",
            ("x", "e"): "",
            ("x", "f"): " spaced ",
        },
    ),
    (
        "comments are whole lines: a # later in a line is part of the value",
        {
            "a.conf": "# nova.conf\n; old style\n[database]\n#connection = sqlite:///old.db\nconnection = sqlite:///n.db # new\n"
        },
        ["a.conf"],
        [],
        {("database", "connection"): "sqlite:///n.db # new"},
    ),
    (
        "':' or '=', whichever comes first",
        {"a.conf": "[database]\nconnection: mysql://n@db/nova\n[x]\nurl = http://h:1/\nk: v=w\n"},
        ["a.conf"],
        [],
        {("database", "connection"): "mysql://n@db/nova", ("x", "url"): "http://h:1/", ("x", "k"): "v=w"},
    ),
    (
        "continuation lines join with a newline; a blank line or a comment ends them",
        {"a.conf": "[x]\na = one\n  two\n\tthree\n\n  \nb = 1\n  2\n# c\nc = \n   only\n"},
        ["a.conf"],
        [],
        {("x", "a"): "one\ntwo\nthree", ("x", "b"): "1\n2", ("x", "c"): "\nonly"},
    ),
    (
        "a repeated key: the last one; section names lower-cased but DEFAULT",
        {
            "a.conf": "[Database]\nconnection = sqlite:///1.db\n[database]\nconnection = sqlite:///2.db\n[DEFAULT]\nk = D\n[default]\nk = d\n"
        },
        ["a.conf"],
        [],
        {("database", "connection"): "sqlite:///2.db", ("DEFAULT", "k"): "D", ("default", "k"): "d"},
    ),
    (
        "a section does not inherit DEFAULT's keys",
        {"a.conf": "[DEFAULT]\nconnection = sqlite:///default.db\n[database]\nidle = 1\n"},
        ["a.conf"],
        [],
        {("database", "connection"): None, ("DEFAULT", "connection"): "sqlite:///default.db"},
    ),
    (
        "later files win, then the folder's *.conf in sorted order (hidden and other names left out)",
        {
            "nova.conf": "[database]\nconnection = sqlite:///1.db\n[api_database]\nconnection = sqlite:///api.db\n",
            "override.conf": "[database]\nconnection = sqlite:///2.db\n",
            "nova.conf.d/20-cell.conf": "[database]\nconnection = sqlite:///20.db\n",
            "nova.conf.d/10-cell.conf": "[database]\nconnection = sqlite:///10.db\n[x]\nk = 10\n",
            "nova.conf.d/30.conf.disabled": "[database]\nconnection = sqlite:///disabled.db\n",
            "nova.conf.d/.99.conf": "[database]\nconnection = sqlite:///hidden.db\n",
        },
        ["nova.conf", "override.conf"],
        ["nova.conf.d"],
        {
            ("database", "connection"): "sqlite:///20.db",
            ("api_database", "connection"): "sqlite:///api.db",
            ("x", "k"): "10",
        },
    ),
    (
        "$ variables: the same section, else DEFAULT, ${group.option}; $$ and \\$ are a $",
        {
            "a.conf": "[DEFAULT]\nhost = db1\nuser = nova\n[database]\nuser = cell1\n"
            "connection = mysql+pymysql://$user:${secrets.db}@${host}/nova\n"
            "[secrets]\ndb = pa$$word\\$x\n[x]\nkeep = $5 and $ alone\n"
        },
        ["a.conf"],
        [],
        {("database", "connection"): "mysql+pymysql://cell1:pa$word$x@db1/nova", ("x", "keep"): "$5 and $ alone"},
    ),
    (
        "a variable's value has its own variables, from its own section",
        {
            "a.conf": "[DEFAULT]\nstate_path = /var/lib/nova\n[database]\nconnection = sqlite:///${paths.db}\n[paths]\ndb = $state/n.db\nstate = $state_path\n"
        },
        ["a.conf"],
        [],
        {("database", "connection"): "sqlite:////var/lib/nova/n.db"},
    ),
    (
        "CRLF and CR line ends",
        {"a.conf": "[database]\r\nconnection = sqlite:///crlf.db\r\n[x]\rk = cr\r"},
        ["a.conf"],
        [],
        {("database", "connection"): "sqlite:///crlf.db", ("x", "k"): "cr"},
    ),
]


def _read(tmp_path: Path, files: dict, conf_files: list, dirs: list) -> ServiceConf:
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode())
    return read_service_conf([str(tmp_path / f) for f in conf_files], [str(tmp_path / d) for d in dirs], "[x]", "[x]")


@pytest.mark.parametrize("name, files, conf_files, dirs, reads", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_values_as_oslo_config_gives_them(tmp_path, name, files, conf_files, dirs, reads):
    conf = _read(tmp_path, files, conf_files, dirs)
    got = {place: (v.text if (v := conf.get(*place)) else None) for place in reads}
    assert got == reads


# The real oslo.config, given the same files on its command line, each option registered
# as a StrOpt: it prints what it reads.
ORACLE = """
import json, sys
from oslo_config import cfg
req = json.loads(sys.argv[1])
conf = cfg.ConfigOpts()
for group, key in req["opts"]:
    conf.register_opt(cfg.StrOpt(key), group=None if group == "DEFAULT" else group)
args = [a for f in req["files"] for a in ("--config-file", f)] + [a for d in req["dirs"] for a in ("--config-dir", d)]
conf(args, project="osfsck-test", default_config_files=[], default_config_dirs=[])
out = []
for group, key in req["reads"]:
    out.append(getattr(conf, key) if group == "DEFAULT" else getattr(getattr(conf, group), key))
print(json.dumps(out))
"""


@pytest.mark.integration
@pytest.mark.parametrize("name, files, conf_files, dirs, reads", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_the_real_oslo_config_agrees(tmp_path, name, files, conf_files, dirs, reads):
    python = neutron_python()
    if python is None:
        pytest.skip("no virtualenv with oslo.config (.venv-neutron; scripts/setup makes it)")
    conf = _read(tmp_path, files, conf_files, dirs)
    # every key any file sets is an option (a $variable must name a registered one)
    opts = sorted({(s, k) for s, k in conf._values} | set(reads))
    request = {
        "opts": [list(o) for o in opts],
        "files": [str(tmp_path / f) for f in conf_files],
        "dirs": [str(tmp_path / d) for d in dirs],
        "reads": [list(r) for r in reads],
    }
    out = subprocess.run([python, "-c", ORACLE, json.dumps(request)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert dict(zip(reads, json.loads(out.stdout))) == reads


def test_a_variable_no_file_sets_is_refused_without_naming_it():
    # oslo.config would use the option's default; osfsck cannot know it.  The name is not
    # repeated: unescaped, it may be part of a password.
    conf = conf_of("[database]\nconnection = mysql://nova:pa$secretpart@db/nova\n")
    with pytest.raises(ConfigError) as e:
        conf.get("database", "connection")
    assert str(e.value).startswith("nova.conf:2: [database] connection: a $ variable there names an option")
    assert "secretpart" not in str(e.value)


def test_variables_in_a_loop_are_refused():
    conf = conf_of("[database]\nconnection = $a\na = ${database.connection}\n")
    with pytest.raises(ConfigError, match=r"nova.conf:2: \[database\] connection: .* in a loop"):
        conf.get("database", "connection")


BAD = [
    ("connection = sqlite:///x.db\n[database]\n", "nova.conf:1: a key before any [section]"),
    ("[database]\n  connection = x\n", "nova.conf:2: an indented line that continues no key"),
    ("[database\nconnection = x\n", "nova.conf:1: a section header without its closing ]"),
    ("[database] # the cell\n", "nova.conf:1: a section header without its closing ]"),
    ("[database]\n\n[]\n", "nova.conf:3: an empty section name"),
    ("[database]\npassword hunter2\n", "nova.conf:2: neither '=' nor ':'"),
    ("[database]\n = x\n", "nova.conf:2: an indented line"),
    ("[database]\n= x\n", "nova.conf:2: an empty key"),
    ("\ufeff[database]\nconnection = x\n", "nova.conf:1: neither '=' nor ':'"),
]


def test_variables_nested_too_deep_are_refused():
    chain = "".join(f"a{i} = $a{i + 1}\n" for i in range(500))
    conf = conf_of(f"[database]\nconnection = $a0\n{chain}a500 = x\n")
    with pytest.raises(ConfigError, match=r"nova.conf:\d+: \[database\] a99: \$ variables nested more than 100 deep"):
        conf.get("database", "connection")
    assert (
        conf_of(f"[database]\nconnection = $a0\n{chain[: chain.index('a50 ')]}a50 = x\n")
        .get("database", "connection")
        .text
        == "x"
    )


@pytest.mark.parametrize("text, where", BAD)
def test_what_oslo_config_refuses_is_one_line_naming_file_and_line(text, where):
    with pytest.raises(ConfigError) as e:
        conf_of(text)
    message = str(e.value)
    assert message.startswith(where) and "\n" not in message
    assert "hunter2" not in message  # the line itself is never shown


# --- through osfsck.toml --------------------------------------------------------------------


def write(folder: Path, files: dict) -> str:
    for name, text in files.items():
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith("/"):  # a folder named like a file
            p.mkdir()
        else:
            p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(folder / "osfsck.toml")


def test_nova_conf_files_in_order_and_a_conf_dir(tmp_path):
    s = load_settings(
        write(
            tmp_path,
            {
                "osfsck.toml": '[nova]\nnova_conf = ["nova.conf", "nova-conductor.conf"]\nnova_conf_dir = "nova.conf.d"\n',
                "nova.conf": '[api_database]\nconnection = "mysql+pymysql://nova:pw@db/nova_api"\n',
                "nova-conductor.conf": "[database]\nconnection = mysql+pymysql://nova:pw@db/nova_cell0\n",
                "nova.conf.d/50-cell1.conf": "[database]\nconnection = mysql+pymysql://nova:pw@db/nova\n",
            },
        )
    )
    assert s.nova.api_database.url == "mysql+pymysql://nova:pw@db/nova_api"
    assert s.nova.cell_url_base.url == "mysql+pymysql://nova:pw@db/nova"


@pytest.mark.parametrize(
    "service, section", [("cinder", "database"), ("neutron", "database"), ("placement", "placement_database")]
)
def test_each_service_takes_files_and_folders(tmp_path, service, section):
    s = load_settings(
        write(
            tmp_path,
            {
                "osfsck.toml": f'[{service}]\n{service}_conf_dir = ["{service}.conf.d", "more.d"]\n',
                f"{service}.conf.d/a.conf": f"[{section}]\nconnection = sqlite:///a.db\n",
                "more.d/b.conf": f"[{section}]\nconnection = 'sqlite:///b.db'\n",
            },
        )
    )
    assert getattr(s, service).database.url == "sqlite:///b.db"


def test_the_database_url_in_osfsck_toml_wins_and_the_files_are_then_not_read(tmp_path):
    s = load_settings(
        write(tmp_path, {"osfsck.toml": '[cinder]\ndatabase = "sqlite:///own.db"\ncinder_conf = "absent.conf"\n'})
    )
    assert s.cinder.database.url.endswith("/own.db")


@pytest.mark.parametrize(
    "files, message",
    [
        (
            {
                "osfsck.toml": '[nova]\nnova_conf_dir = "nova.conf.d"\n',
                "nova.conf.d/10.conf": b"\x7fELF\x02\x01\xff\xfe",
            },
            "[nova].nova_conf_dir: ",
        ),
        ({"osfsck.toml": '[nova]\nnova_conf_dir = "absent.d"\n'}, "[nova].nova_conf_dir: "),
        ({"osfsck.toml": '[nova]\nnova_conf_dir = "nova.conf"\n', "nova.conf": "[x]\n"}, "is not a folder"),
        ({"osfsck.toml": '[nova]\nnova_conf = "."\n'}, "is a directory"),
        ({"osfsck.toml": "[nova]\nnova_conf = []\n"}, "expected a file path or a list of them"),
        ({"osfsck.toml": '[nova]\nnova_conf = ["nova.conf", 3]\n'}, "[nova].nova_conf[1]: expected a file path"),
        (
            {"osfsck.toml": '[nova]\nnova_conf_dir = "d"\n', "d/x.conf/": "", "d/x.conf/inner": "[x]\n"},
            "is a directory",
        ),
        (
            {"osfsck.toml": '[cinder]\ncinder_conf_dir = "d"\n', "d/README": "no conf here\n"},
            "no [database] connection in no file (the folders hold no *.conf)",
        ),
        (
            {
                "osfsck.toml": '[cinder]\ncinder_conf = "cinder.conf"\n',
                "cinder.conf": "[database]\nconnection = mysql://c@db/\n  cinder\n",
            },
            "cinder.conf:2: [database] connection: the URL holds a control character",
        ),
        (
            {
                "osfsck.toml": '[nova]\nnova_conf_dir = "d"\n',
                "d/00.conf": "[api_database]\nconnection = x\n",
                "d/01.conf": b"\0\0\0\n",
            },
            "01.conf:1: neither '=' nor ':'",
        ),
    ],
)
def test_bad_service_files_are_one_line(tmp_path, files, message):
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, files))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_binary_file_in_the_folder_is_named(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_settings(
            write(tmp_path, {"osfsck.toml": '[nova]\nnova_conf_dir = "d"\n', "d/10-binary.conf": b"\x00\x9f\x92\xff"})
        )
    assert str(e.value).endswith(
        "[nova].nova_conf_dir: " + str(tmp_path / "d" / "10-binary.conf") + " is not UTF-8 text (byte 0x9f at offset 1)"
    )


@pytest.mark.integration
@pytest.mark.parametrize("text, where", BAD)
def test_the_real_oslo_config_refuses_them_too(tmp_path, text, where):
    python = neutron_python()
    if python is None:
        pytest.skip("no virtualenv with oslo.config (.venv-neutron; scripts/setup makes it)")
    (tmp_path / "nova.conf").write_text(text)
    script = "import sys\nfrom oslo_config import cfg\ncfg.ConfigOpts()(['--config-file', sys.argv[1]])"
    out = subprocess.run([python, "-c", script, str(tmp_path / "nova.conf")], capture_output=True, text=True)
    assert out.returncode != 0 and "ConfigFileParseError" in out.stderr


def test_a_fifo_in_the_folder_is_refused_not_waited_on(tmp_path):
    # oslo.config would block in open(); osfsck names it instead
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "d" / "10.conf")
    (tmp_path / "osfsck.toml").write_text('[nova]\nnova_conf_dir = "d"\n')
    with pytest.raises(ConfigError, match=r"\[nova\]\.nova_conf_dir: .*/d/10\.conf is not a regular file"):
        load_settings(str(tmp_path / "osfsck.toml"))
