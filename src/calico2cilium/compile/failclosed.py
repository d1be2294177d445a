"""Fail closed at the smallest unit: what cannot be converted costs a rule, never its policy.

Dropping a whole policy takes its pods out of Cilium's default deny, so Cilium would allow what
Calico denied (issue 15, item 1). Instead, every refusal here keeps the policy's subjects selected
in their directions and changes the rules only in ways that can make Cilium deny more, never less:

* a refused **Allow** rule is left out: the flows it allowed fall to the later rules or the end of
  the tier, so at worst they are denied;
* a refused **Deny** or **Pass** rule becomes a **Deny** of a wider region: the rule with the
  criteria that cannot be said dropped (the peer side, then its L4 part, then its own side; each
  drop only widens the region). A Pass sends flows to later tiers, which may allow them or not, so
  denying them is also on the safe side;
* a policy whose **subject** cannot be said keeps a wider subject (string tests dropped from its
  selectors, the service-account selector dropped; else every pod of its namespace, or every pod)
  with only its Deny and Pass rules, as Denies: the pods it does not really select are only ever
  denied more, and its Allow rules, which could allow those pods what Calico denies, are left out;
* a policy in a **tier that is not in the input** has an unknown place in the order, and the
  tier's end may deny whatever its other policies do not allow: its subjects are denied everything
  in the directions it governs (a tier before all others, with no rules).

Each narrowing is a diagnostic with ``narrowing=True``, naming the rule and what Cilium now denies.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from calico2cilium import ir
from calico2cilium.calico.selector import (
    Contains,
    EndsWith,
    Selector,
    SelectorError,
    StartsWith,
    from_dnf,
    to_dnf,
)
from calico2cilium.compile import labelspace as ls
from calico2cilium.sets import Inexpressible

UNKNOWN_TIER_ORDER: Final = float("-inf")
"""Where a policy of a tier missing from the input is placed: before every tier."""

_STRING_TESTS = (Contains, StartsWith, EndsWith)


def widened_rules(rule: ir.Rule, direction: ir.Direction) -> list[tuple[ir.Rule, str]]:
    """Deny rules whose regions hold ``rule``'s, narrowest first, each with what was dropped."""
    ingress = direction is ir.Direction.INGRESS
    remote, local = ("source", "destination") if ingress else ("destination", "source")

    def deny(*, peer: bool = False, own: bool = False, l4: bool = False) -> ir.Rule:
        """``rule`` as a Deny without its peer side, its own side and/or its L4 part."""
        source, destination = rule.source, rule.destination
        if (peer and ingress) or (own and not ingress):
            source = ir.Peer()
        if (peer and not ingress) or (own and ingress):
            destination = ir.Peer()
        return replace(
            rule,
            action=ir.Action.DENY,
            http=None,
            ip_version=None,
            source=source,
            destination=destination,
            l4=ir.L4Match() if l4 else rule.l4,
        )

    return [
        (deny(peer=True), f"its {remote}"),
        (deny(l4=True), "its protocol and ports"),
        (deny(peer=True, l4=True), f"its {remote}, protocol and ports"),
        (deny(peer=True, own=True), f"its {remote} and {local}"),
        (deny(peer=True, own=True, l4=True), "every criterion"),
    ]


def _without_string_tests(selector: Selector) -> Selector:
    """A selector matching everything ``selector`` matches: every string test (either sign) is
    taken as true, so each alternative of its normal form only loses conditions."""
    dnf = to_dnf(selector)
    return from_dnf(tuple(lit for lit in conj if not isinstance(lit.atom, _STRING_TESTS)) for conj in dnf)


def widened_policy(policy: ir.Policy) -> tuple[ir.Policy, str]:
    """A policy selecting at least ``policy``'s pods, with a subject Cilium can say, and with only
    its Deny and Pass rules, as Denies; and words for what its subject became."""
    rules = {
        direction: None
        if (given := policy.rules(direction)) is None
        else tuple(
            replace(r, action=ir.Action.DENY) for r in given if r.action in (ir.Action.DENY, ir.Action.PASS)
        )
        for direction in ir.Direction
    }
    try:
        selector = _without_string_tests(policy.selector)
        namespaces = (
            None if policy.namespace_selector is None else _without_string_tests(policy.namespace_selector)
        )
        wider = replace(
            policy, selector=selector, namespace_selector=namespaces, service_account_selector=None
        )
        ls.pod_labels(wider.selector)
        if wider.namespace_selector is not None:
            ls.namespace_labels(wider.namespace_selector)
        what = f"pods matching {selector}"
    except (Inexpressible, SelectorError):
        wider = replace(policy, selector=_ALL, namespace_selector=None, service_account_selector=None)
        what = f"every pod of namespace {policy.namespace}" if policy.namespace else "every pod"
    return replace(wider, ingress=rules[ir.Direction.INGRESS], egress=rules[ir.Direction.EGRESS]), what


def closed_policy(policy: ir.Policy) -> ir.Policy:
    """``policy`` with no rules in the directions it governs: its subjects are denied everything."""
    return replace(
        policy,
        ingress=None if policy.ingress is None else (),
        egress=None if policy.egress is None else (),
    )


def unknown_tier(name: str) -> ir.Tier:
    """A stand-in for a tier missing from the input: first in the order, ending in Deny."""
    return ir.Tier(name, UNKNOWN_TIER_ORDER, ir.Action.DENY)


_ALL: Final = from_dnf(((),))
