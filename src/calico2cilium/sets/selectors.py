"""Calico selector DNF -> ``LabelSet``, and ``LabelCube`` -> Kubernetes label selectors.

In: a DNF from ``calico.selector.to_dnf`` (conjunctions of ``Literal(atom, negated)``). The
string tests ``contains``/``starts with``/``ends with`` have no exact form here and raise
``Inexpressible``; ``global()`` must have been rewritten (to ``!has(projectcalico.org/namespace)``)
before it gets here.

Out: Kubernetes/Cilium selectors (``In``: present and value in S; ``NotIn``: absent or value not in
S; ``Exists``; ``DoesNotExist``), a list whose OR is exactly the cube.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import product
from typing import NotRequired, TypedDict

from calico2cilium.calico.selector import (
    All,
    Contains,
    EndsWith,
    Eq,
    Global,
    Has,
    In,
    Literal,
    Selector,
    StartsWith,
    to_dnf,
)
from calico2cilium.sets.coset import CoSet
from calico2cilium.sets.errors import Inexpressible
from calico2cilium.sets.labels import HAS, NONE, NOT_HAS, KeyConstraint, LabelCube, LabelSet

_STRING_TESTS = {Contains: "contains", StartsWith: "starts with", EndsWith: "ends with"}
# What an Inexpressible from a string test names as its operator.
STRING_TEST_OPERATORS = frozenset(_STRING_TESTS.values())


def literal_constraint(literal: Literal) -> tuple[str, KeyConstraint] | None:
    """One literal as ``(key, constraint)``; ``None`` for a literal true everywhere (``all()``).
    ``!all()`` comes back as ``("", NONE)``: an empty constraint, so its cube is empty."""
    atom, negated = literal.atom, literal.negated
    kc: KeyConstraint
    if isinstance(atom, All):
        return ("", NONE) if negated else None
    if isinstance(atom, Global):
        raise ValueError("global() must be rewritten to !has(projectcalico.org/namespace) before compiling")
    if isinstance(atom, Contains | StartsWith | EndsWith):
        op = _STRING_TESTS[type(atom)]
        raise Inexpressible(
            op, f"{literal} is a string test that no Kubernetes label selector can express exactly"
        )
    if isinstance(atom, Has):
        return atom.key, (NOT_HAS if negated else HAS)
    if isinstance(atom, Eq):
        kc = KeyConstraint.eq(atom.value)
    elif isinstance(atom, In):
        kc = KeyConstraint.in_(atom.values)
    else:  # pragma: no cover - the Atom union is exhausted above
        raise TypeError(f"unknown selector atom {type(atom).__name__}")
    return atom.key, (~kc if negated else kc)


def cube_from_literals(conjunction: Iterable[Literal]) -> LabelCube:
    """The AND of the literals as one cube (possibly empty)."""
    parts = [lc for lc in (literal_constraint(lit) for lit in conjunction) if lc is not None]
    if any(kc.is_empty for _, kc in parts):
        return LabelCube.empty()
    return LabelCube.of(parts)


def from_literals(dnf: Iterable[Iterable[Literal]]) -> LabelSet:
    """The set of label maps a selector DNF matches (``()`` = nothing, ``((),)`` = everything)."""
    return LabelSet.of(cube_from_literals(conj) for conj in dnf)


def from_selector(selector: Selector) -> LabelSet:
    """``from_literals(to_dnf(selector))``."""
    return from_literals(to_dnf(selector))


# ------------------------------------------------------------------------------ to Kubernetes


class Requirement(TypedDict):
    """A Kubernetes ``LabelSelectorRequirement`` (``values`` only for ``In``/``NotIn``)."""

    key: str
    operator: str
    values: NotRequired[list[str]]


class LabelSelectorDict(TypedDict, total=False):
    """A Kubernetes ``LabelSelector``: ``matchLabels`` ANDed with ``matchExpressions``."""

    matchLabels: dict[str, str]
    matchExpressions: list[Requirement]


# One alternative for one key: either a matchLabels value or a requirement.
_Part = tuple[str, str] | Requirement


def _alternatives(key: str, kc: KeyConstraint) -> list[list[_Part]]:
    """Selector fragments for one key; the fragments of one alternative are ANDed, the
    alternatives ORed (and disjoint)."""
    vals: CoSet = kc.values
    listed = sorted(vals.values)
    if vals.cofinite:
        if kc.absent:  # absent or value not in X  ==  NotIn X   (X is non-empty: ANY is never stored)
            return [[{"key": key, "operator": "NotIn", "values": listed}]]
        exists: Requirement = {"key": key, "operator": "Exists"}
        if not listed:
            return [[exists]]
        return [[exists, {"key": key, "operator": "NotIn", "values": listed}]]
    positive: list[_Part] = (
        [(key, listed[0])] if len(listed) == 1 else [{"key": key, "operator": "In", "values": listed}]
    )
    if not kc.absent:
        return [positive]
    absent: list[_Part] = [{"key": key, "operator": "DoesNotExist"}]
    return [absent, positive] if listed else [absent]


def to_kubernetes_selectors(cube: LabelCube) -> list[LabelSelectorDict]:
    """Kubernetes label selectors whose OR is exactly ``cube``: ``[]`` for the empty cube, ``[{}]``
    for the full one. A key that may be absent *or* take one of finitely many values needs two
    selectors (``DoesNotExist`` | ``In``), so the list is the product over such keys."""
    if cube.is_empty:
        return []
    per_key = [_alternatives(key, kc) for key, kc in cube.constraints]
    out: list[LabelSelectorDict] = []
    for combo in product(*per_key):
        labels: dict[str, str] = {}
        exprs: list[Requirement] = []
        for fragment in combo:
            for part in fragment:
                if isinstance(part, tuple):
                    labels[part[0]] = part[1]
                else:
                    exprs.append(part)
        selector: LabelSelectorDict = {}
        if labels:
            selector["matchLabels"] = labels
        if exprs:
            selector["matchExpressions"] = exprs
        out.append(selector)
    return out


def set_to_kubernetes_selectors(labels: LabelSet) -> list[LabelSelectorDict]:
    """Selectors for a whole ``LabelSet`` (the concatenation over its cubes)."""
    return [sel for cube in labels.cubes for sel in to_kubernetes_selectors(cube)]
