"""The structure-preserving compile (issue 13; docs/design/structure-preserving-compile.md).

On every fixture: a Calico Deny rule that no earlier rule narrows (no earlier Allow, and no
earlier Pass of its tier, meets its region) is a Cilium deny rule, as written, in the output
policy named after its source policy; and every output spec says where it came from in its
``description``. That the outputs are exact is tests/test_fixtures.py's job (the verifier).
"""

from __future__ import annotations

from typing import Any

import pytest

from calico2cilium import ir
from calico2cilium.cilium.rulekit import expressible
from calico2cilium.compile.lower import DEFAULT_NAMESPACE, lower
from calico2cilium.compile.match import Ranges, policy_subject, rule_region
from calico2cilium.compile.plan import KNP_KIND
from calico2cilium.diagnostics.collector import Diagnostics
from calico2cilium.sets import Inexpressible
from calico2cilium.sets.regions import Cube
from test_fixtures import CASES, _run

_POLICY_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")


def _specs(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [*document.get("specs", []), *([document["spec"]] if "spec" in document else [])]


@pytest.mark.parametrize("name", CASES)
def test_every_output_spec_says_where_it_came_from(name: str) -> None:
    _, result = _run(name)
    for document in result.documents:
        if document["kind"] in _POLICY_KINDS:
            for spec in _specs(document):
                assert spec.get("description"), (document["metadata"]["name"], spec)


def _output(result: Any, policy: ir.Policy) -> dict[str, Any] | None:
    kind = "CiliumNetworkPolicy" if policy.scope is ir.Scope.NAMESPACED else "CiliumClusterwideNetworkPolicy"
    for document in result.documents:
        meta = document["metadata"]
        if (
            document["kind"] == kind
            and meta["name"] == policy.name
            and meta.get("namespace") == (policy.namespace if policy.scope is ir.Scope.NAMESPACED else None)
        ):
            return document
    return None


def _meets(a: list[Cube], b: list[Cube]) -> bool:
    return any(x.intersects(y) for x in a for y in b)


@pytest.mark.parametrize("name", CASES)
def test_unnarrowed_deny_rules_stay_deny_rules_of_their_policy(name: str) -> None:
    case, result = _run(name)
    options = case.get("options") or {}
    if "inventory" in options:
        pytest.skip("selectors expanded against an inventory are outside this check")
    assert result.loaded is not None
    lowered = lower(result.loaded.documents, DEFAULT_NAMESPACE, None)
    cluster = Ranges.of(result.cluster, tuple(lowered.sets))
    tiers = {**ir.BUILTIN_TIERS, **lowered.tiers}
    target = result.cluster.target
    for direction in ir.Direction:
        rules: list[tuple[tuple[Any, ...], ir.Policy, int, ir.Rule, list[Cube]]] = []
        for policy in lowered.policies:
            tier = tiers.get(policy.tier)
            if tier is None or policy.rules(direction) is None:
                continue
            try:
                subject = policy_subject(policy).disjoint_cubes()
                regions = [
                    list(
                        rule_region(r, policy, direction, cluster, Diagnostics())
                        .restrict_subject(subject)
                        .cubes
                    )
                    for r in policy.rules(direction) or ()
                ]
            except Inexpressible:  # refused by the converter: not converted at all
                continue
            for index, (rule, region) in enumerate(zip(policy.rules(direction) or (), regions, strict=True)):
                rules.append(((tier.sort_key, policy.sort_key, index), policy, index, rule, region))
        rules.sort(key=lambda r: r[0])
        if any(r[3].http is not None for r in rules):
            continue  # such a direction takes the region form (design note, "Fallback")
        for position, (_, policy, _, rule, region) in enumerate(rules):
            if rule.action is not ir.Action.DENY or policy.kind == KNP_KIND or not region:
                continue
            narrowed = any(
                (r.action is ir.Action.ALLOW or (r.action is ir.Action.PASS and p.tier == policy.tier))
                and _meets(reg, region)
                for _, p, _, r, reg in rules[:position]
            )
            if narrowed:
                continue
            document = _output(result, policy)
            assert document is not None, policy.origin.resource
            label = f"{policy.name} {rule.origin.path[0]}[{rule.origin.path[1]}] Deny"
            section = f"{direction.value}Deny"
            if expressible(region, target) is not None:
                continue  # no Cilium form as written (e.g. "every protocol but TCP")
            specs = [s for s in _specs(document) if label in s.get("description", "")]
            assert specs, f"{label} is not a deny rule of {document['metadata']['name']}"
            assert all(section in s for s in specs), label
            assert not any(f"{label} (narrowed" in s["description"] for s in specs), label
