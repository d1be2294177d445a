"""Calico's first-match evaluation (tiers, policies, rules) compiled to exact allow/deny regions.

Semantics (docs/reference/semantics.md §1.2, for one direction):

* tiers in the given order; a tier in which no policy selects the subject is skipped entirely;
* inside a tier, policies and rules in the given order (the caller sorts: tier order, policy
  order, name); the first matching Allow or Deny decides, Pass jumps to the next tier, Log is
  non-terminal;
* a subject selected by a policy of the tier, whose flow no rule there matched, gets the tier's
  default action: Deny decides, Pass continues with the next tier;
* after the last tier, a flow of a subject selected by some policy ends in ``after_tiers``
  (Allow for pods: the namespace profile ``kns.<ns>`` allows everything);
* subjects selected by no policy at all are reported as ``unselected`` (Calico allows them; a
  Cilium policy must not select them in this direction).

The walk (DESIGN.md "One way to compile ordering exactly"): ``decided`` is a list of possibly
overlapping cubes covering every flow already decided by an earlier tier. Inside a tier, the
effective region of a rule is its region minus ``decided`` minus the regions of the earlier
(non-Log) rules of the tier, which were either decided or passed. Subtracting whole rule regions
instead of the fragmented effective pieces keeps the subtrahends few and large, and indexing them
by the subject key most policies pin (``sets/index.py``; usually the namespace) keeps thousands of
policies near linear.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from calico2cilium.sets.budget import working_on
from calico2cilium.sets.l4 import L4Set
from calico2cilium.sets.labels import LabelCube, LabelSet
from calico2cilium.sets.peers import all_peers
from calico2cilium.sets.regions import Cube, Flow, Region, cube_index, subject_key


class Action(enum.Enum):
    ALLOW = "Allow"
    DENY = "Deny"
    PASS = "Pass"
    LOG = "Log"


class DefaultAction(enum.Enum):
    """``Tier.spec.defaultAction``: what a selected subject gets when no rule of the tier matched."""

    DENY = "Deny"
    PASS = "Pass"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One rule: ``match`` is the rule's criteria (peer, L4, and any subject restriction); the
    engine intersects it with the policy's subject."""

    action: Action
    match: Region
    provenance: object = None


@dataclass(frozen=True, slots=True)
class PolicySpec:
    subject: LabelSet
    rules: tuple[RuleSpec, ...] = ()
    provenance: object = None


@dataclass(frozen=True, slots=True)
class TierSpec:
    default_action: DefaultAction = DefaultAction.DENY
    policies: tuple[PolicySpec, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class EndOfTier:
    """Provenance of a tier's default action."""

    tier: str
    index: int


@dataclass(frozen=True, slots=True)
class AfterTiers:
    """Provenance of the decision after the last tier (the profiles: ``kns.<ns>`` for pods)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """``region`` is the part of the flows this rule (or default) decided, passed or logged."""

    action: Action
    region: Region
    provenance: object


@dataclass(frozen=True, slots=True)
class OrderingResult:
    """An exact partition of all flows: ``allow``, ``deny``, and subjects in ``unselected`` (with
    every peer and L4 flow). ``decisions`` partition ``allow | deny`` by the rule that decided;
    ``passes`` and ``logs`` record what each Pass/Log rule saw (informational, may overlap
    decisions)."""

    allow: Region
    deny: Region
    unselected: LabelSet
    decisions: tuple[Decision, ...] = ()
    passes: tuple[Decision, ...] = ()
    logs: tuple[Decision, ...] = ()
    selected: LabelSet = field(default_factory=LabelSet.empty)

    def verdict(self, flow: Flow) -> Action | None:
        """``ALLOW``/``DENY``, or ``None`` when the subject is unselected."""
        if self.allow.contains(flow):
            return Action.ALLOW
        if self.deny.contains(flow):
            return Action.DENY
        return None

    def explain(self, flow: Flow) -> Decision | None:
        """The decision that covers ``flow`` (``None`` for an unselected subject)."""
        return next((d for d in self.decisions if d.region.contains(flow)), None)


def _everything(subjects: Iterable[LabelCube]) -> list[Cube]:
    """``subjects x every peer x every L4 flow``, one cube per subject cube and peer kind
    (disjoint when ``subjects`` are)."""
    everything = L4Set.all()
    return [Cube(s, p, everything) for s in subjects for p in all_peers()]


def compile_ordering(
    tiers: Sequence[TierSpec], *, after_tiers: Action = Action.ALLOW, simplify: bool = True
) -> OrderingResult:
    """Compile one direction's ordered tiers to an exact allow/deny partition (module docstring)."""
    if after_tiers not in (Action.ALLOW, Action.DENY):
        raise ValueError("after_tiers is ALLOW or DENY")

    def tidy(region: Region) -> Region:
        return region.simplify() if simplify else region

    # Index the cubes to subtract by the subject key most policies pin (usually the namespace).
    key = subject_key(c for tier in tiers for p in tier.policies for c in p.subject.cubes)
    decided = cube_index(key)
    decisions: list[Decision] = []
    passes: list[Decision] = []
    logs: list[Decision] = []
    selected_all: list[LabelCube] = []

    for index, tier in enumerate(tiers):
        tier_subjects: list[LabelCube] = []
        seen = cube_index(key)  # regions of the tier's Allow/Deny/Pass rules so far
        terminal: list[Cube] = []  # regions of its Allow/Deny rules
        passed = cube_index(key)  # flows passed to the next tier (disjoint pieces)
        for policy in tier.policies:
            if policy.subject.is_empty:
                continue
            working_on(policy.provenance)  # named if the work budget runs out (sets/budget.py)
            tier_subjects.extend(policy.subject.cubes)
            subject_cubes = policy.subject.disjoint_cubes()
            for rule in policy.rules:
                region = rule.match.restrict_subject(subject_cubes).cubes
                if not region:
                    continue
                effective = seen.subtract(decided.subtract(region))
                if rule.action is Action.LOG:
                    if effective:
                        logs.append(Decision(Action.LOG, tidy(Region(tuple(effective))), rule.provenance))
                    continue
                seen.add(region)
                if rule.action is Action.PASS:
                    passed.add(effective)
                    if effective:
                        passes.append(Decision(Action.PASS, tidy(Region(tuple(effective))), rule.provenance))
                    continue
                terminal.extend(region)
                if effective:
                    decisions.append(Decision(rule.action, tidy(Region(tuple(effective))), rule.provenance))
        if not tier_subjects:
            continue
        selected_all.extend(tier_subjects)
        subjects = LabelSet.of(tier_subjects).disjoint_cubes()
        if tier.default_action is DefaultAction.DENY:
            rest = seen.subtract(decided.subtract(_everything(subjects)))
            if rest:
                decisions.append(
                    Decision(Action.DENY, tidy(Region(tuple(rest))), EndOfTier(tier.name, index))
                )
            # Every selected flow is now decided except the passed ones.
            decided.add(passed.subtract(_everything(subjects)))
        else:
            decided.add(passed.subtract(terminal))

    selected = LabelSet.of(selected_all)
    rest = decided.subtract(_everything(selected.disjoint_cubes()))
    if rest:
        decisions.append(Decision(after_tiers, tidy(Region(tuple(rest))), AfterTiers()))
    allow = Region(tuple(c for d in decisions if d.action is Action.ALLOW for c in d.region.cubes))
    deny = Region(tuple(c for d in decisions if d.action is Action.DENY for c in d.region.cubes))
    return OrderingResult(
        allow=tidy(allow),
        deny=tidy(deny),
        unselected=selected.complement(),
        decisions=tuple(decisions),
        passes=tuple(passes),
        logs=tuple(logs),
        selected=selected,
    )
