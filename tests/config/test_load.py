"""Config loading: the service database sections ([cinder] here; [nova] is covered through
the CLI tests), passwords from the environment, the services' own config files."""

import pytest

from osfsck.config.load import load_settings
from osfsck.config.settings import ConfigError


def write(tmp_path, text, name="osfsck.toml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_cinder_database_with_password_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CINDER_DB_PW", "s3 cret/")
    s = load_settings(
        write(tmp_path, '[cinder]\ndatabase = "mysql://cinder@db1/cinder"\ndatabase_password_env = "CINDER_DB_PW"\n')
    )
    assert s.cinder.database.url == "mysql://cinder:s3%20cret%2F@db1/cinder"
    assert "s3" not in s.cinder.database.redacted()


def test_cinder_conf_gives_the_database(tmp_path):
    write(
        tmp_path,
        "[DEFAULT]\ndebug = true\n[database]\nconnection = mysql+pymysql://cinder:pw@db2/cinder\n",
        "cinder.conf",
    )
    s = load_settings(write(tmp_path, '[cinder]\ncinder_conf = "cinder.conf"\n'))
    assert s.cinder.database.url == "mysql+pymysql://cinder:pw@db2/cinder"


def test_no_cinder_section_means_no_cinder(tmp_path):
    assert load_settings(write(tmp_path, "")).cinder.database is None


@pytest.mark.parametrize(
    "text, message",
    [
        ('[cinder]\ndatabse = "mysql://x@y/z"\n', "[cinder]: unknown key 'databse'"),
        ('[cinder]\ncinder_conf = "absent.conf"\n', "cannot read"),
        ('[cinder]\ndatabase = "not a url"\n', "[cinder].database: expected a database URL"),
    ],
)
def test_bad_cinder_config_is_one_clear_line(tmp_path, text, message):
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, text))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_service_conf_without_the_section_says_so(tmp_path):
    write(tmp_path, "[DEFAULT]\ndebug = true\n", "cinder.conf")
    with pytest.raises(ConfigError, match=r"no \[database\] connection"):
        load_settings(write(tmp_path, '[cinder]\ncinder_conf = "cinder.conf"\n'))


NEUTRON_CONF = "[database]\nconnection = mysql+pymysql://neutron:pw@db3/neutron\n"


def test_neutron_quota_driver_from_osfsck_toml(tmp_path):
    s = load_settings(
        write(
            tmp_path,
            '[neutron]\ndatabase = "mysql://n@db/neutron"\nquota_driver = "neutron.db.quota.driver.DbQuotaDriver"\n',
        )
    )
    assert s.neutron.quota_driver == "neutron.db.quota.driver.DbQuotaDriver"


def test_neutron_quota_driver_from_neutron_conf(tmp_path):
    # oslo.config's group is QUOTAS; group names are compared in lower case
    write(tmp_path, NEUTRON_CONF + "[QUOTAS]\nquota_driver = neutron.db.quota.driver.DbQuotaDriver\n", "neutron.conf")
    s = load_settings(write(tmp_path, '[neutron]\nneutron_conf = "neutron.conf"\n'))
    assert s.neutron.quota_driver == "neutron.db.quota.driver.DbQuotaDriver"
    assert s.neutron.database.url == "mysql+pymysql://neutron:pw@db3/neutron"


def test_neutron_quota_driver_unset_is_none(tmp_path):
    write(tmp_path, NEUTRON_CONF, "neutron.conf")
    assert load_settings(write(tmp_path, '[neutron]\nneutron_conf = "neutron.conf"\n')).neutron.quota_driver is None
    assert load_settings(write(tmp_path, '[neutron]\ndatabase = "mysql://n@db/neutron"\n')).neutron.quota_driver is None


def test_neutron_quota_driver_in_osfsck_toml_wins(tmp_path):
    write(tmp_path, NEUTRON_CONF + "[quotas]\nquota_driver = neutron.db.quota.driver.DbQuotaDriver\n", "neutron.conf")
    s = load_settings(
        write(tmp_path, '[neutron]\nneutron_conf = "neutron.conf"\nquota_driver = "x.DbQuotaNoLockDriver"\n')
    )
    assert s.neutron.quota_driver == "x.DbQuotaNoLockDriver"


@pytest.mark.parametrize("value", ["1", '""', "[]"])
def test_a_bad_neutron_quota_driver_is_one_clear_line(tmp_path, value):
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, f'[neutron]\ndatabase = "mysql://n@db/neutron"\nquota_driver = {value}\n'))
    assert "[neutron].quota_driver: expected a non-empty string" in str(e.value) and "\n" not in str(e.value)
