"""Whether Neutron reads its quotausages rows (rules/neutron_quota.py): the configured
driver decides, else the default of the schema's release, else nobody knows."""

import pytest

from osfsck.model.schema_versions import Placed, Position, SchemaRead, alembic_heads, place, release_index
from osfsck.rules.neutron_quota import LEGACY_DRIVER, neutron_reads_usages


def schema(release):
    return place(SchemaRead("neutron", "neutron", "alembic_version", alembic_heads("neutron", release)))


@pytest.mark.parametrize(
    "driver, reads",
    [
        (LEGACY_DRIVER, True),
        ("neutron.db.quota.driver_nolock.DbQuotaNoLockDriver", False),
        ("neutron.db.quota.driver_null.DbQuotaDriverNull", False),
        ("neutron.db.quota_db.DbQuotaDriver", True),  # the module's name before Newton
    ],
)
def test_a_configured_driver_decides_whatever_the_release(driver, reads):
    for release in ("wallaby", "2026.2"):
        decided = neutron_reads_usages(driver, schema(release))
        assert decided.reads is reads and driver in decided.why


@pytest.mark.parametrize("release, reads", [("wallaby", True), ("xena", False), ("2023.1", False), ("2026.2", False)])
def test_without_a_driver_the_releases_default(release, reads):
    assert neutron_reads_usages(None, schema(release)).reads is reads


def test_an_upgrade_across_xena_leaves_it_unknown():
    xena = release_index("xena")
    mid = Placed(SchemaRead("neutron", "neutron", "alembic_version", ("x",)), Position(xena - 1, xena, False))
    decided = neutron_reads_usages(None, mid)
    assert decided.reads is None and "changed in Xena" in decided.why


def test_nothing_known_is_unknown():
    unknown = Placed(SchemaRead("neutron", "neutron", "", ()), None, "no version table")
    assert neutron_reads_usages(None, unknown).reads is None
    assert neutron_reads_usages(None, None).reads is None
