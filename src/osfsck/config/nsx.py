"""`[nsx]`: a VMware NSX manager, read through its Policy or its Manager API.

    [nsx]
    url = "https://nsx-manager.example.net"
    api = "policy"                       # or "manager" (the nsx_v3 plugin)
    username = "osfsck-ro"
    password_env = "NSX_PASSWORD"        # or password_file; never the password itself
    ca_file = "nsx-ca.pem"               # TLS is verified; `insecure = true` turns that off
    page_size = 1000
    timeout = "30s"
    retries = 4
    # several clouds on one manager: only objects with this tag are this cloud's
    deployment_scope = "os-api-version"
    deployment_tags = ["17.0.0"]

Deployments: vmware-nsx writes no tag that names a cloud.  Its tags are the Neutron id, the
project (`os-project-id`, `os-project-name`) and `os-api-version` (Neutron's release, e.g.
"17.0.0", the same on every cloud of that release; an object keeps the value of the
release that last wrote it).  So the restriction is a tag the operator names: a scope and
the values that mark this cloud's objects, either `os-api-version` when the clouds run
different releases (list every release the cloud has run), or a tag the operator's own
tooling or an NSX tag policy adds.  Objects of the plugin without that tag are another
cloud's: never judged orphan, never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from osfsck.config.common import ConfigError
from osfsck.config.service import required_secret
from osfsck.config.values import boolean, duration, http_url, integer, only, path, text
from osfsck.model.wording import show

APIS = ("policy", "manager")
MAX_PAGE_SIZE = 1000  # NSX's default and maximum page_size
_KEYS = {
    "url",
    "api",
    "username",
    "password_env",
    "password_file",
    "ca_file",
    "insecure",
    "page_size",
    "timeout",
    "retries",
    "deployment_scope",
    "deployment_tags",
}


@dataclass(frozen=True)
class NsxSettings:
    url: str | None = None
    api: str = "policy"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    insecure: bool = False
    page_size: int = MAX_PAGE_SIZE
    timeout: float = 30.0
    retries: int = 4
    deployment_scope: str | None = None
    deployment_tags: tuple = ()

    def client_kwargs(self) -> dict:
        """What osfsck.clients.nsx.NsxClient is made from (sources and repairs alike)."""
        verify = False if self.insecure else (self.ca_file or True)
        return {
            "url": self.url,
            "username": self.username,
            "password": self.password or "",
            "verify": verify,
            "timeout": self.timeout,
            "retries": self.retries,
            "page_size": self.page_size,
        }

    def deployment(self) -> tuple[str, frozenset] | None:
        """(scope, values) of the tag that marks this deployment's objects, or None."""
        return (self.deployment_scope, frozenset(self.deployment_tags)) if self.deployment_scope else None


def parse_nsx(t: dict, base: Path) -> NsxSettings:
    if not t:
        return NsxSettings()

    where = "[nsx]"
    only(t, _KEYS | {"password"}, where)
    if "password" in t:
        raise ConfigError("[nsx].password: never put the password in the file; use password_env or password_file")
    url = http_url(t.get("url"), "[nsx].url", "https://nsx-manager.example.net")
    insecure = boolean(t, "insecure", where)
    if url.startswith("http://") and not insecure:
        raise ConfigError("[nsx].url: plain http sends the password in clear; use https, or set insecure = true")
    api = t.get("api", "policy")
    if api not in APIS:
        raise ConfigError(f"[nsx].api: {show(api)} is not one of policy, manager")
    username = text(t, "username", where)
    if username is None:
        raise ConfigError("[nsx].username is required")
    scope, tags = _deployment(t)
    return NsxSettings(
        url=url.rstrip("/"),
        api=api,
        username=username,
        password=required_secret(t, where, base),
        ca_file=path(t, "ca_file", where, base, must_exist=True),
        insecure=insecure,
        page_size=integer(t, "page_size", where, MAX_PAGE_SIZE, lo=1, hi=MAX_PAGE_SIZE),
        timeout=duration(t, "timeout", where, 30, positive=True),
        retries=integer(t, "retries", where, 4, lo=0, hi=10),
        deployment_scope=scope,
        deployment_tags=tags,
    )


def _deployment(t: dict) -> tuple[str | None, tuple]:
    scope, tags = t.get("deployment_scope"), t.get("deployment_tags")
    if scope is None and tags is None:
        return None, ()
    if not isinstance(scope, str) or not scope:
        raise ConfigError("[nsx].deployment_scope: name the tag scope that marks this deployment's objects")
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list) or not tags or not all(isinstance(x, str) for x in tags):
        raise ConfigError("[nsx].deployment_tags: a list of the tag values that mark this deployment's objects")
    return scope, tuple(tags)
