"""The ordering engine against a brute-force first-match evaluator, on every flow of a small universe.

The evaluator below is written straight from docs/reference/semantics.md §1.2 and shares nothing with the engine
but cube membership: tiers in order; a tier none of whose policies selects the subject is skipped;
the first matching Allow/Deny decides; Pass leaves the tier; Log goes on; a selected subject that
matched no rule gets the tier's default; after the last tier, selected subjects get ``after``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from calico2cilium.compile import (
    Action,
    AfterTiers,
    DefaultAction,
    EndOfTier,
    OrderingResult,
    PolicySpec,
    RuleSpec,
    TierSpec,
    compile_ordering,
)
from calico2cilium.sets import Cube, KeyConstraint, L4Set, LabelCube, LabelSet, Region, from_calico
from calico2cilium.sets.peers import all_peers
from test_sets_universe import (
    ALL_FLOWS,
    SUBJECTS,
    FlowIx,
    label_cubes,
    raw_cubes,
    raw_flows,
    region_flows,
)


@dataclass(frozen=True)
class RawRule:
    action: Action
    cubes: list[Cube]


@dataclass(frozen=True)
class RawPolicy:
    subject: list[LabelCube]
    rules: list[RawRule]


@dataclass(frozen=True)
class RawTier:
    default: DefaultAction
    policies: list[RawPolicy]


actions = st.sampled_from([Action.ALLOW, Action.ALLOW, Action.DENY, Action.DENY, Action.PASS, Action.LOG])
rules = st.builds(RawRule, actions, raw_cubes(with_subject=True, max_size=2))
policies = st.builds(RawPolicy, st.lists(label_cubes, min_size=1, max_size=2), st.lists(rules, max_size=3))
tiers = st.lists(
    st.builds(RawTier, st.sampled_from(list(DefaultAction)), st.lists(policies, max_size=3)),
    min_size=1,
    max_size=3,
)


def to_specs(raw: list[RawTier]) -> list[TierSpec]:
    return [
        TierSpec(
            t.default,
            tuple(
                PolicySpec(
                    LabelSet.of(p.subject),
                    tuple(
                        RuleSpec(r.action, Region.of(r.cubes), (ti, pi, ri)) for ri, r in enumerate(p.rules)
                    ),
                    (ti, pi),
                )
                for pi, p in enumerate(t.policies)
            ),
            f"tier{ti}",
        )
        for ti, t in enumerate(raw)
    ]


@dataclass
class Brute:
    verdict: dict[FlowIx, tuple[Action | None, object]]
    logs: dict[object, set[FlowIx]]
    passes: dict[object, set[FlowIx]]


def brute_force(raw: list[RawTier], after: Action = Action.ALLOW) -> Brute:
    rule_flows = {
        (ti, pi, ri): raw_flows(r.cubes)
        for ti, t in enumerate(raw)
        for pi, p in enumerate(t.policies)
        for ri, r in enumerate(p.rules)
    }
    logs: dict[object, set[FlowIx]] = {}
    passes: dict[object, set[FlowIx]] = {}

    # applicable[ti][si]: the policies of tier ti selecting subject si, in order
    applicable = [
        [
            [(pi, p) for pi, p in enumerate(tier.policies) if any(c.matches(labels) for c in p.subject)]
            for labels in SUBJECTS
        ]
        for tier in raw
    ]

    def decide(flow: FlowIx) -> tuple[Action | None, object]:
        selected = False
        for ti, tier in enumerate(raw):
            if not applicable[ti][flow[0]]:
                continue
            selected = True
            passed = False
            for pi, policy in applicable[ti][flow[0]]:
                for ri, rule in enumerate(policy.rules):
                    rid = (ti, pi, ri)
                    if flow not in rule_flows[rid]:
                        continue
                    if rule.action is Action.LOG:
                        logs.setdefault(rid, set()).add(flow)
                        continue
                    if rule.action is Action.PASS:
                        passes.setdefault(rid, set()).add(flow)
                        passed = True
                        break
                    return rule.action, rid
                if passed:
                    break
            if not passed and tier.default is DefaultAction.DENY:
                return Action.DENY, ("end", ti)
        return (after, "after") if selected else (None, None)

    return Brute({f: decide(f) for f in ALL_FLOWS}, logs, passes)


def provenance_key(p: object) -> object:
    if isinstance(p, EndOfTier):
        return ("end", p.index)
    if isinstance(p, AfterTiers):
        return "after"
    return p


def check(raw: list[RawTier], result: OrderingResult, after: Action = Action.ALLOW) -> None:
    brute = brute_force(raw, after)
    allow, deny = region_flows(result.allow), region_flows(result.deny)
    unselected_subjects = {i for i, m in enumerate(SUBJECTS) if result.unselected.matches(m)}
    unselected = {f for f in ALL_FLOWS if f[0] in unselected_subjects}
    assert not allow & deny
    assert allow | deny | unselected == ALL_FLOWS
    assert not (allow | deny) & unselected
    assert allow == {f for f, (a, _) in brute.verdict.items() if a is Action.ALLOW}
    assert deny == {f for f, (a, _) in brute.verdict.items() if a is Action.DENY}
    assert unselected == {f for f, (a, _) in brute.verdict.items() if a is None}
    # provenance: decisions partition allow | deny, each flow attributed to the deciding rule
    owner: dict[FlowIx, object] = {}
    for d in result.decisions:
        for f in region_flows(d.region):
            assert f not in owner, "decisions overlap"
            owner[f] = provenance_key(d.provenance)
            assert brute.verdict[f][0] is d.action
    assert owner == {f: p for f, (a, p) in brute.verdict.items() if a is not None}
    for kind, records in (("log", result.logs), ("pass", result.passes)):
        got: dict[object, set[FlowIx]] = {}
        for d in records:
            assert not d.region.is_empty
            flows = region_flows(d.region)  # may be empty: the universe need not hold a point of it
            if flows:
                got.setdefault(d.provenance, set()).update(flows)
        assert got == (brute.logs if kind == "log" else brute.passes), kind


@settings(max_examples=120, deadline=None)
@given(tiers)
def test_engine_equals_first_match_brute_force(raw: list[RawTier]) -> None:
    check(raw, compile_ordering(to_specs(raw)))


@settings(max_examples=30, deadline=None)
@given(tiers)
def test_engine_without_simplification_and_host_style_end(raw: list[RawTier]) -> None:
    check(raw, compile_ordering(to_specs(raw), after_tiers=Action.DENY, simplify=False), Action.DENY)


# ------------------------------------------------------------------------------ the classic traps

X = LabelCube.of({"a": KeyConstraint.eq("x")})
EVERYTHING = Region.product(LabelCube.all(), all_peers(), L4Set.all())
TCP80 = Region.product(LabelCube.all(), all_peers(), from_calico(protocol="TCP", ports=[80]))
TCP = Region.product(LabelCube.all(), all_peers(), from_calico(protocol="TCP"))


def _tier(*policies: PolicySpec, default: DefaultAction = DefaultAction.DENY) -> TierSpec:
    return TierSpec(default, policies, "t")


def test_earlier_allow_beats_later_deny() -> None:
    policy = PolicySpec(
        LabelSet((X,)), (RuleSpec(Action.ALLOW, TCP80, "allow-80"), RuleSpec(Action.DENY, TCP, "deny-tcp"))
    )
    r = compile_ordering([_tier(policy)])
    assert r.allow.equivalent(TCP80.restrict_subject(LabelSet((X,))))
    assert (r.allow | r.deny).equivalent(EVERYTHING.restrict_subject(LabelSet((X,))))
    assert [d.provenance for d in r.decisions] == ["allow-80", "deny-tcp", EndOfTier("t", 0)]
    assert r.unselected == LabelSet((X,)).complement()


def test_policy_without_rules_denies_what_it_selects() -> None:
    r = compile_ordering([_tier(PolicySpec(LabelSet((X,))))])
    assert r.allow.is_empty
    assert r.deny.equivalent(EVERYTHING.restrict_subject(LabelSet((X,))))


def test_pass_out_of_the_last_tier_allows() -> None:
    passing = PolicySpec(LabelSet.all(), (RuleSpec(Action.PASS, EVERYTHING, "pass"),))
    r = compile_ordering([_tier(passing)])
    assert r.deny.is_empty and r.allow.equivalent(EVERYTHING)
    assert [d.provenance for d in r.decisions] == [AfterTiers()]
    assert r.unselected.is_empty


def test_tier_that_selects_nothing_is_skipped_and_pass_default_continues() -> None:
    deny_x = PolicySpec(LabelSet((X,)), (RuleSpec(Action.DENY, TCP80, "deny"),))
    quiet = _tier(PolicySpec(LabelSet((X,))), default=DefaultAction.PASS)  # selects, matches nothing
    later = _tier(deny_x)
    r = compile_ordering([quiet, later])
    assert r.deny.equivalent(EVERYTHING.restrict_subject(LabelSet((X,))))
    assert r.allow.is_empty
    # a first tier selecting only a != x does not affect x
    other = LabelSet((X,)).complement()
    r2 = compile_ordering([_tier(PolicySpec(other, (RuleSpec(Action.ALLOW, EVERYTHING, "all"),))), later])
    assert r2.allow.equivalent(EVERYTHING.restrict_subject(other))


def test_log_is_not_terminal_but_reported() -> None:
    policy = PolicySpec(
        LabelSet.all(), (RuleSpec(Action.LOG, TCP, "log"), RuleSpec(Action.ALLOW, TCP80, "ok"))
    )
    r = compile_ordering([_tier(policy)])
    assert r.allow.equivalent(TCP80)
    assert [d.provenance for d in r.logs] == ["log"] and r.logs[0].region.equivalent(TCP)


def test_named_ports_in_sequence_stay_exact() -> None:
    http = Region.product(LabelCube.all(), all_peers(), from_calico(protocol="TCP", ports=["http"]))
    dns = Region.product(LabelCube.all(), all_peers(), from_calico(protocol="TCP", ports=["dns"]))
    policy = PolicySpec(
        LabelSet.all(), (RuleSpec(Action.ALLOW, http, "http"), RuleSpec(Action.ALLOW, dns, "dns"))
    )
    r = compile_ordering([_tier(policy)])
    both = Region.product(LabelCube.all(), all_peers(), from_calico(protocol="TCP", ports=["http", "dns"]))
    assert r.allow == both.simplify()


# ------------------------------------------------------------------------------ the subject index


def _namespaced_workload(seed: int) -> list[TierSpec]:
    """Policies pinned to namespaces (what the index buckets on), with overlapping rules."""
    import random

    rng = random.Random(seed)
    ns_key = "projectcalico.org/namespace"
    l4s = [
        from_calico(protocol="TCP", ports=[80]),
        from_calico(protocol="TCP", ports=["http"]),
        from_calico(protocol="UDP"),
        L4Set.all(),
    ]
    policies = []
    for i in range(24):
        ns = f"ns{rng.randrange(6)}"
        subject = LabelCube.of(
            {ns_key: KeyConstraint.eq(ns), "app": KeyConstraint.in_([f"a{rng.randrange(3)}"])}
        )
        rules = []
        for j in range(rng.randrange(1, 4)):
            peer_ns = KeyConstraint.in_([f"ns{rng.randrange(6)}" for _ in range(rng.randrange(1, 3))])
            peer = (
                [all_peers()[0].__class__(LabelCube.of({ns_key: peer_ns}))]
                if rng.random() < 0.7
                else all_peers()
            )
            action = rng.choice([Action.ALLOW, Action.ALLOW, Action.DENY, Action.PASS])
            rules.append(RuleSpec(action, Region.product(LabelCube.all(), peer, rng.choice(l4s)), (i, j)))
        policies.append(PolicySpec(LabelSet((subject,)), tuple(rules), i))
    first = TierSpec(DefaultAction.PASS, tuple(policies[:8]), "first")
    second = TierSpec(DefaultAction.DENY, tuple(policies[8:]), "second")
    return [first, second]


def test_subject_index_does_not_change_results(monkeypatch: object) -> None:
    import pytest

    from calico2cilium.compile import ordering

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    for seed in range(3):
        tiers_ = _namespaced_workload(seed)
        indexed = compile_ordering(tiers_)
        monkeypatch.setattr(ordering, "subject_key", lambda cubes: None)
        plain = compile_ordering(tiers_)
        monkeypatch.undo()
        assert indexed.allow.equivalent(plain.allow)
        assert indexed.deny.equivalent(plain.deny)
        assert indexed.unselected == plain.unselected
        assert [d.provenance for d in indexed.decisions] == [d.provenance for d in plain.decisions]
        for a, b in zip(indexed.decisions, plain.decisions, strict=True):
            assert a.region.equivalent(b.region)
        assert (indexed.allow | indexed.deny).equivalent(
            Region.product(indexed.selected, all_peers(), L4Set.all())
        )
