"""A map from an integer range to cells of some algebra, as sorted disjoint segments.

``Piecewise[IntervalSet]`` is the ICMP type -> codes map; ``Piecewise[NameCell]`` is the port
dimension with named ports (``ports.py``). Integers not covered by a segment map to the empty
cell, adjacent segments never hold equal cells, and no segment holds an empty cell: the form is
normal, so equality is set equality.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Generic, Protocol, TypeVar

C = TypeVar("C", bound="Cell")


class Cell(Protocol):
    """What a cell type offers: a boolean algebra without complement (the full cell is explicit)."""

    @property
    def is_empty(self) -> bool: ...

    def __and__(self: C, other: C, /) -> C: ...

    def __or__(self: C, other: C, /) -> C: ...

    def __sub__(self: C, other: C, /) -> C: ...


Segment = tuple[int, int, C]


@dataclass(frozen=True, slots=True)
class Piecewise(Generic[C]):
    """Cells over ``[lo, hi]``; ``segments`` are ``(start, end, cell)``, inclusive and normalised."""

    lo: int
    hi: int
    segments: tuple[tuple[int, int, C], ...] = ()

    @staticmethod
    def of(lo: int, hi: int, segments: Iterable[tuple[int, int, C]]) -> Piecewise[C]:
        """From segments that may overlap (overlaps are unioned), in any order."""
        result: Piecewise[C] = Piecewise(lo, hi, ())
        for a, b, cell in sorted(segments, key=lambda s: (s[0], s[1])):
            if a > b or a < lo or b > hi:
                raise ValueError(f"segment {a}-{b} is not inside {lo}-{hi}")
            if not cell.is_empty:
                result = result | Piecewise(lo, hi, ((a, b, cell),))
        return result

    @property
    def is_empty(self) -> bool:
        return not self.segments

    def cell_at(self, point: int) -> C | None:
        for a, b, cell in self.segments:
            if point < a:
                return None
            if point <= b:
                return cell
        return None

    def _combine(self, other: Piecewise[C], op: Callable[[C | None, C | None], C | None]) -> Piecewise[C]:
        if (self.lo, self.hi) != (other.lo, other.hi):
            raise ValueError("piecewise maps over different ranges")
        a, b = self.segments, other.segments
        cuts = {self.lo, self.hi + 1}
        for s, e, _ in a:
            cuts.update((s, e + 1))
        for s, e, _ in b:
            cuts.update((s, e + 1))
        points = sorted(cuts)
        out: list[tuple[int, int, C]] = []
        ia = ib = 0
        for x, nxt in pairwise(points):
            y = nxt - 1
            while ia < len(a) and a[ia][1] < x:
                ia += 1
            while ib < len(b) and b[ib][1] < x:
                ib += 1
            va = a[ia][2] if ia < len(a) and a[ia][0] <= x else None
            vb = b[ib][2] if ib < len(b) and b[ib][0] <= x else None
            if va is None and vb is None:
                continue
            cell = op(va, vb)
            if cell is None or cell.is_empty:
                continue
            if out and out[-1][1] == x - 1 and out[-1][2] == cell:
                out[-1] = (out[-1][0], y, cell)
            else:
                out.append((x, y, cell))
        return Piecewise(self.lo, self.hi, tuple(out))

    def intersects(self, other: Piecewise[C]) -> bool:
        a, b = self.segments, other.segments
        i = j = 0
        while i < len(a) and j < len(b):
            if max(a[i][0], b[j][0]) <= min(a[i][1], b[j][1]) and not (a[i][2] & b[j][2]).is_empty:
                return True
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return False

    # Shortcuts (same ranges only; ``_combine`` raises otherwise): an empty side, or equal maps
    # (the normal form makes equality set equality, and ``c & c == c | c == c`` for every cell).

    def __and__(self, other: Piecewise[C]) -> Piecewise[C]:
        if (self.lo, self.hi) == (other.lo, other.hi):
            if not self.segments or self.segments == other.segments:
                return self
            if not other.segments:
                return other
        return self._combine(other, _and)

    def __or__(self, other: Piecewise[C]) -> Piecewise[C]:
        if (self.lo, self.hi) == (other.lo, other.hi):
            if not other.segments or self.segments == other.segments:
                return self
            if not self.segments:
                return other
        return self._combine(other, _or)

    def __sub__(self, other: Piecewise[C]) -> Piecewise[C]:
        if (self.lo, self.hi) == (other.lo, other.hi):
            if not self.segments or not other.segments:
                return self
            if self.segments == other.segments:
                return Piecewise(self.lo, self.hi, ())
        return self._combine(other, _sub)

    def complement(self, full_cell: C) -> Piecewise[C]:
        return Piecewise(self.lo, self.hi, ((self.lo, self.hi, full_cell),)) - self


def _and(x: C | None, y: C | None) -> C | None:
    return None if x is None or y is None else x & y


def _or(x: C | None, y: C | None) -> C | None:
    return y if x is None else x if y is None else x | y


def _sub(x: C | None, y: C | None) -> C | None:
    return x if x is None or y is None else x - y
