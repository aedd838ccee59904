"""[ovn]: the NB connection, its SSL files and the timeout; every mistake one line naming the key."""

import pytest

from osfsck.config.load import load_settings
from osfsck.config.settings import ConfigError


def load(tmp_path, text):
    cfg = tmp_path / "osfsck.toml"
    cfg.write_text(text)
    return load_settings(str(cfg)).ovn


def test_no_section_means_not_configured(tmp_path):
    assert load(tmp_path, "").nb_connection is None


def test_tcp_and_unix_remotes_and_a_duration(tmp_path):
    s = load(tmp_path, '[ovn]\nnb_connection = "tcp:192.0.2.10:6641, tcp:192.0.2.11:6641"\ntimeout = "2m"\n')
    assert s.nb_connection == "tcp:192.0.2.10:6641,tcp:192.0.2.11:6641" and s.timeout == 120 and not s.uses_ssl
    assert load(tmp_path, '[ovn]\nnb_connection = "unix:/run/ovn/ovnnb_db.sock"\n').timeout == 120


def test_ssl_needs_its_three_files_relative_to_the_config(tmp_path):
    for name in ("key.pem", "cert.pem", "ca.pem"):
        (tmp_path / name).write_text("x")
    s = load(
        tmp_path,
        '[ovn]\nnb_connection = "ssl:[2001:db8::1]:6641"\nprivate_key = "key.pem"\n'
        'certificate = "cert.pem"\nca_cert = "ca.pem"\n',
    )
    assert s.uses_ssl and s.private_key == str(tmp_path / "key.pem") and s.ca_cert == str(tmp_path / "ca.pem")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[ovn]\ntimeout = 5\n", r"\[ovn\]\.nb_connection: expected"),
        ('[ovn]\nnb_connection = "http://nb:6641"\n', r"'http://nb:6641' is not tcp:IP:PORT"),
        ('[ovn]\nnb_connection = "tcp:nb:99999"\n', r"is not tcp:IP:PORT"),
        ('[ovn]\nnb_connection = "ssl:nb:6641"\n', r"\[ovn\]\.private_key is needed"),
        (
            '[ovn]\nnb_connection = "tcp:nb:6641"\nca_cert = "/nonexistent/ca.pem"\n',
            r"\[ovn\]\.ca_cert: .* does not exist",
        ),
        ('[ovn]\nnb_connection = "tcp:nb:6641"\ntimeout = "soon"\n', r"\[ovn\]\.timeout"),
        ('[ovn]\nnb_connection = "tcp:nb:6641"\nsb_connection = "tcp:nb:6642"\n', r"unknown key 'sb_connection'"),
    ],
)
def test_mistakes_are_one_line_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message) as e:
        load(tmp_path, text)
    assert "\n" not in str(e.value)


def test_certificate_without_ssl_is_a_mistake(tmp_path):
    (tmp_path / "cert.pem").write_text("x")
    with pytest.raises(ConfigError, match="no ssl: remote"):
        load(tmp_path, '[ovn]\nnb_connection = "tcp:nb:6641"\ncertificate = "cert.pem"\n')
