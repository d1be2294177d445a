"""Rewriting selectors: a map over atoms and the rewrites Calico itself applies.

Calico's own rewrites (projectcalico/calico ``libcalico-go/lib/backend/syncersv1/updateprocessors``):

- ``selectors.go`` ``parseSelectorAttachPrefix``: parse, apply ``parser.PrefixVisitor`` (prefix
  every label key: ``pcns.`` for a namespaceSelector, ``pcsa.`` for a service-account selector),
  print. That is ``prefix_labels``.
- ``rules.go`` ``getEndpointSelector``: in the prefixed namespaceSelector, ``all()`` becomes
  ``has(projectcalico.org/namespace)`` and ``global()`` becomes ``!has(projectcalico.org/namespace)``.
  Calico does this with ``strings.Replace`` on the printed text, so it would also rewrite those
  words inside a quoted value; ``replace_all``/``replace_global`` rewrite only the nodes (the
  difference is unobservable: a Kubernetes label value cannot contain parentheses).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from calico2cilium.calico.selector.nodes import (
    ATOM_TYPES,
    All,
    And,
    Atom,
    Contains,
    EndsWith,
    Eq,
    Global,
    Has,
    In,
    Not,
    Or,
    Selector,
    StartsWith,
    conjoin,
    disjoin,
    negate,
)


def map_atoms(selector: Selector, fn: Callable[[Atom], Selector]) -> Selector:
    """Replace each atom ``a`` of ``selector`` by ``fn(a)`` (called once per atom; its results are
    not visited again). ``Not``/``And``/``Or`` are rebuilt with the normalising constructors, so
    the result is in normal form when ``fn`` returns normal-form selectors."""
    if isinstance(selector, Not):
        return negate(map_atoms(selector.operand, fn))
    if isinstance(selector, And):
        return conjoin(map_atoms(op, fn) for op in selector.operands)
    if isinstance(selector, Or):
        return disjoin(map_atoms(op, fn) for op in selector.operands)
    assert isinstance(selector, ATOM_TYPES)
    return fn(selector)


def normalize(selector: Selector) -> Selector:
    """The normal form of ``selector`` (what ``parse(str(selector))`` returns): no double
    negation, no nested ``And`` in ``And`` (nor ``Or`` in ``Or``), no one-operand ``And``/``Or``."""
    return map_atoms(selector, lambda atom: atom)


def map_labels(selector: Selector, rename: Callable[[str], str]) -> Selector:
    """Replace every label key ``k`` by ``rename(k)``. Raises ValueError if a new key is not a
    valid label (for example longer than 512 characters)."""

    def visit(atom: Atom) -> Selector:
        if isinstance(atom, Has):
            return Has(rename(atom.key))
        if isinstance(atom, In):
            return In(rename(atom.key), atom.values)
        if isinstance(atom, Eq | Contains | StartsWith | EndsWith):
            return type(atom)(rename(atom.key), atom.value)
        return atom

    return map_atoms(selector, visit)


def prefix_labels(selector: Selector, prefix: str) -> Selector:
    """Prefix every label key, as Calico's ``PrefixVisitor`` does (``pcns.``, ``pcsa.``)."""
    return map_labels(selector, lambda key: prefix + key)


def replace_all(selector: Selector, replacement: Selector) -> Selector:
    """Replace every ``all()`` node (explicit ones only: parse the empty selector first)."""
    return map_atoms(selector, lambda atom: replacement if isinstance(atom, All) else atom)


def replace_global(selector: Selector, replacement: Selector) -> Selector:
    """Replace every ``global()`` node."""
    return map_atoms(selector, lambda atom: replacement if isinstance(atom, Global) else atom)


StringTest = Contains | StartsWith | EndsWith
"""The atoms with no Kubernetes label-selector form (docs/reference/semantics.md §3.3)."""


def expand_string_tests(
    selector: Selector, values: Callable[[str], Iterable[str]]
) -> tuple[Selector, list[tuple[StringTest, In]]]:
    """Replace each ``k contains s`` / ``k starts with s`` / ``k ends with s`` by
    ``k in {v in values(k) that pass the test}`` (``k in {}`` when none does), and list the
    replacements made.

    Exact on every label map whose value of each such ``k`` is absent or in ``values(k)``: both
    atoms are false when ``k`` is absent (``ast.go``), and on a value in ``values(k)`` both agree
    by construction. The atom is replaced in place, so ``!`` around it keeps that agreement
    (``!(k starts with s)`` and ``k not in {...}`` are both true when ``k`` is absent). On other
    values (a pod labelled after the inventory was taken) they differ: the result is a snapshot.
    """
    done: list[tuple[StringTest, In]] = []

    def visit(atom: Atom) -> Selector:
        if isinstance(atom, Contains | StartsWith | EndsWith):
            expanded = In(atom.key, frozenset(v for v in values(atom.key) if atom.matches({atom.key: v})))
            done.append((atom, expanded))
            return expanded
        return atom

    return map_atoms(selector, visit), done
