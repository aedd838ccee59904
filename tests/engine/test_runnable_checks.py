"""A service missing from the config skips its checks (and says so) instead of failing the
run, unless the operator selected those checks by name."""

import datetime as dt

import pytest

from osfsck.config.settings import CinderSettings, ConfigError, Database, NeutronSettings, NovaSettings, Settings
from osfsck.engine import wiring
from osfsck.model.result import RunResult
from osfsck.report.render import render, result_dict

NOVA_ONLY = Settings(nova=NovaSettings(api_database=Database("sqlite:///nova_api.sqlite")))


def test_checks_needing_cinder_are_skipped_with_the_reason():
    kept, skipped = wiring.runnable_checks(NOVA_ONLY, wiring.build_checks(NOVA_ONLY), explicit=False)
    assert {c.code for c in kept} >= {"HV101", "NV101", "NV201"}
    assert not any(c.code.startswith("VL") for c in kept)
    volume = {(code, why) for code, _, why in skipped if code.startswith("VL")}
    assert {code for code, _ in volume} == {
        "VL101",
        "VL102",
        "VL103",
        "VL104",
        "VL201",
        "VL202",
        "VL203",
        "VL204",
        "VL205",
    }
    assert all("[cinder] database" in why for _, why in volume)
    # and every other service's checks (Neutron, DNS, OVN, NSX, quotas, Placement, RabbitMQ)
    # are skipped for their own reason
    assert {code[:2] for code, _, _ in skipped} - {"VL"} <= {"NT", "DN", "OV", "NX", "QU", "PL", "MQ"}
    result = RunResult(mode="check", taken_at=dt.datetime(2026, 1, 1), skipped=skipped)
    table = render(result, "text")
    assert "NOT RUN ([cinder] database (or cinder_conf) is not configured): QU103, VL101" in table
    # the quota checks with a part per service are skipped only for want of both
    assert (
        "NOT RUN ([cinder] database (or cinder_conf) is not configured and [neutron] database "
        "(or neutron_conf) is not configured): QU101, QU102"
    ) in table
    assert "VL101" in {s["code"] for s in result_dict(result)["skipped"]}
    assert result.exit_code() == 0  # not run by configuration is not a partial source


def test_a_check_selected_by_name_that_cannot_run_is_a_config_error():
    checks = wiring.build_checks(NOVA_ONLY, select=["stale-volume-attachment"])
    with pytest.raises(ConfigError, match="VL101 stale-volume-attachment cannot run: .*cinder"):
        wiring.runnable_checks(NOVA_ONLY, checks, explicit=True)


def test_nothing_configured_leaves_nothing_to_run():
    kept, skipped = wiring.runnable_checks(Settings(), wiring.build_checks(Settings()), explicit=False)
    assert kept == [] and skipped


# -- issue 16 #2: a check with a part per service runs each part its service allows -----

CINDER_ONLY = Settings(nova=NOVA_ONLY.nova, cinder=CinderSettings(database=Database("sqlite:///cinder.sqlite")))
NEUTRON_ONLY = Settings(nova=NOVA_ONLY.nova, neutron=NeutronSettings(database=Database("sqlite:///neutron.sqlite")))
QUOTA_PARTS = ("QU101", "QU102")


def _quota(settings, explicit=False, select=("QU",)):
    kept, skipped = wiring.runnable_checks(settings, wiring.build_checks(settings, select=list(select)), explicit)
    return {c.code: c for c in kept}, {code: why for code, _, why in skipped}


def _kinds(check):
    return {
        k.kind.split(".", 1)[1].split("_", 1)[0] for k in wiring.needed_kinds([check]) if k.kind.startswith("quota.")
    }


def test_a_cinder_only_cloud_runs_the_cinder_part_of_the_quota_checks():
    kept, skipped = _quota(CINDER_ONLY)
    assert set(kept) == {"QU101", "QU102", "QU103"} and skipped == {}
    # only Cinder's rows are collected: nothing asks for a Neutron source
    assert all(_kinds(kept[code]) == {"cinder"} for code in QUOTA_PARTS)
    wiring.build_sources(CINDER_ONLY, wiring.needed_kinds(list(kept.values())))


def test_a_neutron_only_cloud_runs_the_neutron_part_and_skips_the_cinder_only_check():
    kept, skipped = _quota(NEUTRON_ONLY)
    assert set(kept) == {"QU101", "QU102"}
    assert all(_kinds(kept[code]) == {"neutron"} for code in QUOTA_PARTS)
    assert "[cinder]" in skipped["QU103"]
    wiring.build_sources(NEUTRON_ONLY, wiring.needed_kinds(list(kept.values())))


def test_selected_by_name_a_quota_check_runs_with_either_service():
    for settings in (CINDER_ONLY, NEUTRON_ONLY):
        kept, _ = _quota(settings, explicit=True, select=("QU101",))
        assert set(kept) == {"QU101"}


def test_with_neither_service_a_quota_check_is_skipped_or_an_error_naming_both():
    _, skipped = _quota(NOVA_ONLY)
    for code in QUOTA_PARTS:
        assert "[cinder]" in skipped[code] and "[neutron]" in skipped[code]
    with pytest.raises(ConfigError, match=r"QU101 quota-usage-drift cannot run: .*\[cinder\].*\[neutron\]"):
        _quota(NOVA_ONLY, explicit=True, select=("QU101",))


def test_both_services_collect_both_parts():
    both = Settings(nova=NOVA_ONLY.nova, cinder=CINDER_ONLY.cinder, neutron=NEUTRON_ONLY.neutron)
    kept, _ = _quota(both)
    assert all(_kinds(kept[code]) == {"cinder", "neutron"} for code in QUOTA_PARTS)
