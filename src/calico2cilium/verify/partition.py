"""Splitting the subjects of one direction into partitions with few policies each.

A policy's subject selector often *pins* a fact of the subject to one value or a few: a namespaced
policy its namespace, ``app == 'web'`` the ``app`` label. Choosing the fact pinned by most policies,
the subjects split into one partition per pinned value (keeping the policies that allow that value
or do not pin the fact) plus one for every other value or none (keeping only the policies that do
not pin it). A dropped policy selects no subject of the partition, so it can never apply there:
each side's decision is unchanged, and the two sides are equivalent iff they are in every
partition. Splitting recurses while it keeps shrinking the partitions.

Subjects left to a representative label value (``symmetry.py``) are excluded from a partition
only where one of the policies dropped for them could select its subjects; elsewhere the dropped
policies never apply, so the remaining programs decide as the complete ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from calico2cilium.semantics.expr import FALSE, SUBJECT, TRUE, And, Attr, Expr, Or, StrTest, and_, not_, or_
from calico2cilium.semantics.program import CalicoPolicy, CalicoProgram, CiliumPolicy, CiliumProgram

if TYPE_CHECKING:
    from calico2cilium.verify.symmetry import Exclusion

MIN_POLICIES = 6
"""Partitions with at most this many policies are not split further."""
MAX_DEPTH = 3
GROWTH = 1.5
"""A split may repeat policies across partitions, up to this factor of the partition's size."""


@dataclass
class Partition:
    constraint: Expr
    label: str
    calico: CalicoProgram
    cilium: CiliumProgram


Pins = dict[Attr, frozenset[str]]


def _eq_value(expr: Expr) -> tuple[Attr, str] | None:
    """``StrTest eq`` on a subject fact, possibly inside ``And(Present, StrTest)``."""
    if isinstance(expr, StrTest) and expr.op == "eq" and expr.attr.entity == SUBJECT:
        return expr.attr, expr.value
    if isinstance(expr, And):
        found = [v for a in expr.args if (v := _eq_value(a)) is not None]
        attrs = {attr for attr, _ in found}
        if len(found) == 1 or (len(attrs) == 1 and len({v for _, v in found}) == 1):
            return found[0]
    return None


def pins(selects: Expr) -> Pins:
    """The subject facts a selector requires to be one of a few values (sound under-reading)."""
    out: dict[Attr, frozenset[str]] = {}
    for term in selects.args if isinstance(selects, And) else (selects,):
        alternatives = term.args if isinstance(term, Or) else (term,)
        found = [_eq_value(a) for a in alternatives]
        if not found or any(f is None for f in found):
            continue
        attrs = {f[0] for f in found if f is not None}
        if len(attrs) != 1:
            continue
        attr = attrs.pop()
        values = frozenset(f[1] for f in found if f is not None)
        out[attr] = out[attr] & values if attr in out else values
    return out


def _label(attr: Attr, value: str | None) -> str:
    what = {"nsname": "namespace", "saname": "service account"}.get(attr.space)
    if what is None:
        what = {"pod": "label", "ns": "namespace label", "sa": "service-account label"}[
            attr.space
        ] + f" {attr.key}"
    return f"{what}={value}" if value is not None else f"{what}=(other)"


def partition(
    calico: CalicoProgram, cilium: CiliumProgram, exclusions: Sequence[Exclusion] = ()
) -> list[Partition]:
    """The partitions, each with the policies that may select its subjects and decide (a policy
    that selects nothing, such as a Calico policy of the other direction, is in none)."""
    calico = calico.restrict(_may_decide)
    cilium = cilium.restrict(_may_decide)
    every: list[CalicoPolicy | CiliumPolicy] = [*calico.policies, *cilium.policies]
    every.extend(p for e in exclusions for p in e.policies)
    pinned = {id(p): pins(p.selects) for p in every}
    return list(_split(calico, cilium, list(exclusions), pinned, TRUE, [], frozenset()))


def _may_decide(policy: CalicoPolicy | CiliumPolicy) -> bool:
    """Whether the policy can take part in a decision: it selects something and, for Cilium, has a
    rule or puts its subjects in default deny (a Cilium policy with neither, such as the ingress
    reading of an egress-only policy, adds nothing to the deny-wins union)."""
    if policy.unsupported:
        return True  # its partitions must say "unsupported"
    if policy.selects == FALSE:
        return False
    if isinstance(policy, CiliumPolicy):
        return bool(policy.allows or policy.denies or policy.default_deny)
    return True


def _leaf(
    constraint: Expr, label: str, calico: CalicoProgram, cilium: CiliumProgram, exclusions: list[Exclusion]
) -> Partition:
    return Partition(and_(constraint, *(e.formula for e in exclusions)), label, calico, cilium)


def _route(
    exclusions: list[Exclusion], pinned: dict[int, Pins], attr: Attr, values: list[str]
) -> dict[str | None, list[Exclusion]]:
    """The exclusions of each partition of a split on ``attr`` (``None``: its other values, which
    include values no policy left pins): those with a dropped policy that may select its subjects."""
    out: dict[str | None, list[Exclusion]] = {v: [] for v in [*values, None]}
    known = set(values)
    for exclusion in exclusions:
        targets: set[str | None] = set()
        for policy in exclusion.policies:
            found = pinned[id(policy)].get(attr)
            if found is None:
                targets = set(out)
                break
            targets.update(v if v in known else None for v in found)
        for target in targets:
            out[target].append(exclusion)
    return out


def _split(
    calico: CalicoProgram,
    cilium: CiliumProgram,
    exclusions: list[Exclusion],
    pinned: dict[int, Pins],
    constraint: Expr,
    labels: list[str],
    done: frozenset[Attr],
) -> Iterator[Partition]:
    """``pinned``: the pins of every policy (and of every policy of an exclusion), by ``id``."""
    all_pins = [pinned[id(p)] for p in (*calico.policies, *cilium.policies)]
    counts = Counter(attr for p in all_pins for attr in p if attr not in done)
    label = ", ".join(labels) or "all subjects"
    if len(done) >= MAX_DEPTH or len(all_pins) <= MIN_POLICIES or not counts:
        yield _leaf(constraint, label, calico, cilium, exclusions)
        return
    total = len(all_pins)
    best: tuple[int, str, Attr] | None = None
    for candidate in counts:
        unpinned = sum(1 for p in all_pins if candidate not in p)
        distinct = {v for p in all_pins if candidate in p for v in p[candidate]}
        # Work after the split: every value's partition repeats the policies that do not pin it.
        cost = unpinned * (len(distinct) + 1) + sum(len(p[candidate]) for p in all_pins if candidate in p)
        if cost <= GROWTH * total and (best is None or (cost, str(candidate)) < best[:2]):
            best = (cost, str(candidate), candidate)
    if best is None:
        yield _leaf(constraint, label, calico, cilium, exclusions)
        return
    attr = best[2]
    values = sorted({v for p in all_pins if attr in p for v in p[attr]})

    def keeper(value: str | None) -> Callable[[CalicoPolicy | CiliumPolicy], bool]:
        def keep(policy: CalicoPolicy | CiliumPolicy) -> bool:
            found = pinned[id(policy)].get(attr)
            return found is None or (value is not None and value in found)

        return keep

    eq = {v: StrTest(attr, "eq", v) for v in values}
    routed = _route(exclusions, pinned, attr, values)
    for value in [*values, None]:
        part_constraint = eq[value] if value is not None else not_(or_(*eq.values()))
        yield from _split(
            calico.restrict(keeper(value)),
            cilium.restrict(keeper(value)),
            routed[value],
            pinned,
            and_(constraint, part_constraint),
            [*labels, _label(attr, value)],
            done | {attr},
        )
