"""An exact boolean algebra over label maps (``dict[str, str]``), in Calico's selector semantics.

* ``KeyConstraint``: what one key may be: absent (or not), and a finite or cofinite value set.
  Covers ``k == v``, ``k != v`` (true when absent), ``k in S``, ``k not in S`` (true when absent),
  ``has(k)``, ``!has(k)`` and their combinations.
* ``LabelCube``: a conjunction of key constraints (unmentioned keys are unconstrained).
* ``LabelSet``: a union of cubes, kept simplified (no empty or subsumed cubes; cubes that differ
  in one key are merged).

Selector DNFs come in through ``from_literals`` (``selectors.py``); Kubernetes label selectors go
out through ``to_kubernetes_selectors`` (``k8s_selectors.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from calico2cilium.sets.budget import charge
from calico2cilium.sets.coset import CoSet
from calico2cilium.sets.index import CubeIndex, pick_key
from calico2cilium.sets.slots import slot_setter


@dataclass(frozen=True, slots=True)
class KeyConstraint:
    """A label key is absent and ``absent`` is true, or present with a value in ``values``."""

    absent: bool
    values: CoSet
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)
    """``hash(self)``, once computed: constraints are the keys of the operation caches below."""
    _order: tuple[bool, bool, tuple[str, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    """``sort_key()``, once computed: every sort of cubes (``simplify_cubes``, region cubes) asks
    it of each of their constraints, mostly of the few shared ones."""

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash((self.absent, self.values))
            object.__setattr__(self, "_hash", h)
        return h

    def __eq__(self, other: object) -> bool:
        """The generated comparison, without its two tuples per level (the operation caches
        compare their keys often)."""
        if self is other:
            return True
        if not isinstance(other, KeyConstraint):
            return NotImplemented
        mine, theirs = self.values, other.values
        return (
            self.absent == other.absent and mine.cofinite == theirs.cofinite and mine.values == theirs.values
        )

    @staticmethod
    def eq(value: str) -> KeyConstraint:
        return _equal_to(value)

    @staticmethod
    def in_(values: Iterable[str]) -> KeyConstraint:
        return KeyConstraint(False, CoSet(frozenset(values)))

    @staticmethod
    def ne(value: str) -> KeyConstraint:
        return _other_than(value)

    @staticmethod
    def not_in(values: Iterable[str]) -> KeyConstraint:
        return KeyConstraint(True, CoSet(frozenset(values), True))

    @property
    def is_empty(self) -> bool:
        return not self.absent and self.values.is_empty

    @property
    def is_any(self) -> bool:
        return self.absent and self.values.is_full

    def matches(self, value: str | None) -> bool:
        """``value`` is the label's value, ``None`` when the label is absent."""
        return self.absent if value is None else value in self.values

    def __and__(self, other: KeyConstraint) -> KeyConstraint:
        return _and(self, other)

    def meets(self, other: KeyConstraint) -> bool:
        """``not (self & other).is_empty``, without building the intersection."""
        return (self.absent and other.absent) or self.values.meets(other.values)

    def __or__(self, other: KeyConstraint) -> KeyConstraint:
        return _or(self, other)

    def __invert__(self) -> KeyConstraint:
        return KeyConstraint(not self.absent, ~self.values)

    def __sub__(self, other: KeyConstraint) -> KeyConstraint:
        """``self & ~other``."""
        return _sub(self, other)

    def issubset(self, other: KeyConstraint) -> bool:
        return self is other or _within(self, other)

    def sort_key(self) -> tuple[bool, bool, tuple[str, ...]]:
        order = self._order
        if order is None:
            order = (self.absent, *self.values.sort_key())
            object.__setattr__(self, "_order", order)
        return order

    def selector_text(self, key: str) -> str:
        """This constraint in Calico selector syntax (for messages)."""
        vals = self.values
        listed = ", ".join(_quote(v) for v in sorted(vals.values))
        if self.is_any:
            return "all()"
        if self.is_empty:
            return "!all()"
        if vals.cofinite:
            if not vals.values:
                return f"has({key})"
            neg = (
                f"{key} != {_quote(next(iter(vals.values)))}"
                if len(vals.values) == 1
                else f"{key} not in {{{listed}}}"
            )
            return neg if self.absent else f"has({key}) && {neg}"
        pos = (
            f"{key} == {_quote(next(iter(vals.values)))}"
            if len(vals.values) == 1
            else f"{key} in {{{listed}}}"
        )
        if not self.absent:
            return pos
        return f"!has({key})" if not vals.values else f"(!has({key}) || {pos})"


def _within(a: KeyConstraint, b: KeyConstraint) -> bool:
    """``(a - b).is_empty``, without building the difference: absence allowed by ``a`` must be
    by ``b``, and ``a``'s value set inside ``b``'s (``CoSet.issubset``). The subtraction's cuts
    test it for most key pairs, and most are inside."""
    return (b.absent or not a.absent) and a.values.issubset(b.values)


_OPERATIONS: Final = 1 << 15
"""How many results each of ``_and``, ``_or`` and ``_sub`` keeps."""


# The set algebra combines few distinct constraints very often (mix of 300 documents: a million
# differences of 14,000 distinct pairs), and each result costs two frozen objects. A constraint is
# an immutable value whose operations depend on their operands' values only, so a remembered
# result is the result; no caller tells constraints apart by identity. Bounded, as ``_equal_to``.
@lru_cache(maxsize=_OPERATIONS)
def _and(a: KeyConstraint, b: KeyConstraint) -> KeyConstraint:
    return _shared(KeyConstraint(a.absent and b.absent, a.values & b.values))


@lru_cache(maxsize=_OPERATIONS)
def _or(a: KeyConstraint, b: KeyConstraint) -> KeyConstraint:
    return _shared(KeyConstraint(a.absent or b.absent, a.values | b.values))


@lru_cache(maxsize=_OPERATIONS)
def _sub(a: KeyConstraint, b: KeyConstraint) -> KeyConstraint:
    return _shared(KeyConstraint(a.absent and not b.absent, a.values - b.values))


@lru_cache(maxsize=_OPERATIONS)
def _shared(kc: KeyConstraint) -> KeyConstraint:
    """The first constraint equal to ``kc`` the operations built (``kc`` itself if none): equal
    results are one object, so the caches above and cube comparisons find them by identity
    instead of comparing their value sets."""
    return kc


_INTERNED = 4096
"""How many single-value constraints ``_equal_to``/``_other_than`` keep for reuse."""


@lru_cache(maxsize=_INTERNED)
def _equal_to(value: str) -> KeyConstraint:
    """``k == value``, one shared object per value while it is in use often: every policy of a
    namespace carries its namespace's constraint, and many rules the same ``app == 'x'``; a
    constraint with its value set is some 300 bytes (issue 15, item 13: memory per input MB).
    Immutable, so sharing is safe; bounded, so a long run of distinct values holds no more."""
    return KeyConstraint(False, CoSet(frozenset((value,))))


@lru_cache(maxsize=_INTERNED)
def _other_than(value: str) -> KeyConstraint:
    """``k != value`` (true when the key is absent), shared as ``_equal_to``."""
    return KeyConstraint(True, CoSet(frozenset((value,)), True))


def _quote(value: str) -> str:
    return f"'{value}'" if '"' in value else f'"{value}"'


ANY: Final = KeyConstraint(True, CoSet(frozenset(), True))
NONE: Final = KeyConstraint(False, CoSet())
HAS: Final = KeyConstraint(False, CoSet(frozenset(), True))
NOT_HAS: Final = KeyConstraint(True, CoSet())

Constraints = tuple[tuple[str, KeyConstraint], ...]


@dataclass(frozen=True, slots=True)
class LabelCube:
    """A conjunction of key constraints. Build with ``of``: ``constraints`` is sorted by key, holds
    no ``ANY`` constraint, and an empty cube is always ``LabelCube.empty()``."""

    constraints: Constraints = ()
    empty_marker: bool = False
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)
    """``hash(self)``, once computed: cubes are grouped and looked up by value often."""
    _by_key: dict[str, KeyConstraint] | None = field(default=None, init=False, repr=False, compare=False)
    """``dict(constraints)``, once ``intersects`` needed it (never changed after)."""

    def __init__(self, constraints: Constraints = (), empty_marker: bool = False) -> None:
        """The generated initialiser, faster (``slots.py``)."""
        _set_constraints(self, constraints)
        _set_empty_marker(self, empty_marker)
        _set_cube_hash(self, None)
        _set_by_key(self, None)

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash((self.constraints, self.empty_marker))
            object.__setattr__(self, "_hash", h)
        return h

    @staticmethod
    def of(constraints: Mapping[str, KeyConstraint] | Iterable[tuple[str, KeyConstraint]]) -> LabelCube:
        """Normalise: constraints on the same key are ANDed, ``ANY`` is dropped."""
        items = constraints.items() if isinstance(constraints, Mapping) else constraints
        merged: dict[str, KeyConstraint] = {}
        for key, kc in items:
            prev = merged.get(key)
            merged[key] = kc if prev is None else prev & kc
        if any(kc.is_empty for kc in merged.values()):
            return _EMPTY_CUBE
        return LabelCube(tuple(sorted((k, kc) for k, kc in merged.items() if not kc.is_any)))

    @staticmethod
    def all() -> LabelCube:
        return _FULL_CUBE

    @staticmethod
    def empty() -> LabelCube:
        return _EMPTY_CUBE

    @property
    def is_empty(self) -> bool:
        return self.empty_marker

    @property
    def is_full(self) -> bool:
        return not self.constraints and not self.empty_marker

    def label_keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.constraints)

    def get(self, key: str) -> KeyConstraint:
        for k, kc in self.constraints:
            if k == key:
                return kc
        return NONE if self.empty_marker else ANY

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.empty_marker:
            return False
        return all(kc.matches(labels.get(k)) for k, kc in self.constraints)

    def __and__(self, other: LabelCube) -> LabelCube:
        if self.empty_marker or other.empty_marker:
            return _EMPTY_CUBE
        if not other.constraints or self is other:
            return self
        if not self.constraints:
            return other
        # Both constraint tuples are sorted by key with unique keys and no ANY: merge them (the
        # result is what ``LabelCube.of`` of the concatenation gives, without re-sorting). On a
        # shared key, a constraint inside the other is their AND (most are: one cube is often a
        # piece of the other), tested without the AND's cache look-up; and when every
        # constraint of the result is this cube's own, the result is this cube (no new one).
        a, b = self.constraints, other.constraints
        out: list[tuple[str, KeyConstraint]] = []
        i = j = 0
        na, nb = len(a), len(b)
        own = True
        while i < na and j < nb:
            ka, x = a[i]
            kb, y = b[j]
            if ka == kb:
                if x is y or _within(x, y):
                    out.append(a[i])
                elif _within(y, x):
                    out.append(b[j])
                    own = False
                else:
                    kc = _and(x, y)
                    if not kc.absent and kc.values.is_empty:
                        return _EMPTY_CUBE
                    out.append((ka, kc))  # a subset of a non-ANY constraint is not ANY
                    own = False
                i += 1
                j += 1
            elif ka < kb:
                out.append(a[i])
                i += 1
            else:
                out.append(b[j])
                j += 1
                own = False
        if own and j == nb:
            return self
        out.extend(a[i:])
        out.extend(b[j:])
        return LabelCube(tuple(out))

    def intersects(self, other: LabelCube) -> bool:
        """Whether the cubes meet: only keys constrained on both sides can make the intersection
        empty, so one cube's constraints are looked up in the other's key map (``_by_key``), and
        ``KeyConstraint.meets`` is written out in the loop (the subtraction loops ask millions of
        times: a sorted-merge walk and two calls per shared key cost about twice as much). The
        map used is one already built (``other``'s first: the loops test fresh pieces against
        long-lived candidates), else the longer cube's is built and kept."""
        if self.empty_marker or other.empty_marker:
            return False
        mine = self.constraints
        found = other._by_key
        if found is None:
            found = self._by_key
            if found is not None:
                mine = other.constraints
            else:
                theirs = other.constraints
                if len(mine) > len(theirs):
                    mine, longer = theirs, self
                else:
                    longer = other
                if not mine or self is other:
                    return True
                found = dict(longer.constraints)
                _set_by_key(longer, found)
        for key, x in mine:
            y = found.get(key)
            # A cube's constraints are never empty (normal form), so one meets itself: the shared
            # ones (``_equal_to``, ``_shared``) need no test; nor do two that allow absence.
            if y is None or x is y or (x.absent and y.absent):
                continue
            xs, ys = x.values, y.values  # ``CoSet.meets``, written out
            if xs.cofinite:
                if not ys.cofinite and ys.values <= xs.values:
                    return False
            elif ys.cofinite:
                if xs.values <= ys.values:
                    return False
            elif xs.values.isdisjoint(ys.values):
                return False
        return True

    def issubset(self, other: LabelCube) -> bool:
        if self.empty_marker:
            return True
        if other.empty_marker:
            return False
        return all(self.get(k).issubset(kc) for k, kc in other.constraints)

    def __sub__(self, other: LabelCube) -> list[LabelCube]:
        """``self - other`` as disjoint cubes: for each key of ``other`` in turn, the part of
        ``self`` that agrees with ``other`` on the earlier keys and disagrees on this one."""
        if not self.intersects(other):
            return [] if self.empty_marker else [self]
        return self.cut(other)

    def cut(self, other: LabelCube) -> list[LabelCube]:
        """``self - other`` for an ``other`` known to meet ``self``: the subtraction loops test
        that first, and ``__sub__`` would test it again."""
        theirs = other.constraints
        if not theirs or self is other:
            return []
        current = self.constraints
        if len(current) == len(theirs) and current == theirs:
            return []
        # No constraint built here is ANY (``okc`` is not) or empty (``outside`` is checked, and
        # ``mine & okc`` meets since the cubes intersect): a sorted tuple is the normal form.
        out: list[LabelCube] = []
        # ``current``: the part of ``self`` agreeing with ``other`` on the keys done so far, as
        # its sorted constraints; ``i`` walks it beside ``other``'s (sorted too), so a piece is
        # ``current`` with one constraint put in at ``i`` (no dict, no sorting). A key whose
        # constraint is inside ``other``'s changes nothing: most cuts leave no piece. After the
        # last key ``current`` is not needed.
        i, last = 0, theirs[-1][0]
        for key, okc in theirs:
            n = len(current)
            while i < n and current[i][0] < key:
                i += 1
            if i < n and current[i][0] == key:
                mine = current[i][1]
                if mine is okc or _within(mine, okc):
                    continue  # nothing outside, and ``mine & okc`` is ``mine``
                head, after = current[:i], current[i + 1 :]
                out.append(LabelCube((*head, (key, _sub(mine, okc)), *after)))
                if key != last:
                    current = (*head, (key, _and(mine, okc)), *after)
            else:  # ``mine`` is ANY: outside is ``~okc`` (not empty: ``okc`` is not ANY)
                head, after = current[:i], current[i:]
                out.append(LabelCube((*head, (key, _sub(ANY, okc)), *after)))
                if key != last:
                    current = (*head, (key, okc), *after)
        return out

    def without(self, key: str) -> Constraints:
        return tuple((k, kc) for k, kc in self.constraints if k != key)

    def sort_key(self) -> tuple[bool, tuple[tuple[str, tuple[bool, bool, tuple[str, ...]]], ...]]:
        return (self.empty_marker, tuple((k, kc.sort_key()) for k, kc in self.constraints))

    def __str__(self) -> str:
        if self.empty_marker:
            return "!all()"
        return " && ".join(kc.selector_text(k) for k, kc in self.constraints) or "all()"


_set_constraints: Final = slot_setter(LabelCube, "constraints")
_set_empty_marker: Final = slot_setter(LabelCube, "empty_marker")
_set_cube_hash: Final = slot_setter(LabelCube, "_hash")
_set_by_key: Final = slot_setter(LabelCube, "_by_key")
_FULL_CUBE: Final = LabelCube()
_EMPTY_CUBE: Final = LabelCube((), True)


def merge_cubes(cubes: Iterable[LabelCube]) -> list[LabelCube]:
    """Union-preserving merge: cubes equal on all keys but one become one cube (that key's
    constraints ORed), until no such pair is left. Disjoint inputs stay disjoint. Linear per pass
    (grouping by hash), so thousands of cubes are cheap."""
    current = list(dict.fromkeys(c for c in cubes if not c.is_empty))
    changed = True
    while changed and len(current) > 1:
        changed = False
        for key in sorted({k for c in current for k in c.label_keys()}):
            charge(len(current))
            groups: dict[Constraints, KeyConstraint] = {}
            for cube in current:
                rest, kc = _split_off(cube.constraints, key)
                prev = groups.setdefault(rest, kc)  # one look-up (the tuple's hash is not kept)
                if prev is not kc:
                    groups[rest] = prev | kc
            if len(groups) < len(current):
                changed = True
                current = [_put(rest, key, kc) for rest, kc in groups.items()]
    return current


def _split_off(constraints: Constraints, key: str) -> tuple[Constraints, KeyConstraint]:
    """``(cube.without(key), cube.get(key))`` of a non-empty cube's ``constraints``, in one pass."""
    for i, (k, kc) in enumerate(constraints):
        if k == key:
            return constraints[:i] + constraints[i + 1 :], kc
    return constraints, ANY


def _put(rest: Constraints, key: str, kc: KeyConstraint) -> LabelCube:
    """``LabelCube.of((*rest, (key, kc)))`` for a normal ``rest`` without ``key`` and a non-empty
    ``kc`` (an OR of non-empty constraints): only an ANY ``kc`` needs dropping."""
    if kc.is_any:
        return LabelCube(rest)
    return LabelCube(tuple(sorted((*rest, (key, kc)), key=_first)))


def _first(item: tuple[str, KeyConstraint]) -> str:
    return item[0]


def simplify_cubes(cubes: Iterable[LabelCube]) -> tuple[LabelCube, ...]:
    """Drop empty and subsumed cubes, merge one-key neighbours; sorted, so deterministic."""
    merged = merge_cubes(cubes)
    if len(merged) > 1:
        index = label_index(merged)
        index.add(merged)
        charge(len(merged))
        # Normal forms are canonical, so "contained in another cube" means strictly contained, and
        # dropping every strictly contained cube keeps the maximal ones, which cover the rest.
        merged = [c for c in merged if not any(d is not c and c.issubset(d) for d in index.containers(c))]
    return tuple(sorted(merged, key=LabelCube.sort_key))


def label_index(cubes: Iterable[LabelCube]) -> CubeIndex[LabelCube]:
    """An empty index for label cubes, keyed on the most discriminating key of ``cubes``."""
    return CubeIndex(pick_key(cubes), _identity, LabelCube.intersects, LabelCube.cut)


def _identity(cube: LabelCube) -> LabelCube:
    return cube


@dataclass(frozen=True, slots=True)
class LabelSet:
    """A union of label cubes (not necessarily disjoint), simplified by every operation."""

    cubes: tuple[LabelCube, ...] = ()

    @staticmethod
    def of(cubes: Iterable[LabelCube]) -> LabelSet:
        return LabelSet(simplify_cubes(cubes))

    @staticmethod
    def all() -> LabelSet:
        return LabelSet((_FULL_CUBE,))

    @staticmethod
    def empty() -> LabelSet:
        return LabelSet(())

    @property
    def is_empty(self) -> bool:
        return not self.cubes

    @property
    def is_full(self) -> bool:
        return self.complement().is_empty

    def matches(self, labels: Mapping[str, str]) -> bool:
        return any(c.matches(labels) for c in self.cubes)

    def __or__(self, other: LabelSet) -> LabelSet:
        return LabelSet.of(self.cubes + other.cubes)

    def __and__(self, other: LabelSet) -> LabelSet:
        return LabelSet.of(a & b for a in self.cubes for b in other.cubes if a.intersects(b))

    def __sub__(self, other: LabelSet) -> LabelSet:
        return LabelSet.of(_indexed_subtract(self.cubes, other.cubes))

    def complement(self) -> LabelSet:
        return LabelSet.all() - self

    def __invert__(self) -> LabelSet:
        return self.complement()

    def issubset(self, other: LabelSet) -> bool:
        return not _indexed_subtract(self.cubes, other.cubes)

    def disjoint_cubes(self) -> list[LabelCube]:
        """The same set as pairwise disjoint cubes."""
        index = label_index(self.cubes)
        out: list[LabelCube] = []
        for cube in self.cubes:
            pieces = index.subtract((cube,))
            index.add(pieces)
            out.extend(pieces)
        return out

    def __str__(self) -> str:
        if not self.cubes:
            return "!all()"
        if len(self.cubes) == 1:
            return str(self.cubes[0])
        return " || ".join(f"({c})" for c in self.cubes)


def _indexed_subtract(cubes: Sequence[LabelCube], others: Sequence[LabelCube]) -> list[LabelCube]:
    index = label_index(others)
    index.add(others)
    return index.subtract(cubes)


def subtract_all(cubes: Iterable[LabelCube], others: Iterable[LabelCube]) -> list[LabelCube]:
    """``union(cubes) - union(others)``; the pieces of each input cube are disjoint."""
    pieces = [c for c in cubes if not c.is_empty]
    for other in others:
        if not pieces:
            break
        charge(len(pieces))  # the work budget (sets/budget.py): pieces can multiply
        nxt: list[LabelCube] = []
        for piece in pieces:
            nxt.extend(piece - other)
        pieces = nxt
    return pieces
