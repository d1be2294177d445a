"""Results of pure set-algebra steps remembered together with the work they charged.

A step that is a function of its key alone (immutable cubes, an index that no longer changes)
can be remembered. But the work budget (``budget.py``) decides fallbacks by the work charged, so
a remembered result that charged nothing would move them: a later rule would find more budget
left than before, and the output would change. ``Replayed`` keeps the charges the first
computation made to its block (``budget.recording``) and makes them again on every hit
(``budget.replay``): the budget sees the same sequence of charges as a recomputation and runs
out at the same point, so caching changes the time taken and nothing else.

A step that raises (its budget ran out) is not remembered. Only steps without other side effects
qualify: no shared pool (``item_budget``), no ``working_on``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from calico2cilium.sets.budget import recording, replay

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Replayed(Generic[K, V]):
    """A cache of ``compute()`` by key, each entry with the charges its computation made."""

    def __init__(self) -> None:
        self.found: dict[K, tuple[V, tuple[int, ...]]] = {}

    def __len__(self) -> int:
        return len(self.found)

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """``compute()``, remembered under ``key``; a hit charges what the computation did. The
        caller guarantees that ``compute()`` depends on ``key`` only (and returns a value it
        does not mutate)."""
        hit = self.found.get(key)
        if hit is not None:
            value, charges = hit
            replay(charges)
            return value
        with recording() as made:
            value = compute()
        self.found[key] = (value, tuple(made))
        return value
