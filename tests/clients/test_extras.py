"""The optional systems' client libraries are extras (pyproject.toml): without them osfsck
still checks the rest of the cloud, and a configured system whose library is missing is
one line naming the extra to install.

"Not installed" is simulated in a real `osfsck` process: the library's name maps to None
in sys.modules before osfsck is imported, so every import of it fails as for a package
that is not there (ModuleNotFoundError) and importlib finds no spec for it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from osfsck.clients import extras
from osfsck.clients.db import DatabaseError, make_engine

RUN = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None
from osfsck.cli.main import main
sys.exit(main(sys.argv[2:]))
"""
WITHOUT_EXTRAS = "dns,ovs,ovsdbapp,libvirt,MySQLdb,psycopg"


def osfsck(folder: Path, toml: str, *argv: str, without: str = WITHOUT_EXTRAS) -> subprocess.CompletedProcess:
    (folder / "osfsck.toml").write_text(toml)
    return subprocess.run(
        [sys.executable, "-c", RUN, without, "-c", str(folder / "osfsck.toml"), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
    )


NOVA_ONLY = '[nova]\napi_database = "sqlite:///absent.sqlite"\n'
# what the OVN and DNS checks compare those systems with
WITH_NEUTRON = NOVA_ONLY + '[neutron]\ndatabase = "sqlite:///absent-neutron.sqlite"\n'


def test_without_any_extra_the_catalogue_and_a_nova_check_still_run(tmp_path):
    p = osfsck(tmp_path, NOVA_ONLY, "checks")
    assert p.returncode == 0 and "stale-dns-record" in p.stdout and "DN101" in p.stdout, p.stderr
    p = osfsck(tmp_path, NOVA_ONLY, "check")
    # the Nova database is absent: the run gets as far as reading it (8, not a config error)
    assert p.returncode == 8, p.stderr
    assert "absent.sqlite" in p.stderr and "internal error" not in p.stderr
    assert "NOT RUN ([dns] zones are not configured)" in p.stdout
    assert "NOT RUN ([ovn] nb_connection is not configured)" in p.stdout


@pytest.mark.parametrize(
    "toml, says",
    [
        (
            '[ovn]\nnb_connection = "tcp:127.0.0.1:6641"\n',
            "[ovn] is configured but ovsdbapp is not installed (pip install 'osfsck[ovn]')",
        ),
        (
            '[dns]\nserver = "127.0.0.1:53"\n[dns.zones."cloud.example."]\n',
            "[dns] is configured but dnspython is not installed (pip install 'osfsck[dns]')",
        ),
    ],
)
def test_a_configured_system_without_its_extra_is_one_line(tmp_path, toml, says):
    p = osfsck(tmp_path, WITH_NEUTRON + toml, "check")
    assert p.returncode == 16 and p.stderr == f"osfsck: {says}\n" and p.stdout == ""


def test_the_same_configs_pass_that_point_with_the_extras_installed(tmp_path):
    # the libraries are installed here: the same run gets to reading the (absent) servers
    p = osfsck(
        tmp_path, WITH_NEUTRON + '[ovn]\nnb_connection = "tcp:127.0.0.1:1"\ntimeout = "2s"\n', "check", without=""
    )
    assert p.returncode == 8 and "ovsdbapp" not in p.stderr, p.stderr
    assert "ovn-nb ovn-nb: partial: OVN NB tcp:127.0.0.1:1: cannot connect" in p.stderr


@pytest.mark.parametrize(
    "url, says",
    [
        ("postgresql://nova@127.0.0.1/nova", "psycopg is not installed (pip install 'osfsck[postgres]')"),
        ("mysql+mysqldb://nova@127.0.0.1/nova", "mysqlclient is not installed (pip install 'osfsck[mysql]')"),
    ],
)
def test_a_database_driver_without_its_extra(url, says, monkeypatch):
    for name in ("psycopg", "MySQLdb"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(DatabaseError) as e:
        make_engine(url)
    assert str(e.value) == f"{url}: {says}"


def test_mysql_without_mysqlclient_is_pymysql(monkeypatch):
    monkeypatch.setitem(sys.modules, "MySQLdb", None)
    assert make_engine("mysql://nova@127.0.0.1/nova").dialect.driver == "pymysql"


def test_every_extra_named_exists_in_pyproject():
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    for distribution, extra in extras.EXTRAS.values():
        assert f"\n{extra} = [" in text and distribution in text, extra


def test_without_libvirt_python_no_host_is_read_and_that_is_said_once(monkeypatch):
    from osfsck.config.settings import HypervisorSettings
    from osfsck.model.facts.hypervisor import Domain
    from osfsck.model.result import SourceStatus
    from osfsck.sources.libvirt.source import LibvirtSource
    from tests.support.world import World

    w = World()
    for host in ("hv1", "hv2"):
        w.host(host)
    known = w.snapshot()
    monkeypatch.setitem(sys.modules, "libvirt", None)
    sink = World().snapshot()
    statuses = LibvirtSource(HypervisorSettings()).collect({Domain}, known, sink)
    hint = "libvirt-python is not installed (pip install 'osfsck[libvirt]')"
    assert statuses == [SourceStatus("libvirt", "*", "partial", hint)]
    assert not sink.coverage[(Domain.kind, "*")].complete
