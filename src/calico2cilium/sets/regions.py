"""Regions of flows for one direction: unions of disjoint cubes subject x peer x L4.

A ``Cube`` is a product of one subject label cube, one peer cube (one kind) and one L4 set. A
``Region`` keeps its cubes pairwise disjoint and non-empty; every operation preserves that, so
the cubes of a region partition it and can be attributed (provenance) one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from calico2cilium.sets.index import CubeIndex, pick_key
from calico2cilium.sets.l4 import L4Point, L4Set
from calico2cilium.sets.labels import LabelCube, LabelSet, merge_cubes
from calico2cilium.sets.peers import (
    HostPeer,
    NetPeer,
    PeerCube,
    PeerPoint,
    PodPeer,
    all_peers,
    merge_peers,
    peer_and,
    peer_contains,
    peer_cut,
    peer_is_empty,
    peer_sort_key,
    peer_sub,
)
from calico2cilium.sets.slots import slot_setter


@dataclass(frozen=True, slots=True)
class Flow:
    """One flow, for membership tests: the subject endpoint's labels, the peer, the L4 flow."""

    subject: Mapping[str, str]
    peer: PeerPoint
    l4: L4Point


@dataclass(frozen=True, slots=True)
class Cube:
    subject: LabelCube
    peer: PeerCube
    l4: L4Set

    def __init__(self, subject: LabelCube, peer: PeerCube, l4: L4Set) -> None:
        """The generated initialiser, faster (``slots.py``)."""
        _set_subject(self, subject)
        _set_peer(self, peer)
        _set_l4(self, l4)

    @property
    def is_empty(self) -> bool:
        return self.subject.is_empty or peer_is_empty(self.peer) or self.l4.is_empty

    def __and__(self, other: Cube) -> Cube | None:
        """The intersection, or ``None`` when empty."""
        if not self.intersects(other):
            return None
        peer = peer_and(self.peer, other.peer)
        assert peer is not None  # peer_intersects held
        return Cube(self.subject & other.subject, peer, self.l4 & other.l4)

    def intersects(self, other: Cube) -> bool:
        # The peer's kind first: a mismatch is the cheapest and most common miss (``peer_intersects``
        # inlined: the subtraction loops test millions of pairs, most of them missing). Between
        # pod peers, the subjects before the peers' labels: they miss more often (mix of 300).
        a, b = self.peer, other.peer
        if isinstance(a, PodPeer):
            if not (
                isinstance(b, PodPeer)
                and self.subject.intersects(other.subject)
                and a.labels.intersects(b.labels)
            ):
                return False
            return self.l4.intersects(other.l4)
        elif isinstance(a, NetPeer):
            if not (isinstance(b, NetPeer) and a.ips.intersects(b.ips)):
                return False
        elif not (isinstance(b, HostPeer) and not a.kinds.isdisjoint(b.kinds)):
            return False
        return self.subject.intersects(other.subject) and self.l4.intersects(other.l4)

    def __sub__(self, other: Cube) -> list[Cube]:
        """``A - B`` = (A.s-B.s)xA.pxA.l  +  (A.s&B.s)x(A.p-B.p)xA.l  +  (A.s&B.s)x(A.p&B.p)x(A.l-B.l),
        disjoint by construction."""
        if not self.intersects(other):
            return [self]
        return self.cut(other)

    def cut(self, other: Cube) -> list[Cube]:
        """``self - other`` for an ``other`` known to meet ``self``: the subtraction loops test
        that first, and ``__sub__`` would test it again (on every dimension)."""
        mine, l4 = self.peer, self.l4
        out = [Cube(s, mine, l4) for s in self.subject.cut(other.subject)]
        peers = peer_cut(mine, other.peer)
        rest = l4 - other.l4
        if not peers and rest.is_empty:
            return out  # ``other`` holds the rest: the common subject and peer are not needed
        subject = self.subject & other.subject
        out.extend(Cube(subject, p, l4) for p in peers)
        if not rest.is_empty:
            peer = peer_and(mine, other.peer)
            assert peer is not None  # the cubes meet
            out.append(Cube(subject, peer, rest))
        return out

    def contains(self, flow: Flow) -> bool:
        return (
            self.subject.matches(flow.subject) and peer_contains(self.peer, flow.peer) and flow.l4 in self.l4
        )

    def sort_key(self) -> tuple[object, ...]:
        return (self.subject.sort_key(), peer_sort_key(self.peer), self.l4.sort_key())

    def __str__(self) -> str:
        return f"[{self.subject}] x {self.peer} x {self.l4}"


_set_subject: Final = slot_setter(Cube, "subject")
_set_peer: Final = slot_setter(Cube, "peer")
_set_l4: Final = slot_setter(Cube, "l4")


def _subject(cube: Cube) -> LabelCube:
    return cube.subject


def cube_index(key: str | None) -> CubeIndex[Cube]:
    """An empty index of region cubes by the subject's values for ``key`` (see ``index.py``)."""
    return CubeIndex(key, _subject, Cube.intersects, Cube.cut, first_meeting)


def first_meeting(piece: Cube, cands: Sequence[Cube], i: int) -> int:
    """The first of ``cands`` from ``i`` on that ``piece`` intersects (``max(i, len(cands))`` if
    none).
    For a pod peer piece, ``Cube.intersects`` written out with ``piece``'s parts read once: the
    subtraction loops scan millions of candidates, most of them missing, and a call per
    candidate costs about as much as its test."""
    n = len(cands)
    peer = piece.peer
    if not isinstance(peer, PodPeer):
        while i < n and not piece.intersects(cands[i]):
            i += 1
        return i
    subject, labels, l4 = piece.subject, peer.labels, piece.l4
    while i < n:
        cand = cands[i]
        other = cand.peer
        if (
            isinstance(other, PodPeer)
            and subject.intersects(cand.subject)
            and labels.intersects(other.labels)
            and l4.intersects(cand.l4)
        ):
            return i
        i += 1
    return i


def subject_key(subjects: Iterable[LabelCube]) -> str | None:
    """The subject label key to index region cubes on: see ``index.pick_key``."""
    return pick_key(subjects)


def subtract_cubes(cubes: Iterable[Cube], others: Sequence[Cube]) -> list[Cube]:
    """``union(cubes) - union(others)``; ``others`` may overlap. Pieces of one input stay disjoint.
    Many ``others`` go through a subject index (``index.py``) instead of a linear scan."""
    pieces = [c for c in cubes if not c.is_empty]
    if len(others) > 8:
        index = cube_index(pick_key(c.subject for c in others))
        index.add(others)
        return index.subtract(pieces)
    for other in others:
        if not pieces:
            break
        nxt: list[Cube] = []
        for piece in pieces:  # ``nxt.extend(piece - other)``, without a list per missed piece
            if piece.intersects(other):
                nxt.extend(piece.cut(other))
            else:
                nxt.append(piece)
        pieces = nxt
    return pieces


@dataclass(frozen=True, slots=True)
class Region:
    """A union of pairwise disjoint, non-empty cubes. Build with ``of`` (any cubes) or ``product``."""

    cubes: tuple[Cube, ...] = ()

    @staticmethod
    def empty() -> Region:
        return Region(())

    @staticmethod
    def full() -> Region:
        return Region.product(LabelSet.all(), all_peers(), L4Set.all())

    @staticmethod
    def of(cubes: Iterable[Cube]) -> Region:
        """From cubes that may overlap: each is cut down to what the earlier ones miss (through
        one subject index over the pieces kept so far, not a new one per cube)."""
        given = [c for c in cubes if not c.is_empty]
        if len(given) <= 8:
            out: list[Cube] = []
            for cube in given:
                out.extend(subtract_cubes((cube,), out))
            return Region(tuple(out))
        index = cube_index(pick_key(c.subject for c in given))
        for cube in given:
            index.add(index.subtract([cube]))
        return Region(tuple(index.items))

    @staticmethod
    def disjoint(cubes: Iterable[Cube]) -> Region:
        """From cubes the caller guarantees pairwise disjoint (empty ones are dropped)."""
        return Region(tuple(c for c in cubes if not c.is_empty))

    @staticmethod
    def product(subjects: LabelSet | LabelCube, peers: Iterable[PeerCube], l4: L4Set) -> Region:
        """``subjects x union(peers) x l4``; overlapping subject cubes or peers are made disjoint."""
        subject_cubes = subjects.disjoint_cubes() if isinstance(subjects, LabelSet) else [subjects]
        peer_list: list[PeerCube] = []
        for p in peers:
            pieces = [p]
            for q in peer_list:
                pieces = [r for piece in pieces for r in peer_sub(piece, q)]
            peer_list.extend(pieces)
        return Region.disjoint(Cube(s, p, l4) for s in subject_cubes for p in peer_list)

    @property
    def is_empty(self) -> bool:
        return not self.cubes

    def __and__(self, other: Region) -> Region:
        out: list[Cube] = []
        for a in self.cubes:
            for b in other.cubes:
                c = a & b
                if c is not None:
                    out.append(c)
        return Region(tuple(out))

    def __sub__(self, other: Region) -> Region:
        return Region(tuple(subtract_cubes(self.cubes, other.cubes)))

    def __or__(self, other: Region) -> Region:
        return Region(self.cubes + tuple(subtract_cubes(other.cubes, self.cubes)))

    def restrict_subject(self, subjects: LabelSet | Sequence[LabelCube]) -> Region:
        """The part of this region whose subject is in ``subjects`` (a sequence of label cubes
        must be pairwise disjoint, e.g. ``LabelSet.disjoint_cubes()``)."""
        parts = subjects.disjoint_cubes() if isinstance(subjects, LabelSet) else subjects
        out: list[Cube] = []
        for c in self.cubes:
            for s in parts:
                if c.subject.intersects(s):
                    out.append(Cube(c.subject & s, c.peer, c.l4))
        return Region(tuple(out))

    def subjects(self) -> LabelSet:
        return LabelSet.of(c.subject for c in self.cubes)

    def contains(self, flow: Flow) -> bool:
        return any(c.contains(flow) for c in self.cubes)

    def issubset(self, other: Region) -> bool:
        return not subtract_cubes(self.cubes, other.cubes)

    def equivalent(self, other: Region) -> bool:
        """Set equality (``==`` compares representations)."""
        return self.issubset(other) and other.issubset(self)

    def simplify(self) -> Region:
        """Merge cubes that differ in one dimension (or in one label key of a label dimension),
        until nothing merges; the result is sorted. Merging disjoint cubes keeps them disjoint."""
        if len(self.cubes) < 2:
            return self
        cubes = list(self.cubes)
        while True:
            before = len(cubes)
            cubes = _merge_by(cubes, lambda c: (c.peer, c.l4), _merge_subjects)
            cubes = _merge_by(cubes, lambda c: (c.subject, c.l4), _merge_peer_dim)
            cubes = _merge_by(cubes, lambda c: (c.subject, c.peer), _merge_l4)
            if len(cubes) == before:
                break
        return Region(tuple(sorted(cubes, key=Cube.sort_key)))

    def __str__(self) -> str:
        return " | ".join(str(c) for c in self.cubes) or "none"


def _merge_by(
    cubes: list[Cube], key: Callable[[Cube], Hashable], merge: Callable[[list[Cube]], list[Cube]]
) -> list[Cube]:
    groups: dict[Hashable, list[Cube]] = {}
    for c in cubes:
        groups.setdefault(key(c), []).append(c)
    out: list[Cube] = []
    for group in groups.values():
        out.extend(group if len(group) == 1 else merge(group))
    return out


def _merge_subjects(group: list[Cube]) -> list[Cube]:
    peer, l4 = group[0].peer, group[0].l4
    return [Cube(s, peer, l4) for s in merge_cubes(c.subject for c in group)]


def _merge_peer_dim(group: list[Cube]) -> list[Cube]:
    subject, l4 = group[0].subject, group[0].l4
    return [Cube(subject, p, l4) for p in merge_peers([c.peer for c in group])]


def _merge_l4(group: list[Cube]) -> list[Cube]:
    subject, peer = group[0].subject, group[0].peer
    l4 = group[0].l4
    for c in group[1:]:
        l4 = l4 | c.l4
    return [Cube(subject, peer, l4)]
