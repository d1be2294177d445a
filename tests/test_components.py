"""A direction is compiled per component of policies whose subjects can meet
(``compile/components.py``): one component past its work budget fails closed alone, and the others
are converted exactly as if it were not in the input."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, assume, given, seed, settings
from hypothesis import strategies as st

from calico2cilium.compile import plan
from calico2cilium.compile.components import components
from calico2cilium.compile.ordering import PolicySpec, TierSpec
from calico2cilium.convert import convert
from calico2cilium.plan import PolicyPlan
from calico2cilium.semantics.world import Assumptions
from calico2cilium.sets.budget import WorkBudgetExceeded
from calico2cilium.sets.labels import KeyConstraint, LabelCube, LabelSet
from calico2cilium.verify.api import verify
from calico_strategies import NAMESPACES, Scenario, dump, scenarios
from helpers import verify_explained
from test_convert_differential import OUTSIDE_THE_PROOF, changed

NS = "projectcalico.org/namespace"


def _spec(*cubes: LabelCube) -> PolicySpec:
    return PolicySpec(LabelSet.of(cubes))


def _in(namespace: str, **labels: str) -> LabelCube:
    return LabelCube.of(
        {NS: KeyConstraint.eq(namespace), **{k: KeyConstraint.eq(v) for k, v in labels.items()}}
    )


def _sizes(parts: Sequence[Sequence[TierSpec]]) -> list[list[int]]:
    return [[len(t.policies) for t in part] for part in parts]


def test_policies_of_other_namespaces_are_apart_and_a_broad_subject_joins_them() -> None:
    a, b, a2 = _spec(_in("a", app="web")), _spec(_in("b")), _spec(_in("a", app="db"))
    tiers = [TierSpec(policies=(a, b)), TierSpec(policies=(a2,))]
    parts = components(tiers)
    assert _sizes(parts) == [[1], [1], [1]]  # app == web and app == db cannot meet either
    assert parts[0][0].policies == (a,) and parts[1][0].policies == (b,)
    wide = _spec(LabelCube.of({"team": KeyConstraint.in_(["x"])}))  # a global policy: meets all
    assert _sizes(components([*tiers, TierSpec(policies=(wide,))])) == [[2, 1, 1]]
    whole_a = _spec(_in("a"))  # meets both of namespace a: they join, in their tiers' order
    assert components([*tiers, TierSpec(policies=(whole_a,))]) == [
        [TierSpec(policies=(a,)), TierSpec(policies=(a2,)), TierSpec(policies=(whole_a,))],
        [TierSpec(policies=(b,))],
    ]


def test_one_component_is_the_input_itself() -> None:
    tiers = [TierSpec(policies=(_spec(_in("a")), _spec(_in("a", app="x"))))]
    assert components(tiers) == [tiers]
    assert components([]) == [[]]


@contextmanager
def _exhausted(namespace: str) -> Iterator[None]:
    """The work budget of every part holding a policy of ``namespace`` runs out at once."""

    def check(tiers: Sequence[TierSpec]) -> None:
        for tier in tiers:
            for spec in tier.policies:
                if isinstance(spec.provenance, PolicyPlan) and spec.provenance.policy.namespace == namespace:
                    raise WorkBudgetExceeded(0, spec.provenance)

    structural, ordering = plan._structural, plan.compile_ordering

    def forced_structural(policies: Any, tiers: list[TierSpec], *args: Any) -> Any:
        check(tiers)
        return structural(policies, tiers, *args)

    def forced_ordering(tiers: list[TierSpec]) -> Any:
        check(tiers)
        return ordering(tiers)

    with (
        mock.patch.object(plan, "_structural", forced_structural),
        mock.patch.object(plan, "compile_ordering", forced_ordering),
    ):
        yield


def _governs(doc: dict[str, Any], namespace: str) -> bool:
    kind, meta = doc.get("kind", ""), doc.get("metadata", {})
    return (
        kind.endswith("NetworkPolicy")
        and kind != "GlobalNetworkPolicy"
        and meta.get("namespace") == namespace
    )


EXAMPLES = int(os.environ.get("C2C_DIFFTEST_EXAMPLES", "25"))


@st.composite
def _namespaced(draw: st.DrawFn) -> tuple[Scenario, str]:
    """A generated policy set of namespaced policies only (in both namespaces) and the namespace
    whose component runs out of budget."""
    scenario = draw(scenarios())
    docs = [d for d in scenario.docs if d["kind"] != "GlobalNetworkPolicy"]
    spaces = {d["metadata"].get("namespace") for d in docs if d["kind"] == "NetworkPolicy"}
    assume(spaces == set(NAMESPACES))
    return Scenario(docs, scenario.pod_cidrs, scenario.node_cidrs, scenario.cilium_version), draw(
        st.sampled_from(NAMESPACES)
    )


@seed(int(os.environ.get("C2C_DIFFTEST_SEED", "1")))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)
@given(_namespaced())
def test_a_component_past_its_budget_leaves_the_others_exact(case: tuple[Scenario, str]) -> None:
    scenario, victim = case
    pods, nodes, version = scenario.pod_cidrs, scenario.node_cidrs, scenario.cilium_version
    major, minor = (int(x) for x in version.split("."))
    assumptions = Assumptions(pod_cidrs=pods, node_cidrs=nodes, cilium_version=(major, minor))

    def run(docs: list[dict[str, Any]]) -> Any:
        return convert(
            text=dump(docs), name="in.yaml", pod_cidrs=pods, node_cidrs=nodes, cilium_version=version
        )

    with _exhausted(victim):
        forced = run(scenario.docs)
    text = scenario.text
    assert "C2C350" in [d.code for d in forced.diagnostics], text
    # The whole output fails closed: Cilium allows nothing Calico denies.
    proof = verify_explained(forced, assumptions)
    outside = proof.unsupported and all(
        any(reason in str(u) for reason in OUTSIDE_THE_PROOF) for u in proof.unsupported
    )
    allowed = ("narrowed", "equivalent", "incomplete") if outside else ("narrowed", "equivalent")
    assert proof.status in allowed, text + proof.render_text()
    # The rest is what converting the input without the victim's policies gives, document for
    # document, and (when that conversion is clean) proven equivalent to that input.
    rest = run([d for d in scenario.docs if not _governs(d, victim)])
    kept = [d for d in forced.documents if d.get("metadata", {}).get("namespace") != victim]
    assert kept == [d for d in rest.documents if d.get("metadata", {}).get("namespace") != victim], text
    if not changed(rest) and not [d for d in rest.diagnostics if d.code == "C2C309"]:
        exact = verify(rest.loaded, kept, assumptions)
        assert exact.status == "equivalent", text + "\n" + dump(kept) + exact.render_text()
