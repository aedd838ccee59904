"""`[placement]`: the Placement database (read by the checks) and its API (used by repairs).

[placement]
database = "mysql://osfsck@db1/placement"     # or placement_conf = "/etc/placement/placement.conf"
database_password_env = "PLACEMENT_DB_PASSWORD"
# the Placement API, for the repairs: a clouds.yaml cloud (or OS_CLOUD / OS_* from the
# environment when the section names no credentials) ...
cloud = "mycloud"
# ... or Keystone from these keys, as for [neutron] ...
# auth_url = "https://keystone.example:5000/v3"
# username = "osfsck"
# password_env = "OS_PASSWORD"
# project_name = "admin"
# ... or a standalone placement-api with [api] auth_strategy = noauth2:
# endpoint = "http://127.0.0.1:8778"
# auth = "none"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from osfsck.config.common import Database
from osfsck.config.service import API_KEYS, ApiSettings, conf_keys, service_api, service_database
from osfsck.config.values import only


@dataclass(frozen=True)
class PlacementSettings(ApiSettings):
    """The database, and optionally the Placement API that the allocation repairs go
    through (ApiSettings: at `endpoint`, or at the "placement" endpoint of the Keystone
    catalog).  With `auth = "none"` (a placement-api with `auth_strategy = noauth2`, as in
    the lab) requests carry the token "admin", which that middleware turns into an admin
    user."""

    database: Database | None = None


_DB_KEYS = {"database", "database_password_env", "database_password_file", *conf_keys("placement")}


def parse_placement(t: dict, base: Path) -> PlacementSettings:

    if not t:
        return PlacementSettings()
    where = "[placement]"
    only(t, _DB_KEYS | API_KEYS | {"auth"}, where)
    db = service_database({k: v for k, v in t.items() if k in _DB_KEYS}, "placement", base, "placement_database")
    return PlacementSettings(database=db, **service_api(t, where, base, "placement-api", "placement"))
