"""How [placement] and [neutron] authenticate: a clouds.yaml cloud read by openstacksdk's
own loader (`cloud`, or OS_CLOUD / OS_* when the section names no credentials), an
application credential, a system-scoped token, or the section's own password keys; each
resolved into the keystoneauth1 plugin and options the clients load.  A mistake is one
line at load time (exit 16), and no secret is in a repr."""

from __future__ import annotations

import sys

import pytest

from osfsck.config.load import load_settings
from osfsck.config.settings import ConfigError
from tests.support.cli import osfsck

CLOUDS = """\
clouds:
  prod:
    auth:
      auth_url: https://keystone.example:5000/v3
      username: osfsck
      password: cl0ud-pw
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionTwo
    interface: internal
    api_timeout: 12
  regions:
    regions: [R1, R2]
    auth: {auth_url: "https://k/v3", username: u, password: p, project_name: admin}
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://keystone.example:5000/v3
      application_credential_id: 0a1b2c
  halfway:
    auth:
      username: osfsck
  standalone:
    auth_type: admin_token
    auth:
      endpoint: http://127.0.0.1:8778
      token: admin
"""
SECURE = """\
clouds:
  appcred:
    auth:
      application_credential_secret: ac-s3cret
"""


@pytest.fixture(autouse=True)
def clouds(tmp_path, monkeypatch):
    """clouds.yaml and secure.yaml of our own, and no OS_* of the developer's."""
    (tmp_path / "clouds.yaml").write_text(CLOUDS)
    (tmp_path / "secure.yaml").write_text(SECURE)
    for name in [n for n in __import__("os").environ if n.startswith("OS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    monkeypatch.setenv("OS_CLIENT_SECURE_FILE", str(tmp_path / "secure.yaml"))
    monkeypatch.chdir(tmp_path)  # openstacksdk reads ./clouds.yaml too


def settings(tmp_path, text: str):
    p = tmp_path / "osfsck.toml"
    p.write_text(text)
    return load_settings(str(p))


def test_a_cloud_from_clouds_yaml(tmp_path):
    s = settings(tmp_path, '[placement]\ndatabase = "sqlite:///p.sqlite"\ncloud = "prod"\n').placement
    assert s.api_configured and s.cloud == "prod"
    assert s.keystone_auth() == (
        "password",
        {
            "auth_url": "https://keystone.example:5000/v3",
            "username": "osfsck",
            "password": "cl0ud-pw",
            "project_name": "admin",
            "user_domain_name": "Default",
            "project_domain_name": "Default",
        },
    )
    assert (s.region_name, s.interface, s.endpoint, s.timeout, s.verify) == ("RegionTwo", "internal", None, 12.0, True)
    assert "cl0ud-pw" not in repr(s)


def test_the_section_refines_the_cloud(tmp_path):
    s = settings(
        tmp_path,
        '[neutron]\ncloud = "regions"\nregion_name = "R2"\ninterface = "admin"\n'
        'endpoint = "https://neutron.example:9696/"\ntimeout = "5s"\nverify = false\n',
    ).neutron
    assert (s.region_name, s.interface, s.endpoint, s.timeout, s.verify) == (
        "R2",
        "admin",
        "https://neutron.example:9696",
        5.0,
        False,
    )


def test_an_application_credential_with_its_secret_in_secure_yaml(tmp_path):
    s = settings(tmp_path, '[placement]\ncloud = "appcred"\n').placement
    assert s.keystone_auth() == (
        "v3applicationcredential",
        {
            "auth_url": "https://keystone.example:5000/v3",
            "application_credential_id": "0a1b2c",
            "application_credential_secret": "ac-s3cret",
        },
    )
    assert "ac-s3cret" not in repr(s)


def test_os_cloud_names_the_cloud_when_the_section_names_no_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("OS_CLOUD", "standalone")
    s = settings(tmp_path, '[placement]\ndatabase = "sqlite:///p.sqlite"\n').placement
    assert s.cloud == "standalone" and s.api_configured
    assert s.keystone_auth() == ("admin_token", {"endpoint": "http://127.0.0.1:8778", "token": "admin"})
    # the section's own credentials win over the environment
    monkeypatch.setenv("PW", "pw")
    own = settings(
        tmp_path,
        '[placement]\nauth_url = "https://k/v3"\nusername = "u"\npassword_env = "PW"\nproject_name = "p"\n',
    ).placement
    assert own.cloud is None and own.keystone_auth()[1]["auth_url"] == "https://k/v3"
    # and so does auth = "none"
    assert settings(tmp_path, '[placement]\nendpoint = "http://p"\nauth = "none"\n').placement.cloud is None


def test_os_variables_are_the_cloud_envvars(tmp_path, monkeypatch):
    for k, v in {
        "OS_AUTH_URL": "https://keystone.example:5000",
        "OS_USERNAME": "osfsck",
        "OS_PASSWORD": "env-pw",
        "OS_SYSTEM_SCOPE": "all",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": "RegionOne",
    }.items():
        monkeypatch.setenv(k, v)
    s = settings(tmp_path, '[neutron]\ndatabase = "sqlite:///n.sqlite"\n').neutron
    name, options = s.keystone_auth()
    assert s.cloud == "envvars" and name == "password" and s.region_name == "RegionOne"
    assert options["system_scope"] == "all" and options["password"] == "env-pw" and "env-pw" not in repr(s)


def test_the_sections_own_keys_for_an_application_credential_and_a_system_scope(tmp_path, monkeypatch):
    monkeypatch.setenv("AC_SECRET", "acs")
    monkeypatch.setenv("PW", "pw")
    app = settings(
        tmp_path,
        '[placement]\nauth_url = "https://keystone.example:5000"\napplication_credential_name = "osfsck"\n'
        'username = "ops"\napplication_credential_secret_env = "AC_SECRET"\n',
    ).placement
    assert app.keystone_auth() == (
        "v3applicationcredential",
        {
            "auth_url": "https://keystone.example:5000/v3",
            "application_credential_secret": "acs",
            "application_credential_name": "osfsck",
            "username": "ops",
            "user_domain_name": "Default",
        },
    )
    system = settings(
        tmp_path,
        '[neutron]\nauth_url = "https://k/v3"\nusername = "u"\npassword_env = "PW"\nsystem_scope = "all"\n',
    ).neutron
    assert system.keystone_auth()[1] == {
        "auth_url": "https://k/v3",
        "username": "u",
        "password": "pw",
        "user_domain_name": "Default",
        "system_scope": "all",
    }


@pytest.mark.parametrize(
    "text, message",
    [
        ('[placement]\ncloud = "nope"\n', "[placement]: cloud 'nope' ("),
        ('[placement]\ncloud = "nope"\n', "Cloud nope was not found."),
        ('[placement]\ncloud = "halfway"\n', "requires parameters which were not given: auth_url"),
        ('[neutron]\ncloud = "regions"\nregion_name = "R3"\n', "Region R3 is not a valid region name"),
        (
            '[neutron]\ncloud = "prod"\nusername = "u"\n',
            "cloud = 'prod' takes its credentials from clouds.yaml, not username",
        ),
        ('[neutron]\ncloud = "prod"\nendpoint = "http://n"\nauth = "none"\n', 'auth = "none" takes no cloud'),
        (
            '[neutron]\nauth_url = "https://k/v3"\napplication_credential_id = "a"\n',
            "needs application_credential_secret_env or _secret_file",
        ),
        (
            '[neutron]\napplication_credential_id = "a"\napplication_credential_secret_env = "S"\n',
            "an application credential needs auth_url",
        ),
        (
            '[neutron]\nauth_url = "https://k/v3"\napplication_credential_id = "a"\n'
            'application_credential_secret_env = "S"\nproject_name = "p"\n',
            "carries its own scope and secret: remove project_name",
        ),
        (
            '[neutron]\nauth_url = "https://k/v3"\napplication_credential_name = "a"\n'
            'application_credential_secret_env = "S"\n',
            "application_credential_name needs username",
        ),
        (
            '[neutron]\nauth_url = "https://k/v3"\nusername = "u"\npassword_env = "S"\nsystem_scope = "domain"\n',
            '[neutron].system_scope: expected "all"',
        ),
        (
            '[neutron]\nauth_url = "https://k/v3"\nusername = "u"\npassword_env = "S"\nsystem_scope = "all"\n'
            'project_name = "p"\n',
            "set only one of project_name and system_scope",
        ),
        ('[neutron]\nauth_url = "https://k/v3"\nusername = "u"\npassword_env = "S"\n', "project_name is not"),
    ],
)
def test_a_mistake_is_one_line(tmp_path, monkeypatch, text, message):
    monkeypatch.setenv("S", "s")
    with pytest.raises(ConfigError) as e:
        settings(tmp_path, text)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_missing_cloud_is_exit_16_with_one_line(tmp_path):
    cfg = tmp_path / "osfsck.toml"
    cfg.write_text('[placement]\ndatabase = "sqlite:///p.sqlite"\ncloud = "nope"\n')
    p = osfsck("check", config=cfg, timeout=120)
    assert p.returncode == 16, p.stderr
    assert p.stderr.count("\n") == 1 and "cloud 'nope'" in p.stderr and "Traceback" not in p.stderr


def test_without_openstacksdk_a_cloud_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "openstack.config", None)  # as if it were not installed
    with pytest.raises(ConfigError) as e:
        settings(tmp_path, '[placement]\ncloud = "prod"\n')
    assert str(e.value).endswith(
        "[placement]: cloud = 'prod' needs openstacksdk to read clouds.yaml (pip install openstacksdk)"
    )
