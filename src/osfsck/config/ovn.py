"""`[ovn]`: the OVN northbound database.

[ovn]
nb_connection = "ssl:192.0.2.10:6641"      # or "tcp:IP:PORT", "unix:PATH"; several: "ssl:a:6641,ssl:b:6641"
private_key = "/etc/osfsck/ovn/key.pem"    # ssl: only, the three files Neutron's [ovn] ovn_nb_* name
certificate = "/etc/osfsck/ovn/cert.pem"
ca_cert = "/etc/osfsck/ovn/ca.pem"
timeout = "2m"                             # connect and receive the whole initial dump within this
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from osfsck.config.common import ConfigError
from osfsck.config.values import duration, only, path

_REMOTE = re.compile(r"^(tcp|ssl):(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$|^unix:(.+)$")
_KEYS = ("nb_connection", "private_key", "certificate", "ca_cert", "timeout")


@dataclass(frozen=True)
class OvnSettings:
    nb_connection: str | None = None
    private_key: str | None = None
    certificate: str | None = None
    ca_cert: str | None = None
    timeout: float = 120.0

    @property
    def uses_ssl(self) -> bool:
        return any(r.startswith("ssl:") for r in (self.nb_connection or "").split(","))


def parse_ovn(t: dict, base: Path) -> OvnSettings:
    if not t:
        return OvnSettings()
    only(t, set(_KEYS), "[ovn]")
    conn = t.get("nb_connection")
    if not isinstance(conn, str) or not conn.strip():
        raise ConfigError(
            '[ovn].nb_connection: expected a connection like "tcp:192.0.2.10:6641", '
            '"ssl:HOST:6641" or "unix:/run/ovn/ovnnb_db.sock"'
        )
    remotes = [r.strip() for r in conn.split(",")]
    for r in remotes:
        m = _REMOTE.match(r)
        if not m or (m.group(3) and not 0 < int(m.group(3)) < 65536):
            raise ConfigError(f"[ovn].nb_connection: {r!r} is not tcp:IP:PORT, ssl:IP:PORT or unix:PATH")
    files = {k: path(t, k, "[ovn]", base, must_exist=True) for k in ("private_key", "certificate", "ca_cert") if k in t}
    ssl = any(r.startswith("ssl:") for r in remotes)
    if ssl and len(files) != 3:
        missing = [k for k in ("private_key", "certificate", "ca_cert") if k not in files]
        raise ConfigError(f"[ovn].{missing[0]} is needed for an ssl: nb_connection")
    if files and not ssl:
        raise ConfigError(f"[ovn].{next(iter(files))} is set but nb_connection uses no ssl: remote")
    timeout = duration(t, "timeout", "[ovn]", 120, positive=True)
    return OvnSettings(
        ",".join(remotes), files.get("private_key"), files.get("certificate"), files.get("ca_cert"), timeout
    )
