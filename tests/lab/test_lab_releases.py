"""The lab on every built release: what each release's services write (the NB rows of its
neutron, its nova-compute's RPC topics, its cinder's connection_info) switches at the release
where upstream changed it, and the lab's databases write on each release's schema."""

import datetime as dt
import json
import re
import sqlite3

import pytest

from osfsck.clients.placement_api import PlacementApi
from osfsck.config import load_settings
from osfsck.model.releases import at_least
from osfsck_lab import (
    build,
    database,
    neutron_server,
    nova_rows,
    ovn_nb,
    placement_server,
    rpc,
    schemas,
    services,
    volumes,
)
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
        bool(r.row["external_ids"].get("neutron:mtu")) == at_least(release, ovn_nb.LOCALPORT_MTU) for r in meta
    )
    # Neutron's own LSPs (not the provider's localnet port, nor rows an operator made by hand)
    lsps = [
        r
        for r in nb.rows
        if r.table == "Logical_Switch_Port" and "neutron:device_owner" in r.row.get("external_ids", {})
    ]
    for key, first in (
        ("neutron:mtu", ovn_nb.LSP_MTU_KEY),
        ("neutron:vnic_type", ovn_nb.LSP_VNIC_TYPE),
        ("neutron:port_capabilities", ovn_nb.LSP_VNIC_TYPE),
    ):
        assert all((key in r.row["external_ids"]) == at_least(release, first) for r in lsps), key
    bound = [r for r in lsps if r.row["options"].get("requested-chassis")]
    assert bound and all(
        ("neutron:host_id" in r.row["external_ids"]) == at_least(release, ovn_nb.LSP_HOST_ID) for r in bound
    )
    # a live-migrating port: both hosts and the RARP activation, or (Xena) its source host only
    moving = [
        r for r in bound if "," in r.row["options"]["requested-chassis"] or "activation-strategy" in r.row["options"]
    ]
    assert bool(moving) == at_least(release, ovn_nb.LSP_MIGRATION_CHASSIS)
    assert all(("neutron:is_ext_gw" in r.row["external_ids"]) == at_least(release, ovn_nb.LRP_IS_EXT_GW) for r in lrps)
    assert ("neutron:provnet-network-type" in ext) == at_least(release, ovn_nb.LS_NETWORK_TYPE)


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
    infos += [b["connection_info"] for rows in c.bdms.values() for b in rows if b.get("connection_info")]
    assert infos and any("enforce_multipath" in i for i in infos) == at_least(release, volumes.ENFORCE_MULTIPATH)
    # Pure's answer (the lab's "array" volumes), in Cinder's attachment and Nova's copy
    pure = [i for i in infos if volumes.ARRAY_IQN in i]
    assert pure and all(("addressing_mode" in i) == at_least(release, volumes.ARRAY_ADDRESSING_MODE) for i in pure)


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
        # nova-compute reports its release's service version (nova/objects/service.py)
        versions = {r[0] for r in conn.execute("SELECT version FROM services WHERE binary = 'nova-compute'")}
    assert versions == {nova_rows.SERVICE_VERSION[release]}
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
@pytest.mark.parametrize("release", sorted({"2023.1", RELEASES[-1]}))
def test_a_whole_lab_of_an_old_release_on_mariadb(mariadb_server, release):
    """`osfsck lab build --release R` on MariaDB, for the oldest numbered release and the
    oldest the lab builds (Xena): its lab runs all its servers, and osfsck finds exactly the
    faults its truth.json lists.  The placement-api among them is the newest release's (its
    schema is Xena's: Placement's tables have not changed since): the Placement repairs go
    through it, settle, and undo."""
    with built_lab(21, "--release", release, "--db-url", mariadb_server.url) as out:
        config = out / "osfsck.toml"
        assert json.loads((out / "truth.json").read_text())["release"] == release
        p = osfsck("check", "--format", "json", config=config)
        assert p.returncode == 4 and found(p) == truth(out), p.stderr
        if placement_server.available() is None:
            return
        assert load_settings(str(config)).placement.endpoint, "the lab's placement-api is not configured"
        placement = {(c, s) for c, s in truth(out) if c.startswith("PL")}
        api = PlacementApi(load_settings(str(config)).placement)

        def held(consumer):  # provider -> resources (each provider's generation moves on)
            return {rp: a["resources"] for rp, a in api.get_allocations(consumer)["allocations"].items()}

        before = {s: held(s) for c, s in placement if c in ("PL101", "PL103")}
        p = osfsck("repair", "--unsafe", "--yes", "--grace", "0", "--select", "PL", "--format", "json", config=config)
        assert {(r["code"], r["outcome"]) for r in json.loads(p.stdout)["repairs"]} == {
            (c, "applied") for c, _ in placement
        }, p.stdout[-2000:] + p.stderr
        assert not found(osfsck("check", "--select", "PL", "--format", "json", config=config))
        undo = osfsck("undo", "--all", "--yes", config=config)
        assert undo.returncode == 0, undo.stdout + undo.stderr
        # the very allocations back (a check now leaves them alone a while: they are young)
        assert {s: held(s) for s in before} == before and all(before.values())
        assert all(api.get_provider(s) for c, s in placement if c == "PL104")
        api.close()


@pytest.mark.parametrize(
    ("release", "said"),
    [
        ("train", "'train': its schemas are stored, but the lab builds clouds of xena and later only"),
        ("Wallaby", "'Wallaby': its schemas are stored, but the lab builds clouds of xena and later only"),
        ("1999.1", "unknown schema release '1999.1'"),
        ("", "unknown schema release ''"),
    ],
)
def test_a_release_the_lab_does_not_build_is_one_line(tmp_path, release, said):
    """A release whose schemas are stored only for osfsck's version reader is not called
    unknown; neither builds anything."""
    with pytest.raises(build.LabError, match=re.escape(said)):
        build.build(tmp_path / "lab", "small", 1, None, release=release)
    assert not (tmp_path / "lab").exists() or not any((tmp_path / "lab").iterdir())


@pytest.mark.parametrize(
    ("name", "release"), [(None, RELEASES[0]), ("XENA", "xena"), ("Zed", "zed"), ("2023.1", "2023.1")]
)
def test_a_series_is_named_in_any_case(name, release):
    """As osfsck's reports name it ("Xena") or shouted: the same release."""
    assert build.lab_release(name) == release


def test_the_lab_neutron_server_refuses_a_lab_of_an_older_release(tmp_path):
    """Its models are the newest release's (measured on Xena, Zed, 2024.2 and 2025.1 labs:
    HTTP 500 at the first read of networks): one line, and nothing started or written."""
    (tmp_path / "lab.json").write_text(json.dumps({"release": RELEASES[-1], "services": {}}))
    said = f"serves a {RELEASES[0]} Neutron database only: a {RELEASES[-1]} schema lacks the table networkpvlan"
    with pytest.raises(build.LabError, match=re.escape(said)) as e:
        neutron_server.start_neutron(tmp_path, f"sqlite:///{tmp_path / 'neutron.sqlite'}")
    assert "\n" not in str(e.value) and sorted(p.name for p in tmp_path.iterdir()) == ["lab.json"]
    (tmp_path / "lab.json").write_text(json.dumps({"release": RELEASES[0], "services": {}}))
    assert neutron_server.refuses(tmp_path) is None
