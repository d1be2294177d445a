"""The Calico side read with its shortcuts (rule sides indexed against the groups of network sets
and host endpoints and remembered, one host program reading per set of node labels) is the plain
reading: every rule side against every group, every host endpoint against every policy
(``read_calico_side(indexed=False)``), on random policy sets with random sets and host endpoints,
and on the realistic mix."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calico2cilium.semantics.calico import CalicoSide, read_calico_side
from calico2cilium.semantics.program import PlainDocument
from calico2cilium.verify.bench import MIX_ASSUMPTIONS
from calico_strategies import NAMESPACES, POD_KEYS, VALUES, policy_sets

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "realistic_mix.py"
HEP_KEYS = (*POD_KEYS, "projectcalico.org/namespace")
"""Host endpoint labels from the pod vocabulary, and one a user may set though Calico adds it to
workloads and namespaced sets: an index must not take its absence for granted."""


def _hep(i: int, labels: dict[str, str], addresses: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "projectcalico.org/v3",
        "kind": "HostEndpoint",
        "metadata": {"name": f"h{i}", "labels": labels},
        "spec": {"node": f"n{i}", "interfaceName": "*", "expectedIPs": addresses},
    }


HEPS = st.lists(
    st.tuples(
        st.dictionaries(st.sampled_from(HEP_KEYS), st.sampled_from(VALUES + NAMESPACES), max_size=2),
        st.lists(
            st.sampled_from(["10.0.0.1", "10.0.0.2", "10.244.5.7", "192.0.2.9"]), min_size=1, max_size=2
        ),
    ),
    max_size=4,
)


def _shape(side: CalicoSide) -> Any:
    """Everything a read gives the checks (the programs' formulas, decision chains and notes)."""
    return (
        side.programs,
        side.members,
        side.hosts,
        side.unsupported,
        side.invalid,
        [(s.key, s.unsupported) for s in side.host_subjects],
    )


def _same(docs: list[dict[str, Any]]) -> None:
    located = [PlainDocument(d) for d in docs]
    indexed = read_calico_side(located, MIX_ASSUMPTIONS)
    plain = read_calico_side(located, MIX_ASSUMPTIONS, indexed=False)
    assert _shape(indexed) == _shape(plain)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy_sets(), HEPS)
def test_the_indexed_read_is_the_plain_read(docs: list[dict[str, Any]], heps: list[Any]) -> None:
    _same(docs + [_hep(i, labels, addresses) for i, (labels, addresses) in enumerate(heps)])


def test_the_indexed_read_of_the_realistic_mix_is_the_plain_read() -> None:
    import yaml

    spec = importlib.util.spec_from_file_location("realistic_mix", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _same([d for d in yaml.safe_load_all(module.generate(400, seed=1)) if d])


def test_a_namespace_label_of_a_namespaced_set_is_not_ruled_out() -> None:
    """A namespaced set's ``pcns.`` labels are its namespace's, unknown to the read (a formula,
    not a constant): a side requiring ``env == 'prod'`` of the namespace still selects the set."""
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": "NetworkSet",
            "metadata": {"name": "s", "namespace": "ns1", "labels": {"app": "a"}},
            "spec": {"nets": ["192.0.2.0/24"]},
        },
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": "GlobalNetworkPolicy",
            "metadata": {"name": "p"},
            "spec": {
                "selector": "all()",
                "types": ["Ingress"],
                "ingress": [
                    {
                        "action": "Allow",
                        "source": {"namespaceSelector": "env == 'prod'", "selector": "app == 'a'"},
                    }
                ],
            },
        },
    ]
    _same(docs)
    side = read_calico_side([PlainDocument(d) for d in docs], MIX_ASSUMPTIONS)
    assert "192.0.2.0/24" in repr(side.programs["ingress"].tiers[0].policies[0].rules[0].match)
