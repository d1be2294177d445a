"""HTTP request fields in the proof, without string theory in the main query.

Both sides test a request's method and path only through atoms ``HttpTest`` (equality, prefix,
full regex match: regular languages). For each field the atoms of a query split the field's
values into finitely many *cells*: sets of values on which every atom has the same truth. The
query then ranges over cells (an integer per field) instead of strings: exact, since any two
values of one cell are decided alike by both sides, and easy for the solver.

The cells are computed with automata, not with the solver: each atom (and the field's domain)
becomes a Thompson NFA over the parsed syntax (``semantics/regex.py``); the characters are cut
into intervals no atom tells apart; a breadth-first walk of the product of the determinized
automata visits every reachable combination, and each distinct truth vector of the atoms, at a
state the domain accepts, is a cell, with the shortest string reaching it as its witness.

The domains are what HTTP lets through: a method is a token (RFC 9110 5.6.2 ``tchar``), a path
visible ASCII (RFC 9112 3.2 request-target, RFC 9113 8.2.1: no whitespace or control characters;
proxies refuse such requests).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache

from calico2cilium.semantics.expr import HttpField, HttpTest
from calico2cilium.semantics.regex import Node, full_match, parse

MAX_CHAR = 0x10FFFF
_TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~"
_ANY: Node = ("class", True, (("\n", "\n"),))
_EVERY: Node = ("class", True, ())
MAX_STATES = 200_000


class TooLarge(Exception):
    """The product automaton exceeds ``MAX_STATES`` (reported as outside the proof)."""


def _domain(name: HttpField) -> Node:
    if name == "method":
        ranges = (("0", "9"), ("A", "Z"), ("a", "z"), *((c, c) for c in _TOKEN_SYMBOLS))
        return ("plus", ("class", False, ranges))
    return ("star", ("class", False, (("!", "~"),)))


def _atom_node(atom: HttpTest) -> Node:
    if atom.op == "regex":
        return parse(atom.value)
    literal: Node = ("cat", tuple(("lit", c) for c in atom.value))
    if atom.op == "eq":
        return literal
    return ("cat", (literal, ("star", _EVERY)))


@dataclass
class _Nfa:
    """Thompson NFA: ``moves[s]`` = [(lo, hi, target)], ``eps[s]`` = targets; start 0."""

    moves: list[list[tuple[int, int, int]]] = field(default_factory=list)
    eps: list[list[int]] = field(default_factory=list)
    accept: int = -1

    def state(self) -> int:
        self.moves.append([])
        self.eps.append([])
        return len(self.moves) - 1

    def build(self, node: Node, start: int, end: int) -> None:
        kind = node[0]
        if kind in ("lit", "class", "any"):
            for lo, hi in _ranges(node):
                self.moves[start].append((lo, hi, end))
        elif kind == "cat":
            current = start
            for child in node[1]:
                nxt = self.state()
                self.build(child, current, nxt)
                current = nxt
            self.eps[current].append(end)
        elif kind == "alt":
            for child in node[1]:
                self.build(child, start, end)
        else:
            inner_start, inner_end = self.state(), self.state()
            self.build(node[1], inner_start, inner_end)
            self.eps[start].append(inner_start)
            self.eps[inner_end].append(end)
            if kind in ("star", "opt"):
                self.eps[start].append(end)
            if kind in ("star", "plus"):
                self.eps[inner_end].append(inner_start)

    def closure(self, states: frozenset[int]) -> frozenset[int]:
        seen = set(states)
        stack = list(states)
        while stack:
            for target in self.eps[stack.pop()]:
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        return frozenset(seen)

    def step(self, states: frozenset[int], char: int) -> frozenset[int]:
        return self.closure(frozenset(t for s in states for lo, hi, t in self.moves[s] if lo <= char <= hi))


def _ranges(node: Node) -> list[tuple[int, int]]:
    """The characters of a one-character node, as inclusive code-point intervals."""
    if node[0] == "lit":
        return [(ord(node[1]), ord(node[1]))]
    if node[0] == "any":
        return _ranges(_ANY)
    spans = sorted((ord(lo), ord(hi)) for lo, hi in node[2])
    if not node[1]:
        return spans
    out, low = [], 0
    for lo, hi in spans:
        if lo > low:
            out.append((low, lo - 1))
        low = max(low, hi + 1)
    if low <= MAX_CHAR:
        out.append((low, MAX_CHAR))
    return out


def _nfa(node: Node) -> _Nfa:
    nfa = _Nfa()
    start, end = nfa.state(), nfa.state()
    nfa.build(("any",) if node[0] == "any" else node, start, end)
    nfa.accept = end
    return nfa


def _alphabet(nfas: list[_Nfa]) -> list[int]:
    """One representative character per interval that no automaton tells apart."""
    cuts = {0, MAX_CHAR + 1}
    for nfa in nfas:
        for moves in nfa.moves:
            for lo, hi, _ in moves:
                cuts.update((lo, hi + 1))
    points = sorted(c for c in cuts if c <= MAX_CHAR + 1)
    return points[:-1]


def holds(atom: HttpTest, value: str) -> bool:
    """The atom on a concrete value (the plain-Python reading, for pinning concrete flows)."""
    if atom.op == "regex":
        return full_match(atom.value, value)
    return value == atom.value if atom.op == "eq" else value.startswith(atom.value)


@dataclass(frozen=True)
class Cells:
    """The cells of one field for some atoms: which atoms hold in each, and a witness value."""

    atoms: tuple[HttpTest, ...]
    members: tuple[frozenset[int], ...]
    witnesses: tuple[str, ...]

    def of(self, value: str) -> int | None:
        """The cell of a concrete value (``None``: outside the domain)."""
        member = frozenset(i for i, atom in enumerate(self.atoms) if holds(atom, value))
        return self.members.index(member) if member in self.members else None


@lru_cache(maxsize=256)
def cells(name: HttpField, atoms: tuple[HttpTest, ...]) -> Cells:
    """The field's cells for ``atoms`` (module docstring); ``TooLarge`` past ``MAX_STATES``."""
    nfas = [_nfa(_domain(name)), *(_nfa(_atom_node(a)) for a in atoms)]
    alphabet = _alphabet(nfas)
    start = tuple(n.closure(frozenset({0})) for n in nfas)
    found: dict[frozenset[int], str] = {}
    seen = {start: ""}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        text = seen[state]
        if nfas[0].accept in state[0]:
            member = frozenset(i for i, n in enumerate(nfas[1:]) if n.accept in state[i + 1])
            found.setdefault(member, text)
        if not state[0]:
            continue  # left the domain: nothing further counts
        for char in alphabet:
            nxt = tuple(n.step(s, char) for n, s in zip(nfas, state, strict=True))
            if nxt not in seen:
                if len(seen) >= MAX_STATES:
                    raise TooLarge(f"the HTTP {name} matches need more than {MAX_STATES} automaton states")
                seen[nxt] = text + chr(char)
                queue.append(nxt)
    ordered = sorted(found.items(), key=lambda item: (len(item[1]), item[1]))
    return Cells(atoms, tuple(m for m, _ in ordered), tuple(w for _, w in ordered))


__all__ = ["Cells", "TooLarge", "cells", "holds"]
