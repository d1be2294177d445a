"""Sets of integers in a closed range as sorted, disjoint, non-adjacent inclusive intervals.

Used for ports (0-65535), ICMP types and codes (0-255), protocol numbers (0-255) and, with big
bounds, IP addresses. Every operation returns the normal form, so equality is set equality.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeAlias

Range: TypeAlias = tuple[int, int]


@dataclass(frozen=True, slots=True)
class IntervalSet:
    """A subset of ``[lo, hi]``. Build with ``of``/``full``/``empty``; ``ranges`` is normalised."""

    lo: int
    hi: int
    ranges: tuple[Range, ...] = ()

    @staticmethod
    def of(lo: int, hi: int, ranges: Iterable[Range]) -> IntervalSet:
        """Normalise ``ranges`` (any order, overlapping allowed); each must lie inside ``[lo, hi]``."""
        items = sorted(ranges)
        for a, b in items:
            if a > b or a < lo or b > hi:
                raise ValueError(f"range {a}-{b} is not inside {lo}-{hi}")
        return IntervalSet(lo, hi, _merge(items))

    @staticmethod
    def full(lo: int, hi: int) -> IntervalSet:
        return IntervalSet(lo, hi, ((lo, hi),))

    @staticmethod
    def empty(lo: int, hi: int) -> IntervalSet:
        return IntervalSet(lo, hi, ())

    @property
    def is_empty(self) -> bool:
        return not self.ranges

    @property
    def is_full(self) -> bool:
        return self.ranges == ((self.lo, self.hi),)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        for a, b in self.ranges:
            if value < a:
                return False
            if value <= b:
                return True
        return False

    def __iter__(self) -> Iterator[Range]:
        return iter(self.ranges)

    def size(self) -> int:
        return sum(b - a + 1 for a, b in self.ranges)

    def _check(self, other: IntervalSet) -> None:
        if (self.lo, self.hi) != (other.lo, other.hi):
            raise ValueError(f"interval sets over {self.lo}-{self.hi} and {other.lo}-{other.hi}")

    def __or__(self, other: IntervalSet) -> IntervalSet:
        self._check(other)
        if not other.ranges:
            return self
        if not self.ranges:
            return other
        return IntervalSet(self.lo, self.hi, _merge(sorted(self.ranges + other.ranges)))

    def __and__(self, other: IntervalSet) -> IntervalSet:
        self._check(other)
        out: list[Range] = []
        i = j = 0
        a, b = self.ranges, other.ranges
        while i < len(a) and j < len(b):
            lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
            if lo <= hi:
                out.append((lo, hi))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return IntervalSet(self.lo, self.hi, tuple(out))

    def intersects(self, other: IntervalSet) -> bool:
        i = j = 0
        a, b = self.ranges, other.ranges
        while i < len(a) and j < len(b):
            if max(a[i][0], b[j][0]) <= min(a[i][1], b[j][1]):
                return True
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return False

    def __invert__(self) -> IntervalSet:
        out: list[Range] = []
        nxt = self.lo
        for a, b in self.ranges:
            if a > nxt:
                out.append((nxt, a - 1))
            nxt = b + 1
        if nxt <= self.hi:
            out.append((nxt, self.hi))
        return IntervalSet(self.lo, self.hi, tuple(out))

    def __sub__(self, other: IntervalSet) -> IntervalSet:
        self._check(other)
        a, b = self.ranges, other.ranges
        if not a or not b:
            return self
        # Walk both sorted lists once: cut each range of ``a`` by the ranges of ``b`` it meets
        # (the same normal form as ``self & ~other``).
        out: list[Range] = []
        j, nb = 0, len(b)
        for lo, hi in a:
            while j < nb and b[j][1] < lo:
                j += 1
            k = j
            while k < nb and b[k][0] <= hi:
                if b[k][0] > lo:
                    out.append((lo, b[k][0] - 1))
                lo = b[k][1] + 1
                if lo > hi:
                    break
                k += 1
            if lo <= hi:
                out.append((lo, hi))
        return IntervalSet(self.lo, self.hi, tuple(out))

    def issubset(self, other: IntervalSet) -> bool:
        return (self - other).is_empty

    def __str__(self) -> str:
        return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in self.ranges) or "none"


def _merge(items: list[Range]) -> tuple[Range, ...]:
    """Merge sorted ranges that overlap or touch."""
    out: list[Range] = []
    for a, b in items:
        if out and a <= out[-1][1] + 1:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return tuple(out)
