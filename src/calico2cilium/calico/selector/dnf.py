"""Disjunctive normal form: a selector as an OR of ANDs of possibly negated atoms.

``to_dnf(s)`` returns a tuple of conjunctions, each a tuple of ``Literal``; ``s`` matches labels L
exactly when some conjunction has every literal matching L. ``all()`` is one empty conjunction,
``!all()`` is the empty disjunction (matches nothing). ``all()`` never appears as a literal;
``global()`` does (it evaluates true, but its meaning comes from a later rewrite, so it is kept).

Simplifications, all exact: duplicate literals and duplicate conjunctions are dropped, a
conjunction holding an atom and its negation is dropped, and a conjunction that includes another
one (so is implied by it) is dropped. No reasoning about values is done (``a == "x" && a == "y"``
stays). The result's size is capped; past the cap, ``SelectorTooComplex`` is raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias

from calico2cilium.calico.selector.errors import SelectorTooComplex
from calico2cilium.calico.selector.nodes import (
    ATOM_TYPES,
    All,
    And,
    Atom,
    Not,
    Or,
    Selector,
    conjoin,
    disjoin,
)

MAX_CONJUNCTIONS: Final = 256


@dataclass(frozen=True, slots=True)
class Literal:
    """An atom, or its negation when ``negated``; ``Literal(Eq(k, v), True)`` is ``k != v``."""

    atom: Atom
    negated: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.atom, ATOM_TYPES):
            raise TypeError(f"a Literal holds an atomic selector, not {type(self.atom).__name__}")

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.atom.matches(labels) != self.negated

    def negate(self) -> Literal:
        return Literal(self.atom, not self.negated)

    def to_selector(self) -> Selector:
        return Not(self.atom) if self.negated else self.atom

    def __str__(self) -> str:
        return str(self.to_selector())


Conjunction: TypeAlias = tuple[Literal, ...]
DNF: TypeAlias = tuple[Conjunction, ...]

_TRUE: Final[list[Conjunction]] = [()]
_FALSE: Final[list[Conjunction]] = []


def to_dnf(selector: Selector, *, max_conjunctions: int = MAX_CONJUNCTIONS) -> DNF:
    """The disjunctive normal form of ``selector`` (see the module docstring).

    Raises ``SelectorTooComplex`` when a step would need more than ``max_conjunctions``.
    """
    return tuple(_dnf(selector, False, selector, max_conjunctions))


def from_dnf(dnf: Iterable[Iterable[Literal]]) -> Selector:
    """A selector equivalent to ``dnf`` (``!all()`` for the empty disjunction)."""
    return disjoin(conjoin(lit.to_selector() for lit in conj) for conj in dnf)


def _dnf(node: Selector, negated: bool, root: Selector, limit: int) -> list[Conjunction]:
    kind = type(node)
    if kind is All:
        return _FALSE if negated else _TRUE
    if kind is Not:
        assert isinstance(node, Not)
        return _dnf(node.operand, not negated, root, limit)
    if kind is And or kind is Or:
        assert isinstance(node, And | Or)
        parts = [_dnf(op, negated, root, limit) for op in node.operands]
        if (kind is And) != negated:  # a conjunction, after De Morgan
            return _product(parts, root, limit)
        return _simplify([conj for part in parts for conj in part], root, limit)
    assert isinstance(node, ATOM_TYPES)
    return [(Literal(node, negated),)]


def _product(parts: list[list[Conjunction]], root: Selector, limit: int) -> list[Conjunction]:
    result = _TRUE
    for part in parts:
        merged = (_merge(left, right) for left in result for right in part)
        result = _simplify([conj for conj in merged if conj is not None], root, limit)
        if not result:
            break
    return result


def _merge(left: Conjunction, right: Conjunction) -> Conjunction | None:
    """``left && right`` as one conjunction, or None if it is a contradiction."""
    seen = set(left)
    out = list(left)
    for lit in right:
        if lit not in seen:
            if Literal(lit.atom, not lit.negated) in seen:
                return None
            seen.add(lit)
            out.append(lit)
    return tuple(out)


def _simplify(conjs: list[Conjunction], root: Selector, limit: int) -> list[Conjunction]:
    """Drop duplicates and every conjunction that includes another one (it is implied by it)."""
    unique = list(dict.fromkeys(conjs))
    kept: list[int] = []
    # Each kept conjunction is filed under one of its literals: a kept K can only be included in
    # a candidate C if C holds that literal, so only those entries need a subset test.
    filed: dict[Literal, list[frozenset[Literal]]] = {}
    for i in sorted(range(len(unique)), key=lambda i: len(unique[i])):
        if not unique[i]:
            return [()]  # an empty conjunction is true: it implies every other one
        literals = frozenset(unique[i])
        if any(k <= literals for lit in literals for k in filed.get(lit, ())):
            continue
        kept.append(i)
        if len(kept) > limit:
            raise _too_complex(root, limit)
        filed.setdefault(unique[i][0], []).append(literals)
    return [unique[i] for i in sorted(kept)]


def _too_complex(root: Selector, limit: int) -> SelectorTooComplex:
    return SelectorTooComplex(
        f"selector is too complex to expand into at most {limit} alternatives (disjunctive normal form)",
        str(root),
        1,
    )
