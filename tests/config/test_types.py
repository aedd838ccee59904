"""Every key of osfsck.toml is checked with its type when the file is loaded, before any
source or repair runs (issue 15, defect 6): `implausible_share = "lots"` once let a repair
delete a RabbitMQ queue and then crash with a TypeError in the blast-radius guard."""

import pytest

from osfsck.checks import registry
from osfsck.config.load import load_settings
from osfsck.config.settings import ConfigError, RepairSettings
from osfsck.engine import wiring


def load(tmp_path, text):
    p = tmp_path / "osfsck.toml"
    p.write_text(text)
    return load_settings(str(p))


def test_a_share_that_is_not_a_number_fails_the_load_not_the_repair(tmp_path):
    with pytest.raises(ConfigError) as e:
        load(tmp_path, '[repair]\nimplausible_share = "lots"\n')
    assert "[repair].implausible_share: expected a number in (0, 1]" in str(e.value)
    assert "'lots'" in str(e.value) and str(e.value).startswith(str(tmp_path / "osfsck.toml"))


@pytest.mark.parametrize("value, share", [("1", 1.0), ("0.25", 0.25), ("1e-3", 0.001)])
def test_a_share_in_range_is_taken(tmp_path, value, share):
    assert load(tmp_path, f"[repair]\nimplausible_share = {value}\n").repair.implausible_share == share


@pytest.mark.parametrize(
    "text, key",
    [
        ("[repair]\nmax_per_check = true\n", "[repair].max_per_check"),  # bool is an int in Python
        ("[hypervisors]\nconcurrency = true\n", "[hypervisors].concurrency"),
        ("[hypervisors]\nssh_port = false\n", "[hypervisors].ssh_port"),
        ('[nova.cells.cell1]\nskip = "no"\n', "[nova.cells.cell1].skip"),  # "no" is truthy
        ("[nova.cells.cell1]\nskip = 0\n", "[nova.cells.cell1].skip"),
        ("[hypervisors.hosts.h]\nuri = 42\n", "[hypervisors.hosts.h].uri"),
        ('[hypervisors.hosts.h]\nskip = "false"\n', "[hypervisors.hosts.h].skip"),
        ("[repair]\ngrace = -1\n", "[repair].grace"),
        ("[repair]\nquarantine_retention = -86400\n", "[repair].quarantine_retention"),
        ('[repair]\njournal = ["a", "b"]\n', "[repair].journal"),
        ('[hypervisors]\nuri_template = "qemu+ssh://{hostname}/system"\n', "[hypervisors].uri_template"),
        ('[hypervisors]\ninstances_path = "var/lib/nova"\n', "[hypervisors].instances_path"),
        ('[hypervisors]\nssh_key = ""\n', "[hypervisors].ssh_key"),
        ('[hypervisors]\npython = "python3\\n"\n', "[hypervisors].python"),  # control characters
        ('[nova]\napi_database = "mysql://nova@db/nova\\u0000"\n', "[nova].api_database"),
    ],
)
def test_a_value_of_the_wrong_type_names_its_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as e:
        load(tmp_path, text)
    assert key in str(e.value) and "\n" not in str(e.value)


def test_defaults_and_a_full_repair_section_load(tmp_path):
    s = load(
        tmp_path,
        '[repair]\njournal = "j.jsonl"\nstate_file = "s.json"\nmax_per_check = 3\n'
        'implausible_share = 0.2\nimplausible_min_examined = 0\ngrace = "2h"\nconfirm_runs = 2\n'
        'quarantine_retention = "1w"\n',
    )
    assert s.repair == RepairSettings(
        journal=str(tmp_path / "j.jsonl"),
        max_per_check=3,
        implausible_share=0.2,
        implausible_min_examined=0,
        grace=7200.0,
        confirm_runs=2,
        state_file=str(tmp_path / "s.json"),
        quarantine_retention=604800.0,
    )
    assert load(tmp_path, "").repair == RepairSettings()


def test_a_uri_template_formats_with_host_only(tmp_path):
    s = load(tmp_path, '[hypervisors]\nuri_template = "qemu+tls://{host}.mgmt/system?no_verify={{1}}"\n')
    assert s.hypervisors.uri_template.format(host="hv1") == "qemu+tls://hv1.mgmt/system?no_verify={1}"


# -- [checks]: against the catalogue, when the checks are built (config cannot see them) ------
def checks_of(tmp_path, text, select=None):
    return wiring.build_checks(load(tmp_path, text), select)


def test_check_settings_reach_the_check_by_code_or_name_in_any_case(tmp_path):
    (c,) = checks_of(
        tmp_path, '[checks.hv110]\nmin_age = "2h"\n[checks.orphan-instance-dir]\ngrace = "1h"\n', ["HV110"]
    )
    assert c.params["min_age"] == 7200.0 and c.params["grace"] == 3600.0


def test_a_name_table_wins_over_the_code_table_whatever_the_order(tmp_path):
    (c,) = checks_of(tmp_path, '[checks.zombie-domain]\ngrace = "2h"\n[checks.HV101]\ngrace = "1h"\n', ["HV101"])
    assert c.params["grace"] == 7200.0


def test_thresholds_take_durations_and_keep_the_other_tasks(tmp_path):
    (c,) = checks_of(tmp_path, '[checks.stuck-instance-task]\nthresholds = { rebooting = "45m" }\n', ["NV301"])
    assert c.params["thresholds"]["rebooting"] == 2700.0
    assert c.params["thresholds"]["migrating"] == 21600.0


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '[checks.zombie-domian]\ngrace = "1h"\n',
            "[checks.zombie-domian]: no check has this code or name (did you mean 'zombie-domain'?)",
        ),
        (
            '[checks.zombie-domain]\nrepair = "delete-everything"\n',
            "[checks.zombie-domain].repair: expected one of undefine-domain, shutdown-domain, not 'delete-everything'",
        ),
        ('[checks.orphan-instance-dir]\nmin_aeg = "1h"\n', "unknown setting 'min_aeg' (did you mean 'min_age'?)"),
        (
            "[checks.quota-usage-drift]\nno_snapshot_gb_quota = 1\n",
            "[checks.quota-usage-drift].no_snapshot_gb_quota: expected true or false, not 1",
        ),
        ("[checks.stuck-instance-task]\nthresholds = 5\n", "[checks.stuck-instance-task].thresholds: expected a table"),
        (
            "[checks.stuck-instance-task]\nthresholds = { rebooting = true }\n",
            "[checks.stuck-instance-task].thresholds.rebooting",
        ),
        ("[checks.stuck-instance-task]\nthresholds = { rebootin = 60 }\n", "unknown key 'rebootin'"),
        ('[checks.expired-reservation]\ncinder_clean_interval = "daily"\n', "cinder_clean_interval"),
    ],
)
def test_a_bad_check_table_fails_even_when_its_check_is_not_selected(tmp_path, text, message):
    with pytest.raises(ConfigError) as e:
        checks_of(tmp_path, text, ["NV201"])
    assert message in str(e.value) and str(e.value).startswith(str(tmp_path / "osfsck.toml"))


@pytest.mark.parametrize("cls", registry.all_checks(), ids=lambda c: c.code)
def test_every_check_takes_its_own_defaults_and_repairs(cls):
    for repair in cls.repairs:
        cls({**cls.defaults, "repair": repair, "grace": 0})
    with pytest.raises(ValueError):
        cls({"repair": "no-such-repair"})
    for key, default in cls.defaults.items():
        with pytest.raises(ValueError):
            cls({key: "not a " + type(default).__name__})
