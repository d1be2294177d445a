"""The selector AST: immutable, hashable nodes compared by value, with Calico's evaluation.

Evaluation follows projectcalico/calico ``libcalico-go/lib/selector/parser/ast.go``:

=========================  ===============  ==============
node                       label present    label absent
=========================  ===============  ==============
``k == "v"``               value == v       false
``k != "v"``               value != v       **true**
``k in {...}``             value in set     false
``k not in {...}``         value not in set **true**
``contains/starts/ends``   str test         false
``has(k)``                 true             false
``all()``, ``global()``    true             true
=========================  ===============  ==============

``!=`` is stored as ``Not(Eq)`` and ``not in`` as ``Not(In)``: ast.go's ``LabelNeValueNode`` and
``LabelNotInSetNode`` are exactly the negations (true when the label is absent), and the printer
writes them back as ``!=`` and ``not in``.

The *normal form* (what ``parse`` returns and the ``negate``/``conjoin``/``disjoin`` constructors
build): no ``Not(Not(x))``; every ``And``/``Or`` has at least two operands and no operand of its
own kind. ``all()`` operands are kept: they matter when ``all()`` is later rewritten (a
namespaceSelector's ``all()`` becomes ``has(projectcalico.org/namespace)``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias

from calico2cilium.calico.selector.lexical import LABEL_RE, label_problem, quote, value_problem

# Printing contexts: where a node's text goes, to decide on parentheses.
_TOP: Final = 0
_OPERAND: Final = 1  # an operand of && or ||
_NEGATED: Final = 2  # the operand of !

_LABEL_RE_FULLMATCH: Final = LABEL_RE.fullmatch


class Selector(ABC):
    """Base of every selector node. ``str(node)`` is the canonical, re-parseable text."""

    __slots__ = ()

    @abstractmethod
    def matches(self, labels: Mapping[str, str]) -> bool:
        """Calico's evaluation of this selector against an endpoint's labels."""

    @abstractmethod
    def labels(self) -> frozenset[str]:
        """The label keys this selector mentions."""

    @abstractmethod
    def _fmt(self, ctx: int) -> str: ...

    def children(self) -> tuple[Selector, ...]:
        """Direct sub-selectors (empty for atoms)."""
        return ()

    def walk(self) -> Iterator[Selector]:
        """This node and all its descendants, parents first."""
        stack: list[Selector] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children()))

    def __str__(self) -> str:
        return self._fmt(_TOP)

    def __and__(self, other: Selector) -> Selector:
        return conjoin((self, other))

    def __or__(self, other: Selector) -> Selector:
        return disjoin((self, other))

    def __invert__(self) -> Selector:
        return negate(self)


# ----------------------------------------------------------------------------------------------
# Atoms
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class All(Selector):
    """``all()``: matches every endpoint (and is what the empty selector means)."""

    def matches(self, labels: Mapping[str, str]) -> bool:
        return True

    def labels(self) -> frozenset[str]:
        return frozenset()

    def _fmt(self, ctx: int) -> str:
        return "all()"


@dataclass(frozen=True, slots=True)
class Global(Selector):
    """``global()``: true in ast.go's evaluator; its meaning comes from a rewrite to
    ``!has(projectcalico.org/namespace)`` (``updateprocessors/rules.go``) done elsewhere."""

    def matches(self, labels: Mapping[str, str]) -> bool:
        return True

    def labels(self) -> frozenset[str]:
        return frozenset()

    def _fmt(self, ctx: int) -> str:
        return "global()"


def _check_key(key: object) -> None:
    if type(key) is str and _LABEL_RE_FULLMATCH(key):
        return
    problem = label_problem(key)
    if problem is not None:
        raise (TypeError if not isinstance(key, str) else ValueError)(problem)


def _check_value(value: object) -> None:
    if type(value) is str and ('"' not in value or "'" not in value):
        return
    problem = value_problem(value)
    if problem is not None:
        raise (TypeError if not isinstance(value, str) else ValueError)(problem)


@dataclass(frozen=True, slots=True)
class Has(Selector):
    """``has(k)``: the label is present (with any value, including "")."""

    key: str

    def __post_init__(self) -> None:
        _check_key(self.key)

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.key in labels

    def labels(self) -> frozenset[str]:
        return frozenset((self.key,))

    def _fmt(self, ctx: int) -> str:
        return f"has({self.key})"


@dataclass(frozen=True, slots=True)
class _KeyValue(Selector):
    """Shared shape of the ``label OP "value"`` atoms."""

    key: str
    value: str

    _OP = ""

    def __post_init__(self) -> None:
        _check_key(self.key)
        _check_value(self.value)

    def labels(self) -> frozenset[str]:
        return frozenset((self.key,))

    def _fmt(self, ctx: int) -> str:
        text = f"{self.key} {self._OP} {quote(self.value)}"
        return f"({text})" if ctx == _NEGATED else text

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.key)
        return value is not None and self._test(value)

    def _test(self, value: str) -> bool:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Eq(_KeyValue):
    """``k == "v"``; false when the label is absent. ``k != "v"`` is ``Not(Eq(k, v))``."""

    _OP = "=="

    def _test(self, value: str) -> bool:
        return value == self.value


@dataclass(frozen=True, slots=True)
class Contains(_KeyValue):
    """``k contains "s"`` (Go ``strings.Contains``, case-sensitive); false when absent."""

    _OP = "contains"

    def _test(self, value: str) -> bool:
        return self.value in value


@dataclass(frozen=True, slots=True)
class StartsWith(_KeyValue):
    """``k starts with "s"`` (``strings.HasPrefix``); false when absent."""

    _OP = "starts with"

    def _test(self, value: str) -> bool:
        return value.startswith(self.value)


@dataclass(frozen=True, slots=True)
class EndsWith(_KeyValue):
    """``k ends with "s"`` (``strings.HasSuffix``); false when absent."""

    _OP = "ends with"

    def _test(self, value: str) -> bool:
        return value.endswith(self.value)


def _format_set(values: frozenset[str]) -> str:
    # ast.go prints the set sorted and de-duplicated (parser_test.go canonicalisationTests).
    return "{" + ", ".join(quote(v) for v in sorted(values)) + "}"


@dataclass(frozen=True, slots=True)
class In(Selector):
    """``k in {"a", "b"}``; false when the label is absent; ``k in {}`` matches nothing.
    ``k not in {...}`` is ``Not(In(k, ...))``. Any iterable of strings is accepted for ``values``."""

    key: str
    values: frozenset[str]

    def __post_init__(self) -> None:
        _check_key(self.key)
        if isinstance(self.values, str):
            raise TypeError("In(values=...) takes a collection of strings, not one string")
        values = frozenset(self.values)
        for value in values:
            _check_value(value)
        object.__setattr__(self, "values", values)

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.key)
        return value is not None and value in self.values

    def labels(self) -> frozenset[str]:
        return frozenset((self.key,))

    def _fmt(self, ctx: int) -> str:
        text = f"{self.key} in {_format_set(self.values)}"
        return f"({text})" if ctx == _NEGATED else text


Atom: TypeAlias = All | Global | Has | Eq | In | Contains | StartsWith | EndsWith
"""A node without sub-selectors."""

ATOM_TYPES: Final = (All, Global, Has, Eq, In, Contains, StartsWith, EndsWith)


# ----------------------------------------------------------------------------------------------
# Compound nodes
# ----------------------------------------------------------------------------------------------


def _check_selector(node: object) -> None:
    if not isinstance(node, Selector):
        raise TypeError(f"expected a Selector node, got {type(node).__name__}")


@dataclass(frozen=True, slots=True)
class Not(Selector):
    """``!x``. ``Not(Eq)`` prints as ``!=`` and ``Not(In)`` as ``not in``."""

    operand: Selector

    def __post_init__(self) -> None:
        _check_selector(self.operand)

    def matches(self, labels: Mapping[str, str]) -> bool:
        return not self.operand.matches(labels)

    def labels(self) -> frozenset[str]:
        return self.operand.labels()

    def children(self) -> tuple[Selector, ...]:
        return (self.operand,)

    def _fmt(self, ctx: int) -> str:
        operand = self.operand
        if type(operand) is Eq:
            text = f"{operand.key} != {quote(operand.value)}"
        elif type(operand) is In:
            text = f"{operand.key} not in {_format_set(operand.values)}"
        else:
            text = "!" + operand._fmt(_NEGATED)
        return f"({text})" if ctx == _NEGATED else text


@dataclass(frozen=True, slots=True)
class _Junction(Selector):
    """Shared shape of ``And``/``Or``. Any iterable is accepted for ``operands``."""

    operands: tuple[Selector, ...]

    _OP = ""

    def __post_init__(self) -> None:
        operands = tuple(self.operands)
        for operand in operands:
            _check_selector(operand)
        object.__setattr__(self, "operands", operands)

    def labels(self) -> frozenset[str]:
        return frozenset().union(*(op.labels() for op in self.operands))

    def children(self) -> tuple[Selector, ...]:
        return self.operands

    def _empty(self) -> Selector:
        raise NotImplementedError

    def _fmt(self, ctx: int) -> str:
        if not self.operands:
            return self._empty()._fmt(ctx)
        if len(self.operands) == 1:
            return self.operands[0]._fmt(ctx)
        text = self._OP.join(op._fmt(_OPERAND) for op in self.operands)
        return text if ctx == _TOP else f"({text})"


@dataclass(frozen=True, slots=True)
class And(_Junction):
    """``a && b && ...``; ``And(())`` is true."""

    _OP = " && "

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(op.matches(labels) for op in self.operands)

    def _empty(self) -> Selector:
        return All()


@dataclass(frozen=True, slots=True)
class Or(_Junction):
    """``a || b || ...``; ``Or(())`` is false."""

    _OP = " || "

    def matches(self, labels: Mapping[str, str]) -> bool:
        return any(op.matches(labels) for op in self.operands)

    def _empty(self) -> Selector:
        return Not(All())


# ----------------------------------------------------------------------------------------------
# Normalising constructors
# ----------------------------------------------------------------------------------------------


def negate(node: Selector) -> Selector:
    """``!node``, removing a double negation (parser.go also collapses ``!!``)."""
    return node.operand if type(node) is Not else Not(node)


def conjoin(operands: Iterable[Selector]) -> Selector:
    """``a && b && ...``, flattening nested ``And``; one operand is returned as is, none is ``all()``."""
    flat: list[Selector] = []
    for op in operands:
        if type(op) is And:
            flat.extend(op.operands)
        else:
            flat.append(op)
    if not flat:
        return All()
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def disjoin(operands: Iterable[Selector]) -> Selector:
    """``a || b || ...``, flattening nested ``Or``; one operand is returned as is, none is ``!all()``."""
    flat: list[Selector] = []
    for op in operands:
        if type(op) is Or:
            flat.extend(op.operands)
        else:
            flat.append(op)
    if not flat:
        return Not(All())
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def ne(key: str, value: str) -> Selector:
    """``key != "value"``: true when the label is absent (ast.go ``LabelNeValueNode``)."""
    return Not(Eq(key, value))


def not_in(key: str, values: Iterable[str]) -> Selector:
    """``key not in {...}``: true when the label is absent (ast.go ``LabelNotInSetNode``)."""
    return Not(In(key, frozenset(values)))
