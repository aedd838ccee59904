"""[dns] and [designate]: zones, servers, TSIG keys from a file or the environment (never
inline), name templates; every mistake is one line naming the key."""

import pytest

from osfsck.config.load import load_settings
from osfsck.config.settings import ConfigError

SECRET = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="


def write(tmp_path, text, name="osfsck.toml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_zones_with_defaults_overrides_and_a_tsig_keygen_file(tmp_path):
    (tmp_path / "k.key").write_text(f'key "osfsck" {{\n\talgorithm hmac-sha512;\n\tsecret "{SECRET}";\n}};\n')
    s = load_settings(
        write(
            tmp_path,
            '[dns]\nserver = "192.0.2.53"\nkey = "osfsck"\ntimeout = "5s"\n'
            '[dns.keys.osfsck]\nalgorithm = "hmac-sha512"\nsecret_file = "k.key"\n'
            '[dns.zones."Example.test"]\n'
            '[dns.zones."0.0.10.in-addr.arpa."]\nserver = "[2001:db8::53]:5353"\n'
            'hostname_template = "%(display_name)s.%(zone)s"\ndesignate = true\n',
        )
    )
    fwd, rev = s.dns.zones
    assert (fwd.zone, fwd.host, fwd.port, fwd.name_template, fwd.designate) == (
        "example.test.",
        "192.0.2.53",
        53,
        "{hostname}.{zone}",
        False,
    )
    assert (rev.host, rev.port, rev.name_template, rev.designate) == (
        "2001:db8::53",
        5353,
        "{display_name}.{zone}",
        True,
    )
    assert fwd.key.secret == SECRET and fwd.key.algorithm == "hmac-sha512" and rev.key is fwd.key
    assert SECRET not in repr(s.dns) and s.dns.timeout == 5.0
    assert s.dns.zone("EXAMPLE.TEST") is fwd


def test_the_secret_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TSIG_SECRET", SECRET)
    s = load_settings(
        write(
            tmp_path,
            '[dns]\nserver = "ns1:53"\n[dns.keys.k]\nsecret_env = "TSIG_SECRET"\n'
            '[dns.zones."example.test."]\nkey = "k"\n',
        )
    )
    assert s.dns.zones[0].key.secret == SECRET and s.dns.zones[0].key.algorithm == "hmac-sha256"


def test_no_dns_section_means_no_zones(tmp_path):
    s = load_settings(write(tmp_path, ""))
    assert s.dns.zones == () and s.designate.database is None


def test_designate_database_and_designate_conf(tmp_path):
    s = load_settings(write(tmp_path, '[designate]\ndatabase = "mysql+pymysql://designate@db/designate"\n'))
    assert s.designate.database.url == "mysql+pymysql://designate@db/designate"
    write(tmp_path, "[storage:sqlalchemy]\nconnection = mysql+pymysql://d:pw@db2/designate\n", "designate.conf")
    s = load_settings(write(tmp_path, '[designate]\ndesignate_conf = "designate.conf"\n'))
    assert s.designate.database.url == "mysql+pymysql://d:pw@db2/designate"


@pytest.mark.parametrize(
    "text, message",
    [
        ('[dns]\nserver = "ns1"\n', "[dns]: no zone configured"),
        ('[dns]\n[dns.zones."example.test."]\n', "no server"),
        ('[dns]\nserver = "ns1:99999"\n[dns.zones."example.test."]\n', "'99999' is not a port number"),
        ('[dns]\nserver = "ns1"\nkey = "nope"\n[dns.zones."example.test."]\n', "key: no key 'nope' in [dns.keys]"),
        ('[dns]\nserver = "ns1"\n[dns.keys.k]\nsecret = "abc"\n[dns.zones."example.test."]\n', "unknown key 'secret'"),
        (
            '[dns]\nserver = "ns1"\n[dns.keys.k]\n[dns.zones."example.test."]\n',
            "exactly one of secret_file and secret_env",
        ),
        (
            '[dns]\nserver = "ns1"\n[dns.keys.k]\nsecret_env = "OSFSCK_UNSET_VAR"\n[dns.zones."a."]\n',
            "environment variable OSFSCK_UNSET_VAR is not set",
        ),
        ('[dns]\nserver = "ns1"\n[dns.keys.k]\nsecret_file = "absent"\n[dns.zones."a."]\n', "cannot read"),
        (
            '[dns]\nserver = "ns1"\n[dns.keys.k]\nalgorithm = "rot13"\nsecret_env = "X"\n[dns.zones."a."]\n',
            "'rot13' is not one of",
        ),
        ('[dns]\nserver = "ns1"\nhostname_template = "{host}.{zone}"\n[dns.zones."a."]\n', "unknown field {host}"),
        ('[dns]\nserver = "ns1"\nhostname_template = "{hostname}"\n[dns.zones."a."]\n', "must end with {zone}"),
        ('[dns]\nserver = "ns1"\ntimeout = "soon"\n[dns.zones."a."]\n', "[dns].timeout"),
        ('[dns]\nserver = "ns1"\n[dns.zones."a."]\ndesignate = "yes"\n', "designate: expected true or false"),
        ('[dns]\nserver = "ns1"\n[dns.zones."a"]\n[dns.zones."a."]\n', "a zone is named twice"),
        ('[designate]\ndatabse = "x"\n', "[designate]: unknown key 'databse'"),
    ],
)
def test_bad_dns_config_is_one_clear_line(tmp_path, text, message):
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, text))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_secret_that_is_not_base64(tmp_path):
    (tmp_path / "k").write_text("not base64 at all!")
    with pytest.raises(ConfigError, match=r"\[dns.keys.k\]: the secret is not base64"):
        load_settings(write(tmp_path, '[dns]\nserver = "ns1"\n[dns.keys.k]\nsecret_file = "k"\n[dns.zones."a."]\n'))
