"""The lab on every built release: what each release's services write (the NB rows of its
neutron, its nova-compute's RPC topics, its cinder's connection_info) switches at the release
where upstream changed it, and the lab's databases write on each release's schema."""

import datetime as dt
import json
import re
import sqlite3

import pytest

from osfsck.model.releases import at_least
from osfsck_lab import build, database, ovn_nb, rpc, schemas, services, volumes
from tests.support.cli import built_lab, found, osfsck, truth

NOW = dt.datetime(2026, 6, 1, 12, 0, 0)
RELEASES = schemas.releases()


def _nb(release):
    c = build.spec("small", 3, NOW, release)
    return c, services.ovn_northbound(c, release)


@pytest.mark.parametrize("release", RELEASES)
def test_nb_rows_as_the_release_writes_them(release):
    """Each shape from the neutron release that introduced it (ovn_nb's thresholds) on."""
    c, nb = _nb(release)
    provnet = nb.by_name[("Logical_Switch_Port", f"provnet-{c.net.external['_segment']['id']}")]
    assert ("localnet_learn_fdb" in provnet.row["options"]) == at_least(release, ovn_nb.LOCALNET_LEARN_FDB)
    assert bool(provnet.row["external_ids"]) == at_least(release, ovn_nb.LOCALNET_PHYSNET)
    lrps = [r for r in nb.rows if r.table == "Logical_Router_Port"]
    assert lrps and all(
        r.row["external_ids"]["neutron:router_name"].startswith("neutron-")
        == at_least(release, ovn_nb.LRP_ROUTER_OVN_NAME)
        for r in lrps
    )
    nats = [r for r in nb.rows if r.table == "NAT"]
    assert nats and all(("options" in r.row) == at_least(release, ovn_nb.NAT_STATELESS_OPTION) for r in nats)
    ext = nb.by_name[("Logical_Switch", f"neutron-{c.net.external['id']}")].row["external_ids"]
    assert ("neutron:provnet-physical-network" in ext) == at_least(release, ovn_nb.LS_PHYSNET)
    dhcp = [r for r in nb.rows if r.table == "DHCP_Options"]
    assert dhcp and all(
        ("neutron:network_id" in r.row["external_ids"]) == at_least(release, ovn_nb.DHCP_NETWORK_ID) for r in dhcp
    )
    meta = [r for r in nb.rows if r.table == "Logical_Switch_Port" and r.row.get("type") == "localport"]
    assert meta and all(
        bool(r.row["external_ids"]["neutron:mtu"]) == at_least(release, ovn_nb.LOCALPORT_MTU) for r in meta
    )


def test_a_2024_1_lab_keeps_its_shape():
    """2024.1 stays what neutron 24.2.2 writes whatever releases are built around it (the
    old switches compared with the oldest built release, so adding 2023.1 flipped it)."""
    c, nb = _nb("2024.1")
    lrp = next(r for r in nb.rows if r.table == "Logical_Router_Port")
    assert not lrp.row["external_ids"]["neutron:router_name"].startswith("neutron-")
    provnet = nb.by_name[("Logical_Switch_Port", f"provnet-{c.net.external['_segment']['id']}")]
    assert provnet.row["options"]["localnet_learn_fdb"] == "false" and provnet.row["external_ids"] == {}
    assert not any("options" in r.row for r in nb.rows if r.table == "NAT")
    assert rpc._compute_topics(c) == ("compute",)


@pytest.mark.parametrize("release", RELEASES)
def test_rpc_topics_and_connection_info_by_release(release):
    c = build.spec("small", 3, NOW, release)
    assert ("compute-alt" in rpc._compute_topics(c)) == at_least(release, rpc.COMPUTE_ALT_TOPIC)
    volumes.for_release(c, release)
    infos = [a["connection_info"] for a in c.attachments if a.get("connection_info")]
    assert infos and any("enforce_multipath" in i for i in infos) == at_least(release, volumes.ENFORCE_MULTIPATH)


@pytest.mark.parametrize("release", RELEASES)
def test_lab_databases_write_on_each_release(release, tmp_path):
    """`lab build --release R`'s database part on R's SQLite schemas: every row written,
    every database at R's alembic heads."""
    c = build.spec("small", 3, NOW, release)
    volumes.for_release(c, release)
    services.ovn_northbound(c)  # fills neutron's ovn_revision_numbers rows
    urls = build._write_databases(c, tmp_path, None, "t", release)
    heads = schemas.versions()[release]["alembic_heads"]
    for name, url in urls.items():
        db = "nova" if name.startswith("nova_cell") else name
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            assert sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version")) == heads[db]
    with sqlite3.connect(urls["nova_cell1"].removeprefix("sqlite:///")) as conn:
        assert conn.execute("SELECT count(*) FROM instances").fetchone()[0] == sum(1 for _ in c.instance_rows("cell1"))
        columns = {r[1] for r in conn.execute("PRAGMA table_info(instances)")}
    # where the release's table lacks a column the lab writes, the lab leaves it out
    assert ("compute_id" in columns) == at_least(release, database.ADDED_IN[("instances", "compute_id")])
    with sqlite3.connect(urls["neutron"].removeprefix("sqlite:///")) as conn:
        assert conn.execute("SELECT count(*) FROM ports").fetchone()[0] == len(c.net.ports)


def test_a_column_nobody_named_is_an_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'api.sqlite'}"
    database.create(url, "nova_api", RELEASES[-1])
    with pytest.raises(database.LabDatabaseError, match="no column colour"):
        database.insert_rows(url, "cell_mappings", [{"uuid": "u", "name": "x", "colour": "blue"}])


@pytest.mark.integration
def test_lab_databases_write_on_postgresql(postgres_server):
    """The database part on PostgreSQL, the newest release whose neutron still runs there:
    the lab's 0/1 reach boolean columns as booleans, its False integer ones as 0."""
    release = "2024.2"
    c = build.spec("small", 3, NOW, release)
    volumes.for_release(c, release)
    services.ovn_northbound(c)
    server = f"postgresql+psycopg://postgres@127.0.0.1:{postgres_server.port}/"
    urls = build._write_databases(c, None, server, "t", release)
    engine = database.engine(urls["cinder"])
    with engine.connect() as conn:
        deleted = [r[0] for r in conn.exec_driver_sql("SELECT deleted FROM volumes")]
    engine.dispose()
    assert sorted(deleted) == sorted(bool(v["deleted"]) for v in c.volumes) and {type(v) for v in deleted} == {bool}
    engine = database.engine(urls["nova_cell1"])
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM instances WHERE deleted = 0").scalar()
    engine.dispose()
    assert count == sum(1 for i in c.instances["cell1"] if not i["deleted"])


@pytest.mark.integration
@pytest.mark.slow
def test_a_whole_lab_of_the_oldest_release_on_mariadb(mariadb_server):
    """`osfsck lab build --release 2023.1` on MariaDB: the oldest built release's lab runs
    all its servers, and osfsck finds exactly the faults its truth.json lists."""
    oldest = RELEASES[-1]
    with built_lab(21, "--release", oldest, "--db-url", mariadb_server.url) as out:
        assert json.loads((out / "truth.json").read_text())["release"] == oldest
        p = osfsck("check", "--format", "json", config=out / "osfsck.toml")
        assert p.returncode == 4 and found(p) == truth(out), p.stderr


@pytest.mark.parametrize(
    ("release", "said"),
    [
        ("train", "'train': its schemas are stored, but the lab builds clouds of 2023.1 and later only"),
        ("1999.1", "unknown schema release '1999.1'"),
    ],
)
def test_a_release_the_lab_does_not_build_is_one_line(tmp_path, release, said):
    """A release whose schemas are stored only for osfsck's version reader is not called
    unknown; neither builds anything."""
    with pytest.raises(build.LabError, match=re.escape(said)):
        build.build(tmp_path / "lab", "small", 1, None, release=release)
    assert not (tmp_path / "lab").exists() or not any((tmp_path / "lab").iterdir())
