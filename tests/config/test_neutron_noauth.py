"""`[neutron] auth = "none"`: a standalone neutron-server (`auth_strategy = noauth`, as in
the lab) is reached at its endpoint without Keystone; "keystone" stays the default."""

import pytest

from osfsck.config.load import load_settings
from osfsck.config.settings import ConfigError


def write(tmp_path, text):
    p = tmp_path / "osfsck.toml"
    p.write_text(text)
    return str(p)


def test_auth_none_needs_only_the_endpoint(tmp_path):
    s = load_settings(
        write(
            tmp_path,
            '[neutron]\ndatabase = "sqlite:///n.sqlite"\n'
            'endpoint = "http://127.0.0.1:9696/"\nauth = "none"\ntimeout = "5s"\n',
        )
    )
    n = s.neutron
    assert n.auth == "none" and n.api_configured
    assert n.endpoint == "http://127.0.0.1:9696" and n.token is None and n.auth_url is None
    assert n.timeout == 5.0


def test_keystone_is_the_default_and_may_be_named(tmp_path, monkeypatch):
    monkeypatch.setenv("OS_TOKEN", "t")
    plain = load_settings(write(tmp_path, '[neutron]\nendpoint = "https://n:9696"\ntoken_env = "OS_TOKEN"\n'))
    named = load_settings(
        write(tmp_path, '[neutron]\nendpoint = "https://n:9696"\ntoken_env = "OS_TOKEN"\nauth = "keystone"\n')
    )
    assert plain.neutron.auth == named.neutron.auth == "keystone"
    assert plain.neutron == named.neutron and plain.neutron.api_configured


def test_an_endpoint_alone_is_still_refused_with_keystone(tmp_path):
    with pytest.raises(ConfigError, match="neither auth_url nor token_env"):
        load_settings(write(tmp_path, '[neutron]\nendpoint = "https://n:9696"\nauth = "keystone"\n'))


@pytest.mark.parametrize(
    "text, message",
    [
        ('[neutron]\nauth = "none"\n', 'auth = "none" needs endpoint'),
        ('[neutron]\nendpoint = "http://n"\nauth = "noauth"\n', '[neutron].auth: expected "keystone" or "none"'),
        ('[neutron]\nendpoint = "http://n"\nauth = false\n', "[neutron].auth: expected"),
        ('[neutron]\nendpoint = "http://n"\nauth = "none"\ntoken_env = "OS_TOKEN"\n', "takes no token_env"),
        ('[neutron]\nendpoint = "http://n"\nauth = "none"\nauth_url = "https://k/v3"\n', "takes no auth_url"),
        ('[neutron]\nendpoint = "http://n"\nauth = "none"\nusername = "u"\n', "takes no username"),
        ('[neutron]\nendpoint = "n:9696"\nauth = "none"\n', "[neutron].endpoint: expected an http(s) URL"),
    ],
)
def test_bad_noauth_config_is_one_clear_line(tmp_path, monkeypatch, text, message):
    monkeypatch.setenv("OS_TOKEN", "t")
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, text))
    assert message in str(e.value) and "\n" not in str(e.value)
