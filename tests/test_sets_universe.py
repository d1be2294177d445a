"""A small finite universe of flows and random region generators, shared by the region and
ordering tests. Every label value, address, port and protocol the generators use is in the
universe, plus one "other" representative per dimension, so exact equality on the universe
means the symbolic results are right for every class of real flows the inputs can tell apart."""

from __future__ import annotations

from itertools import product

from hypothesis import strategies as st

from calico2cilium.sets import (
    Cube,
    HostAt,
    HostKind,
    HostPeer,
    IPSet,
    KeyConstraint,
    L4Point,
    L4Set,
    LabelCube,
    NetAt,
    NetPeer,
    PeerCube,
    PeerPoint,
    PodAt,
    PodPeer,
    Region,
    from_calico,
)
from calico2cilium.sets.coset import CoSet
from calico2cilium.sets.l4 import ICMP, TCP, UDP
from calico2cilium.sets.peers import all_peers, peer_contains

KEYS = ("a", "b")
VALUES = ("x", "y")
LABEL_MAPS: list[dict[str, str]] = [
    {k: v for k, v in zip(KEYS, combo, strict=True) if v is not None}
    for combo in product((None, *VALUES, "other"), repeat=len(KEYS))
]
SUBJECTS = LABEL_MAPS
PEERS: list[PeerPoint] = [
    *(PodAt(m) for m in LABEL_MAPS),
    *(NetAt(a) for a in ("10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.9", "::1")),
    HostAt(HostKind.LOCAL_HOST),
    HostAt(HostKind.REMOTE_NODE),
]
L4S = [
    L4Point(TCP, port=1),
    L4Point(TCP, port=2),
    L4Point(TCP, port=5),
    L4Point(UDP, port=1),
    L4Point(ICMP, icmp_type=8),
    L4Point(ICMP, icmp_type=0),
    L4Point(47),
]
FlowIx = tuple[int, int, int]
ALL_FLOWS: set[FlowIx] = set(product(range(len(SUBJECTS)), range(len(PEERS)), range(len(L4S))))

# ------------------------------------------------------------------------------ generators

constraints = st.builds(
    lambda absent, cof, vals: KeyConstraint(absent, CoSet(vals, cof)),
    st.booleans(),
    st.booleans(),
    st.frozensets(st.sampled_from(VALUES), max_size=2),
)
label_cubes = st.dictionaries(st.sampled_from(KEYS), constraints, max_size=2).map(LabelCube.of)
CIDRS = ("10.0.0.0/30", "10.0.0.0/31", "10.0.0.2/31", "10.0.0.1/32", "10.0.0.8/29", "0.0.0.0/0", "::/0")
peer_cubes: st.SearchStrategy[PeerCube] = st.one_of(
    st.builds(PodPeer, label_cubes),
    st.builds(NetPeer, st.lists(st.sampled_from(CIDRS), min_size=1, max_size=2).map(IPSet.from_cidrs)),
    st.builds(HostPeer, st.frozensets(st.sampled_from(list(HostKind)), min_size=1)),
)
L4_CHOICES = (
    L4Set.all(),
    from_calico(protocol="TCP"),
    from_calico(protocol="TCP", ports=[1]),
    from_calico(protocol="TCP", ports=["1:2"]),
    from_calico(protocol="TCP", not_ports=[1]),
    from_calico(protocol="UDP"),
    from_calico(protocol="ICMP"),
    from_calico(protocol="ICMP", icmp={"type": 8}),
    from_calico(not_protocol="TCP"),
)
l4_sets = st.sampled_from(L4_CHOICES)


@st.composite
def cubes(draw: st.DrawFn, with_subject: bool = True) -> list[Cube]:
    """One cube, or (any peer) one per peer kind."""
    subject = draw(label_cubes) if with_subject else LabelCube.all()
    l4 = draw(l4_sets)
    if draw(st.integers(0, 4)) == 0:
        return [Cube(subject, p, l4) for p in all_peers()]
    return [Cube(subject, draw(peer_cubes), l4)]


def raw_cubes(with_subject: bool = True, max_size: int = 3) -> st.SearchStrategy[list[Cube]]:
    return st.lists(cubes(with_subject), max_size=max_size).map(lambda ls: [c for group in ls for c in group])


# ------------------------------------------------------------------------------ evaluation


def cube_flows(c: Cube) -> list[FlowIx]:
    ss = [i for i, m in enumerate(SUBJECTS) if c.subject.matches(m)]
    ps = [j for j, p in enumerate(PEERS) if peer_contains(c.peer, p)]
    ls = [k for k, pt in enumerate(L4S) if pt in c.l4]
    return list(product(ss, ps, ls))


def raw_flows(cs: list[Cube]) -> set[FlowIx]:
    return {f for c in cs for f in cube_flows(c)}


def region_flows(r: Region) -> set[FlowIx]:
    """The flows of ``r``; asserts its cubes are pairwise disjoint and non-empty."""
    out: set[FlowIx] = set()
    total = 0
    for c in r.cubes:
        assert not c.is_empty, f"empty cube {c}"
        fl = cube_flows(c)
        total += len(fl)
        out.update(fl)
    assert total == len(out), "region cubes overlap"
    return out


# ------------------------------------------------------------------------------ sanity of the universe


def test_universe_tells_every_generated_choice_apart() -> None:
    l4_classes = {frozenset(k for k, pt in enumerate(L4S) if pt in s) for s in L4_CHOICES}
    assert len(l4_classes) == len(set(L4_CHOICES))
    nets = {
        frozenset(j for j, p in enumerate(PEERS) if peer_contains(NetPeer(IPSet.from_cidrs([c])), p))
        for c in CIDRS
    }
    assert len(nets) == len(CIDRS)


def test_region_flows_rejects_overlaps() -> None:
    everything = Cube(LabelCube.all(), all_peers()[0], L4Set.all())
    assert len(region_flows(Region((everything,)))) == len(SUBJECTS) * len(LABEL_MAPS) * len(L4S)
    try:
        region_flows(Region((everything, everything)))
    except AssertionError:
        return
    raise AssertionError("overlap not detected")
