"""Regions (subject x peer x L4) against brute force over a small universe of flows."""

from __future__ import annotations

from hypothesis import given, settings

from calico2cilium.sets import (
    Cube,
    Flow,
    HostKind,
    HostPeer,
    IPSet,
    KeyConstraint,
    L4Set,
    LabelCube,
    LabelSet,
    NetPeer,
    Region,
)
from calico2cilium.sets.peers import all_peers
from test_sets_universe import (
    ALL_FLOWS,
    L4S,
    PEERS,
    SUBJECTS,
    label_cubes,
    raw_cubes,
    raw_flows,
    region_flows,
)

FAST = settings(max_examples=120, deadline=None)


@FAST
@given(raw_cubes(), raw_cubes())
def test_region_algebra(c1: list[Cube], c2: list[Cube]) -> None:
    a, b = Region.of(c1), Region.of(c2)
    t1, t2 = raw_flows(c1), raw_flows(c2)
    assert region_flows(a) == t1
    assert region_flows(a & b) == t1 & t2
    assert region_flows(a | b) == t1 | t2
    assert region_flows(a - b) == t1 - t2
    assert a.is_empty == (not t1)
    assert a.issubset(b) == (t1 <= t2)
    assert a.equivalent(b) == (t1 == t2)


@FAST
@given(raw_cubes(max_size=5))
def test_simplify_preserves_and_stays_disjoint(cs: list[Cube]) -> None:
    r = Region.of(cs)
    s = r.simplify()
    assert region_flows(s) == raw_flows(cs)
    assert len(s.cubes) <= len(r.cubes)
    assert s.simplify() == s
    assert Region.of(reversed(r.cubes)).simplify().equivalent(s)


@FAST
@given(raw_cubes(), label_cubes, label_cubes)
def test_restrict_subject(cs: list[Cube], s1: LabelCube, s2: LabelCube) -> None:
    subjects = LabelSet.of([s1, s2])
    r = Region.of(cs).restrict_subject(subjects)
    keep = {i for i, m in enumerate(SUBJECTS) if subjects.matches(m)}
    assert region_flows(r) == {f for f in raw_flows(cs) if f[0] in keep}


def test_full_region_and_products() -> None:
    assert region_flows(Region.full()) == ALL_FLOWS
    assert Region.product(LabelSet.all(), all_peers(), L4Set.all()).equivalent(Region.full())
    # overlapping subjects and peers are made disjoint (region_flows checks)
    x = LabelCube.of({"a": KeyConstraint.eq("x")})
    overlapping = Region.product(
        LabelSet((LabelCube.all(), x)),
        [NetPeer(IPSet.from_cidrs(["10.0.0.0/30"])), NetPeer(IPSet.from_cidrs(["10.0.0.0/31"]))],
        L4Set.all(),
    )
    assert len(region_flows(overlapping)) == len(SUBJECTS) * 4 * len(L4S)
    hosts = Region.product(LabelCube.all(), [HostPeer(frozenset(HostKind))], L4Set.all())
    assert ((Region.full() - hosts) | hosts).equivalent(Region.full())
    assert (Region.full() - hosts).simplify().cubes == (
        Region.product(LabelCube.all(), all_peers()[:2], L4Set.all()).simplify().cubes
    )


def test_flow_membership() -> None:
    r = Region.full()
    flows = [Flow(SUBJECTS[0], PEERS[0], L4S[0]), Flow(SUBJECTS[-1], PEERS[-1], L4S[-1])]
    assert all(r.contains(f) for f in flows)
    assert not any(Region.empty().contains(f) for f in flows)
