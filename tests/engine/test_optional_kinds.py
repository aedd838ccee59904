"""Check.uses: kinds a check reads when their source is configured (the hypervisors' domains
as evidence of a stuck task), never a reason to skip the check or to fail the run."""

from osfsck.checks.base import Check
from osfsck.config.rabbitmq import Broker, RabbitSettings
from osfsck.config.settings import Database, NovaSettings, Settings
from osfsck.engine import wiring
from osfsck.model.facts.hypervisor import Domain
from osfsck.model.facts.nova import Instance
from osfsck.model.facts.rpc import RabbitQueue

NOVA_ONLY = Settings(nova=NovaSettings(api_database=Database("sqlite:///nova_api.sqlite")))


class UsesDomainsAndQueues(Check):
    """Test double."""

    code, name = "ZZ901", "uses-optional-kinds"
    needs = (Instance,)
    uses = (Domain, RabbitQueue)


def test_a_check_whose_used_kinds_have_no_source_still_runs():
    kept, skipped = wiring.runnable_checks(NOVA_ONLY, [UsesDomainsAndQueues()], explicit=True)
    assert [c.code for c in kept] == ["ZZ901"] and skipped == []


def test_used_kinds_are_collected_only_where_their_source_is_configured():
    check = UsesDomainsAndQueues()
    # the hypervisor source is built from [hypervisors], which always exists (when
    # libvirt-python is installed); RabbitMQ is not configured
    kinds = wiring.optional_kinds(NOVA_ONLY, [check])
    assert RabbitQueue not in kinds and kinds <= {Domain}
    # and building the sources for them is no configuration error
    names = {s.name for s in wiring.build_sources(NOVA_ONLY, wiring.needed_kinds([check]) | kinds)}
    assert "nova-db" in names and "rabbitmq" not in names
    with_rabbit = Settings(nova=NOVA_ONLY.nova, rabbitmq=RabbitSettings(brokers=(Broker("b", "http://r:15672", "u"),)))
    assert RabbitQueue in wiring.optional_kinds(with_rabbit, [check])


def test_a_kind_both_needed_and_used_counts_as_needed():
    class Both(UsesDomainsAndQueues):
        code, name = "ZZ902", "needs-and-uses"
        needs = (Instance, RabbitQueue)

    kept, skipped = wiring.runnable_checks(NOVA_ONLY, [Both()], explicit=False)
    assert kept == [] and skipped[0][0] == "ZZ902" and "[rabbitmq]" in skipped[0][2]
    assert RabbitQueue not in wiring.optional_kinds(NOVA_ONLY, [Both()])
