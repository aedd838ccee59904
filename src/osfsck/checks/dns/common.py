"""What the DNS checks share: one index of the transferred zones against Neutron and Nova.

An address is OpenStack's when a Neutron subnet holds it (floating IP networks' subnets
included); records of other addresses (name servers, mail, ...) are infrastructure and no
DNS check judges them.  An address is *held* by a port that has it (ipallocations) or by a
floating IP.  The names a holder may legitimately have are its instance's names by each
zone's template, and its port's Neutron external-DNS name (`dns_name.dns_domain`).

Only records OpenStack's naming made are OpenStack's to call duplicates or to delete: a
name a zone's template gives an instance Nova knows (live or deleted), a port's Neutron
DNS name, a record designate-sink made for a resource, or a name a hook marked with an
instance's uuid in a TXT record.  A wildcard, an operator's alias or vanity name on a
floating IP, a PTR someone set by hand: none of those is made by any rule of OpenStack's.
"""

from __future__ import annotations

import ipaddress
import re
import weakref
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from osfsck.checks.base import CheckOutput
from osfsck.model.facts.dns import DESIGNATE_SCOPE, DesignateRecord, DnsRecord, DnsZone, absolute, zone_scope
from osfsck.model.facts.neutron import NEUTRON_SCOPE, FloatingIp, IpAllocation, NeutronPort, NeutronSubnet
from osfsck.model.facts.nova import API_SCOPE, Cell, InstanceNetwork, cell_scope
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

NEUTRON_KINDS = (NeutronPort, IpAllocation, FloatingIp, NeutronSubnet)
ADDRESS_TYPES = ("A", "AAAA")
REVERSE_SUFFIXES = ("in-addr.arpa.", "ip6.arpa.")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_CNAME_CHAIN = 8  # resolvers give up on longer chains (BIND's limit is 16); so do we


def is_wildcard(name: str) -> bool:
    """A wildcard owner name (RFC 4592: "*" as its leftmost label): an operator's catch-all,
    never a name OpenStack makes."""
    return name == "*" or name.startswith("*.")


def record_id(name: str, rtype: str, data: str) -> str:
    """How a finding names one record: "vm-1.example.test. A 10.0.0.2"."""
    return f"{name} {rtype} {data}"


def record_ref(r: Any) -> ObjectRef:
    return ObjectRef("dns-record", record_id(r.name, r.type, r.data), zone_scope(r.zone))


def record_evidence(r: Any) -> dict[str, Any]:
    return {"zone": r.zone, "name": r.name, "type": r.type, "ttl": r.ttl, "data": r.data}


def ptr_address(name: str) -> str | None:
    """The address a reverse name stands for ("2.0.0.10.in-addr.arpa." -> "10.0.0.2"), or
    None for a name that is not a whole address (a zone apex, a classless delegation)."""
    labels = name.rstrip(".").split(".")
    if labels[-2:] == ["in-addr", "arpa"] and len(labels) == 6:
        try:
            return str(ipaddress.IPv4Address(".".join(reversed(labels[:4]))))
        except ValueError:
            return None
    if labels[-2:] == ["ip6", "arpa"] and len(labels) == 34:
        nibbles = "".join(reversed(labels[:32]))
        try:
            return str(ipaddress.IPv6Address(int(nibbles, 16)))
        except ValueError:
            return None
    return None


def ptr_name(address: str) -> str:
    return ipaddress.ip_address(address).reverse_pointer + "."


class Holder(NamedTuple):
    """What holds an address: a port (with its instance when a live compute port) or a
    floating IP (with the instance of the port it is associated with)."""

    kind: str  # "port" or "floating-ip"
    id: str
    instance_uuid: str | None  # the live instance behind it, if any
    port: NeutronPort | None  # the port (the FIP's fixed port for a floating IP)

    def evidence(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "instance_uuid": self.instance_uuid,
            "port_id": self.port.id if self.port else None,
        }


_VARIABLE = re.compile(r"\{(\w+)\}")


class Template:
    """A zone's name template, both ways: rendered for an instance, and parsed back from
    a record name into the variables it was made from."""

    def __init__(self, template: str, zone: str):
        self.template, self.zone = template, zone
        pattern, pos = [], 0
        for m in _VARIABLE.finditer(template):
            pattern.append(re.escape(template[pos : m.start()].lower()))
            var = m.group(1)
            if var == "zone":
                pattern.append(re.escape(zone))
            elif var in pattern_groups(pattern):
                pattern.append(f"(?P={var})")
            else:
                pattern.append(f"(?P<{var}>[^.]+)" if var != "ip_address" else f"(?P<{var}>[0-9a-f-]+)")
            pos = m.end()
        pattern.append(re.escape(template[pos:].lower()))
        self.regex = re.compile(
            "".join(pattern) + ("" if template.endswith(".") or template.endswith("{zone}") else r"\.?")
        )

    def render(self, net: InstanceNetwork, address: str | None = None) -> str | None:
        values = {
            "hostname": net.hostname,
            "display_name": net.display_name,
            "instance_id": net.uuid,
            "zone": self.zone,
            "project_id": None,
            "tenant_id": None,
        }
        if address:
            values["ip_address"] = address.replace(".", "-").replace(":", "-")
            if "." in address:
                values.update((f"octet{i}", o) for i, o in enumerate(address.split(".")))
        try:
            name = self.template.format(**values)
        except (KeyError, IndexError):
            return None
        if "None" in name:
            return None
        return absolute(name)

    def parse(self, name: str) -> dict[str, str | None]:
        m = self.regex.fullmatch(name)
        return m.groupdict() if m else {}


def pattern_groups(parts: list[str]) -> set[str]:
    return set(re.findall(r"\(\?P<(\w+)>", "".join(parts)))


class DnsIndex:
    """Built once per snapshot and shared by the DNS checks."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.neutron_complete = all(snap.is_complete(k, NEUTRON_SCOPE) for k in NEUTRON_KINDS)
        # zones: every configured one is covered (complete or not); its records and its
        # template (DnsZone) are both needed to judge a name in it
        self.zone_names = sorted({s.split(":", 1)[1] for k in (DnsRecord, DnsZone) for s in snap.scopes(k)})
        self.complete_zones = {
            z for z in self.zone_names if all(snap.is_complete(k, zone_scope(z)) for k in (DnsRecord, DnsZone))
        }
        # instances are named in forward zones only: a reverse zone's names are addresses
        self.templates = {
            z.zone: Template(z.name_template, z.zone) for z in snap.of(DnsZone) if not z.zone.endswith(REVERSE_SUFFIXES)
        }
        self.designate_zones = {z.zone for z in snap.of(DnsZone) if z.managed_by_designate}
        self.forward = defaultdict(list)  # address -> A/AAAA records
        self.names = defaultdict(set)  # name -> its addresses
        self.ptrs = defaultdict(list)  # address -> PTR records
        self.aliases = {}  # CNAME owner -> its target
        self.delegated = set()  # names below a zone's apex delegated elsewhere (NS)
        self.owners = set()  # every name that owns a record (for wildcards)
        self.txt_uuids = defaultdict(set)  # name -> uuids its TXT records carry
        self._existing: set[str] | None = None  # every owner and its ancestors (built on demand)
        self._unread_names: dict[str, str] | None = None  # see unread_instance_names
        for r in snap.of(DnsRecord):
            self.owners.add(r.name)
            if r.type in ADDRESS_TYPES:
                self.forward[r.data].append(r)
                self.names[r.name].add(r.data)
            elif r.type == "PTR":
                a = ptr_address(r.name)
                if a is not None:
                    self.ptrs[a].append(r)
            elif r.type == "CNAME":
                self.aliases[r.name] = r.data
            elif r.type == "NS" and r.name != r.zone:
                self.delegated.add(r.name)
            elif r.type == "TXT":
                self.txt_uuids[r.name].update(_UUID.findall(r.data.lower()))
        # what designate-sink made, and for what (a user's or Neutron's recordsets have no
        # managed resource: Neutron's are told by the port's DNS name instead)
        self.sink_made = {(d.name, d.type, d.data): d for d in snap.of(DesignateRecord) if d.managed_resource_type}
        self.sink_unread = next(
            (c.reason or f"{c.scope} was not read completely" for c in snap.incomplete_scopes(DesignateRecord)), None
        )
        self._ranges()
        self._holders()
        self._instances()

    # -- OpenStack's addresses ----------------------------------------------------------
    def _ranges(self) -> None:
        nets = set()
        for s in self.snap.of(NeutronSubnet):
            try:
                nets.add(ipaddress.ip_network(s.cidr, strict=False))
            except ValueError:
                continue
        # each prefix length's ranges by their first address as a number: an address's range
        # is then one shift and one lookup per length (building an ip_network per record and
        # length took 30 of DN101's 107 profiled seconds at L)
        by_length: dict[tuple[int, int], dict[int, Any]] = defaultdict(dict)
        for n in nets:
            by_length[n.version, n.max_prefixlen - n.prefixlen][int(n.network_address)] = n
        # the widest range first, as before (Neutron's subnets rarely nest)
        self._ranges_by_length = sorted(by_length.items(), key=lambda kv: -kv[0][1])
        self._subnet_of: dict[str, Any] = {}

    def subnet_of(self, address: str) -> Any:
        """The Neutron subnet range holding `address`, or None (infrastructure)."""
        try:
            return self._subnet_of[address]
        except KeyError:
            pass
        found = None
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            ip = None
        if ip is not None:
            number = int(ip)
            for (version, host_bits), ranges in self._ranges_by_length:
                if version == ip.version:
                    found = ranges.get(number >> host_bits << host_bits)
                    if found is not None:
                        break
        self._subnet_of[address] = found
        return found

    def _holders(self) -> None:
        ports = {p.id: p for p in self.snap.of(NeutronPort)}
        self.ports = ports
        held: dict[str, Holder] = {}
        for f in self.snap.of(FloatingIp):
            fixed = ports.get(f.fixed_port_id) if f.fixed_port_id else None
            held[_canon(f.floating_ip_address)] = Holder(
                "floating-ip",
                f.id,
                fixed.device_id if fixed and fixed.device_owner.startswith("compute:") else None,
                fixed,
            )
        for a in self.snap.of(IpAllocation):
            p = ports.get(a.port_id) if a.port_id else None
            if p is None:
                continue
            address = _canon(a.ip_address)
            if address in held and held[address].kind == "floating-ip":
                continue  # the floating IP's own port: the FIP is the holder that matters
            held[address] = Holder("port", p.id, p.device_id if p.device_owner.startswith("compute:") else None, p)
        self.holders = held

    def _instances(self) -> None:
        self.live_nets: dict[str, InstanceNetwork] = {}
        # hostname / display_name / uuid (lower) -> its InstanceNetwork, or a list of those
        # that share it: a list and a lower-case copy per name were ~1 M objects at L
        by_name: dict[str, Any] = {}
        for n in self.snap.of(InstanceNetwork):
            if not n.deleted:
                self.live_nets[n.uuid] = n
            for key in {n.hostname, n.display_name, n.uuid}:
                if key:
                    low = key.lower()
                    if low == key:
                        low = key  # the fact's own string, not a copy of it
                    had = by_name.get(low)
                    if had is None:
                        by_name[low] = n
                    elif type(had) is list:
                        had.append(n)
                    else:
                        by_name[low] = [had, n]
        self.by_name = by_name
        self.port_names: dict[str, NeutronPort] = {}  # a port's Neutron DNS name -> the port
        for p in self.ports.values():
            if p.dns_name and p.dns_domain:
                self.port_names.setdefault(absolute(f"{p.dns_name}.{p.dns_domain}"), p)

    def named(self, name: str) -> Sequence[InstanceNetwork]:
        """The instances (live or deleted) with `name` (lower case) as hostname, display name or uuid."""
        found = self.by_name.get(name)
        return () if found is None else found if type(found) is list else (found,)

    def unread_instance_names(self) -> dict[str, str]:
        """Scope -> why, for the cells whose instances' names (network info caches) were not
        read completely, and the API database when its cell list is partial: a name may
        belong there to an instance we could not see."""
        if self._unread_names is not None:
            return self._unread_names
        snap = self.snap
        found: dict[str, str] = {}
        self._unread_names = found
        if not snap.is_complete(Cell, API_SCOPE):
            found[API_SCOPE] = snap.why_incomplete(Cell, API_SCOPE)
        cells = {cell_scope(c.name) for c in snap.of(Cell)} | set(snap.scopes(InstanceNetwork))
        for scope in sorted(cells):
            if not snap.is_complete(InstanceNetwork, scope):
                found[scope] = snap.why_incomplete(InstanceNetwork, scope)
        return found

    # -- names --------------------------------------------------------------------------
    def zone_of(self, name: str) -> str | None:
        """The longest configured zone that holds `name`, read or not; None when no
        configured zone does, or when the name lies under a delegation of that zone (a
        subzone osfsck does not read, whose records that zone's transfer does not hold)."""
        best = None
        for z in self.zone_names:
            if (name == z or name.endswith("." + z)) and (best is None or len(z) > len(best)):
                best = z
        if best is not None:
            labels = name[: len(name) - len(best)].rstrip(".").split(".") if name != best else []
            for i in range(len(labels)):
                if ".".join(labels[i:]) + "." + best in self.delegated:
                    return None
        return best

    def resolve(self, name: str) -> tuple[set[str] | None, str | None]:
        """Where `name` leads, following CNAMEs and wildcards (RFC 4592) through the zones
        read: (its addresses, None), empty when it has no address record; (None, zone)
        when it leads into `zone`, which was not read completely; (None, None) when it
        leads out of the configured zones (an unconfigured or delegated zone: not ours)."""
        for _ in range(MAX_CNAME_CHAIN):
            zone = self.zone_of(name)
            if zone is None:
                return None, None
            if zone not in self.complete_zones:
                return None, zone
            if name not in self.owners:
                name = self._wildcard_for(name, zone) or name
            if name in self.aliases:
                name = self.aliases[name]
                continue
            return set(self.names.get(name, ())), None
        return None, None

    def zone_reason(self, zone: str) -> str:
        scope = zone_scope(zone)
        kind = next((k for k in (DnsRecord, DnsZone) if not self.snap.is_complete(k, scope)), DnsRecord)
        return self.snap.why_incomplete(kind, scope)

    def zones_read(self, out: CheckOutput, names: Iterable[str], about: ObjectRef | None = None) -> bool:
        """True when every configured zone holding one of `names` was read completely;
        otherwise the first that was not is recorded inconclusive (for `about`)."""
        for zone in sorted({z for z in map(self.zone_of, names) if z is not None}):
            if zone not in self.complete_zones:
                out.inconclusive(zone_scope(zone), self.zone_reason(zone), about)
                return False
        return True

    def maker_known(self, out: CheckOutput, made: str | None) -> bool:
        """Whether "no rule of OpenStack's made it" can be believed for a record: not when
        Designate's database, which says what designate-sink made, was read only in part
        (then "designate" is recorded inconclusive)."""
        if made is None and self.sink_unread is not None:
            out.inconclusive(DESIGNATE_SCOPE, self.sink_unread)
            return False
        return True

    def instance_names_read(self, out: CheckOutput, about: ObjectRef | None = None) -> bool:
        """True when every instance's names could be read; otherwise each place they could
        not is recorded inconclusive, for `about` (a name may be a live instance's we could
        not see, in a cell not read)."""
        unread = self.unread_instance_names()
        for scope, why in unread.items():
            out.inconclusive(scope, why, about)
        return not unread

    def _wildcard_for(self, name: str, zone: str) -> str | None:
        """The wildcard that answers for `name` (which owns nothing): "*." + its closest
        encloser (the nearest ancestor that exists, empty non-terminals included), when
        that wildcard exists."""
        if name == zone:
            return None
        if self._existing is None:
            existing: set[str] = set()
            for o in self.owners:
                labels = o.split(".")
                existing.update(".".join(labels[i:]) for i in range(len(labels)))
            self._existing = existing
        labels = name.split(".")
        for i in range(1, len(labels)):
            encloser = ".".join(labels[i:])
            if encloser in self._existing or encloser == zone:
                wild = "*." + encloser
                return wild if wild in self.owners else None
        return None

    def made_by(self, r: Any, name: str, address: str) -> str | None:
        """How OpenStack's naming made record `r`, which gives `address` the name `name` (an
        address record's owner, a PTR's target), as a phrase for the evidence; None when no
        rule of OpenStack's made it (a wildcard, an operator's alias, a PTR set by hand)."""
        if is_wildcard(name):
            return None
        d = self.sink_made.get((r.name, r.type, r.data))
        if d is not None:
            return (
                f"designate-sink's {d.managed_plugin_name or 'handler'} for {d.managed_resource_type} "
                f"{d.managed_resource_id}"
            )
        made = self.instances_named(name, address)
        if made:
            zone = self.zone_of(name)
            return f"the name template of zone {zone} for instance {made[0].uuid}"
        port = self.port_names.get(name)
        if port is not None:
            return f"Neutron's DNS name of port {port.id}"
        known = sorted(u for u in self.txt_uuids.get(name, ()) if u in self.by_name)
        if known:
            return f"a TXT record naming instance {known[0]}"
        return None

    def expected_names(self, address: str) -> set[str]:
        """Every name the holder of `address` may have: its instance's names by each zone's
        template and its port's Neutron external-DNS name."""
        h = self.holders.get(address)
        if h is None:
            return set()
        names = set()
        if h.port is not None and h.port.dns_name and h.port.dns_domain:
            names.add(absolute(f"{h.port.dns_name}.{h.port.dns_domain}"))
        net = self.live_nets.get(h.instance_uuid) if h.instance_uuid else None
        if net is not None:
            for t in self.templates.values():
                n = t.render(net, address)
                if n:
                    names.add(n)
        return names

    def instances_named(self, name: str, address: str) -> list[InstanceNetwork]:
        """The instances (live or deleted) whose names the template of `name`'s zone maps
        to `name` (for the record's address)."""
        zone = self.zone_of(name)
        t = None if zone is None else self.templates.get(zone)
        if t is None:
            return []
        found = {}
        for var, value in t.parse(name).items():
            if var in ("hostname", "display_name", "instance_id") and value:
                for n in self.named(value.lower()):
                    if t.render(n, address) == name:
                        found[n.uuid] = n
        return [found[u] for u in sorted(found)]


def _canon(address: str) -> str:
    if ":" not in address:
        # not IPv6: a valid IPv4 address is its own canonical text, an invalid one is kept
        return address
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


def dns_index(snap: Snapshot) -> DnsIndex:
    idx = snap.memo.get("dns_index")
    if idx is None:
        idx = snap.memo["dns_index"] = DnsIndex(weakref.proxy(snap))
    return idx


def with_neutron(snap: Snapshot, out: CheckOutput) -> DnsIndex | None:
    """The index, or None after saying Neutron is partial: without all of Neutron's
    subnets and addresses no record can be told OpenStack's or held."""
    idx = dns_index(snap)
    if not idx.neutron_complete:
        reason = next(
            snap.why_incomplete(k, NEUTRON_SCOPE) for k in NEUTRON_KINDS if not snap.is_complete(k, NEUTRON_SCOPE)
        )
        out.inconclusive(NEUTRON_SCOPE, reason)
        return None
    for z in idx.zone_names:
        if z not in idx.complete_zones:
            out.inconclusive(zone_scope(z), idx.zone_reason(z))
    return idx


def judged_address(idx: DnsIndex, r: Any) -> str | None:
    """The OpenStack address a record is about (an A/AAAA's data, a PTR's owner), or None."""
    address = r.data if r.type in ADDRESS_TYPES else ptr_address(r.name) if r.type == "PTR" else None
    if address is None or idx.subnet_of(address) is None:
        return None
    return address
