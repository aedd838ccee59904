"""OpenStackClient's plugin module for osfsck (entry point `openstack.cli.extension`: fsck).

OpenStackClient imports this module whenever `openstack` starts, whatever command is run,
to read its API name and versions and to add its global options; so it imports neither
osc-lib nor osfsck's engine.  OSC names the command group from API_NAME and the version:
`openstack.fsck.v1` (pyproject.toml lists the commands there).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

API_NAME = "fsck"
# OSC reads the version from its cloud config under this name less "os_" (fsck_api_version),
# which the option below fills; the default keeps the group at v1 when none is given
API_VERSION_OPTION = "os_fsck_api_version"
DEFAULT_API_VERSION = "1"
API_VERSIONS = {"1": "osfsck.osc.plugin.Cloud"}


class Cloud:
    """What OpenStackClient resolved for this run, for osfsck's own API access: a command
    reaches it as `self.app.client_manager.fsck` (OSC calls make_client on first use).

    This is the hook for osfsck's keystoneauth1 sessions: `region` is the openstacksdk
    CloudRegion OSC built from clouds.yaml, OS_* variables and --os-* options, and
    `session()` OSC's authenticated keystoneauth1 session.  Today osfsck takes only the
    cloud's name from it (`environment()`): its [placement] and [neutron] settings read
    OS_CLOUD as every OpenStack tool does."""

    def __init__(self, instance: Any) -> None:
        self._manager = instance  # OSC's ClientManager

    @property
    def region(self) -> Any:
        return self._manager._cli_options

    @property
    def name(self) -> str | None:
        """The cloud --os-cloud (or OS_CLOUD) named; None when only OS_* variables or
        --os-* options describe it (openstacksdk then calls it "envvars" or "defaults")."""
        return self.region.config.get("cloud") or None

    def session(self) -> Any:
        """OSC's keystoneauth1 session, authenticated on first use (the fsck commands do not
        ask OSC to authenticate: a saved snapshot or the catalogue needs no Keystone)."""
        self._manager.setup_auth()
        return self._manager.session

    def environment(self) -> dict[str, str]:
        """The variables osfsck's config reads that this run's OSC options set."""
        return {"OS_CLOUD": self.name} if self.name else {}


def make_client(instance: Any) -> Cloud:
    return Cloud(instance)


def build_option_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--os-fsck-api-version",
        metavar="<fsck-api-version>",
        default=os.environ.get("OS_FSCK_API_VERSION"),
        help=f"osfsck command set version, default={DEFAULT_API_VERSION} (Env: OS_FSCK_API_VERSION)",
    )
    return parser
