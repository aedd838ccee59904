"""PostgreSQL URLs as operators and the services write them, without a server: the driver
osfsck takes, and its own settings checked before anything connects."""

from __future__ import annotations

import pytest

from osfsck.clients.db import DatabaseError, make_engine


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://nova:s3cret@db.example/nova",
        # as Nova, Cinder and Neutron write it (oslo.db), and Nova keeps it in cell_mappings
        "postgresql+psycopg2://nova:s3cret@db.example/nova",
        "postgresql+psycopg://nova:s3cret@db.example/nova",
    ],
)
def test_every_postgresql_url_takes_psycopg_3(url):
    engine = make_engine(url)
    assert engine.dialect.driver == "psycopg" and engine.url.database == "nova"


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan", "inf"])
def test_a_read_timeout_that_is_no_duration_is_one_line(value):
    with pytest.raises(DatabaseError) as e:
        make_engine(f"postgresql://nova:s3cret@db.example/nova?read_timeout={value}")
    assert str(e.value) == (
        f"postgresql://nova:***@db.example/nova?read_timeout={value}: read_timeout must be a number of seconds above 0"
    )


def test_read_timeout_is_osfscks_not_libpqs():
    """libpq would refuse an option it does not know: osfsck takes it out of the URL."""
    engine = make_engine("postgresql://nova@db.example/nova?read_timeout=5&sslmode=require")
    assert dict(engine.url.query) == {"sslmode": "require"}
