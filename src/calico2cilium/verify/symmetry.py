"""Label values that play interchangeable roles: prove the question for one, the others follow.

Generated and templated policy sets repeat one policy shape for many label values: ``app ==
'svc-1'``, ``app == 'svc-2'``, ... each with the same rules, or one ``metrics == 'm<i>'`` global
policy per value. Every pod may carry one ``app`` and one ``metrics`` value, so the two families
combine freely: without this step the solver would face every combination (8,000 x 2,000 at
``make bench``'s 10,000 policies), which no partition of the subjects avoids.

The argument, for a label family ``F`` (a (space, key) of pod, namespace or service-account labels)
and two of its values ``a`` and ``r``, on one direction's pair of programs ``P``:

1. Renaming. Let ``t`` swap ``a`` and ``r`` in every ``F`` label of every entity of a flow. When
   ``F`` is only ever compared with ``==`` (no prefix, suffix, contains or length test on it,
   anywhere) and ``a`` and ``r`` are equally valid Kubernetes values, ``t`` maps the world's flows
   onto themselves (the world facts of ``verify.smt.axioms`` treat label values alike) and every
   formula ``e`` satisfies ``e(flow) == t(e)(t(flow))``. So ``verdict(P)(flow) ==
   verdict(t(P))(t(flow))`` on both sides.
2. Shapes. Let ``S_v`` be the policies mentioning value ``v`` of ``F`` anywhere. Require every
   policy of ``S_a`` and ``S_r`` to pin the subject's ``F`` to exactly that value, ``t`` to map
   ``S_r`` onto ``S_a`` one by one in program order (same selector and rules after renaming; same
   tier), and no policy that can select an ``F = a`` subject other than ``S_a`` (the policies
   that do not pin ``F``) to stand between the ``k``-th policies of ``S_a`` and ``S_r`` in
   Calico's order. Nothing else mentions ``a`` or ``r``, so ``t(P)`` is ``P`` with the contents
   of ``S_a`` and ``S_r`` swapped in place.
3. For a subject with ``F = a``, the policies of ``P`` and of ``t(P)`` that can select it are the
   same, in the same order relative to each other (Calico; Cilium's deny-wins union has no
   order). So ``verdict(t(P))(t(flow)) == verdict(P)(t(flow))``: the sides differ on a flow whose
   subject has ``F = r`` iff they differ on its renaming, whose subject has ``F = a``.

So the subjects with ``F = r`` need no question of their own: they are excluded (``F != r``) and
``S_r`` is dropped (it selects none of the subjects left). Values are grouped by their shape and
one representative per group is kept. A difference is still found, on the representative's
subjects, and replayed through the complete programs (the excluded subjects are not its subject).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from calico2cilium.semantics.expr import SUBJECT, And, Attr, Expr, Not, Or, StrShorter, StrTest, not_, walk
from calico2cilium.semantics.program import CalicoPolicy, CalicoProgram, CiliumPolicy, CiliumProgram
from calico2cilium.verify.partition import pins
from calico2cilium.verify.smt.terms import valid_value

Family = tuple[str, str]
"""A label family: (space, key), e.g. ``("pod", "app")``."""

SPACES = ("pod", "ns", "sa")
"""Spaces of plain labels. Namespace and service-account *names* are not renamed: namespaced
NetworkSets (``ns:<name>`` entities) and Cilium's namespace labels tie them to other facts."""

_PLACEHOLDER = "\x00"
"""Stands for the renamed value in a shape; no label value contains a NUL."""


@dataclass(frozen=True)
class Exclusion:
    """Subjects left to a representative: ``formula`` (``F != value``) holds on every subject still
    asked about; ``policies`` are the dropped ones, for the partitioner to tell where it matters."""

    formula: Expr
    policies: tuple[CalicoPolicy | CiliumPolicy, ...]


@dataclass
class Quotient:
    calico: CalicoProgram
    cilium: CiliumProgram
    exclusions: list[Exclusion] = field(default_factory=list)
    families: dict[Family, int] = field(default_factory=dict)
    """Per family, how many values were left to a representative."""


Policy = CalicoPolicy | CiliumPolicy


def quotient(calico: CalicoProgram, cilium: CiliumProgram, valid_k8s_values: bool = True) -> Quotient:
    """The programs without the policies of values that a representative stands for (see above)."""
    out = Quotient(calico, cilium)
    policies: list[Policy] = [*calico.policies, *cilium.policies]
    if any(p.unsupported for p in policies):
        return out  # the result is "unsupported" anyway; keep the question as it is
    mentions, disqualified = _mentions(
        policies, (calico.always_allow, calico.always_deny, cilium.always_allow)
    )
    gone: set[int] = set()
    for family in sorted(mentions):
        if family in disqualified:
            continue
        # The argument holds for the programs left so far (their exclusions are of other families).
        values = {
            v: kept for v, ps in mentions[family].items() if (kept := [p for p in ps if id(p) not in gone])
        }
        dropped = _dropped(out.calico, family, values, valid_k8s_values)
        if not dropped:
            continue
        now = frozenset(id(p) for policies_ in dropped.values() for p in policies_)
        gone |= now
        out.calico = out.calico.restrict(_outside(now))
        out.cilium = out.cilium.restrict(_outside(now))
        attr = Attr(SUBJECT, family[0], family[1])  # type: ignore[arg-type]
        out.exclusions.extend(
            Exclusion(not_(StrTest(attr, "eq", value)), tuple(ps)) for value, ps in sorted(dropped.items())
        )
        out.families[family] = len(dropped)
    return out


def _outside(gone: frozenset[int]) -> Callable[[Policy], bool]:
    return lambda policy: id(policy) not in gone


def _mentions(
    policies: list[Policy], others: Iterable[Expr]
) -> tuple[dict[Family, dict[str, list[Policy]]], set[Family]]:
    """Per family and value, the policies (in order) whose formulas mention it; and the families
    that cannot be renamed (a non-``==`` test anywhere, or a value in a formula outside policies)."""
    mentions: dict[Family, dict[str, list[Policy]]] = defaultdict(lambda: defaultdict(list))
    disqualified: set[Family] = set()
    for policy in policies:
        seen: set[tuple[Family, str]] = set()
        for expr in _formulas(policy):
            for node in walk(expr):
                if isinstance(node, StrTest | StrShorter):
                    family = (node.attr.space, node.attr.key)
                    if node.attr.space not in SPACES or isinstance(node, StrShorter) or node.op != "eq":
                        disqualified.add(family)
                    elif (family, node.value) not in seen:
                        seen.add((family, node.value))
                        mentions[family][node.value].append(policy)
    for expr in others:
        for node in walk(expr):
            if isinstance(node, StrTest | StrShorter):
                disqualified.add((node.attr.space, node.attr.key))
    return mentions, disqualified


def _formulas(policy: Policy) -> list[Expr]:
    if isinstance(policy, CalicoPolicy):
        return [policy.selects, *(r.match for r in policy.rules)]
    return [policy.selects, *(r.match for r in policy.allows), *(r.match for r in policy.denies)]


def _dropped(
    calico: CalicoProgram,
    family: Family,
    values: dict[str, list[Policy]],
    valid_k8s_values: bool,
) -> dict[str, list[Policy]]:
    """The values of ``family`` another value of the same shape stands for, with their policies."""
    attr = Attr(SUBJECT, family[0], family[1])  # type: ignore[arg-type]
    place = _calico_places(calico, attr)
    groups: dict[object, list[str]] = defaultdict(list)
    for value, policies in values.items():
        if any(pins(p.selects).get(attr) != frozenset({value}) for p in policies):
            continue  # a policy that does not select by this value alone: keep the value as it is
        shape = (
            valid_value(family[0], value) if valid_k8s_values else True,
            tuple(_shape(p, family, value, place) for p in policies),
        )
        groups[shape].append(value)
    dropped: dict[str, list[Policy]] = {}
    for members in groups.values():
        members.sort()
        for value in members[1:]:
            dropped[value] = values[value]
    return dropped


def _calico_places(calico: CalicoProgram, attr: Attr) -> dict[int, tuple[int, int]]:
    """Per Calico policy: its tier and how many policies *not* pinning ``attr`` come before it in
    that tier. Two pinned policies with the same place have no such policy between them."""
    place: dict[int, tuple[int, int]] = {}
    for index, tier in enumerate(calico.tiers):
        unpinned = 0
        for policy in tier.policies:
            place[id(policy)] = (index, unpinned)
            if attr not in pins(policy.selects):
                unpinned += 1
    return place


def _shape(policy: Policy, family: Family, value: str, place: dict[int, tuple[int, int]]) -> object:
    """The policy with ``value`` of ``family`` replaced by a placeholder: what must be equal."""
    memo: dict[int, Expr] = {}

    def rename(expr: Expr) -> Expr:
        return _rename(expr, family, value, memo)

    if isinstance(policy, CalicoPolicy):
        return (
            "calico",
            place[id(policy)],
            policy.namespace,
            rename(policy.selects),
            tuple((rename(r.match), r.action) for r in policy.rules),
        )
    return (
        "cilium",
        policy.namespace,
        policy.default_deny,
        rename(policy.selects),
        tuple(rename(r.match) for r in policy.allows),
        tuple(rename(r.match) for r in policy.denies),
    )


def _rename(expr: Expr, family: Family, value: str, memo: dict[int, Expr]) -> Expr:
    found = memo.get(id(expr))
    if found is not None:
        return found
    out: Expr = expr
    if isinstance(expr, StrTest):
        if (expr.attr.space, expr.attr.key) == family and expr.value == value:
            out = StrTest(expr.attr, expr.op, _PLACEHOLDER)
    elif isinstance(expr, And | Or):
        args = tuple(_rename(a, family, value, memo) for a in expr.args)
        if any(new is not old for new, old in zip(args, expr.args, strict=True)):
            out = type(expr)(args)
    elif isinstance(expr, Not):
        arg = _rename(expr.arg, family, value, memo)
        if arg is not expr.arg:
            out = Not(arg)
    memo[id(expr)] = out
    return out
