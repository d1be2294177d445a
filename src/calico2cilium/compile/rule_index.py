"""Rule cubes found by the region they meet, at a cost near what a look-up returns (issue 13).

The structural walk (``compile/structure.py``) asks, per rule, which other rules meet its region.
Indexed by one subject label key only, a broad rule (``has(team)``, ``all()``, ``app != x``)
scanned every rule cube of the direction: 69,000 candidates per rule at 10,000 documents, most
of them missing it in the peer or in a label the key did not cover. Here a rule cube is filed by
its peer kind (a pod peer never meets an address or a host peer), and within its kind both by
the values one subject label key may take and, for pod peers, by the values one peer label key
may take; a look-up scans the shorter of the two lists its query selects.

Every list keeps Calico's order (items are added in it), so a look-up of the rules before a
position stops there (``bisect``). A look-up charges the work budget (``sets/budget.py``) one
unit per candidate it scans, before scanning it: inside a rule's budget a broad look-up ends in
that rule's fallback rather than running unbounded.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

from calico2cilium.sets.budget import charge
from calico2cilium.sets.index import pick_key, positive_values
from calico2cilium.sets.labels import LabelCube
from calico2cilium.sets.peers import HostPeer, NetPeer, PodPeer
from calico2cilium.sets.regions import Cube

T = TypeVar("T")


class _Buckets(Generic[T]):
    """Items by the values one label key of their cube may take (``index.positive_values``)."""

    def __init__(self, key: str | None) -> None:
        self.key = key
        self.every: list[T] = []
        self.wild: list[T] = []
        self.buckets: dict[str, list[T]] = {}

    def add(self, labels: LabelCube, item: T) -> None:
        self.every.append(item)
        values = positive_values(labels, self.key)
        if values is None:
            self.wild.append(item)
        else:
            for value in values:
                self.buckets.setdefault(value, []).append(item)

    def lists(self, labels: LabelCube) -> list[list[T]]:
        """Lists holding every item that may meet ``labels`` (an item may be in several)."""
        values = positive_values(labels, self.key)
        if values is None:
            return [self.every]
        return [self.wild, *(self.buckets[v] for v in sorted(values) if v in self.buckets)]


class RuleIndex(Generic[T]):
    """``(cube, value)`` pairs, added in the order ``order(value)`` gives (non-decreasing)."""

    def __init__(self, items: Iterable[tuple[Cube, T]], order: Callable[[T], int]) -> None:
        listed = list(items)
        self.order = order
        self.key = subject_key = pick_key(c.subject for c, _ in listed)
        """The subject label key the lists are bucketed by."""
        peer_key = pick_key(c.peer.labels for c, _ in listed if isinstance(c.peer, PodPeer))
        self.subjects: dict[type, _Buckets[tuple[Cube, T]]] = {
            kind: _Buckets(subject_key) for kind in (PodPeer, NetPeer, HostPeer)
        }
        self.peers: _Buckets[tuple[Cube, T]] = _Buckets(peer_key)
        for item in listed:
            cube = item[0]
            self.subjects[type(cube.peer)].add(cube.subject, item)
            if isinstance(cube.peer, PodPeer):
                self.peers.add(cube.peer.labels, item)

    def __len__(self) -> int:
        return sum(len(b.every) for b in self.subjects.values())

    def _lists(self, cube: Cube) -> list[list[tuple[Cube, T]]]:
        by_subject = self.subjects[type(cube.peer)].lists(cube.subject)
        if isinstance(cube.peer, PodPeer):
            by_peer = self.peers.lists(cube.peer.labels)
            if sum(map(len, by_peer)) < sum(map(len, by_subject)):
                return by_peer
        return by_subject

    def candidates(self, cubes: Iterable[Cube]) -> int:
        """How many items a look-up of ``cubes`` would scan (none is tested): an upper bound of
        the items meeting them, counted once per cube."""
        return sum(len(part) for cube in cubes for part in self._lists(cube))

    def meeting(
        self,
        cubes: Iterable[Cube],
        before: int | None = None,
        after: int | None = None,
        limit: int | None = None,
        charged: bool = True,
    ) -> list[T]:
        """The values of the items meeting ``cubes``, ordered by ``order``: only those ordered
        before ``before`` and after ``after`` (when given); once more than ``limit`` are found,
        some ``limit + 1`` of them (enough to tell a count past ``limit``). ``charged``: the scan
        is charged to the work budget (off only for a caller whose own work bounds it)."""
        order = self.order
        found: dict[int, T] = {}
        for cube in cubes:
            for part in self._lists(cube):
                start = 0 if after is None else bisect_right(part, after, key=_order_of(order))
                end = len(part) if before is None else bisect_left(part, before, key=_order_of(order))
                if end <= start:
                    continue
                if charged:
                    charge(end - start)
                for i in range(start, end):
                    other, value = part[i]
                    position = order(value)
                    if position not in found and other.intersects(cube):
                        found[position] = value
                        if limit is not None and len(found) > limit:
                            return _in_order(found)
        return _in_order(found)


def _order_of(order: Callable[[T], int]) -> Callable[[tuple[Cube, T]], int]:
    def key(item: tuple[Cube, T]) -> int:
        return order(item[1])

    return key


def _in_order(found: dict[int, T]) -> list[T]:
    return [found[p] for p in sorted(found)]


def merged(*groups: Sequence[T], order: Callable[[T], int]) -> list[T]:
    """Groups of distinct values as one list in ``order``."""
    return sorted((v for g in groups for v in g), key=order)
