"""The concrete engine agrees with the symbolic proof on every fixture (issue 4, "Done when").

For each fixture whose case says ``verify: equivalent`` (``test_fixtures.py`` has the symbolic
proof), the conversion is run through the concrete engine over a generated, seeded inventory
(``fixture_inventory.py``: pods in the namespaces the fixture mentions with the labels its
selectors mention, two nodes inside ``nodeCIDRs``, external addresses at the edges of every CIDR
it mentions): the verdict tables of both sides must not differ anywhere.
"""

from __future__ import annotations

import pytest

from calico2cilium.verify.api import verify, verify_inventory
from fixture_inventory import OTHER, case_names, generated_inventory, load_case, mentions_of

pytestmark = pytest.mark.slow  # not in make quick (tests/conftest.py)

CASES = case_names("equivalent")


def test_there_are_equivalent_fixtures() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize("name", CASES)
def test_concrete_engine_agrees_with_the_proof(name: str) -> None:
    case = load_case(name)
    assert verify(case.result.loaded, case.documents, case.assumptions).status == "equivalent"
    inventory = generated_inventory(case)
    concrete = verify_inventory(case.result.loaded, case.documents, inventory, case.assumptions)
    assert concrete.flows > 0
    assert concrete.equivalent, concrete.render_text()
    # The inventory exercises the policy: Calico both allows and denies some of its flows.
    cells = {
        verdict
        for subjects in concrete.calico.values()
        for peers in subjects.values()
        for probes in peers.values()
        for verdict in probes.values()
    }
    assert cells == {"allow", "deny"}, f"the inventory does not tell the verdicts apart: {cells}"


@pytest.mark.parametrize("name", CASES)
def test_generated_inventory_is_deterministic_and_inside_the_cluster(name: str) -> None:
    case = load_case(name)
    inventory = generated_inventory(case)
    assert inventory == generated_inventory(case)
    a = case.assumptions
    mentions = mentions_of([*case.raw, *case.documents])
    assert set(inventory.namespaces) >= (mentions.namespaces | {OTHER})
    assert {p.namespace for p in inventory.pods} == set(inventory.namespaces)
    for pod in inventory.pods:
        assert all(any(ip in n for n in a.pod_nets) for ip in pod.ips), pod
        assert pod.node in inventory.nodes
    for ips in inventory.nodes.values():
        assert all(any(ip in n for n in a.node_nets) for ip in ips) or not a.node_cidrs
    cluster = [*a.pod_nets, *a.node_nets]
    assert inventory.external and not any(ip in n for ip in inventory.external for n in cluster)
    # Every label set a selector requires is carried by some pod.
    carried = [dict(p.labels) for p in inventory.pods]
    for _, witness in mentions.witnesses:
        assert witness in carried, witness
