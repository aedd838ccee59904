"""[nsx]: the manager's URL, the API, credentials from the environment or a file (never in
the file), TLS verified unless `insecure` is said, paging and retry bounds, and the tag that
restricts osfsck to one deployment on a shared manager."""

import pytest

from osfsck.config.load import load_settings
from osfsck.config.settings import ConfigError

BASE = '[nsx]\nurl = "https://nsx1.example.net/"\nusername = "osfsck"\npassword_env = "NSX_PW"\n'


def write(tmp_path, text):
    p = tmp_path / "osfsck.toml"
    p.write_text(text)
    return str(p)


def test_defaults_verify_tls_and_read_the_password_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NSX_PW", "s3cret")
    s = load_settings(write(tmp_path, BASE)).nsx
    assert (s.url, s.api, s.username, s.password) == ("https://nsx1.example.net", "policy", "osfsck", "s3cret")
    assert s.insecure is False and s.page_size == 1000 and s.timeout == 30.0 and s.retries == 4
    assert s.client_kwargs()["verify"] is True and s.deployment() is None
    assert "s3cret" not in repr(s)


def test_every_option(tmp_path):
    (tmp_path / "pw").write_text("from-a-file\n")
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    s = load_settings(
        write(
            tmp_path,
            '[nsx]\nurl = "https://nsx1"\napi = "manager"\nusername = "u"\n'
            'password_file = "pw"\nca_file = "ca.pem"\npage_size = 200\ntimeout = "2m"\n'
            'retries = 2\ndeployment_scope = "os-api-version"\n'
            'deployment_tags = ["17.0.0", "18.0.0"]\n',
        )
    ).nsx
    assert (s.api, s.password, s.page_size, s.timeout, s.retries) == ("manager", "from-a-file", 200, 120.0, 2)
    assert s.client_kwargs()["verify"] == str(tmp_path / "ca.pem")
    assert s.deployment() == ("os-api-version", frozenset({"17.0.0", "18.0.0"}))


def test_no_section_means_no_nsx(tmp_path):
    assert load_settings(write(tmp_path, "")).nsx.url is None


@pytest.mark.parametrize(
    "text, message",
    [
        (BASE.replace('password_env = "NSX_PW"', 'password = "inline"'), "[nsx].password: never put the password"),
        (BASE + 'api = "nsxv"\n', "[nsx].api: 'nsxv' is not one of policy, manager"),
        (BASE.replace("https://", "http://"), "plain http sends the password in clear"),
        (BASE + 'insecure = "yes"\n', "[nsx].insecure: expected true or false"),
        (BASE + "page_size = 5000\n", "[nsx].page_size: expected an integer from 1 to 1000"),
        (BASE + "retries = -1\n", "[nsx].retries: expected an integer from 0 to 10"),
        (BASE + 'ca_file = "absent.pem"\n', "[nsx].ca_file:"),
        (BASE + 'deployment_scope = "os-api-version"\n', "[nsx].deployment_tags"),
        (BASE + 'deployment_tags = ["17.0.0"]\n', "[nsx].deployment_scope"),
        (BASE + 'usrname = "x"\n', "[nsx]: unknown key 'usrname'"),
        (BASE.replace('username = "osfsck"\n', ""), "[nsx].username is required"),
        (BASE.replace('password_env = "NSX_PW"\n', ""), "[nsx]: set password_env or password_file"),
        ('[nsx]\nusername = "u"\n', "[nsx].url is required: an http(s) URL"),
    ],
)
def test_bad_nsx_config_is_one_clear_line(tmp_path, monkeypatch, text, message):
    monkeypatch.setenv("NSX_PW", "x")
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, text))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_the_environment_variable_must_exist(tmp_path, monkeypatch):
    monkeypatch.delenv("NSX_PW", raising=False)
    with pytest.raises(ConfigError, match="environment variable NSX_PW is not set"):
        load_settings(write(tmp_path, BASE))


def test_insecure_must_be_explicit_for_plain_http(tmp_path, monkeypatch):
    monkeypatch.setenv("NSX_PW", "x")
    s = load_settings(write(tmp_path, BASE.replace("https://", "http://") + "insecure = true\n")).nsx
    assert s.insecure and s.client_kwargs()["verify"] is False
