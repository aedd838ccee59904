"""World builders for Neutron: networks, ports with their bindings and addresses, floating
IPs, routers and security groups, and what Nova's network info cache says.

    w = World()
    u = w.instance(host="hv1")
    p = w.instance_port(u)              # a compute port bound to hv1, in Nova's cache too
    f = w.floating_ip(p)                # associated with it
    w.neutron_down()                    # Neutron's database could not be read

Ports, networks, ... have ids from their own uuid ranges (`port_uid(n)`, ...); fixed IPs
are 10.0.0.0/16 addresses in creation order (`fixed_ip(n)`), floating IPs 203.0.113.0/24.
"""

from __future__ import annotations

from osfsck.model.facts.neutron import (
    NEUTRON_SCOPE,
    FloatingIp,
    IpAllocation,
    NeutronNetwork,
    NeutronPort,
    NeutronRouter,
    NeutronSubnet,
    PortBinding,
    PortSecurityGroup,
    RouterPort,
    SecurityGroup,
    SecurityGroupRule,
)
from osfsck.model.facts.nova import InstanceNetwork

DAY = 86400
NEUTRON_KINDS = (
    NeutronNetwork,
    NeutronSubnet,
    NeutronPort,
    PortBinding,
    IpAllocation,
    FloatingIp,
    NeutronRouter,
    RouterPort,
    SecurityGroup,
    SecurityGroupRule,
    PortSecurityGroup,
)
_NETWORK_BASE = 0x4E37 << 64
_SUBNET_BASE = 0x5B4E << 64
_PORT_BASE = 0x9087 << 64
_FIP_BASE = 0xF1B0 << 64
_ROUTER_BASE = 0x4007 << 64
_SG_BASE = 0x5EC6 << 64
_RULE_BASE = 0x5EC7 << 64
SUBNET_CIDR = "10.0.0.0/16"


def _uid(n: int) -> str:
    import uuid

    return str(uuid.UUID(int=n))


def port_uid(n: int) -> str:
    """The id of the n-th port a World creates."""
    return _uid(_PORT_BASE + n)


def network_uid(n: int) -> str:
    return _uid(_NETWORK_BASE + n)


def fip_uid(n: int) -> str:
    return _uid(_FIP_BASE + n)


def router_uid(n: int) -> str:
    return _uid(_ROUTER_BASE + n)


def sg_uid(n: int) -> str:
    return _uid(_SG_BASE + n)


def rule_uid(n: int) -> str:
    return _uid(_RULE_BASE + n)


def fixed_ip(n: int) -> str:
    """The fixed IP of the n-th port: 10.0.0.2, 10.0.0.3, ..."""
    n += 1
    return f"10.0.{n // 254}.{n % 254 + 1}"


def floating_address(n: int) -> str:
    return f"203.0.113.{n}"


class NeutronWorld:
    """Mixed into World (tests/support/world.py), which provides `ago`, `_facts`,
    `_cover`, `_rows`, `_dropped` and `partial`."""

    def _neutron_init(self) -> None:
        self._n = {"network": 0, "port": 0, "fip": 0, "router": 0, "sg": 0, "rule": 0}
        self._networks: dict[str, str] = {}  # network id -> its subnet id
        self._instance_net: dict[str, dict] = {}  # instance uuid -> {"ports": [], "addresses": []}
        self._hostnames: dict[str, str] = {}

    def _count(self, what: str) -> int:
        self._n[what] += 1
        return self._n[what]

    # -- Neutron's database -------------------------------------------------------------
    def neutron(self) -> None:
        """Declare Neutron's database read completely (done on first use of any builder)."""
        if (NeutronNetwork.kind, NEUTRON_SCOPE) not in self._coverage:
            for kind in NEUTRON_KINDS:
                self._cover(kind, NEUTRON_SCOPE)

    def neutron_down(self, reason: str = "neutron database: access denied") -> None:
        """Neutron's database could not be read: its kinds are partial and empty."""
        self.neutron()
        for kind in NEUTRON_KINDS:
            self.partial(kind, NEUTRON_SCOPE, reason)
            self._dropped.add((kind.kind, NEUTRON_SCOPE))

    def network(
        self, name: str | None = None, *, project_id: str = "project-a", revision: int = 2, age=30 * DAY
    ) -> str:
        """A network with one IPv4 subnet (SUBNET_CIDR); returns its id."""
        self.neutron()
        n = self._count("network")
        nid, sid = network_uid(n), _uid(_SUBNET_BASE + n)
        self._facts[NeutronNetwork.kind].append(
            NeutronNetwork(NEUTRON_SCOPE, nid, name or f"net{n}", project_id, revision, self.ago(age), self.ago(age))
        )
        self._facts[NeutronSubnet.kind].append(NeutronSubnet(NEUTRON_SCOPE, sid, nid, SUBNET_CIDR, 4, 1, self.ago(age)))
        self._networks[nid] = sid
        return nid

    def _default_network(self) -> str:
        return next(iter(self._networks)) if self._networks else self.network()

    def port(
        self,
        device_id: str = "",
        *,
        device_owner: str = "compute:nova",
        host: str | None = "hv1",
        network_id: str | None = None,
        ip: str | None = None,
        status: str = "ACTIVE",
        project_id: str = "project-a",
        age=DAY,
        updated_age=None,
        revision: int = 3,
        binding_status: str = "ACTIVE",
        vif_type: str = "ovs",
        dns_name: str | None = None,
        dns_domain: str | None = None,
        security_groups: tuple = (),
    ) -> str:
        """A row of `ports` with its address (`ip`, default the next fixed IP) and its
        binding to `host` (None: unbound); returns the port id."""
        self.neutron()
        n = self._count("port")
        pid = port_uid(n)
        network_id = network_id or self._default_network()
        created = self.ago(age)
        updated = self.ago(updated_age) if updated_age is not None else created
        self._facts[NeutronPort.kind].append(
            NeutronPort(
                NEUTRON_SCOPE,
                pid,
                network_id,
                "",
                f"fa:16:3e:00:{n // 256:02x}:{n % 256:02x}",
                device_id,
                device_owner,
                status,
                project_id,
                revision,
                created,
                updated,
                dns_name,
                dns_domain,
            )
        )
        self._facts[IpAllocation.kind].append(
            IpAllocation(NEUTRON_SCOPE, pid, ip or fixed_ip(n), self._networks[network_id], network_id)
        )
        self._facts[PortBinding.kind].append(
            PortBinding(
                NEUTRON_SCOPE, pid, host or "", binding_status if host else "ACTIVE", vif_type if host else "unbound"
            )
        )
        for sg in security_groups:
            self._facts[PortSecurityGroup.kind].append(PortSecurityGroup(NEUTRON_SCOPE, pid, sg))
        return pid

    def binding(self, port_id: str, host: str, *, status: str = "INACTIVE", vif_type: str = "ovs") -> None:
        """Another binding of a port (a live migration's destination is INACTIVE until it ends)."""
        self._facts[PortBinding.kind].append(PortBinding(NEUTRON_SCOPE, port_id, host, status, vif_type))

    def address_of(self, port_id: str) -> str:
        return next(a.ip_address for a in self._facts[IpAllocation.kind] if a.port_id == port_id)

    def instance_port(self, instance_uuid: str, *, cached: bool = True, **kw) -> str:
        """A compute port of a live instance, bound to its host, and (`cached`) in the
        instance's network info cache; keywords go to `port`."""
        row = self._rows[instance_uuid]
        kw.setdefault("host", row.host)
        kw.setdefault("project_id", row.project_id)
        pid = self.port(instance_uuid, **kw)
        if cached:
            self.cache_port(instance_uuid, pid, self.address_of(pid))
        return pid

    def cache_port(self, instance_uuid: str, port_id: str, *addresses: str) -> None:
        """Put a port (and addresses) in an instance's network info cache."""
        net = self._cached(instance_uuid)
        net["ports"].append(port_id)
        net["addresses"] += addresses

    def _cached(self, instance_uuid: str) -> dict:
        return self._instance_net.setdefault(instance_uuid, {"ports": [], "addresses": []})

    def hostname(self, instance_uuid: str, name: str) -> None:
        """Set an instance's hostname (default: vm-<id>)."""
        self._hostnames[instance_uuid] = name

    def floating_ip(
        self,
        port_id: str | None = None,
        *,
        router_id: str | None = None,
        age=DAY,
        status: str | None = None,
        project_id: str = "project-a",
    ) -> str:
        """A floating IP, associated with `port_id` (its fixed IP) when given; returns its id."""
        self.neutron()
        n = self._count("fip")
        fid, address = fip_uid(n), floating_address(n)
        ext = self._default_network()
        fport = self.port(
            fid, device_owner="network:floatingip", host=None, ip=address, network_id=ext, status="N/A", age=age
        )
        fixed = self.address_of(port_id) if port_id else None
        if port_id:
            owner = next((p.device_id for p in self._facts[NeutronPort.kind] if p.id == port_id), None)
            if owner in self._rows:  # Nova's cache lists a VIF's floating IPs too
                self._cached(owner)["addresses"].append(address)
        self._facts[FloatingIp.kind].append(
            FloatingIp(
                NEUTRON_SCOPE,
                fid,
                address,
                ext,
                fport,
                port_id,
                fixed,
                router_id if port_id else None,
                status or ("ACTIVE" if port_id else "DOWN"),
                project_id,
                2,
                self.ago(age),
            )
        )
        return fid

    def router(self, name: str | None = None, *, project_id: str = "project-a", revision: int = 2, age=30 * DAY) -> str:
        self.neutron()
        n = self._count("router")
        rid = router_uid(n)
        self._facts[NeutronRouter.kind].append(
            NeutronRouter(
                NEUTRON_SCOPE, rid, name or f"router{n}", project_id, None, revision, self.ago(age), self.ago(age)
            )
        )
        return rid

    def router_interface(self, router_id: str, network_id: str | None = None, *, age=30 * DAY) -> str:
        """A router's interface port on a network (the network's gateway address)."""
        owner = "network:router_interface"
        pid = self.port(router_id, device_owner=owner, host=None, network_id=network_id, age=age)
        self._facts[RouterPort.kind].append(RouterPort(NEUTRON_SCOPE, router_id, pid, owner))
        return pid

    def security_group(
        self, name: str | None = None, *, rules: int = 2, project_id: str = "project-a", revision: int = 2, age=30 * DAY
    ) -> str:
        """A security group with `rules` rules; returns its id."""
        self.neutron()
        n = self._count("sg")
        gid = sg_uid(n)
        self._facts[SecurityGroup.kind].append(
            SecurityGroup(NEUTRON_SCOPE, gid, name or f"sg{n}", project_id, revision, self.ago(age), self.ago(age))
        )
        for _ in range(rules):
            self._facts[SecurityGroupRule.kind].append(
                SecurityGroupRule(NEUTRON_SCOPE, rule_uid(self._count("rule")), gid, 1, self.ago(age))
            )
        return gid

    # -- Nova's side: the network info cache -------------------------------------------
    def _instance_networks(self, instances) -> list:
        """One InstanceNetwork per instance row (at snapshot time)."""
        out = []
        for row in instances:
            net = self._instance_net.get(row.uuid, {"ports": [], "addresses": []})
            hostname = self._hostnames.get(row.uuid, f"vm-{row.id}")
            live = not row.deleted
            out.append(
                InstanceNetwork(
                    row.cell,
                    row.uuid,
                    row.deleted,
                    hostname,
                    hostname,
                    tuple(net["ports"]) if live else (),
                    tuple(net["addresses"]) if live else (),
                    row.updated_at,
                )
            )
        return out
