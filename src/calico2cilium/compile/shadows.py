"""Rules and policies that decide nothing because of what comes before them (issue 15, item 5).

Calico evaluates first match: a rule whose whole region was already decided by earlier rules and
policies (an Allow, a Deny, an earlier tier's end) or passed to the next tier by an earlier Pass
never decides a flow. The ordering engine knows this exactly (``OrderingResult.decisions`` and
``passes`` hold only what each rule decided), so the conversion says it, naming the earlier rules
whose regions overlap the silent one, instead of emitting an empty shell without a word.
"""

from __future__ import annotations

from typing import Final

from calico2cilium import ir
from calico2cilium.compile.ordering import Action, OrderingResult, TierSpec
from calico2cilium.diagnostics import Diagnostic
from calico2cilium.diagnostics.catalog import make
from calico2cilium.sets.regions import Cube

NAMED: Final = 3
"""At most this many shadowing rules are named in one message."""


def _ref(spec_provenance: object) -> tuple[ir.Policy, ir.Rule] | None:
    policy = getattr(spec_provenance, "policy", None)
    rule = getattr(spec_provenance, "rule", None)
    if isinstance(policy, ir.Policy) and isinstance(rule, ir.Rule):
        return policy, rule
    return None


def shadowed(direction: ir.Direction, tiers: list[TierSpec], result: OrderingResult) -> list[Diagnostic]:
    """C2C351 for each rule that decides nothing although it matches some flow of its subjects,
    C2C352 instead for a policy none of whose rules decides anything in ``direction``."""
    spoke = {id(d.provenance) for d in (*result.decisions, *result.passes)}
    earlier: list[tuple[tuple[ir.Policy, ir.Rule], tuple[Cube, ...]]] = []
    out: list[Diagnostic] = []
    for tier in tiers:
        for policy_spec in tier.policies:
            subject_cubes = policy_spec.subject.disjoint_cubes()
            silent: list[tuple[ir.Rule, list[str]]] = []
            total = 0
            for rule_spec in policy_spec.rules:
                ref = _ref(rule_spec.provenance)
                if ref is None or rule_spec.action is Action.LOG:
                    continue
                total += 1
                region = tuple(rule_spec.match.restrict_subject(subject_cubes).cubes)
                if region and id(rule_spec.provenance) not in spoke:
                    silent.append((ref[1], _shadowers(region, earlier)))
                earlier.append((ref, region))
            if not silent:
                continue
            owner = policy_spec.provenance
            resource = getattr(getattr(owner, "policy", None), "origin", None)
            if total and len(silent) == total and resource is not None:
                names = sorted({n for _, shadows in silent for n in shadows})
                out.append(
                    make(
                        "C2C352",
                        f"{resource.resource} decides nothing in {direction.value}: every rule of it only"
                        f" matches traffic decided before it ({_said(names)}); in Calico it allows nothing"
                        " there, and its pods stay selected in the output (their default deny)",
                        resource.source,
                        hint="remove the policy, or reorder it before the rules that shadow it",
                    )
                )
                continue
            for rule, shadows in silent:
                out.append(
                    make(
                        "C2C351",
                        f"{rule.origin}: the rule decides nothing in {direction.value}: all the traffic it"
                        f" matches is decided before it ({_said(shadows)}); it is left out of the output",
                        rule.origin.source,
                        hint="remove the rule, or move it before the rules that shadow it",
                    )
                )
    return out


def _shadowers(
    region: tuple[Cube, ...], earlier: list[tuple[tuple[ir.Policy, ir.Rule], tuple[Cube, ...]]]
) -> list[str]:
    """The earlier rules whose regions overlap ``region`` (first ``NAMED``)."""
    names: list[str] = []
    for (_, rule), theirs in earlier:
        if any(a.intersects(b) for a in region for b in theirs):
            names.append(str(rule.origin))
            if len(names) == NAMED:
                break
    return names


def _said(names: list[str]) -> str:
    if not names:
        return "by the end of an earlier tier"
    return "overlapping " + ", ".join(names) + (" and others" if len(names) == NAMED else "")
