"""The peer dimension: pods (by labels), external addresses (by IP set), or hosts.

The three kinds are disjoint: a pod peer is never an "external address" here, whatever its IP.
How Calico ``nets`` that cover pod or node IPs are split across kinds is the caller's decision
(DESIGN.md "IP sets"); this module only does exact set algebra inside each kind.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias

from calico2cilium.sets.ipsets import IPSet
from calico2cilium.sets.labels import LabelCube, merge_cubes
from calico2cilium.sets.slots import slot_setter


class HostKind(enum.Enum):
    """Host peers Cilium can name: the local node (entity ``host``) and other nodes (``remote-node``)."""

    LOCAL_HOST = "host"
    REMOTE_NODE = "remote-node"


ALL_HOSTS: Final = frozenset(HostKind)


@dataclass(frozen=True, slots=True)
class PodPeer:
    labels: LabelCube

    def __init__(self, labels: LabelCube) -> None:
        """The generated initialiser, faster (``slots.py``)."""
        _set_labels(self, labels)

    def __str__(self) -> str:
        return f"pods({self.labels})"


_set_labels: Final = slot_setter(PodPeer, "labels")


@dataclass(frozen=True, slots=True)
class NetPeer:
    ips: IPSet

    def __str__(self) -> str:
        return f"nets({self.ips})"


@dataclass(frozen=True, slots=True)
class HostPeer:
    kinds: frozenset[HostKind]

    def __str__(self) -> str:
        return "hosts(" + ",".join(sorted(k.value for k in self.kinds)) + ")"


PeerCube: TypeAlias = PodPeer | NetPeer | HostPeer


# Points, for membership tests.
@dataclass(frozen=True, slots=True)
class PodAt:
    labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class NetAt:
    address: str


@dataclass(frozen=True, slots=True)
class HostAt:
    kind: HostKind


PeerPoint: TypeAlias = PodAt | NetAt | HostAt


def all_peers() -> tuple[PeerCube, ...]:
    """Every peer, as one cube per kind."""
    return (PodPeer(LabelCube.all()), NetPeer(IPSet.all()), HostPeer(ALL_HOSTS))


def peer_is_empty(p: PeerCube) -> bool:
    if isinstance(p, PodPeer):
        return p.labels.is_empty
    if isinstance(p, NetPeer):
        return p.ips.is_empty
    return not p.kinds


def peer_and(a: PeerCube, b: PeerCube) -> PeerCube | None:
    """The intersection, or ``None`` when empty."""
    r: PeerCube
    if isinstance(a, PodPeer) and isinstance(b, PodPeer):
        labels = a.labels & b.labels
        r = a if labels is a.labels else PodPeer(labels)  # ``&`` gives ``a.labels`` when it is all
    elif isinstance(a, NetPeer) and isinstance(b, NetPeer):
        r = NetPeer(a.ips & b.ips)
    elif isinstance(a, HostPeer) and isinstance(b, HostPeer):
        r = HostPeer(a.kinds & b.kinds)
    else:
        return None
    return None if peer_is_empty(r) else r


def peer_intersects(a: PeerCube, b: PeerCube) -> bool:
    """``peer_and(a, b) is not None``, without building the intersection."""
    if isinstance(a, PodPeer):
        return isinstance(b, PodPeer) and a.labels.intersects(b.labels)
    if isinstance(a, NetPeer):
        return isinstance(b, NetPeer) and a.ips.intersects(b.ips)
    return isinstance(b, HostPeer) and not a.kinds.isdisjoint(b.kinds)


def peer_sub(a: PeerCube, b: PeerCube) -> list[PeerCube]:
    """``a - b`` as disjoint non-empty cubes."""
    if isinstance(a, PodPeer) and isinstance(b, PodPeer):
        return [PodPeer(c) for c in a.labels - b.labels]
    r: PeerCube
    if isinstance(a, NetPeer) and isinstance(b, NetPeer):
        r = NetPeer(a.ips - b.ips)
    elif isinstance(a, HostPeer) and isinstance(b, HostPeer):
        r = HostPeer(a.kinds - b.kinds)
    else:
        r = a
    return [] if peer_is_empty(r) else [r]


def peer_cut(a: PeerCube, b: PeerCube) -> list[PeerCube]:
    """``peer_sub`` for a ``b`` known to meet ``a`` (pod peers skip the test of their labels)."""
    if isinstance(a, PodPeer) and isinstance(b, PodPeer):
        return [PodPeer(c) for c in a.labels.cut(b.labels)]
    return peer_sub(a, b)


def merge_peers(peers: list[PeerCube]) -> list[PeerCube]:
    """Exact union, with as few cubes as cheap merging gives: one IP set, one host set, and pod
    cubes merged where they differ in one label key."""
    pods = [p.labels for p in peers if isinstance(p, PodPeer)]
    nets = [p.ips for p in peers if isinstance(p, NetPeer)]
    hosts = [p.kinds for p in peers if isinstance(p, HostPeer)]
    out: list[PeerCube] = [PodPeer(c) for c in (merge_cubes(pods) if len(pods) > 1 else pods)]
    if nets:
        ips = nets[0]
        for n in nets[1:]:
            ips = ips | n
        out.append(NetPeer(ips))
    if hosts:
        out.append(HostPeer(frozenset().union(*hosts)))
    return out


def peer_contains(p: PeerCube, point: PeerPoint) -> bool:
    if isinstance(p, PodPeer):
        return isinstance(point, PodAt) and p.labels.matches(point.labels)
    if isinstance(p, NetPeer):
        return isinstance(point, NetAt) and point.address in p.ips
    return isinstance(point, HostAt) and point.kind in p.kinds


def peer_sort_key(p: PeerCube) -> tuple[int, object]:
    """A total order on peers (kinds first; equal kinds compare like with like)."""
    if isinstance(p, PodPeer):
        return (0, p.labels.sort_key())
    if isinstance(p, NetPeer):
        return (1, p.ips.sort_key())
    return (2, tuple(sorted(k.value for k in p.kinds)))
