"""A shorter writing of one rule's cubes: the same union in fewer, looser cubes.

The compiler hands the emitter each Calico rule's share of a region as disjoint cubes (subject x
peer x L4), split wherever an earlier rule cut it: a Deny narrowed by three earlier Allows with
other subjects, peers and ports comes as dozens of pieces, each its own spec. Cilium unions the
rules of every spec selecting an endpoint (docs/reference/semantics.md §2.1, §2.3), so the pieces
need not be disjoint: any cubes with the same union say the same.

``cover`` is a greedy two-level minimisation (the "expand, then drop the redundant" steps of
Espresso): each cube in turn is loosened, one subject or peer label key at a time, then by
adding the other cubes' L4 sets, peer addresses and host kinds, while it stays inside the union
(tested exactly against the original cubes, ``CubeIndex.leaves_any``); a cube inside one already
loosened is dropped, and so is any loosened cube the others cover. Then each cube is cut down to
the smallest cube holding what no other one holds (Espresso's "reduce"), its label terms loosened
again, and the redundant dropped once more. Every step keeps the union
exactly, so the result is as exact as its input; only the writing changes.

With a ``Bound`` (a Deny's, ``plan.Denial.within`` and ``taken``), the cubes are only what must
be covered: each is loosened while it stays inside the bound instead of inside their union, and
the redundancy and reduce steps keep every flow of the input cubes covered (docs/design/
structure-preserving-compile.md, "Writing a Deny between its bounds"). The union may then grow,
within the bound, which the compiler vouches holds only flows the rule may deny.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from calico2cilium.sets import KeyConstraint, LabelCube
from calico2cilium.sets.budget import OwnBudgetExceeded, charge, own_budget
from calico2cilium.sets.coset import CoSet
from calico2cilium.sets.l4 import L4Set
from calico2cilium.sets.labels import Constraints
from calico2cilium.sets.peers import HostPeer, NetPeer, PeerCube, PodPeer, peer_intersects
from calico2cilium.sets.regions import Cube, cube_index, subject_key, subtract_cubes

COVER_LIMIT: Final = 200
"""Cubes ``cover`` works on at most (each try is a subset test against all of them)."""
COVER_WORK: Final = 100_000
"""Cube operations one ``cover`` may spend (``own_budget``); past it the cubes stay as they are."""
BOUND_LIMIT: Final = 1_000
"""Cubes ``cover`` works on at most with a ``Bound``: each cube needs a test only while no
loosened cube holds it, and an absorbed Deny's pieces (one or more per later allow) are many."""
BOUND_WORK: Final = 200
"""With a ``Bound``, the work ``cover`` may spend per cube and per cube of the bound, on top
of ``COVER_WORK``."""

ANY: Final = KeyConstraint(True, CoSet(frozenset(), True))


@dataclass(frozen=True, slots=True)
class Bound:
    """How far ``cover`` may widen the cubes: the flows of ``within`` that no cube of ``taken``
    holds (``plan.Denial``). Tested per candidate cube, symbolically: the set itself, often
    hundreds of cubes when built, is never built."""

    within: Sequence[Cube]
    taken: Sequence[Cube]


class _Inside:
    """``Bound``'s test, indexed: a cube is inside when ``within`` covers it and it meets no
    cube of ``taken`` (each candidate scanned is charged to ``cover``'s budget)."""

    def __init__(self, bound: Bound) -> None:
        self.within = cube_index(subject_key(c.subject for c in bound.within))
        self.within.add(bound.within)
        self.taken = cube_index(subject_key(c.subject for c in bound.taken))
        self.taken.add(bound.taken)
        charge(len(bound.within) + len(bound.taken))

    def __call__(self, candidate: Cube) -> bool:
        if candidate.is_empty:
            return True
        found = self.taken.candidates(candidate)
        charge(len(found))
        return not any(candidate.intersects(c) for c in found) and not self.within.leaves_any([candidate])

    def widest(self, cube: Cube, key: str, peer: bool) -> KeyConstraint:
        """The loosest term on ``key`` (of the subject, or with ``peer`` of the pod peer's
        labels) that a cube like ``cube`` inside the bound may have, the rest kept: every value
        but those of the taken cubes its slab meets (it avoids them by this key alone), within
        the bound's own terms. A candidate, still to be tested (``__call__``)."""
        labels = cube.peer.labels if peer and isinstance(cube.peer, PodPeer) else cube.subject
        free = LabelCube.of(labels.without(key))
        slab = Cube(cube.subject, PodPeer(free), cube.l4) if peer else Cube(free, cube.peer, cube.l4)
        taken, within = self.taken.candidates(slab), self.within.candidates(slab)
        charge(len(taken) + len(within))
        term = ANY
        for t in taken:
            if t.intersects(slab):
                term = term & ~_labels(t, peer).get(key)
        hull: KeyConstraint | None = None
        for w in within:
            if w.intersects(slab):
                own = _labels(w, peer).get(key)
                hull = own if hull is None else hull | own
        return term if hull is None else term & hull


def _labels(cube: Cube, peer: bool) -> LabelCube:
    """A cube's subject, or with ``peer`` its pod peer's labels (every pod when not pods)."""
    if not peer:
        return cube.subject
    return cube.peer.labels if isinstance(cube.peer, PodPeer) else LabelCube.all()


def cover(cubes: Sequence[Cube], fits: Callable[[Cube], bool], bound: Bound | None = None) -> list[Cube]:
    """Cubes with exactly the union of ``cubes``, as few and as loose as the greedy steps find;
    ``fits`` says whether a loosened cube can still be written (its L4 set has a Cilium form).
    With ``bound``: cubes holding every flow of ``cubes`` and inside the bound (which must hold
    ``cubes``). The input unchanged when it has fewer than two cubes (and no bound), more than
    ``COVER_LIMIT``, or the work budget runs out."""
    unique = list(dict.fromkeys(c for c in cubes if not c.is_empty))
    if len(unique) < (1 if bound else 2) or len(unique) > (COVER_LIMIT if bound is None else BOUND_LIMIT):
        return unique
    # Peers of different kinds (pods, addresses, hosts) never meet, so no cube of one kind holds
    # anything of another's: each kind is covered on its own, and a kind with one cube is done
    # (unless a bound lets it grow).
    kinds: dict[type, list[Cube]] = {}
    for cube in unique:
        kinds.setdefault(type(cube.peer), []).append(cube)
    if bound is None and all(len(group) < 2 for group in kinds.values()):
        return unique
    work = COVER_WORK
    if bound is not None:
        work += BOUND_WORK * (len(unique) + len(bound.within) + len(bound.taken))
    try:
        with own_budget(work):
            limit = None if bound is None else _Inside(bound)
            return [
                c
                for group in kinds.values()
                for c in (_cover(group, fits, limit, bound) if len(group) > 1 or bound else group)
            ]
    except OwnBudgetExceeded:
        return unique


def _cover(
    cubes: list[Cube],
    fits: Callable[[Cube], bool],
    limit: Callable[[Cube], bool] | None = None,
    bound: Bound | None = None,
) -> list[Cube]:
    """``cover`` of one peer kind's cubes; with ``limit`` (a ``Bound``'s test), inside it."""
    index = cube_index(subject_key(c.subject for c in cubes))
    index.add(cubes)

    def inside(candidate: Cube, before: Cube) -> bool:
        """Whether ``candidate`` (a loosened ``before``, which is inside) is inside: only what it
        adds is looked up, a thin slab that usually meets few cubes."""
        if limit is not None:
            return limit(candidate)
        return not index.leaves_any(candidate - before)

    widest = limit.widest if isinstance(limit, _Inside) else None
    # With a bound, the terms to loosen towards include the bound's own (the Deny as written).
    terms = (
        cubes
        if bound is None
        else [*cubes, *(c for c in bound.within if type(c.peer) is type(cubes[0].peer))]
    )
    need = None if bound is None else cubes
    out: list[Cube] = []
    for cube in sorted(cubes, key=_narrow_first):
        if any(_within(cube, done) for done in out) or not subtract_cubes([cube], out):
            continue  # the loosened cubes hold it already
        out.append(_expanded(cube, terms, inside, fits, limit=widest))
    out = _irredundant(out, need)
    # Each cube cut down to what only it holds, then its label terms loosened again (not its L4
    # set, which would grow back): a cube that repeated the others' ports for one port of its own
    # keeps that port alone.
    again: list[Cube] = []
    for cube in _reduced(out, fits, need):
        if not any(_within(cube, done) for done in again):
            again.append(_expanded(cube, terms, inside, fits, l4=False, limit=widest))
    return _irredundant(again, need)


def _needed(cube: Cube, need: Sequence[Cube] | None) -> list[Cube]:
    """What of ``cube`` must stay covered: all of it, or (with a bound) its part of ``need``."""
    if need is None:
        return [cube]
    return [h for c in need if (h := c & cube) is not None]


def _narrow_first(cube: Cube) -> tuple[int, tuple[object, ...]]:
    """Cubes with the most label terms first: they have the most to loosen, and the loosened cube
    then takes in the wider ones."""
    terms = len(cube.subject.constraints)
    if isinstance(cube.peer, PodPeer):
        terms += len(cube.peer.labels.constraints)
    return (-terms, cube.sort_key())


def _within(cube: Cube, other: Cube) -> bool:
    return (
        cube.subject.issubset(other.subject)
        and _peer_within(cube.peer, other.peer)
        and cube.l4.issubset(other.l4)
    )


def _peer_within(peer: PeerCube, other: PeerCube) -> bool:
    if isinstance(peer, PodPeer):
        return isinstance(other, PodPeer) and peer.labels.issubset(other.labels)
    if isinstance(peer, NetPeer):
        return isinstance(other, NetPeer) and peer.ips.issubset(other.ips)
    return isinstance(other, HostPeer) and peer.kinds <= other.kinds


def _expanded(
    cube: Cube,
    cubes: Sequence[Cube],
    inside: Callable[[Cube, Cube], bool],
    fits: Callable[[Cube], bool],
    *,
    l4: bool = True,
    limit: Callable[[Cube, str, bool], KeyConstraint] | None = None,
) -> Cube:
    """``cube`` loosened while it stays ``inside`` the union: label terms first (the subject's,
    then a pod peer's), then the peer's addresses or host kinds, then (``l4``) the L4 set."""
    # A loosened subject adds flows of the cube's own peer and L4 set: only cubes meeting those
    # can hold them (and likewise for the peer's labels).
    subject = _loosened(
        cube.subject,
        [c.subject for c in cubes if peer_intersects(c.peer, cube.peer) and c.l4.intersects(cube.l4)],
        lambda s, t: inside(Cube(s, cube.peer, cube.l4), Cube(t, cube.peer, cube.l4)),
        None if limit is None else lambda key, s: limit(Cube(s, cube.peer, cube.l4), key, False),
    )
    cube = Cube(subject, cube.peer, cube.l4)
    if isinstance(cube.peer, PodPeer):
        peers = [
            c.peer.labels
            for c in cubes
            if isinstance(c.peer, PodPeer) and c.subject.intersects(cube.subject) and c.l4.intersects(cube.l4)
        ]
        labels = _loosened(
            cube.peer.labels,
            peers,
            lambda p, q: inside(
                Cube(cube.subject, PodPeer(p), cube.l4), Cube(cube.subject, PodPeer(q), cube.l4)
            ),
            None
            if limit is None
            else lambda key, p: limit(Cube(cube.subject, PodPeer(p), cube.l4), key, True),
        )
        cube = Cube(cube.subject, PodPeer(labels), cube.l4)
    for other in dict.fromkeys(c.peer for c in cubes):
        joined = _joined(cube.peer, other)
        if joined is not None and inside(candidate := Cube(cube.subject, joined, cube.l4), cube):
            cube = candidate
    for more in dict.fromkeys(c.l4 for c in cubes) if l4 else ():
        if more.issubset(cube.l4):
            continue
        candidate = Cube(cube.subject, cube.peer, cube.l4 | more)
        if fits(candidate) and inside(candidate, cube):
            cube = candidate
    return cube


def _loosened(
    cube: LabelCube,
    others: Sequence[LabelCube],
    inside: Callable[[LabelCube, LabelCube], bool],
    widest: Callable[[str, LabelCube], KeyConstraint] | None = None,
) -> LabelCube:
    """``cube`` with each label term loosened while ``inside(looser, cube)`` holds: dropped if it
    can be; else (with ``widest``, a bound's loosest term for the key) that term; else the other
    cubes' terms on the key joined in one by one (``in (a, b)`` from ``a`` and ``b``); else a
    negative term's excluded values taken out one by one."""
    for key in cube.label_keys():
        kc, rest = cube.get(key), cube.without(key)

        def put(looser: KeyConstraint, rest: Constraints = rest, key: str = key) -> LabelCube:
            return LabelCube.of((*rest, (key, looser)))

        widest_cube = put(ANY)
        if inside(widest_cube, cube):
            cube = widest_cube
            continue
        if widest is not None:
            loosest = widest(key, cube) | kc
            if loosest != kc and inside(candidate := put(loosest), cube):
                cube = candidate
                continue
        # Only cubes that meet the widest slab can cover a part of it.
        terms = dict.fromkeys(other.get(key) for other in others if other.intersects(widest_cube))
        joins = [t for t in terms if not t.issubset(kc) and not t.is_any]
        if kc.values.cofinite:
            joins.extend(KeyConstraint(kc.absent, CoSet(frozenset({v}))) for v in sorted(kc.values.values))
        for join in joins:
            looser = kc | join
            if looser != kc and not looser.is_any and inside(candidate := put(looser), cube):
                kc, cube = looser, candidate
    return cube


def _joined(peer: PeerCube, other: PeerCube) -> PeerCube | None:
    """``peer`` joined with ``other`` where both are addresses or both hosts and ``other`` adds
    something; else ``None`` (pod peers are loosened by their label terms instead)."""
    if isinstance(peer, NetPeer) and isinstance(other, NetPeer) and not other.ips.issubset(peer.ips):
        return NetPeer(peer.ips | other.ips)
    if isinstance(peer, HostPeer) and isinstance(other, HostPeer) and not other.kinds <= peer.kinds:
        return HostPeer(peer.kinds | other.kinds)
    return None


def _reduced(
    cubes: list[Cube], fits: Callable[[Cube], bool], need: Sequence[Cube] | None = None
) -> list[Cube]:
    """Each cube replaced by the smallest cube holding its part no other cube holds (the others
    hold the rest, so the union stays), where that can be written. The cubes whose own part has
    the fewest L4 flows go first, so that a broad cube the others repeat keeps its breadth and the
    others shrink to their exceptions. With ``need`` (a bound's), only its flows count."""
    out = list(cubes)
    owns = [subtract_cubes(_needed(cube, need), out[:i] + out[i + 1 :]) for i, cube in enumerate(out)]
    order = sorted(range(len(out)), key=lambda i: (_l4_size(_hull(owns[i]).l4) if owns[i] else 0, i))
    for i in order:
        own = subtract_cubes(_needed(out[i], need), out[:i] + out[i + 1 :])
        if not own:
            continue
        smaller = _hull(own)
        if smaller != out[i] and fits(smaller):
            out[i] = smaller
    return out


def _l4_size(l4: L4Set) -> int:
    """How many L4 flows (protocol and port, or ICMP type) ``l4`` holds, about."""
    ports = sum(b - a + 1 for _, pm in l4.ports for a, b, _ in pm.segments)
    icmp = sum(b - a + 1 for _, types in l4.icmp for a, b, _ in types.segments)
    return ports + icmp + sum(b - a + 1 for a, b in l4.others.ranges) * 65536


def _hull(cubes: list[Cube]) -> Cube:
    """The smallest cube holding ``cubes`` (pieces of one cube: one peer kind)."""
    first = cubes[0]
    subject, peer, l4 = first.subject, first.peer, first.l4
    for cube in cubes[1:]:
        subject = _label_hull(subject, cube.subject)
        peer = _peer_hull(peer, cube.peer)
        l4 = l4 | cube.l4
    return Cube(subject, peer, l4)


def _label_hull(a: LabelCube, b: LabelCube) -> LabelCube:
    keys = set(a.label_keys()) & set(b.label_keys())
    return LabelCube.of((key, a.get(key) | b.get(key)) for key in keys)


def _peer_hull(a: PeerCube, b: PeerCube) -> PeerCube:
    if isinstance(a, PodPeer) and isinstance(b, PodPeer):
        return PodPeer(_label_hull(a.labels, b.labels))
    joined = _joined(a, b)
    return a if joined is None else joined


def _irredundant(cubes: list[Cube], need: Sequence[Cube] | None = None) -> list[Cube]:
    """``cubes`` less each one the others (those kept so far) cover (with ``need``, a bound's:
    cover its part of ``need``), the loosest kept first."""
    kept = list(cubes)
    for cube in reversed(cubes):
        rest = [c for c in kept if c is not cube]
        if rest and not subtract_cubes(_needed(cube, need), rest):
            kept = rest
    return kept


def covered_by_others(cubes: Sequence[Cube]) -> dict[int, list[int]]:
    """The cubes (by index) that the others cover, each with the kept cubes that meet it (which
    hold its flows between them); the narrowest tried first, so a broad cube covering narrow ones
    is the one kept. For cubes of several Calico rules written in one section (``cover`` makes
    each rule's own cubes irredundant): Cilium unions the rules of every spec selecting an
    endpoint (docs/reference/semantics.md §2.1, §2.3), so a cube inside the others' union adds
    nothing, and every subject it selects is selected, in the same section, by a cube that
    stays. Nothing is dropped past ``COVER_LIMIT`` cubes or ``COVER_WORK`` operations."""
    unique = [i for i, c in enumerate(cubes) if not c.is_empty]
    if len(unique) < 2 or len(unique) > COVER_LIMIT:
        return {}
    index = cube_index(subject_key(cubes[i].subject for i in unique))
    index.add(cubes[i] for i in unique)
    dropped: set[int] = set()
    position = {id(cubes[i]): i for i in unique}
    try:
        with own_budget(COVER_WORK):
            for i in sorted(unique, key=lambda i: _narrow_first(cubes[i])):
                cube = cubes[i]
                others = [
                    c
                    for c in index.candidates(cube)
                    if position[id(c)] != i and position[id(c)] not in dropped and c.intersects(cube)
                ]
                if others and not subtract_cubes([cube], others):
                    dropped.add(i)
    except OwnBudgetExceeded:
        return {}
    kept = [i for i in unique if i not in dropped]
    return {i: [k for k in kept if cubes[k].intersects(cubes[i])] for i in sorted(dropped)}
