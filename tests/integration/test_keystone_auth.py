"""osfsck's OpenStack authentication against the real Keystone (keystone 30.0.0 from its own
virtualenv, on SQLite, keystone-manage db_sync/fernet_setup/bootstrap, served on loopback)
and the real placement-api and neutron-server behind it (auth_strategy = keystone:
keystonemiddleware checks every token with that Keystone), on a lab cloud's databases.

Their endpoints are in Keystone's catalog and osfsck finds them there: with the section's
password keys, a clouds.yaml cloud, OS_CLOUD (delete-port through neutron-server), the
OS_* variables, an application credential.  keystoneauth1 renews a revoked token on the 401 and a token about to expire
before it is sent.  A wrong password, a Keystone that is down, an auth_url that is not
Keystone's, a region the catalog lacks: one line each, within a time limit; through the
CLI a repair that cannot authenticate fails with exit status 8 and one line, and no
password or token reaches the output, even at -vv.  Keystone's tokens live 125 s here:
keystoneauth1 takes a new one when less than 120 s are left, so one 6 s old is renewed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from osfsck.clients.placement_api import PlacementApi, PlacementApiError
from osfsck.config import load_settings
from osfsck_lab import build, keystone_server, neutron_server, placement_server
from osfsck_lab.loopback import free_port
from tests.support.timebox import timebox

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(keystone_server.available() is None, reason=keystone_server.NOT_INSTALLED),
    pytest.mark.skipif(placement_server.available() is None, reason=placement_server.NOT_INSTALLED),
]

TOKEN_LIFE = 125  # seconds: 5 s more than keystoneauth1's minimum before it renews
PW_ENV = "OSFSCK_TEST_KEYSTONE_PW"


@pytest.fixture(scope="module")
def cloud():
    """(lab folder, Keystone, placement-api's URL): a seed-1 lab, Keystone, and a second
    placement-api on the lab's placement database, behind Keystone and in its catalog."""
    # not tmp_path: the lab's folders must be open to its service users, as in test_cli_lab
    base = Path(tempfile.mkdtemp(prefix="osfsck-keystone-"))
    base.chmod(0o755)
    out, ks, entry = base / "lab", None, None
    try:
        build.build(out, seed=1, hv_mode="testfiles")
        ks = keystone_server.start_keystone(base / "keystone", token_expiration=TOKEN_LIFE)
        database = load_settings(str(out / "osfsck.toml")).placement.database.url
        entry, _ = placement_server.start_placement(out, database, keystone=ks, name="placement-keystone")
        url = f"http://127.0.0.1:{entry['port']}"
        ks.add_endpoint("placement", url)
        yield out, ks, url
    finally:
        if entry is not None:
            placement_server.stop_placement(entry, out)
        if ks is not None:
            keystone_server.stop_keystone(ks)
        if (out / "lab.json").exists():
            build.stop(out)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def env(cloud, monkeypatch, tmp_path):
    """The admin's password in PW_ENV, no OS_* of the developer's, our own clouds.yaml."""
    _, ks, _ = cloud
    for name in [n for n in os.environ if n.startswith("OS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv(PW_ENV, ks.admin_password)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def consumer(lab: Path) -> str:
    return next(t["subject"] for t in json.loads((lab / "truth.json").read_text())["faults"] if t["code"] == "PL101")


def config(lab: Path, name: str, lines: list[str]) -> Path:
    """The lab's osfsck.toml with `lines` as [placement]'s API keys (next to it: its
    relative paths resolve the same)."""
    out, section = [], None
    for line in (lab / "osfsck.toml").read_text().splitlines():
        if line.startswith("["):
            section = line.strip()
        if section == "[placement]" and re.match(r"(endpoint|auth) *=", line):
            continue
        out.append(line)
        if line.strip() == "[placement]":
            out += lines
    path = lab / name
    path.write_text("\n".join(out) + "\n")
    return path


def password_keys(ks, **kw) -> list[str]:
    keys = {"auth_url": ks.url, "username": "admin", "password_env": PW_ENV, "project_name": "admin", **kw}
    return [f'{k} = "{v}"' for k, v in keys.items() if v is not None]


def api(path: Path) -> PlacementApi:
    return PlacementApi(load_settings(str(path)).placement)


def test_password_auth_finds_placement_in_the_catalog(cloud, env):
    lab, ks, url = cloud
    a = api(config(lab, "ks-password.toml", password_keys(ks)))
    with timebox(60):
        got = a.get_allocations(consumer(lab))
    assert got["allocations"] and a._connection.endpoint == url  # the catalog's, not the lab's noauth2 one
    a.close()


def test_a_clouds_yaml_cloud_and_os_cloud(cloud, env, monkeypatch):
    lab, ks, url = cloud
    (env / "clouds.yaml").write_text(
        "clouds:\n  lab:\n    auth:\n"
        f"      auth_url: {ks.url}\n      username: admin\n      password: {ks.admin_password}\n"
        "      project_name: admin\n      user_domain_name: Default\n      project_domain_name: Default\n"
        "    region_name: RegionOne\n"
    )
    named = api(config(lab, "ks-cloud.toml", ['cloud = "lab"']))
    assert named.get_allocations(consumer(lab))["allocations"] and named._connection.endpoint == url
    monkeypatch.setenv("OS_CLOUD", "lab")
    implied = load_settings(str(config(lab, "ks-os-cloud.toml", []))).placement
    assert implied.cloud == "lab"
    assert PlacementApi(implied).get_allocations(consumer(lab))["allocations"]


def test_the_os_variables(cloud, env, monkeypatch):
    lab, ks, _ = cloud
    for k, v in {
        "OS_AUTH_URL": ks.url.removesuffix("/v3"),  # keystoneauth1 finds the v3 API itself
        "OS_USERNAME": "admin",
        "OS_PASSWORD": ks.admin_password,
        "OS_PROJECT_NAME": "admin",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_INTERFACE": "public",
    }.items():
        monkeypatch.setenv(k, v)
    s = load_settings(str(config(lab, "ks-envvars.toml", []))).placement
    assert s.cloud == "envvars" and s.keystone_auth()[1]["auth_url"] == ks.url.removesuffix("/v3")
    assert PlacementApi(s).get_allocations(consumer(lab))["allocations"]


def test_an_application_credential(cloud, env, monkeypatch):
    lab, ks, _ = cloud
    ident, secret = ks.application_credential("osfsck-test")
    monkeypatch.setenv("OSFSCK_TEST_AC_SECRET", secret)
    a = api(
        config(
            lab,
            "ks-appcred.toml",
            [
                f'auth_url = "{ks.url.removesuffix("/v3")}"',
                f'application_credential_id = "{ident}"',
                'application_credential_secret_env = "OSFSCK_TEST_AC_SECRET"',
            ],
        )
    )
    assert a.get_allocations(consumer(lab))["allocations"]
    a.close()


def test_a_system_scoped_token_is_one_placement_refuses(cloud, env):
    """Keystone gives the admin a system-scoped token (bootstrap grants admin on the
    system); Placement's policies want a project's admin (scope_types project since the
    2023 secure-RBAC defaults), and its 403 is one line."""
    lab, ks, _ = cloud
    a = api(config(lab, "ks-system.toml", password_keys(ks, project_name=None) + ['system_scope = "all"']))
    with pytest.raises(PlacementApiError) as e:
        a.get_allocations(consumer(lab))
    assert "HTTP 403" in str(e.value) and "\n" not in str(e.value) and e.value.answered is True
    token = a._connection.session.get_token(a._connection.auth)
    seen = ks.call("GET", "/auth/tokens", headers={"X-Subject-Token": token})["token"]
    assert seen["system"] == {"all": True} and "project" not in seen


def test_a_revoked_token_is_renewed_on_the_401(cloud, env):
    lab, ks, _ = cloud
    a = api(config(lab, "ks-password.toml", password_keys(ks)))
    a.get_allocations(consumer(lab))
    first = a._connection.session.get_token(a._connection.auth)
    ks.revoke(first)
    assert a.get_allocations(consumer(lab))["allocations"]  # placement said 401, keystoneauth1 asked again
    assert a._connection.session.get_token(a._connection.auth) != first


def test_a_token_about_to_expire_is_renewed_before_it_is_sent(cloud, env):
    lab, ks, _ = cloud
    a = api(config(lab, "ks-password.toml", password_keys(ks)))
    a.get_allocations(consumer(lab))
    first = a._connection.session.get_token(a._connection.auth)
    time.sleep(TOKEN_LIFE - 120 + 1)  # now under keystoneauth1's 120 s minimum
    assert a.get_allocations(consumer(lab))["allocations"]
    assert a._connection.session.get_token(a._connection.auth) != first


@pytest.mark.parametrize(
    "keys, line",
    [
        (
            lambda ks, url: password_keys(ks, password_env="OSFSCK_TEST_WRONG"),
            r"^Keystone refused admin at http://127\.0\.0\.1:\d+/v3: HTTP 401 The request you have made requires "
            r"authentication\.$",
        ),
        (
            lambda ks, url: password_keys(ks, auth_url=f"http://127.0.0.1:{free_port()}/v3"),
            r"^cannot authenticate admin to Keystone at http://127\.0\.0\.1:\d+/v3: \[Errno 111\] Connection refused$",
        ),
        (  # Placement's URL where Keystone's belongs: its version document is not Keystone's
            lambda ks, url: password_keys(ks, auth_url=url),
            r"^cannot authenticate admin to Keystone at http://127\.0\.0\.1:\d+: Could not find versioned identity "
            r"endpoints when attempting to authenticate\. Please check that your auth_url is correct\.$",
        ),
        (  # ... and with /v3: Placement wants a token, and keystoneauth1 waited for ever before
            lambda ks, url: password_keys(ks, auth_url=url + "/v3"),
            r"wants a token before it tells its Keystone version \(HTTP 401\): is auth_url Keystone's\?$",
        ),
        (
            lambda ks, url: password_keys(ks, region_name="RegionNine"),
            r"^Keystone's catalog has no public placement endpoint in region RegionNine; set \[placement\] endpoint$",
        ),
        (
            lambda ks, url: password_keys(ks, interface="internal"),
            r"^Keystone's catalog has no internal placement endpoint; set \[placement\] endpoint$",
        ),
    ],
    ids=["wrong password", "keystone down", "not keystone", "not keystone v3", "no such region", "no such interface"],
)
def test_each_failure_is_one_line(cloud, env, monkeypatch, keys, line):
    lab, ks, url = cloud
    monkeypatch.setenv("OSFSCK_TEST_WRONG", "not-the-password")
    a = api(config(lab, "ks-failing.toml", keys(ks, url)))
    with timebox(60), pytest.raises(PlacementApiError) as e:
        a.get_allocations(consumer(lab))
    assert re.search(line, str(e.value)), str(e.value)
    assert e.value.answered is None  # nothing reached Placement
    assert ks.admin_password not in str(e.value) and "not-the-password" not in str(e.value)


def osfsck(path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "osfsck.cli.main", "-c", str(path), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
    )


def test_the_cli_repairs_through_keystone_and_a_bad_password_is_exit_8(cloud, env):
    """A run that cannot authenticate: its Placement repairs fail, one line each, status 8
    set, no traceback, no secret in stdout or stderr (at -vv too); then with the right
    password the same repairs go through Keystone and settle."""
    lab, ks, _ = cloud
    path = config(lab, "ks-cli.toml", password_keys(ks))
    args = ("repair", "--unsafe", "--yes", "--grace", "0", "--select", "PL101", "--format", "json")
    bad = osfsck(path, "-vv", *args, **{PW_ENV: "not-the-password"})
    failed = [r for r in json.loads(bad.stdout)["repairs"] if r["code"] == "PL101"]
    assert bad.returncode & 8 and failed and all(r["outcome"] == "failed" for r in failed), bad.stdout[-2000:]
    for r in failed:
        assert re.search(r"Keystone refused admin at http://127\.0\.0\.1:\d+/v3: HTTP 401", r["reason"]), r
    assert "Traceback" not in bad.stderr
    for secret in ("not-the-password", ks.admin_password):
        assert secret not in bad.stdout and secret not in bad.stderr
    good = osfsck(path, "-vv", *args)
    applied = [r for r in json.loads(good.stdout)["repairs"] if r["code"] == "PL101"]
    assert good.returncode == 1 and applied and all(r["outcome"] == "applied" for r in applied), good.stdout[-2000:]
    assert ks.admin_password not in good.stdout + good.stderr
    assert not re.search(r"gAAAAA[\w-]{20,}", good.stdout + good.stderr)  # no fernet token either
    again = osfsck(path, "check", "--select", "PL101", "--format", "json")
    assert again.returncode == 0, again.stdout[-2000:]


@pytest.fixture(scope="module")
def neutron(cloud):
    """neutron-server behind the same Keystone (auth_strategy = keystone), on the lab's
    Neutron database, as the catalog's "network" endpoint."""
    lab, ks, _ = cloud
    if neutron_server.available() is None:
        pytest.skip(neutron_server.NOT_INSTALLED)
    entry, _ = neutron_server.start_neutron(
        lab, load_settings(str(lab / "osfsck.toml")).neutron.database.url, keystone=ks
    )
    ks.add_endpoint("network", f"http://127.0.0.1:{entry['port']}")
    yield entry
    neutron_server.stop_neutron(entry, lab)


def test_delete_port_goes_through_keystone_to_neutron(cloud, neutron, env, monkeypatch):
    """OS_CLOUD alone ([neutron] names no credentials): the orphan ports are deleted
    through the catalog's neutron-server, and the second run is clean."""
    lab, ks, _ = cloud
    (env / "clouds.yaml").write_text(
        "clouds:\n  lab:\n    auth:\n"
        f"      auth_url: {ks.url}\n      username: admin\n      project_name: admin\n"
        "      user_domain_name: Default\n      project_domain_name: Default\n"
    )
    (env / "secure.yaml").write_text(f"clouds:\n  lab:\n    auth:\n      password: {ks.admin_password}\n")
    path = config(lab, "ks-neutron.toml", password_keys(ks))  # [neutron] as the lab wrote it: database only
    extra = {"OS_CLOUD": "lab", "OS_CLIENT_SECURE_FILE": str(env / "secure.yaml")}
    orphans = {t["subject"] for t in json.loads((lab / "truth.json").read_text())["faults"] if t["code"] == "NT101"}
    p = osfsck(path, "repair", "--unsafe", "--yes", "--grace", "0", "--select", "NT101", "--format", "json", **extra)
    deleted = {
        r["target"]["id"]
        for r in json.loads(p.stdout)["repairs"]
        if r["repair"] == "delete-port" and r["outcome"] == "applied"
    }
    assert orphans and deleted == orphans, p.stdout[-3000:] + p.stderr
    again = osfsck(path, "check", "--select", "NT101", "--format", "json", **extra)
    assert again.returncode == 0, again.stdout[-2000:]
