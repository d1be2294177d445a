"""Formulas evaluated over many flows at once: one Python integer per formula, one bit per flow.

The concrete engine asks the same programs about every (peer, probe) of every subject. Instead of
walking the formula once per flow (``semantics.world.evaluate``), each node is evaluated once per
*set of flows* as a bitset: ``And`` is ``&``, ``Or`` is ``|``, ``Not`` is ``^ full``. Atoms are still
decided by the concrete interpreter's own ``_atom``, on one representative flow per point of what
the atom can depend on (:func:`depends`): a port test is evaluated once per probe, a peer label test
once per peer (through an index of the peers by label value), and the result is spread over the
bits. The layout of a subject's flows is ``bit = peer * len(probes) + probe``.

Which part of a flow an atom reads is the one assumption this adds to the interpreter; the
differential test (``tests/test_concrete_bitsets.py``) holds the result to the per-flow evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from calico2cilium.semantics.expr import (
    PEER,
    SUBJECT,
    And,
    Attr,
    ClusterNamedPort,
    Const,
    Entity,
    Expr,
    HttpRequest,
    HttpTest,
    IcmpCodeIs,
    IcmpTypeIs,
    InNet,
    IsApiserver,
    IsIPv6,
    IsKind,
    NamedPort,
    Not,
    Or,
    PortIn,
    Present,
    ProtoIs,
    StrShorter,
    StrTest,
    walk,
)
from calico2cilium.semantics.world import Direction, Endpoint, Flow, attr_value, str_test
from calico2cilium.semantics.world import atom_holds as _atom

Probe = tuple[int, int, int]
"""(protocol, destination port, ICMP type); unused fields are 0."""

SUBJECT_BIT, PEER_BIT, PROBE_BIT = 1, 2, 4
"""What an atom's truth depends on (a union of these)."""
EVERYTHING = SUBJECT_BIT | PEER_BIT | PROBE_BIT


def _entity(entity: Entity) -> int:
    # Any other entity (``ns:<name>``) reads the flow's namespace table, the same for every flow.
    return SUBJECT_BIT if entity == SUBJECT else PEER_BIT if entity == PEER else 0


def depends(atom: Expr, cluster_ports_known: bool) -> int:
    """What of a flow ``world._atom`` reads for ``atom`` (its direction never). ``cluster_ports_known``:
    the flows carry the cluster's named-port table (pod subjects); without it ``ClusterNamedPort``
    looks at both ends' declared ports."""
    if isinstance(atom, Const):
        return 0
    if isinstance(atom, Present | StrTest | StrShorter):
        return _entity(atom.attr.entity)
    if isinstance(atom, IsKind | IsApiserver | InNet):
        return _entity(atom.entity)
    if isinstance(atom, IsIPv6):
        return SUBJECT_BIT
    if isinstance(atom, ProtoIs | PortIn | IcmpTypeIs | IcmpCodeIs | HttpRequest | HttpTest):
        return PROBE_BIT  # HTTP fields are part of the probe (concrete flows carry none)
    if isinstance(atom, NamedPort):
        return _entity(atom.entity) | PROBE_BIT
    if isinstance(atom, ClusterNamedPort):
        return PROBE_BIT if cluster_ports_known else EVERYTHING
    return EVERYTHING  # OnSubjectNode, and anything new: evaluated flow by flow


def formula_depends(expr: Expr, cluster_ports_known: bool) -> int:
    out = 0
    for node in walk(expr):
        if not isinstance(node, And | Or | Not):
            out |= depends(node, cluster_ports_known)
    return out


def bits(mask: int) -> Iterator[int]:
    """The positions of the set bits, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def evaluate_bits(expr: Expr, atom_bits: Callable[[Expr], int], full: int, memo: dict[int, int]) -> int:
    """``expr`` over a set of flows (``full``: all of them), atoms from ``atom_bits``. Iterative,
    like ``world.evaluate``; ``memo`` (by node identity) is shared by the formulas of one set."""
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        key = id(node)
        if key in memo:
            continue
        if isinstance(node, And | Or | Not):
            children = (node.arg,) if isinstance(node, Not) else node.args
            if not ready:
                stack.append((node, True))
                stack.extend((child, False) for child in children if id(child) not in memo)
                continue
            if isinstance(node, And):
                value = full
                for child in children:
                    value &= memo[id(child)]
            elif isinstance(node, Or):
                value = 0
                for child in children:
                    value |= memo[id(child)]
            else:
                value = full ^ memo[id(children[0])]
            memo[key] = value
        else:
            memo[key] = atom_bits(node)
    return memo[id(expr)]


_ATTR_ATOMS = (Present, StrTest, StrShorter)


def _attr_holds(atom: Expr, value: str | None) -> bool:
    """``world._atom`` of an attribute atom, given the attribute's value."""
    if value is None:
        return False
    if isinstance(atom, StrTest):
        return str_test(value, atom.op, atom.value)
    if isinstance(atom, StrShorter):
        return len(value) < atom.n
    return True


class AttrIndex:
    """Points (subjects, or peers) grouped by the value of each attribute asked about: an attribute
    atom is then decided once per distinct value, not once per point."""

    def __init__(self, flows: Callable[[], Iterator[tuple[Flow, int]]]) -> None:
        self._flows = flows
        self._groups: dict[Attr, dict[str | None, int]] = {}

    def mask(self, atom: Present | StrTest | StrShorter) -> int:
        groups = self._groups.get(atom.attr)
        if groups is None:
            groups = {}
            for flow, point_mask in self._flows():
                value = attr_value(flow, atom.attr)
                groups[value] = groups.get(value, 0) | point_mask
            self._groups[atom.attr] = groups
        if isinstance(atom, StrTest) and atom.op == "eq":
            return groups.get(atom.value, 0)  # the one value it holds for
        out = 0
        for value, point_mask in groups.items():
            if _attr_holds(atom, value):
                out |= point_mask
        return out


@dataclass
class Subjects:
    """All pod subjects of one direction, one bit each, for the formulas that read only the subject
    (which policies select it): evaluated for every subject at once."""

    flows: Sequence[Flow]
    """A representative flow per subject (its peer and probe are never read)."""
    full: int = 0
    memo: dict[int, int] = field(default_factory=dict)
    cache: dict[Expr, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.full = (1 << len(self.flows)) - 1
        self.index = AttrIndex(lambda: ((flow, 1 << i) for i, flow in enumerate(self.flows)))

    def atom(self, atom: Expr) -> int:
        found = self.cache.get(atom)
        if found is None:
            if isinstance(atom, _ATTR_ATOMS):
                found = self.index.mask(atom)
            else:
                found = 0
                for i, flow in enumerate(self.flows):
                    if _atom(atom, flow):
                        found |= 1 << i
            self.cache[atom] = found
        return found

    def eval(self, expr: Expr) -> int:
        return evaluate_bits(expr, self.atom, self.full, self.memo)


@dataclass
class Universe:
    """The peers and probes of the subjects of one IP family (pod subjects, or host subjects): the
    atoms that do not read the subject are evaluated here once for all of them."""

    direction: Direction
    names: list[str]
    peers: list[Endpoint]
    probes: list[Probe]
    probe_names: list[str]
    namespaces: Mapping[str, Mapping[str, str]]
    cluster_ports: Mapping[tuple[str, int], int] | None
    placeholder: Endpoint
    """The subject of the representative flows of subject-free atoms (never read by them)."""
    cache: dict[Expr, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.width = len(self.probes)
        self.probe_full = (1 << self.width) - 1
        self.repeat = sum(1 << (i * self.width) for i in range(len(self.peers)))
        self.full = self.probe_full * self.repeat
        self.index = AttrIndex(
            lambda: (
                (self.flow(self.placeholder, i, 0), self.probe_full << (i * self.width))
                for i in range(len(self.peers))
            )
        )

    def flow(self, subject: Endpoint, peer: int, probe: int) -> Flow:
        proto, port, icmp = self.probes[probe]
        return Flow(
            self.direction,
            subject,
            self.peers[peer],
            proto,
            port,
            40000 if port else 0,
            icmp,
            0,
            self.namespaces,
            cluster_named_ports=self.cluster_ports,
        )

    def block(self, peer: int) -> int:
        return self.probe_full << (peer * self.width)

    def spread(self, subject: Endpoint, atom: Expr, depends_on: int) -> int:
        """``atom`` over every (peer, probe) with ``subject``: one evaluation per point of what it
        depends on."""
        if not self.peers:
            return 0
        if not depends_on & (PEER_BIT | PROBE_BIT):
            return self.full if _atom(atom, self.flow(subject, 0, 0)) else 0
        if not depends_on & PEER_BIT:
            probe_mask = sum(1 << j for j in range(self.width) if _atom(atom, self.flow(subject, 0, j)))
            return probe_mask * self.repeat
        if not depends_on & PROBE_BIT:
            if isinstance(atom, _ATTR_ATOMS) and not depends_on & SUBJECT_BIT:
                return self.index.mask(atom)
            out = 0
            for i in range(len(self.peers)):
                if _atom(atom, self.flow(subject, i, 0)):
                    out |= self.block(i)
            return out
        out = 0
        for i in range(len(self.peers)):
            for j in range(self.width):
                if _atom(atom, self.flow(subject, i, j)):
                    out |= 1 << (i * self.width + j)
        return out

    def shared(self, atom: Expr, depends_on: int) -> int:
        """A subject-free atom, cached for every subject of the universe."""
        found = self.cache.get(atom)
        if found is None:
            found = self.spread(self.placeholder, atom, depends_on)
            self.cache[atom] = found
        return found


@dataclass
class Space:
    """The flows of one subject: every peer of its universe times every probe, ``valid`` the bits
    of its actual peers (the rest are never read)."""

    universe: Universe
    subject: Endpoint
    valid: int
    memo: dict[int, int] = field(default_factory=dict)

    def atom(self, atom: Expr) -> int:
        depends_on = depends(atom, self.universe.cluster_ports is not None)
        if depends_on & SUBJECT_BIT:
            return self.universe.spread(self.subject, atom, depends_on)
        return self.universe.shared(atom, depends_on)

    def eval(self, expr: Expr) -> int:
        return evaluate_bits(expr, self.atom, self.universe.full, self.memo)
