"""The ports and addresses of an instance's network info cache
(`instance_info_caches.network_info`), a JSON list of VIFs as Nova writes it."""

from __future__ import annotations

from osfsck.sources.json_text import loads


def network_info_ports(text: str) -> tuple[tuple, tuple]:
    """(port ids, addresses) of a network_info JSON (a list of VIFs, each with its
    network's subnets and their IPs and floating IPs); empty when not readable."""
    try:
        vifs = loads(text)
    except ValueError:  # orjson.JSONDecodeError is one too
        return (), ()
    if not isinstance(vifs, list):
        return (), ()
    ports, addresses = [], []
    for vif in vifs:
        if not isinstance(vif, dict):
            continue
        if isinstance(vif.get("id"), str):
            ports.append(vif["id"])
        network = vif.get("network")
        if not isinstance(network, dict):
            network = {}
        for subnet in network.get("subnets") or ():
            for ip in (subnet.get("ips") or ()) if isinstance(subnet, dict) else ():
                if not isinstance(ip, dict):
                    continue
                addresses.append(ip.get("address"))
                addresses += [f.get("address") for f in ip.get("floating_ips") or () if isinstance(f, dict)]
    return tuple(ports), tuple(a for a in addresses if isinstance(a, str))
