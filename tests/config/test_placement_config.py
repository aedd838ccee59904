"""[placement]: the database (a URL or placement.conf's [placement_database]) and the
Placement API (Keystone v3 as for [neutron], or auth = "none" for a noauth2 placement-api)."""

import pytest

from osfsck.config.load import load_settings
from osfsck.config.settings import ConfigError


def write(tmp_path, text: str):
    p = tmp_path / "osfsck.toml"
    p.write_text(text)
    return str(p)


def test_absent_means_not_configured(tmp_path):
    s = load_settings(write(tmp_path, "[nova]\napi_database = 'sqlite:///x.sqlite'\n")).placement
    assert s.database is None and not s.api_configured


def test_database_with_its_password_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PL_PW", "s3cret/+")
    s = load_settings(
        write(
            tmp_path,
            '[placement]\ndatabase = "mysql+pymysql://placement@db1/placement"\ndatabase_password_env = "PL_PW"\n',
        )
    ).placement
    assert s.database.url == "mysql+pymysql://placement:s3cret%2F%2B@db1/placement"
    assert "s3cret" not in s.database.redacted() and not s.api_configured


def test_database_from_placement_conf(tmp_path):
    (tmp_path / "placement.conf").write_text("[placement_database]\nconnection = mysql+pymysql://p:x@db2/placement\n")
    s = load_settings(write(tmp_path, '[placement]\nplacement_conf = "placement.conf"\n')).placement
    assert s.database.url == "mysql+pymysql://p:x@db2/placement"


def test_keystone_password_auth(tmp_path):
    (tmp_path / "pw").write_text("hunter2\n")
    s = load_settings(
        write(
            tmp_path,
            """
[placement]
database = "sqlite:///placement.sqlite"
auth_url = "https://keystone.example:5000/v3"
username = "osfsck"
password_file = "pw"
project_name = "admin"
interface = "internal"
""",
        )
    ).placement
    assert (s.auth_url, s.username, s.password, s.project_name, s.interface, s.auth) == (
        "https://keystone.example:5000/v3",
        "osfsck",
        "hunter2",
        "admin",
        "internal",
        "keystone",
    )
    assert s.api_configured and s.endpoint is None and "hunter2" not in repr(s)


def test_noauth_endpoint(tmp_path):
    s = load_settings(
        write(tmp_path, '[placement]\nendpoint = "http://127.0.0.1:8778/"\nauth = "none"\ntimeout = "10s"\n')
    ).placement
    assert (s.endpoint, s.auth, s.timeout, s.token) == ("http://127.0.0.1:8778", "none", 10.0, None)
    assert s.api_configured


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '[placement]\nendpoint = "http://p:8778"\n',
            "[placement]: endpoint is set but neither auth_url nor token_env",
        ),
        ('[placement]\nauth = "none"\n', '[placement]: auth = "none" needs endpoint'),
        (
            '[placement]\nendpoint = "http://p:8778"\nauth = "none"\nusername = "u"\n',
            '[placement]: auth = "none" takes no username (placement-api has no Keystone then)',
        ),
        ('[placement]\nauth = "noauth2"\n', '[placement].auth: expected "keystone" or "none"'),
        ('[placement]\nendpoint = "p:8778"\n', "[placement].endpoint: expected an http(s) URL"),
        ('[placement]\nauth_url = "https://k/v3"\nusername = "u"\n', "[placement]: auth_url is set but project_name"),
        ('[placement]\ndatabse = "sqlite:///x"\n', "[placement]: unknown key 'databse'"),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path, text, message):
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, text))
    assert message in str(e.value) and "\n" not in str(e.value)
