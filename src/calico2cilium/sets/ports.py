"""The destination-port dimension: numbers and named ports, never confused with one another.

A named port (Calico ``ports: [http]``) stands for a number that depends on the destination
endpoint, so it is an uninterpreted atom. At port number ``p`` of a flow, let ``M`` be the set of
names that stand for ``p`` on that flow's endpoint (usually empty; possibly several names, since
two names may stand for the same number). A ``NameCell`` is a boolean function of the atoms
"name ∈ M", stored as a reduced ordered BDD (names in sorted order), which is canonical: equal
functions are equal values. Every (M, p) combination can occur, so the algebra is exact and
closed; nothing is rounded and nothing raises here.

So ``ports: [80, http]`` is: 80 -> true, every other number -> ``http``; "everything but http" is:
every number -> ``!http``; and Allow ``http`` followed by Allow ``dns`` gives the second rule the
effective cell ``dns & !http`` (exact), which re-merges with the first into ``http | dns``.
What Cilium can say is narrower: ``cilium_names`` tells whether a cell is a plain union of names
(``toPorts`` named ports) and raises ``Inexpressible`` otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, TypeAlias

from calico2cilium.sets.errors import Inexpressible
from calico2cilium.sets.intervals import IntervalSet
from calico2cilium.sets.piecewise import Piecewise

PORT_MIN: Final = 0
PORT_MAX: Final = 65535
NAMED_PORT = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")
"""Calico's named-port syntax (``api/pkg/lib/numorstring/port.go``)."""

Node: TypeAlias = "bool | tuple[str, Node, Node]"
"""A BDD: a constant, or ``(name, if-absent, if-present)`` with both branches over later names."""


def _mk(name: str, low: Node, high: Node) -> Node:
    return low if low == high else (name, low, high)


def _cofactors(node: Node, name: str) -> tuple[Node, Node]:
    if isinstance(node, tuple) and node[0] == name:
        return node[1], node[2]
    return node, node


@lru_cache(maxsize=1 << 14)
def _apply(op: str, a: Node, b: Node) -> Node:
    """``op`` in ``and``/``or``/``sub`` (a and not b), Shannon expansion on the smallest name."""
    if op == "and":
        if a is False or b is False:
            return False
        if a is True or a == b:
            return b
        if b is True:
            return a
    elif op == "or":
        if a is True or b is True:
            return True
        if a is False or a == b:
            return b
        if b is False:
            return a
    else:
        if a is False or b is True or a == b:
            return False
        if b is False:
            return a
    names = [n[0] for n in (a, b) if isinstance(n, tuple)]
    if not names:
        return {"and": a and b, "or": a or b, "sub": a and not b}[op]
    name = min(names)
    a0, a1 = _cofactors(a, name)
    b0, b1 = _cofactors(b, name)
    return _mk(name, _apply(op, a0, b0), _apply(op, a1, b1))


def _names(node: Node) -> set[str]:
    if isinstance(node, bool):
        return set()
    return {node[0]} | _names(node[1]) | _names(node[2])


def _any_of(names: Iterable[str]) -> Node:
    node: Node = False
    for name in sorted(set(names), reverse=True):
        node = _mk(name, node, True)
    return node


def _terms(node: Node, path: tuple[str, ...] = ()) -> list[str]:
    if node is True:
        return [" & ".join(path) or "any"]
    if node is False:
        return []
    name, low, high = node
    return _terms(low, (*path, f"!{name}")) + _terms(high, (*path, name))


@dataclass(frozen=True, slots=True)
class NameCell:
    """Which named-port matches put one port number in the set (see the module docstring)."""

    node: Node

    @staticmethod
    def any_of(names: Iterable[str]) -> NameCell:
        """In iff one of ``names`` stands for the number (``any_of([])`` is never)."""
        return NameCell(_any_of(names))

    @property
    def is_empty(self) -> bool:
        return self.node is False

    @property
    def is_full(self) -> bool:
        return self.node is True

    def names(self) -> frozenset[str]:
        """The names this cell depends on."""
        return frozenset(_names(self.node))

    def holds(self, matching: Iterable[str]) -> bool:
        """Whether a flow is in, given the names that stand for its port number."""
        present = set(matching)
        node = self.node
        while isinstance(node, tuple):
            node = node[2] if node[0] in present else node[1]
        return node

    def __invert__(self) -> NameCell:
        return NameCell(_apply("sub", True, self.node))

    # Constant operands (no named port involved: the usual case) skip the BDD apply.

    def __and__(self, other: NameCell) -> NameCell:
        if other.node is True or self.node is False:
            return self
        if self.node is True or other.node is False:
            return other
        return NameCell(_apply("and", self.node, other.node))

    def __or__(self, other: NameCell) -> NameCell:
        if other.node is False or self.node is True:
            return self
        if self.node is False or other.node is True:
            return other
        return NameCell(_apply("or", self.node, other.node))

    def __sub__(self, other: NameCell) -> NameCell:
        if other.node is False or self.node is False:
            return self
        if other.node is True:
            return NEVER
        return NameCell(_apply("sub", self.node, other.node))

    def __str__(self) -> str:
        if self.node is True:
            return "any"
        return "named " + " | ".join(_terms(self.node))


ALWAYS: Final = NameCell(True)
NEVER: Final = NameCell(False)

PortMap = Piecewise[NameCell]


def full_ports() -> PortMap:
    return Piecewise(PORT_MIN, PORT_MAX, ((PORT_MIN, PORT_MAX, ALWAYS),))


def port_map(numbers: IntervalSet, names: Iterable[str] = ()) -> PortMap:
    """The numbers in ``numbers`` or any number a name in ``names`` stands for."""
    result: PortMap = Piecewise(PORT_MIN, PORT_MAX, tuple((a, b, ALWAYS) for a, b in numbers))
    named = frozenset(names)
    if named:
        result = result | Piecewise(PORT_MIN, PORT_MAX, ((PORT_MIN, PORT_MAX, NameCell.any_of(named)),))
    return result


def numeric_part(ports: PortMap) -> IntervalSet | None:
    """The plain number set when ``ports`` depends on no name, else ``None``."""
    if any(not cell.is_full for _, _, cell in ports.segments):
        return None
    return IntervalSet(PORT_MIN, PORT_MAX, tuple((a, b) for a, b, _ in ports.segments))


def cilium_names(ports: PortMap) -> tuple[IntervalSet, frozenset[str]]:
    """``ports`` as Cilium can say it: numbers, plus named ports ORed in.

    That works when every numbered segment is either fully in, or in exactly when one of a fixed
    set of names stands for the number and the segments outside the numbers cover every other
    port. Otherwise (``!http``, ``dns & !http``, a name limited to some numbers) the set depends
    on what the names stand for in a way Cilium cannot express, and ``Inexpressible`` is raised.
    """
    numbers = IntervalSet(PORT_MIN, PORT_MAX, tuple((a, b) for a, b, c in ports.segments if c.is_full))
    named = [(a, b, c) for a, b, c in ports.segments if not c.is_full]
    if not named:
        return numbers, frozenset()
    cells = {c for _, _, c in named}
    covered = IntervalSet.of(PORT_MIN, PORT_MAX, ((a, b) for a, b, _ in named))
    cell = next(iter(cells))
    names = cell.names()
    if len(cells) == 1 and (covered | numbers).is_full and cell == NameCell.any_of(names):
        return numbers, names
    detail = "; ".join(f"{a}-{b}: {c}" for a, b, c in named)
    raise Inexpressible(
        "named port",
        f"the port set depends on what the named ports stand for ({detail}); Cilium cannot say that",
    )


def parse_ports(items: Iterable[int | str]) -> tuple[IntervalSet, frozenset[str]]:
    """Calico ``ports`` items: ``80``, ``"80"``, ``"8000:8080"`` (inclusive) or a named port."""
    ranges: list[tuple[int, int]] = []
    names: set[str] = set()
    for item in items:
        if isinstance(item, bool):
            raise ValueError(f"invalid port {item!r}")
        if isinstance(item, int):
            ranges.append((item, item))
            continue
        text = str(item)
        lo, sep, hi = text.partition(":")
        if sep and lo.isdigit() and hi.isdigit():
            ranges.append((int(lo), int(hi)))
        elif not sep and text.isdigit():
            ranges.append((int(text), int(text)))
        elif not sep and NAMED_PORT.match(text):
            names.add(text)
        else:
            raise ValueError(f"invalid port {item!r}")
    for a, b in ranges:
        if not PORT_MIN <= a <= b <= PORT_MAX:
            raise ValueError(f"invalid port range {a}:{b}")
    return IntervalSet.of(PORT_MIN, PORT_MAX, ranges), frozenset(names)
