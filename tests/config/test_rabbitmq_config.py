"""[rabbitmq]: one broker's management API, or several named ones ([rabbitmq.brokers.<name>],
one per cell is common) that inherit the common keys; credentials from the environment or a
file (never in the file); TLS verified unless `verify = false`; errors name the key."""

import pytest

from osfsck.config.load import load_settings
from osfsck.config.settings import ConfigError

BASE = '[rabbitmq]\nurl = "http://rabbit1:15672/"\nusername = "osfsck"\npassword_env = "RMQ_PW"\n'


def write(tmp_path, text):
    p = tmp_path / "osfsck.toml"
    p.write_text(text)
    return str(p)


def test_one_broker_with_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("RMQ_PW", "s3cret")
    s = load_settings(write(tmp_path, BASE)).rabbitmq
    (b,) = s.brokers
    assert (b.name, b.url, b.username, b.password) == ("default", "http://rabbit1:15672", "osfsck", "s3cret")
    assert b.vhosts == () and b.verify is True and b.timeout == 30.0 and b.page_size == 500
    assert b.client_kwargs()["verify"] is True
    assert "s3cret" not in repr(s)


def test_every_option(tmp_path):
    (tmp_path / "pw").write_text("from-a-file\n")
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    s = load_settings(
        write(
            tmp_path,
            '[rabbitmq]\nurl = "https://r1:15671"\nname = "region"\nusername = "u"\n'
            'password_file = "pw"\nvhosts = ["/", "nova_cell1"]\nca_file = "ca.pem"\n'
            'timeout = "2m"\npage_size = 100\n',
        )
    ).rabbitmq
    b = s.broker("region")
    assert (b.password, b.vhosts, b.timeout, b.page_size) == ("from-a-file", ("/", "nova_cell1"), 120.0, 100)
    assert b.client_kwargs()["verify"] == str(tmp_path / "ca.pem")


def test_named_brokers_inherit_the_common_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("RMQ_PW", "common")
    (tmp_path / "pw2").write_text("own\n")
    s = load_settings(
        write(
            tmp_path,
            '[rabbitmq]\nusername = "osfsck"\npassword_env = "RMQ_PW"\nverify = false\n'
            '[rabbitmq.brokers.cell2]\nurl = "http://r2:15672"\npassword_file = "pw2"\n'
            '[rabbitmq.brokers.cell1]\nurl = "http://r1:15672"\nvhosts = "nova"\n',
        )
    ).rabbitmq
    assert [b.name for b in s.brokers] == ["cell1", "cell2"]
    c1, c2 = s.brokers
    assert (c1.password, c1.vhosts, c1.verify) == ("common", ("nova",), False)
    assert c2.password == "own" and c2.client_kwargs()["verify"] is False


def test_no_section_means_no_broker(tmp_path):
    assert load_settings(write(tmp_path, "")).rabbitmq.brokers == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[rabbitmq]\nusername = "u"\npassword_env = "RMQ_PW"\n', "set url, or one [rabbitmq.brokers"),
        ('[rabbitmq]\nurl = "rabbit1:15672"\nusername = "u"\npassword_env = "RMQ_PW"\n', "[rabbitmq].url"),
        ('[rabbitmq]\nurl = "http://r"\npassword_env = "RMQ_PW"\n', "[rabbitmq].username is required"),
        ('[rabbitmq]\nurl = "http://r"\nusername = "u"\npassword = "x"\n', "never put the password"),
        ('[rabbitmq]\nurl = "http://r"\nusername = "u"\n', "set password_env or password_file"),
        (
            '[rabbitmq]\nurl = "http://r"\nusername = "u"\npassword_env = "NOT_SET_ANYWHERE"\n',
            "NOT_SET_ANYWHERE is not set",
        ),
        (BASE + "page_size = 1000\n", "[rabbitmq].page_size: expected an integer from 1 to 500"),
        (BASE + "vhosts = [1]\n", "[rabbitmq].vhosts"),
        (BASE + 'verify = "no"\n', "[rabbitmq].verify: expected true or false"),
        (BASE + 'ca_file = "missing.pem"\n', "missing.pem does not exist"),
        (BASE + 'timeout = "soon"\n', "[rabbitmq].timeout"),
        (BASE + 'colour = "blue"\n', "colour"),
        (
            '[rabbitmq]\nusername = "u"\npassword_env = "RMQ_PW"\n[rabbitmq.brokers.c1]\nurl = "http://r"\nfoo = 1\n',
            "foo",
        ),
    ],
)
def test_errors_are_one_line_naming_the_key(tmp_path, monkeypatch, text, message):
    monkeypatch.setenv("RMQ_PW", "pw")
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, text))
    assert message in str(e.value) and "\n" not in str(e.value)
