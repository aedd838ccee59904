"""A service's API settings from clouds.yaml, as the openstack client reads it: openstacksdk's
own loader (openstack.config), so clouds.yaml, secure.yaml, OS_CLOUD and the OS_* variables
(its cloud "envvars") mean here what they mean to every OpenStack tool.  What it resolves
(the keystoneauth1 plugin and its options, the service's region, interface and endpoint
override, TLS and timeout) becomes the section's ApiSettings; the clients never read
clouds.yaml themselves.  A cloud that is not there, or whose auth options keystoneauth1
cannot load, is a configuration error, found when the config is loaded."""

from __future__ import annotations

import warnings
from typing import Any

from osfsck.config.common import ConfigError
from osfsck.model.wording import show


def from_clouds_yaml(name: str, service_type: str, where: str, region_name: str | None) -> dict[str, Any]:
    """The ApiSettings keyword arguments of cloud `name` for `service_type` ("network",
    "placement"), in region `region_name` when the section names one."""
    try:
        # imported only when a cloud is used: it takes ~0.3 s
        from openstack.config import loader
    except ImportError:
        raise ConfigError(
            f"{where}: cloud = {show(name)} needs openstacksdk to read clouds.yaml (pip install openstacksdk)"
        ) from None
    config = loader.OpenStackConfig()
    try:
        with warnings.catch_warnings():
            # openstacksdk's deprecations of its own features (InfluxDB, on every cloud) are
            # not the operator's to act on
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            cloud = config.get_one(name, region_name=region_name) if region_name else config.get_one(name)
        auth_type = cloud.config.get("auth_type") or "password"
        options = dict(cloud.config.get("auth") or {})
        verify, cert = cloud.get_requests_verify_args()
        interface = cloud.get_interface(service_type) or "public"
        timeout = cloud.config.get("api_timeout")
        timeout = float(timeout) if timeout else 30.0
    except Exception as e:  # noqa: BLE001 - openstacksdk raises what its schema, its files and keystoneauth1's plugin loaders raise
        found = getattr(config, "config_filename", None)
        raise ConfigError(f"{where}: cloud {show(name)}{f' ({found})' if found else ''}: {_line(e)}") from None
    if not isinstance(interface, str):
        raise ConfigError(f"{where}: cloud {show(name)} gives {service_type} several interfaces; set {where} interface")
    return dict(
        cloud=name,
        cloud_auth=(auth_type, options),
        region_name=cloud.get_region_name(service_type) or None,
        interface=interface,
        endpoint=(cloud.get_endpoint(service_type) or "").rstrip("/") or None,
        verify=verify,
        cert=cert,
        timeout=timeout,
    )


def _line(e: Exception) -> str:
    text = " ".join(str(e).split())
    return text[:300] if text else type(e).__name__
