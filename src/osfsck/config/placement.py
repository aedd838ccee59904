"""`[placement]`: the Placement database (read by the checks) and its API (used by repairs).

[placement]
database = "mysql://osfsck@db1/placement"     # or placement_conf = "/etc/placement/placement.conf"
database_password_env = "PLACEMENT_DB_PASSWORD"
# the Placement API, for the repairs: Keystone v3 as for [neutron] ...
auth_url = "https://keystone.example:5000/v3"
username = "osfsck"
password_env = "OS_PASSWORD"
project_name = "admin"
# ... or a standalone placement-api with [api] auth_strategy = noauth2:
# endpoint = "http://127.0.0.1:8778"
# auth = "none"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from osfsck.config.common import Database
from osfsck.config.service import API_KEYS, conf_keys, service_api, service_database
from osfsck.config.values import only


@dataclass(frozen=True)
class PlacementSettings:
    """The database, and optionally the Placement API that the allocation repairs go
    through: at `endpoint`, or at the "placement" endpoint of the Keystone catalog; the
    token from Keystone v3 password auth or ready-made (`token_env`).  With `auth = "none"`
    (a placement-api with `auth_strategy = noauth2`, as in the lab) requests carry the
    token "admin", which that middleware turns into an admin user."""

    database: Database | None = None
    endpoint: str | None = None  # e.g. https://placement.example:8778
    auth_url: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    project_name: str | None = None
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    region_name: str | None = None
    interface: str = "public"
    token: str | None = field(default=None, repr=False)
    verify: bool | str = True
    timeout: float = 30.0
    auth: str = "keystone"  # "keystone", or "none" for a noauth2 placement-api

    @property
    def api_configured(self) -> bool:
        if self.auth == "none":
            return bool(self.endpoint)
        return bool(self.auth_url or (self.token and self.endpoint))


_DB_KEYS = {"database", "database_password_env", "database_password_file", *conf_keys("placement")}


def parse_placement(t: dict, base: Path) -> PlacementSettings:

    if not t:
        return PlacementSettings()
    where = "[placement]"
    only(t, _DB_KEYS | API_KEYS | {"auth"}, where)
    db = service_database({k: v for k, v in t.items() if k in _DB_KEYS}, "placement", base, "placement_database")
    return PlacementSettings(database=db, **service_api(t, where, base, "placement-api"))
