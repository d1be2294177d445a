"""The set algebra's fast paths against the slow exact paths they stand for.

Each shortcut (intersection tests that build nothing, merge-based label cube AND, one-pass
differences, identity/empty/full operand shortcuts, memoised L4 operations, cached hashes) must give
exactly the value (the same normal form, not just the same set) that the straightforward
computation gives. The references below are the straightforward computations, written out here.
Operands are drawn both independent and identical (the same object, or an equal copy), so that
every shortcut is reached.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from typing import Any, TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from calico2cilium.sets import IntervalSet, KeyConstraint, L4Set, LabelCube
from calico2cilium.sets.coset import CoSet
from calico2cilium.sets.ipsets import IPSet
from calico2cilium.sets.labels import ANY, merge_cubes
from calico2cilium.sets.peers import NetPeer, PeerCube, PodPeer, peer_and, peer_cut, peer_intersects, peer_sub
from calico2cilium.sets.piecewise import Piecewise
from calico2cilium.sets.ports import NameCell, _apply
from calico2cilium.sets.regions import Cube, first_meeting, subtract_cubes
from test_sets_l4 import HI, LO, fields, ranges
from test_sets_universe import l4_sets, label_cubes, peer_cubes, raw_cubes

FAST = settings(max_examples=200, deadline=None)
T = TypeVar("T")

VALUES = ("x", "y", "z")
cosets = st.builds(CoSet, st.frozensets(st.sampled_from(VALUES), max_size=3), st.booleans())
key_constraints = st.builds(KeyConstraint, st.booleans(), cosets)


def pairs(values: st.SearchStrategy[T]) -> st.SearchStrategy[tuple[T, T]]:
    """Two independent values, the same object twice, or a value and an equal copy."""
    return st.one_of(
        st.tuples(values, values),
        values.map(lambda v: (v, v)),
        values.map(lambda v: (v, copy.deepcopy(v))),
    )


# ------------------------------------------------------------------------------ strings and labels


@FAST
@given(pairs(cosets))
def test_coset_meets_and_difference(p: tuple[CoSet, CoSet]) -> None:
    a, b = p
    assert a.meets(b) == (not (a & b).is_empty)
    assert a - b == a & ~b


@FAST
@given(pairs(key_constraints))
def test_key_constraint_meets_and_difference(p: tuple[KeyConstraint, KeyConstraint]) -> None:
    a, b = p
    assert a.meets(b) == (not (a & b).is_empty)
    assert a - b == a & ~b
    # ``issubset`` (and ``cut``'s test of a key) decides without building the difference
    assert a.issubset(b) == KeyConstraint(a.absent and not b.absent, a.values - b.values).is_empty


@FAST
@given(pairs(key_constraints))
def test_memoised_key_constraint_operations(p: tuple[KeyConstraint, KeyConstraint]) -> None:
    """``&``, ``|`` and ``-`` are remembered by value (``labels._and``...): each, asked twice (the
    second time from the cache, maybe for an equal copy), is the plain computation."""
    a, b = p
    for _ in range(2):
        assert a & b == KeyConstraint(a.absent and b.absent, a.values & b.values)
        assert a | b == KeyConstraint(a.absent or b.absent, a.values | b.values)
        assert a - b == KeyConstraint(a.absent and not b.absent, a.values - b.values)
        a, b = copy.deepcopy(a), copy.deepcopy(b)
    assert hash(a) == hash((a.absent, a.values)) == hash(a)  # computed, then cached
    assert a.sort_key() == (a.absent, a.values.cofinite, tuple(sorted(a.values.values))) == a.sort_key()
    assert (a == b) == ((a.absent, a.values) == (b.absent, b.values))
    assert (a & b) is (copy.deepcopy(a) & b)  # equal results are one object (``labels._shared``)


def slow_cube_and(a: LabelCube, b: LabelCube) -> LabelCube:
    if a.is_empty or b.is_empty:
        return LabelCube.empty()
    return LabelCube.of(a.constraints + b.constraints)


def slow_cube_sub(a: LabelCube, b: LabelCube) -> list[LabelCube]:
    """``a - b`` as the per-key split, every piece normalised by ``LabelCube.of``."""
    if slow_cube_and(a, b).is_empty:
        return [] if a.is_empty else [a]
    out: list[LabelCube] = []
    current = dict(a.constraints)
    for key, okc in b.constraints:
        mine = current.get(key, ANY)
        outside = mine & ~okc
        if not outside.is_empty:
            out.append(LabelCube.of({**current, key: outside}))
        current[key] = mine & okc
    return out


@FAST
@given(pairs(label_cubes | st.just(LabelCube.empty())))
def test_label_cube_and_intersects_sub(p: tuple[LabelCube, LabelCube]) -> None:
    a, b = p
    assert a & b == slow_cube_and(a, b)
    assert a.intersects(b) == (not slow_cube_and(a, b).is_empty)
    assert a - b == slow_cube_sub(a, b)


@FAST
@given(pairs(label_cubes), pairs(peer_cubes), pairs(l4_sets))
def test_cut_is_the_difference_of_meeting_cubes(
    subjects: tuple[LabelCube, LabelCube], peers: tuple[PeerCube, PeerCube], l4s: tuple[L4Set, L4Set]
) -> None:
    """``cut`` (the subtraction loops' difference, for operands known to meet) gives exactly what
    ``-`` gives, piece for piece."""
    a, b = (Cube(s, p, flows) for s, p, flows in zip(subjects, peers, l4s, strict=True))
    if subjects[0].intersects(subjects[1]):
        assert subjects[0].cut(subjects[1]) == subjects[0] - subjects[1]
    if peer_intersects(*peers):
        assert peer_cut(*peers) == peer_sub(*peers)
    if a.intersects(b):
        assert a.cut(b) == a - b


@FAST
@given(label_cubes, label_cubes, key_constraints)
def test_cubes_sharing_a_constraint_object(a: LabelCube, b: LabelCube, kc: KeyConstraint) -> None:
    """``intersects``, ``&`` and ``cut`` skip the operations on a constraint both cubes hold as
    one object (and ``cut`` those on a key whose constraint ``other``'s holds)."""
    x, y = (LabelCube.of((*c.constraints, ("shared", kc))) for c in (a, b))
    assert x.intersects(y) == (not slow_cube_and(x, y).is_empty)
    assert x & y == slow_cube_and(x, y)
    assert x - y == slow_cube_sub(x, y)
    wider = LabelCube.of((*b.constraints, ("shared", kc | KeyConstraint.eq("w"))))
    assert x - wider == slow_cube_sub(x, wider)


wide_label_cubes = st.dictionaries(st.sampled_from(("a", "b", "c", "d")), key_constraints, max_size=4).map(
    LabelCube.of
)


@FAST
@given(pairs(wide_label_cubes | st.just(LabelCube.empty())))
def test_label_cube_intersects_looks_up_a_key_map(p: tuple[LabelCube, LabelCube]) -> None:
    """``intersects`` looks one cube's keys up in the other's key map (built on first use, on the
    longer cube, kept): either way round, asked twice (with one map, then either), it is the
    plain emptiness test."""
    a, b = p
    expected = not slow_cube_and(a, b).is_empty
    for _ in range(2):
        assert a.intersects(b) == expected
        assert b.intersects(a) == expected
    assert a - b == slow_cube_sub(a, b)
    both = slow_cube_and(a, b)
    assert a & b == both
    if both == a:
        assert a & b is a  # no new cube for a result equal to the left operand


def slow_region_cut(a: Cube, b: Cube) -> list[Cube]:
    """The three-part difference of meeting cubes, every part built whether needed or not."""
    peer = peer_and(a.peer, b.peer)
    assert peer is not None
    subject = slow_cube_and(a.subject, b.subject)
    out = [Cube(s, a.peer, a.l4) for s in slow_cube_sub(a.subject, b.subject)]
    out.extend(Cube(subject, p, a.l4) for p in peer_sub(a.peer, b.peer))
    rest = slow_l4(a.l4, b.l4, "sub")
    if not rest.is_empty:
        out.append(Cube(subject, peer, rest))
    return out


@FAST
@given(pairs(label_cubes), pairs(peer_cubes), pairs(l4_sets))
def test_region_cut_builds_only_what_it_returns(
    subjects: tuple[LabelCube, LabelCube], peers: tuple[PeerCube, PeerCube], l4s: tuple[L4Set, L4Set]
) -> None:
    """``Cube.cut`` builds the common subject and peer only for the pieces that hold them, and
    ``Cube.intersects`` tests the peer inline: both as the plain computation."""
    a, b = (Cube(s, p, flows) for s, p, flows in zip(subjects, peers, l4s, strict=True))
    meets = peer_intersects(a.peer, b.peer) and a.subject.intersects(b.subject) and a.l4.intersects(b.l4)
    assert a.intersects(b) == meets
    if meets:
        assert a.cut(b) == slow_region_cut(a, b)


@FAST
@given(raw_cubes(), raw_cubes(max_size=2))
def test_subtract_few_cubes_is_the_piecewise_difference(cubes: list[Cube], others: list[Cube]) -> None:
    """``subtract_cubes`` with few others (no index) keeps a piece that misses ``other`` as it is
    and cuts the rest: exactly ``piece - other`` for each piece in turn, in the same order."""
    assert len(others) <= 8  # the linear path (more go through a ``CubeIndex``)
    pieces = [c for c in cubes if not c.is_empty]
    for other in others:
        pieces = [p for piece in pieces for p in piece - other]
    assert subtract_cubes(cubes, others) == pieces


@FAST
@given(raw_cubes(max_size=1), raw_cubes(max_size=4), st.integers(0, 5))
def test_first_meeting_is_the_plain_scan(piece: list[Cube], cands: list[Cube], start: int) -> None:
    """The region index's scan (``first_meeting``, ``Cube.intersects`` written out for pod peers)
    stops where testing each candidate in turn stops."""
    for p in piece:
        i = start
        while i < len(cands) and not p.intersects(cands[i]):
            i += 1
        assert first_meeting(p, cands, start) == max(i, start)


@FAST
@given(pairs(label_cubes), pairs(fields.map(lambda f: f.build())))
def test_cached_hashes_are_the_field_hashes(
    cubes: tuple[LabelCube, LabelCube], l4s: tuple[L4Set, L4Set]
) -> None:
    for c in cubes:
        assert hash(c) == hash((c.constraints, c.empty_marker)) == hash(c)  # computed, then cached
    for s in l4s:
        assert hash(s) == hash((s.ports, s.icmp, s.others)) == hash(s)
    for x, y in (cubes, l4s):
        assert x != y or hash(x) == hash(y)


# ------------------------------------------------------------------------------ peers


def slow_ips_intersect(a: IPSet, b: IPSet) -> bool:
    return not (a & b).is_empty


@FAST
@given(pairs(peer_cubes))
def test_peer_intersects(p: tuple[PeerCube, PeerCube]) -> None:
    a, b = p
    assert peer_intersects(a, b) == (peer_and(a, b) is not None)
    if isinstance(a, PodPeer) and isinstance(b, PodPeer):
        both = slow_cube_and(a.labels, b.labels)
        assert peer_and(a, b) == (None if both.is_empty else PodPeer(both))
    if isinstance(a, NetPeer) and isinstance(b, NetPeer):
        assert a.ips.intersects(b.ips) == slow_ips_intersect(a.ips, b.ips)


# ------------------------------------------------------------------------------ intervals, cells, L4


def interval_sets(draw_ranges: list[tuple[int, int]]) -> IntervalSet:
    return IntervalSet.of(LO, HI, draw_ranges)


@FAST
@given(pairs(ranges.map(interval_sets)))
def test_interval_difference_is_and_not(p: tuple[IntervalSet, IntervalSet]) -> None:
    a, b = p
    assert a - b == a & ~b


def slow_name_op(op: str) -> Callable[[NameCell, NameCell], NameCell]:
    return lambda a, b: NameCell(_apply(op, a.node, b.node))


name_cells = st.one_of(
    st.sampled_from([NameCell(True), NameCell(False)]),
    st.frozensets(st.sampled_from(["dns", "http", "ssh"]), min_size=1).map(NameCell.any_of),
    st.frozensets(st.sampled_from(["dns", "http", "ssh"]), min_size=1).map(lambda n: ~NameCell.any_of(n)),
)


@FAST
@given(pairs(name_cells))
def test_name_cell_constant_shortcuts(p: tuple[NameCell, NameCell]) -> None:
    a, b = p
    assert a & b == slow_name_op("and")(a, b)
    assert a | b == slow_name_op("or")(a, b)
    assert a - b == slow_name_op("sub")(a, b)


def slow_piecewise(op: str) -> Callable[[Piecewise[Any], Piecewise[Any]], Piecewise[Any]]:
    """The general segment walk, without the shortcuts of ``&``/``|``/``-``."""
    cell_ops: dict[str, Callable[[Any, Any], Any]] = {
        "and": lambda x, y: None if x is None or y is None else x & y,
        "or": lambda x, y: y if x is None else x if y is None else x | y,
        "sub": lambda x, y: x if x is None or y is None else x - y,
    }
    return lambda a, b: a._combine(b, cell_ops[op])


def slow_zip(a: tuple[tuple[int, Any], ...], b: tuple[tuple[int, Any], ...], op: str) -> tuple[Any, ...]:
    da, db = dict(a), dict(b)
    out = []
    for proto in sorted(da.keys() | db.keys()):
        x, y = da.get(proto), db.get(proto)
        if op == "and":
            m = None if x is None or y is None else slow_piecewise("and")(x, y)
        elif op == "or":
            m = y if x is None else x if y is None else slow_piecewise("or")(x, y)
        else:
            m = x if x is None or y is None else slow_piecewise("sub")(x, y)
        if m is not None and not m.is_empty:
            out.append((proto, m))
    return tuple(out)


def slow_l4(a: L4Set, b: L4Set, op: str) -> L4Set:
    others = {"and": a.others & b.others, "or": a.others | b.others, "sub": a.others & ~b.others}[op]
    return L4Set(slow_zip(a.ports, b.ports, op), slow_zip(a.icmp, b.icmp, op), others)


def slow_l4_sort_key(s: L4Set) -> tuple[object, ...]:
    ports = tuple(
        (p, tuple((a, b, "" if c.is_full else repr(c.node)) for a, b, c in m.segments)) for p, m in s.ports
    )
    icmp = tuple((p, tuple((a, b, c.ranges) for a, b, c in m.segments)) for p, m in s.icmp)
    return (ports, icmp, s.others.ranges)


l4_sets = st.one_of(fields.map(lambda f: f.build()), st.sampled_from([L4Set.all(), L4Set.empty()]))


@FAST
@given(pairs(l4_sets))
def test_l4_operations_match_the_general_walk(p: tuple[L4Set, L4Set]) -> None:
    a, b = p
    for op, fast in (("and", a & b), ("or", a | b), ("sub", a - b)):
        assert fast == slow_l4(a, b, op), op
    # ``intersects``: its identical/full shortcuts and its memo, as the intersection's emptiness
    for _ in range(2):
        assert a.intersects(b) == b.intersects(a) == (not slow_l4(a, b, "and").is_empty)
    # ``sort_key``, remembered, is the key built from the fields (for an equal copy too)
    for s in (a, b, copy.deepcopy(a)):
        assert s.sort_key() == slow_l4_sort_key(s)
    # memoised: asking again (or with equal copies) gives the same values
    a2, b2 = copy.deepcopy(a), copy.deepcopy(b)
    assert a2 & b2 == a & b and a2 - b2 == a - b
    # equal results of the memoised operations are one object (``l4._shared``)
    if a is not b and b is not L4Set.all() and a is not L4Set.all():
        assert (a2 & b2) is (a & b) and (a2 - b2) is (a - b)


def slow_merge_cubes(cubes: list[LabelCube]) -> list[LabelCube]:
    """``merge_cubes`` with every merged cube normalised by ``LabelCube.of``."""
    current = list(dict.fromkeys(c for c in cubes if not c.is_empty))
    changed = True
    while changed and len(current) > 1:
        changed = False
        for key in sorted({k for c in current for k in c.label_keys()}):
            groups: dict[tuple[Any, ...], KeyConstraint] = {}
            for cube in current:
                rest = cube.without(key)
                prev = groups.get(rest)
                groups[rest] = cube.get(key) if prev is None else prev | cube.get(key)
            if len(groups) < len(current):
                changed = True
                current = [LabelCube.of((*rest, (key, kc))) for rest, kc in groups.items()]
    return current


@FAST
@given(st.lists(label_cubes, max_size=6))
def test_merge_cubes_builds_normal_cubes(cubes: list[LabelCube]) -> None:
    assert merge_cubes(cubes) == slow_merge_cubes(cubes)


@FAST
@given(label_cubes, peer_cubes, l4_sets)
def test_fast_initialisers_build_the_generated_values(subject: LabelCube, peer: PeerCube, l4: L4Set) -> None:
    """``LabelCube``, ``Cube`` and ``PodPeer`` set their slots directly (``sets/slots.py``): the
    values, hashes and reprs are the dataclass ones, and they stay frozen."""
    cube = Cube(subject, peer, l4)
    assert (cube.subject, cube.peer, cube.l4) == (subject, peer, l4)
    assert cube == copy.deepcopy(cube) and hash(cube) == hash((subject, peer, l4))
    copied = LabelCube(subject.constraints, subject.is_empty)
    assert copied == subject and hash(copied) == hash((subject.constraints, subject.is_empty))
    assert repr(PodPeer(subject)) == f"PodPeer(labels={subject!r})"
    for obj, name in ((cube, "l4"), (copied, "constraints"), (PodPeer(subject), "labels")):
        try:
            setattr(obj, name, None)
        except FrozenInstanceError:
            continue
        raise AssertionError(f"{type(obj).__name__} is not frozen")
