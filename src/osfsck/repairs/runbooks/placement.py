"""Runbooks for the Placement findings, with the upstream commands that settle them
(OpenStackClient's osc-placement plugin, `nova-manage placement`)."""

from __future__ import annotations

from osfsck.model.finding import Finding
from osfsck.repairs.base import Runbook
from osfsck.repairs.runbooks import steps

_API = (
    "To let osfsck do this, give [placement] API settings (cloud = a clouds.yaml cloud, or OS_CLOUD; auth_url, "
    'username, password_env, project_name; or endpoint and auth = "none" for a noauth2 placement-api): '
    "`osfsck repair --unsafe` then does it."
)


class OrphanAllocationRunbook(Runbook):
    name = "orphan-allocation-runbook"

    def text(self, f: Finding) -> str:
        c = f.subject.id
        return steps(
            f"Confirm the consumer is no server and no migration in progress: `openstack server show {c}` and "
            f"`openstack server migration list --migration-type ...` find nothing live; `openstack resource provider "
            f"allocation show {c}` shows what it holds.",
            f"Delete its allocations: `openstack resource provider allocation delete {c}`, or let Nova decide: "
            "`nova-manage placement audit --verbose --delete` (it does not guard builds in progress: run it when "
            "no build is scheduled).",
            _API,
        )


class MissingAllocationRunbook(Runbook):
    name = "missing-allocation-runbook"

    def text(self, f: Finding) -> str:
        inst = f.evidence.get("instance") or {}
        return steps(
            f"Confirm: `openstack resource provider allocation show {f.subject.id}` is empty and "
            f"`openstack server show {f.subject.id}` shows it settled on {inst.get('host')}.",
            f"If its compute node has no provider, restart nova-compute on {inst.get('host')} (it creates it).",
            f"Heal it as Nova does: `nova-manage placement heal_allocations --instance {f.subject.id} --verbose`.",
            _API,
        )


class AllocationOnWrongProviderRunbook(Runbook):
    name = "allocation-on-wrong-provider-runbook"

    def text(self, f: Finding) -> str:
        inst = f.evidence.get("instance") or {}
        return steps(
            f"Confirm where the guest runs (`openstack server show {f.subject.id} -c OS-EXT-SRV-ATTR:host`: "
            f"{inst.get('host')}) and what it holds: `openstack resource provider allocation show {f.subject.id}`.",
            f"Rewrite it against its compute node: `openstack resource provider allocation set {f.subject.id} "
            "--project-id <project> --user-id <user> --allocation rp=<node uuid>,VCPU=..,MEMORY_MB=..,DISK_GB=..` "
            "(or delete it and run `nova-manage placement heal_allocations --instance ...`).",
            _API,
        )


class OrphanResourceProviderRunbook(Runbook):
    name = "orphan-resource-provider-runbook"

    def text(self, f: Finding) -> str:
        ev = f.evidence
        return steps(
            f"Confirm no nova-compute reports it: `openstack hypervisor list` lacks {ev.get('provider', {}).get('name')}"
            f" and `openstack compute service list --service nova-compute` lists no such host.",
            f"Settle what it still holds first: `openstack resource provider show {f.subject.id} --allocations` "
            "(orphan allocations, instances on the wrong provider) and its children "
            f"(`openstack resource provider list --in-tree {f.subject.id}`).",
            f"Delete it: `openstack resource provider delete {f.subject.id}` (children first).",
            _API,
        )
