"""A service missing from the config skips its checks (and says so) instead of failing the
run, unless the operator selected those checks by name."""

import datetime as dt

import pytest

from osfsck.config.settings import ConfigError, Database, NovaSettings, Settings
from osfsck.engine import wiring
from osfsck.model.result import RunResult
from osfsck.report.render import render, result_dict

NOVA_ONLY = Settings(nova=NovaSettings(api_database=Database("sqlite:///nova_api.sqlite")))


def test_checks_needing_cinder_are_skipped_with_the_reason():
    kept, skipped = wiring.runnable_checks(NOVA_ONLY, wiring.build_checks(NOVA_ONLY), explicit=False)
    assert {c.code for c in kept} >= {"HV101", "NV101", "NV201"}
    assert not any(c.code.startswith("VL") for c in kept)
    volume = {(code, why) for code, _, why in skipped if code.startswith("VL")}
    assert {code for code, _ in volume} == {"VL101", "VL102", "VL103", "VL104", "VL201", "VL202", "VL203", "VL204", "VL205"}
    assert all("[cinder] database" in why for _, why in volume)
    # and every other service's checks (Neutron, DNS, OVN, NSX, quotas, Placement, RabbitMQ)
    # are skipped for their own reason
    assert {code[:2] for code, _, _ in skipped} - {"VL"} <= {"NT", "DN", "OV", "NX", "QU", "PL", "MQ"}
    result = RunResult(mode="check", taken_at=dt.datetime(2026, 1, 1), skipped=skipped)
    assert "NOT RUN ([cinder] database (or cinder_conf) is not configured): QU101, QU102, QU103, VL101" \
        in render(result, "table")
    assert "VL101" in {s["code"] for s in result_dict(result)["skipped"]}
    assert result.exit_code() == 0      # not run by configuration is not a partial source


def test_a_check_selected_by_name_that_cannot_run_is_a_config_error():
    checks = wiring.build_checks(NOVA_ONLY, select=["stale-volume-attachment"])
    with pytest.raises(ConfigError, match="VL101 stale-volume-attachment cannot run: .*cinder"):
        wiring.runnable_checks(NOVA_ONLY, checks, explicit=True)


def test_nothing_configured_leaves_nothing_to_run():
    kept, skipped = wiring.runnable_checks(Settings(), wiring.build_checks(Settings()), explicit=False)
    assert kept == [] and skipped
