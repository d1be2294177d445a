"""``CalicoProgram.decide`` and ``CiliumProgram.decide`` on a set of flows at once, as bitsets.

A set of flows is anything with ``valid`` (the bits of its flows) and ``eval`` (a formula's bits:
``verify.bitsets.Space``). The result partitions ``valid`` by verdict: each part is the flows one
rule (or default) decides, with the ``Verdict`` the per-flow ``decide`` returns for each of them,
reference included. The concrete engine reads only which bits are allowed; the flow replay
(``verify.flowbits``) reads the references too.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Protocol

from calico2cilium.semantics.expr import Expr
from calico2cilium.semantics.program import (
    CalicoPolicy,
    CalicoProgram,
    CiliumPolicy,
    CiliumProgram,
    Ref,
    Verdict,
)

Decisions = list[tuple[int, Verdict]]
"""Disjoint bitsets covering the flows, each with the verdict of its flows."""


class FlowSet(Protocol):
    @property
    def valid(self) -> int: ...

    def eval(self, expr: Expr) -> int: ...


def allowed_bits(decisions: Decisions) -> int:
    out = 0
    for mask, verdict in decisions:
        if verdict.allowed:
            out |= mask
    return out


def _decide(out: Decisions, flows: FlowSet, formula: Expr, undecided: int, verdict: Verdict) -> int:
    """Give ``verdict`` to the undecided flows ``formula`` holds for; the flows still undecided."""
    hit = flows.eval(formula) & undecided if undecided else 0
    if hit:
        out.append((hit, verdict))
    return undecided ^ hit


def calico_decisions(
    program: CalicoProgram, candidates: Sequence[tuple[int, CalicoPolicy]], flows: FlowSet
) -> Decisions:
    """``CalicoProgram.decide`` on every flow of ``flows``; ``candidates``: (tier, policy) of every
    policy that may select their subject, in program order."""
    out: Decisions = []
    undecided = _decide(out, flows, program.always_allow, flows.valid, Verdict(True, program.always_ref))
    undecided = _decide(out, flows, program.always_deny, undecided, Verdict(False, program.deny_ref))
    for t, group in groupby(candidates, key=lambda c: c[0]):
        if not undecided:
            break
        applying = [(p, sel) for _, p in group if (sel := flows.eval(p.selects) & undecided)]
        pending = 0  # flows the tier applies to, no rule of it matched yet
        for _, sel in applying:
            pending |= sel
        for policy, sel in applying:
            for rule in policy.rules:
                live = sel & pending
                if not live:
                    break
                matched = flows.eval(rule.match) & live
                if matched:
                    pending ^= matched
                    if rule.action != "Pass":  # Pass: still undecided, on to the next tier
                        out.append((matched, Verdict(rule.action == "Allow", rule.ref)))
                        undecided ^= matched
        tier = program.tiers[t]
        if pending and not tier.pass_by_default:
            # The tier's end: the policy's own end when one policy of the tier selects the flow.
            seen = several = 0
            for _, sel in applying:
                several |= seen & sel
                seen |= sel
            for policy, sel in applying:
                alone = sel & pending & ~several
                if alone:
                    out.append((alone, Verdict(False, policy.end_ref)))
            if shared := pending & several:
                out.append((shared, Verdict(False, tier.end_ref)))
            undecided &= ~pending
    if undecided:
        out.append((undecided, Verdict(program.profile_allows, program.profile_ref)))
    return out


def cilium_decisions(program: CiliumProgram, candidates: Sequence[CiliumPolicy], flows: FlowSet) -> Decisions:
    """``CiliumProgram.decide`` on every flow of ``flows``; ``candidates``: every policy that may
    select their subject, in program order."""
    out: Decisions = []
    undecided = _decide(out, flows, program.always_allow, flows.valid, Verdict(True, program.always_ref))
    applying = [(p, sel) for p in candidates if (sel := flows.eval(p.selects) & undecided)]
    # The first matching deny rule, then the first matching allow rule, in policy and rule order.
    for is_allow in (False, True):
        for policy, sel in applying:
            for rule in policy.allows if is_allow else policy.denies:
                matched = flows.eval(rule.match) & sel & undecided
                if matched:
                    out.append((matched, Verdict(is_allow, rule.ref)))
                    undecided ^= matched
    for policy, sel in applying:
        if policy.default_deny and (enforced := sel & undecided):
            first = policy.ref
            ref = Ref("cilium", f"default deny ({first.what})", first.doc, first.path)
            out.append((enforced, Verdict(False, ref)))
            undecided ^= enforced
    if undecided:
        out.append((undecided, Verdict(True, program.open_ref)))
    return out
