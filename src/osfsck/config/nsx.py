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

from osfsck.config.settings import ConfigError

APIS = ("policy", "manager")
MAX_PAGE_SIZE = 1000         # NSX's default and maximum page_size
_KEYS = {"url", "api", "username", "password_env", "password_file", "ca_file", "insecure", "page_size",
         "timeout", "retries", "deployment_scope", "deployment_tags"}


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
        return {"url": self.url, "username": self.username, "password": self.password or "", "verify": verify,
                "timeout": self.timeout, "retries": self.retries, "page_size": self.page_size}

    def deployment(self) -> tuple[str, frozenset] | None:
        """(scope, values) of the tag that marks this deployment's objects, or None."""
        return (self.deployment_scope, frozenset(self.deployment_tags)) if self.deployment_scope else None


def parse_nsx(t: dict, base: Path) -> NsxSettings:
    if not t:
        return NsxSettings()
    from osfsck.config.load import _only, parse_duration, required_secret
    _only(t, _KEYS | {"password"}, "[nsx]")
    if "password" in t:
        raise ConfigError("[nsx].password: never put the password in the file; use password_env or password_file")
    url = t.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ConfigError("[nsx].url: expected the manager's URL, like https://nsx-manager.example.net")
    insecure = t.get("insecure", False)
    if not isinstance(insecure, bool):
        raise ConfigError("[nsx].insecure must be true or false")
    if url.startswith("http://") and not insecure:
        raise ConfigError("[nsx].url: plain http sends the password in clear; use https, or set insecure = true")
    api = t.get("api", "policy")
    if api not in APIS:
        raise ConfigError(f"[nsx].api: {api!r} is not one of policy, manager")
    username = t.get("username")
    if not isinstance(username, str) or not username:
        raise ConfigError("[nsx].username is required")
    ca_file = t.get("ca_file")
    if ca_file is not None:
        fp = Path(ca_file) if Path(ca_file).is_absolute() else base / ca_file
        if not fp.is_file():
            raise ConfigError(f"[nsx].ca_file: {fp} is not a file")
        ca_file = str(fp.resolve())
    page_size = t.get("page_size", MAX_PAGE_SIZE)
    if not isinstance(page_size, int) or isinstance(page_size, bool) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ConfigError(f"[nsx].page_size must be an integer from 1 to {MAX_PAGE_SIZE}")
    retries = t.get("retries", 4)
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 10:
        raise ConfigError("[nsx].retries must be an integer from 0 to 10")
    timeout = parse_duration(t.get("timeout", 30), "[nsx].timeout")
    if timeout <= 0:
        raise ConfigError("[nsx].timeout must be positive")
    scope, tags = _deployment(t)
    return NsxSettings(url=url.rstrip("/"), api=api, username=username,
                       password=required_secret(t, "[nsx]", base),
                       ca_file=ca_file, insecure=insecure, page_size=page_size, timeout=timeout, retries=retries,
                       deployment_scope=scope, deployment_tags=tags)



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
