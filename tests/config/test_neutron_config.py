"""`[neutron]`: the database as for every service, and the Networking API settings that
delete-port uses (endpoint, Keystone v3 password auth or a ready-made token, TLS)."""

import pytest

from osfsck.config.load import load_settings
from osfsck.config.settings import ConfigError


def write(tmp_path, text, name="osfsck.toml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_database_only_means_no_api(tmp_path):
    s = load_settings(write(tmp_path, '[neutron]\ndatabase = "mysql+pymysql://neutron:pw@db1/neutron"\n'))
    assert s.neutron.database.url.endswith("@db1/neutron")
    assert not s.neutron.api_configured and s.neutron.verify is True


def test_keystone_password_auth_with_the_password_from_a_file(tmp_path):
    (tmp_path / "neutron.pw").write_text("pa55word\n")
    s = load_settings(
        write(
            tmp_path,
            """
[neutron]
database = "sqlite:///neutron.sqlite"
auth_url = "https://keystone.example:5000/v3"
username = "osfsck"
password_file = "neutron.pw"
project_name = "admin"
user_domain_name = "ops"
region_name = "RegionTwo"
interface = "internal"
timeout = "1m"
""",
        )
    )
    n = s.neutron
    assert n.api_configured and n.password == "pa55word" and n.endpoint is None
    assert (n.user_domain_name, n.project_domain_name, n.region_name, n.interface) == (
        "ops",
        "Default",
        "RegionTwo",
        "internal",
    )
    assert n.timeout == 60.0 and n.verify is True
    assert "pa55word" not in repr(s)


def test_a_ready_made_token_and_a_ca_bundle(tmp_path, monkeypatch):
    monkeypatch.setenv("OS_TOKEN", "gAAAA-token")
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    s = load_settings(
        write(
            tmp_path,
            '[neutron]\nendpoint = "https://neutron.example:9696/"\ntoken_env = "OS_TOKEN"\nca_file = "ca.pem"\n',
        )
    )
    assert s.neutron.token == "gAAAA-token" and s.neutron.endpoint == "https://neutron.example:9696"
    assert s.neutron.verify == str(tmp_path / "ca.pem") and "gAAAA" not in repr(s.neutron)


@pytest.mark.parametrize(
    "text, message",
    [
        ('[neutron]\nendpoint = "neutron:9696"\ntoken_env = "T"\n', "[neutron].endpoint: expected an http(s) URL"),
        ('[neutron]\nendpoint = "https://n:9696"\n', "neither auth_url nor token_env"),
        ('[neutron]\ntoken_env = "OS_TOKEN"\n', "token_env without auth_url needs endpoint"),
        ('[neutron]\nauth_url = "https://k/v3"\nusername = "u"\npassword_env = "PW"\n', "project_name is not"),
        ('[neutron]\nauth_url = "https://k/v3"\nusername = "u"\nproject_name = "p"\n', "password_env is not"),
        (
            '[neutron]\nauth_url = "https://k/v3"\nusername = "u"\nproject_name = "p"\npassword_env = "NOPE_NOT_SET"\n',
            "environment variable NOPE_NOT_SET is not set",
        ),
        (
            '[neutron]\nendpoint = "https://n"\ntoken_env = "OS_TOKEN"\nverify = "no"\n',
            "[neutron].verify: expected true",
        ),
        (
            '[neutron]\nendpoint = "https://n"\ntoken_env = "OS_TOKEN"\nca_file = "absent.pem"\n',
            "absent.pem does not exist",
        ),
        ('[neutron]\nendpoint = "https://n"\ntoken_env = "OS_TOKEN"\ninterface = "private"\n', "expected public"),
        ('[neutron]\nendpont = "https://n"\n', "[neutron]: unknown key 'endpont'"),
        ('[neutron]\nauth_url = "https://k/v3"\ntoken_env = "OS_TOKEN"\n', "set only one of auth_url"),
    ],
)
def test_bad_neutron_api_config_is_one_clear_line(tmp_path, monkeypatch, text, message):
    monkeypatch.setenv("OS_TOKEN", "t")
    monkeypatch.setenv("PW", "p")
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, text))
    assert message in str(e.value) and "\n" not in str(e.value)
