"""An index of cubes by the values one label key of their subject may take.

Real policy sets are dominated by subjects like ``namespace == n && ...``: two cubes whose
subjects require different values of the same key never intersect. Bucketing cubes by such a
key's allowed values turns the "subtract everything decided so far" scans of the ordering walk
from quadratic into roughly linear. The index is a mutable helper, not a value; results do not
depend on whether a cube is found through a bucket or the catch-all list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import TYPE_CHECKING, Final, Generic, TypeVar

from calico2cilium.sets.budget import charge

if TYPE_CHECKING:  # labels.py uses this module, so no import at run time
    from calico2cilium.sets.labels import LabelCube

T = TypeVar("T")

_CHARGE_EVERY: Final = 1024
"""Pieces ``subtract`` handles between two charges to the work budget (``budget.py``)."""

NARROW: Final = 8
"""A fragment with at most this many allowed values for the key is looked up again in the index
instead of scanning the rest of its parent's candidate list."""


def positive_values(cube: LabelCube, key: str | None) -> frozenset[str] | None:
    """The finite set of values ``key`` must take in ``cube`` (absent not allowed), else ``None``."""
    if key is None:
        return None
    kc = cube.get(key)
    if kc.absent or kc.values.cofinite:
        return None
    return kc.values.values


def pick_key(cubes: Iterable[LabelCube]) -> str | None:
    """The key most often constrained to finitely many values (ties: smallest name)."""
    counts: Counter[str] = Counter()
    for cube in cubes:
        for key, kc in cube.constraints:
            if not kc.absent and not kc.values.cofinite:
                counts[key] += 1
    if not counts:
        return None
    return min(counts, key=lambda k: (-counts[k], k))


class CubeIndex(Generic[T]):
    """Items (cubes of some kind) bucketed by ``positive_values(label(item), key)``. ``subtract``
    is asked only for an item less one that ``intersects`` it."""

    def __init__(
        self,
        key: str | None,
        label: Callable[[T], LabelCube],
        intersects: Callable[[T, T], bool],
        subtract: Callable[[T, T], list[T]],
        first_meeting: Callable[[T, Sequence[T], int], int] | None = None,
    ) -> None:
        """``first_meeting(item, cands, i)``, if given, must be the first index from ``i`` on of
        a candidate that ``intersects`` ``item`` (``max(i, len(cands))`` if none): a faster scan."""
        self.key = key
        self.label = label
        self.intersects = intersects
        self.sub = subtract
        self.first_meeting = first_meeting or _scan(intersects)
        self.items: list[T] = []
        self.wild: list[T] = []
        self.buckets: dict[str, list[T]] = {}

    def __len__(self) -> int:
        return len(self.items)

    def add(self, items: Iterable[T]) -> None:
        for item in items:
            self.items.append(item)
            values = positive_values(self.label(item), self.key)
            if values is None:
                self.wild.append(item)
            else:
                for v in values:
                    self.buckets.setdefault(v, []).append(item)

    def candidates(self, item: T) -> Sequence[T]:
        """Every indexed item that may intersect ``item`` (and possibly a few more)."""
        values = positive_values(self.label(item), self.key)
        if values is None:
            return self.items
        if len(values) == 1:
            (v,) = values
            return self.wild + self.buckets.get(v, [])
        seen: set[int] = set()
        out = list(self.wild)
        for v in sorted(values):
            for it in self.buckets.get(v, ()):
                if id(it) not in seen:
                    seen.add(id(it))
                    out.append(it)
        return out

    def containers(self, item: T) -> Sequence[T]:
        """Every indexed item that may contain ``item``: an item requiring values V for the key
        can only contain items requiring a subset of V."""
        values = positive_values(self.label(item), self.key)
        if not values:
            return self.wild
        return self.wild + self.buckets.get(min(values), [])

    def subtract(self, items: Iterable[T]) -> list[T]:
        """``union(items) - union(indexed)``; the pieces of each input item are disjoint."""
        return list(self._remaining(items))

    def leaves_any(self, items: Iterable[T]) -> bool:
        """Whether ``union(items) - union(indexed)`` is not empty: ``subtract`` stopped at the
        first surviving piece (depth first, so a live region usually answers after one path)."""
        pieces = self._remaining(items)
        try:
            return next(pieces, None) is not None
        finally:
            pieces.close()  # charges the work done (at once, not whenever it is collected)

    def _remaining(self, items: Iterable[T]) -> Generator[T, None, None]:
        work = 0
        first_meeting, sub, label, key = self.first_meeting, self.sub, self.label, self.key  # the hot loop's
        try:
            for item in items:
                stack: list[tuple[T, Sequence[T], int]] = [(item, self.candidates(item), 0)]
                while stack:
                    work += 1
                    if work >= _CHARGE_EVERY:
                        charge(work)
                        work = 0
                    piece, cands, i = stack.pop()
                    start = i
                    i = first_meeting(piece, cands, i)
                    work += i - start
                    if i == len(cands):
                        yield piece
                        continue
                    parent = positive_values(label(piece), key)
                    for frag in reversed(sub(piece, cands[i])):
                        values = positive_values(label(frag), key)
                        narrower = (
                            values is not None
                            and len(values) <= NARROW
                            and (parent is None or len(values) < len(parent))
                        )
                        stack.append((frag, self.candidates(frag), 0) if narrower else (frag, cands, i + 1))
        finally:
            charge(work)


def _scan(intersects: Callable[[T, T], bool]) -> Callable[[T, Sequence[T], int], int]:
    """The plain ``first_meeting``: ``intersects`` with each candidate in turn."""

    def first_meeting(item: T, cands: Sequence[T], i: int) -> int:
        n = len(cands)
        while i < n and not intersects(item, cands[i]):
            i += 1
        return i

    return first_meeting
