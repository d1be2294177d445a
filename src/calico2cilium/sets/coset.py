"""Finite or cofinite sets of strings: ``v in S`` or ``v not in X``, closed under every operation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CoSet:
    """``values`` when ``cofinite`` is false, else every string except ``values``."""

    values: frozenset[str] = frozenset()
    cofinite: bool = False

    @staticmethod
    def of(values: Iterable[str]) -> CoSet:
        return CoSet(frozenset(values), False)

    @staticmethod
    def all_except(values: Iterable[str] = ()) -> CoSet:
        return CoSet(frozenset(values), True)

    @property
    def is_empty(self) -> bool:
        return not self.cofinite and not self.values

    @property
    def is_full(self) -> bool:
        return self.cofinite and not self.values

    def __contains__(self, value: object) -> bool:
        return (value in self.values) != self.cofinite

    def __invert__(self) -> CoSet:
        return CoSet(self.values, not self.cofinite)

    def __and__(self, other: CoSet) -> CoSet:
        a, b = self, other
        if not a.cofinite and not b.cofinite:
            return CoSet(a.values & b.values, False)
        if a.cofinite and b.cofinite:
            return CoSet(a.values | b.values, True)
        finite, co = (a, b) if not a.cofinite else (b, a)
        return CoSet(finite.values - co.values, False)

    def meets(self, other: CoSet) -> bool:
        """``not (self & other).is_empty``, without building the intersection (a cofinite set
        is infinite, so two of them always meet)."""
        if not self.cofinite:
            if not other.cofinite:
                return not self.values.isdisjoint(other.values)
            return not self.values <= other.values
        if not other.cofinite:
            return not other.values <= self.values
        return True

    def __or__(self, other: CoSet) -> CoSet:
        return ~(~self & ~other)

    def __sub__(self, other: CoSet) -> CoSet:
        """``self & ~other``, case by case."""
        if not self.cofinite:
            if not other.cofinite:
                return CoSet(self.values - other.values, False)
            return CoSet(self.values & other.values, False)
        if not other.cofinite:
            return CoSet(self.values | other.values, True)
        return CoSet(other.values - self.values, False)

    def issubset(self, other: CoSet) -> bool:
        """``(self - other).is_empty``, case by case, without building the difference."""
        if self.cofinite:
            return other.cofinite and other.values <= self.values
        if other.cofinite:
            return self.values.isdisjoint(other.values)
        return self.values <= other.values

    def sort_key(self) -> tuple[bool, tuple[str, ...]]:
        return (self.cofinite, tuple(sorted(self.values)))

    def __str__(self) -> str:
        inner = ", ".join(repr(v) for v in sorted(self.values))
        return f"not in {{{inner}}}" if self.cofinite else f"in {{{inner}}}"
