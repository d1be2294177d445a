"""Rules and policies that decide nothing because of what comes before them (issue 15, item 5).

Calico evaluates first match: a rule whose whole region was already decided by earlier rules and
policies (an Allow, a Deny, an earlier tier's end) or passed to the next tier by an earlier Pass
never decides a flow. The compile knows this exactly (the region walk's decisions and passes, or
the structural walk's ``Walk.reaches``), so the conversion says it, naming the earlier rules
whose regions overlap the silent one, instead of emitting an empty shell without a word.

The order is the output's: where a refused rule was widened into a Deny, a refused subject widened,
or a policy of a missing tier closed (``compile/failclosed.py``), the later rules it overlaps may
look silent although Calico's own rules let them decide. Such a rule is still left out (the wider
Deny takes its traffic in the output), but the message says why, and it counts as narrowing
(review5 finding 4): Cilium denies there what Calico's rule may have allowed.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from calico2cilium import ir
from calico2cilium.compile.ordering import Action, TierSpec
from calico2cilium.diagnostics import Diagnostic, Scope
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


def _own(resource: ir.Origin, direction: ir.Direction) -> Scope | None:
    """The scope of a narrowing finding on a policy as a whole that narrows only its own subjects
    in ``direction`` (``Diagnostic.scope``)."""
    return None if resource.source is None else Scope((resource.source,), (direction.value,))


def shadowed(
    direction: ir.Direction,
    tiers: list[TierSpec],
    spoke: Collection[int],
    widened: Collection[ir.Origin] = frozenset(),
    closed_tiers: bool = False,
) -> list[Diagnostic]:
    """C2C351 for each rule that decides nothing although it matches some flow of its subjects,
    C2C352 instead for a policy none of whose rules decides anything in ``direction``.
    ``widened``: the origins of rules the conversion made wider (refused and failing closed);
    ``closed_tiers``: a policy of a tier missing from the input was closed (its tier's end, first
    in the order, denies its subjects everything). ``spoke``: the ``id`` of every rule
    provenance that decides or passes on some flow."""
    earlier: list[tuple[tuple[ir.Policy, ir.Rule], tuple[Cube, ...]]] = []
    out: list[Diagnostic] = []
    for tier in tiers:
        for policy_spec in tier.policies:
            subject_cubes = policy_spec.subject.disjoint_cubes()
            silent: list[tuple[ir.Rule, list[str], list[str]]] = []
            live: set[ir.Origin] = set()  # a Kubernetes rule is several IR rules of one origin
            total = 0
            for rule_spec in policy_spec.rules:
                ref = _ref(rule_spec.provenance)
                if ref is None or rule_spec.action is Action.LOG:
                    continue
                total += 1
                region = tuple(rule_spec.match.restrict_subject(subject_cubes).cubes)
                if region and id(rule_spec.provenance) not in spoke:
                    shadows = _shadowers(region, earlier)
                    silent.append((ref[1], shadows[:NAMED], _artefacts(region, earlier, widened)))
                else:
                    live.add(ref[1].origin)
                earlier.append((ref, region))
            # A part of a rule shadowed by another part of it (overlapping ports or peers of one
            # Kubernetes NetworkPolicy rule) is no dead rule: the rule decides through that part.
            silent = [s for s in silent if s[0].origin not in live]
            if not silent:
                continue
            owner = policy_spec.provenance
            resource = getattr(getattr(owner, "policy", None), "origin", None)
            if total and len(silent) == total and resource is not None:
                names = sorted({n for _, shadows, _ in silent for n in shadows})
                causes = _causes([a for _, _, arts in silent for a in arts], closed_tiers, names)
                if causes:
                    out.append(
                        make(
                            "C2C352",
                            f"{resource.resource} decides nothing in {direction.value} in the output:"
                            f" {causes}; in Calico its rules may decide some of that traffic, which"
                            " Cilium now denies. Its pods stay selected in the output (their default"
                            " deny)",
                            resource.source,
                            hint="fix the refused rule; this policy then decides again",
                            narrowing=True,
                            # Its pods in this direction, not all its namespace could select (a
                            # finding positioned at a policy as a whole, read alone, says that).
                            scope=_own(resource, direction),
                        )
                    )
                    continue
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
            for rule, shadows, artefacts in silent:
                causes = _causes(artefacts, closed_tiers, shadows)
                if causes:
                    out.append(
                        make(
                            "C2C351",
                            f"{rule.origin}: the rule is left out of the output: {causes}; in Calico it"
                            f" may decide some of the {direction.value} traffic it matches, which Cilium"
                            " now denies",
                            rule.origin.source,
                            hint="fix the refused rule; this rule then decides again",
                            narrowing=True,
                        )
                    )
                    continue
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


def _artefacts(
    region: tuple[Cube, ...],
    earlier: list[tuple[tuple[ir.Policy, ir.Rule], tuple[Cube, ...]]],
    widened: Collection[ir.Origin],
) -> list[str]:
    """The earlier rules overlapping ``region`` that the conversion widened (refused, failing
    closed): in Calico they decide less, so ``region`` may not be shadowed there."""
    return [
        str(rule.origin)
        for (_, rule), theirs in earlier
        if rule.origin in widened and any(a.intersects(b) for a in region for b in theirs)
    ]


def _causes(artefacts: list[str], closed_tiers: bool, shadows: list[str]) -> str:
    """Why the output shadows a rule that Calico's own rules may not: a widened rule before it,
    or the closed end of a tier missing from the input. Empty when neither."""
    if artefacts:
        named = sorted(set(artefacts))
        more = " and others" if len(named) > NAMED else ""
        return (
            f"{', '.join(named[:NAMED])}{more} was refused and converted as a wider Deny (fails closed),"
            " which takes all the traffic this matches"
        )
    if closed_tiers and not shadows:
        return "a policy of a tier missing from the input denies its pods everything (fails closed) before it"
    return ""


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
