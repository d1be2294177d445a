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
from calico2cilium.verify.partition import Pins, pins
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


def quotient(
    calico: CalicoProgram,
    cilium: CiliumProgram,
    valid_k8s_values: bool = True,
    mark: Callable[[Policy], object] | None = None,
) -> Quotient:
    """The programs without the policies of values that a representative stands for (see above).
    ``mark``: a fact of a policy that its shape must include besides its formulas (attribution:
    whether a narrowing finding concerns it), so that only policies alike in it are interchangeable."""
    out = Quotient(calico, cilium)
    policies: list[Policy] = [*calico.policies, *cilium.policies]
    mentions, disqualified = _mentions(policies, [*program_formulas(calico), *program_formulas(cilium)])
    pinned = {id(p): pins(p.selects) for p in policies}
    gone: set[int] = set()
    for family in sorted(mentions):
        attr = Attr(SUBJECT, family[0], family[1])  # type: ignore[arg-type]
        if family in disqualified or not any(
            attr in pinned[id(p)] for ps in mentions[family].values() for p in ps
        ):
            continue
        # The argument holds for the programs left so far (their exclusions are of other families).
        values = {
            v: kept for v, ps in mentions[family].items() if (kept := [p for p in ps if id(p) not in gone])
        }
        dropped = _dropped((out.calico, out.cilium), attr, values, pinned, valid_k8s_values, mark)
        if not dropped:
            continue
        now = frozenset(id(p) for policies_ in dropped.values() for p in policies_)
        gone |= now
        out.calico = out.calico.restrict(_outside(now))
        out.cilium = out.cilium.restrict(_outside(now))
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
        for expr in policy_formulas(policy):
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


def program_formulas(program: CalicoProgram | CiliumProgram) -> list[Expr]:
    """A program's formulas outside its policies."""
    if isinstance(program, CalicoProgram):
        return [program.always_allow, program.always_deny]
    return [program.always_allow]


def policy_formulas(policy: Policy) -> list[Expr]:
    if isinstance(policy, CalicoPolicy):
        return [policy.selects, *(r.match for r in policy.rules)]
    return [policy.selects, *(r.match for r in policy.allows), *(r.match for r in policy.denies)]


def _dropped(
    programs: tuple[CalicoProgram | CiliumProgram, ...],
    attr: Attr,
    values: dict[str, list[Policy]],
    pinned: dict[int, Pins],
    valid_k8s_values: bool,
    mark: Callable[[Policy], object] | None = None,
) -> dict[str, list[Policy]]:
    """The values of ``attr``'s family another value of the same shape stands for, with their
    policies."""
    place = _calico_places(programs, attr, pinned)
    groups: dict[object, list[str]] = defaultdict(list)
    for value, policies in values.items():
        if any(p.unsupported or pinned[id(p)].get(attr) != frozenset({value}) for p in policies):
            # A policy that does not select by this value alone, or is not wholly modelled (its
            # partitions must say "unsupported"): keep the value as it is.
            continue
        shape = (
            valid_value(attr.space, value) if valid_k8s_values else True,
            tuple(_shape(p, attr, value, place) for p in policies),
            tuple(mark(p) for p in policies) if mark is not None else (),
        )
        groups[shape].append(value)
    dropped: dict[str, list[Policy]] = {}
    for members in groups.values():
        members.sort()
        for value in members[1:]:
            dropped[value] = values[value]
    return dropped


def _calico_places(
    programs: tuple[CalicoProgram | CiliumProgram, ...], attr: Attr, pinned: dict[int, Pins]
) -> dict[int, tuple[int, int]]:
    """Per policy of a Calico program: its tier and how many policies *not* pinning ``attr`` come
    before it in that tier. Two pinned policies with the same place have no such policy between
    them. (``diff`` compares two Calico, or two Cilium, programs: each Calico one has places.)"""
    place: dict[int, tuple[int, int]] = {}
    for program in programs:
        if not isinstance(program, CalicoProgram):
            continue
        for index, tier in enumerate(program.tiers):
            unpinned = 0
            for policy in tier.policies:
                place[id(policy)] = (index, unpinned)
                if attr not in pinned[id(policy)]:
                    unpinned += 1
    return place


def _shape(policy: Policy, attr: Attr, value: str, place: dict[int, tuple[int, int]]) -> object:
    """The policy with ``value`` of ``attr``'s family replaced by a placeholder, as nested tuples
    (compared far faster than formulas): what must be equal for two values to be interchangeable."""
    memo: dict[int, object] = {}

    def key(expr: Expr) -> object:
        return _key(expr, (attr.space, attr.key), value, memo)

    if isinstance(policy, CalicoPolicy):
        return (
            "calico",
            place[id(policy)],
            policy.namespace,
            key(policy.selects),
            tuple((key(r.match), r.action) for r in policy.rules),
        )
    return (
        "cilium",
        policy.namespace,
        policy.default_deny,
        key(policy.selects),
        tuple(key(r.match) for r in policy.allows),
        tuple(key(r.match) for r in policy.denies),
    )


def _key(expr: Expr, family: Family, value: str, memo: dict[int, object]) -> object:
    """``expr`` as nested tuples of its node type and fields, ``value`` of ``family`` replaced."""
    found = memo.get(id(expr))
    if found is not None:
        return found
    out: object
    if isinstance(expr, StrTest) and (expr.attr.space, expr.attr.key) == family and expr.value == value:
        out = ("StrTest", expr.attr, expr.op, _PLACEHOLDER)
    elif isinstance(expr, And | Or):
        out = (type(expr).__name__, *(_key(a, family, value, memo) for a in expr.args))
    elif isinstance(expr, Not):
        out = ("Not", _key(expr.arg, family, value, memo))
    else:
        out = (type(expr).__name__, *expr._key())  # an atom: its fields
    memo[id(expr)] = out
    return out
