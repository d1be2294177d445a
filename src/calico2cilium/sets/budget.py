"""A work budget for the set algebra, so that no input can make the converter run unbounded.

Subtracting one union of cubes from another can multiply: two policies whose selectors are
conjunctions of n ``(a == 'x' || b == 'y')`` terms have 2**n cubes each, and the difference of
their subjects needs up to 2**n * 2**n pieces (issue 15, item 11). The algebra's inner loops
``charge`` the budget of the innermost ``budget()`` block; past its limit they raise
``WorkBudgetExceeded``, which the compiler turns into a coded, fail-closed refusal naming the
policy it was working on. Outside any ``budget()`` block nothing is counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final

from calico2cilium.sets.errors import Inexpressible

BASE_LIMIT: Final = 200_000
"""Cube operations (candidate tests and pieces) any compile step may spend, whatever its size."""
PER_ITEM: Final = 500
"""More operations per cube of the step's input. Real policy sets stay near linear: about 100
per policy (about 10 per cube) in the generated benchmark sets (scripts/bench.py), at most a few
hundred per fixture. The hostile pair of five-term selectors above passes the budget in a few
seconds (an operation on such wide cubes takes about 10 microseconds)."""


_SCALE: ContextVar[float] = ContextVar("calico2cilium_work_budget_scale", default=1.0)


@contextmanager
def scaled(factor: float) -> Iterator[None]:
    """Every limit computed inside the block (``limit_for``, ``scale``) multiplied by ``factor``:
    the user's trade of time for exactness (``convert --work-budget``)."""
    if not factor > 0:
        raise ValueError("the work budget factor must be positive")
    token = _SCALE.set(factor)
    try:
        yield
    finally:
        _SCALE.reset(token)


def scale(limit: int) -> int:
    """``limit`` times the current factor (``scaled``)."""
    return int(limit * _SCALE.get())


def limit_for(size: int) -> int:
    """The budget of a step whose input has ``size`` cubes."""
    return scale(BASE_LIMIT + PER_ITEM * size)


class WorkBudgetExceeded(Inexpressible):
    """The budget of the enclosing ``budget()`` block ran out; ``owner`` is what the block was
    working on then (``working_on``), for the diagnostic to name."""

    def __init__(self, limit: int, owner: object = None) -> None:
        super().__init__(
            "work budget",
            f"computing Calico's evaluation order needed more than {limit:,} cube operations (selectors"
            " whose normal forms multiply, such as conjunctions of several '||' terms, or broad Deny"
            " rules after many Allows whose selectors cut across them)",
            code="C2C350",
            hint="simplify the selectors (fewer '||' inside '&&'), move broad Deny rules before the Allows"
            " they overlap (a security tier), split the policy, or give 'convert' a larger"
            " --work-budget (it then takes longer)",
        )
        self.limit = limit
        self.owner = owner
        self.counter: object = None
        """The block whose budget ran out (set by ``charge``)."""


class OwnBudgetExceeded(Exception):
    """An ``own_budget`` block's own budget ran out (not an enclosing block's): the caller falls
    back for that one item."""

    def __init__(self, err: WorkBudgetExceeded) -> None:
        super().__init__(str(err))
        self.err = err


@dataclass
class _Counter:
    limit: int
    spent: int = 0
    owner: object = None


_CURRENT: ContextVar[_Counter | None] = ContextVar("calico2cilium_work_budget", default=None)


@contextmanager
def budget(limit: int = BASE_LIMIT) -> Iterator[_Counter]:
    """Count the work done inside the block against ``limit``. Blocks nest: the inner one counts
    against its own limit, and what it spent is charged to the outer one when it ends (which may
    raise the outer block's ``WorkBudgetExceeded``), so an outer limit bounds the total."""
    outer = _CURRENT.get()
    counter = _Counter(limit)
    token = _CURRENT.set(counter)
    try:
        yield counter
    finally:
        _CURRENT.reset(token)
        if outer is not None:
            charge(counter.spent)


@contextmanager
def own_budget(limit: int) -> Iterator[None]:
    """``budget(limit)`` for one item: its own exhaustion is raised as ``OwnBudgetExceeded``; an
    enclosing block's (charged when this one ends) stays a ``WorkBudgetExceeded``, which the
    item's fallback must not swallow."""
    counter: _Counter | None = None
    try:
        with budget(limit) as counter:
            yield
    except WorkBudgetExceeded as err:
        if counter is not None and err.counter is counter:
            raise OwnBudgetExceeded(err) from None
        raise


@dataclass
class _Pool:
    left: int


_POOL: ContextVar[_Pool | None] = ContextVar("calico2cilium_work_pool", default=None)


@contextmanager
def shared_pool(limit: int) -> Iterator[None]:
    """Inside the block, every ``item_budget`` draws on one allowance of ``limit`` instead of
    charging the enclosing block. While it lasts an item may spend its full limit; once a few
    costly items have spent it, the items after them get their frugal limit. So a costly item
    costs only itself (its own fallback, failing closed for that one rule), never the whole
    block, and the total stays ``limit`` plus a frugal limit per item: linear in the input."""
    token = _POOL.set(_Pool(limit))
    try:
        yield
    finally:
        _POOL.reset(token)


@contextmanager
def item_budget(full: int, frugal: int) -> Iterator[None]:
    """``own_budget`` for one item of a ``shared_pool`` block: its limit is ``full`` while the
    pool lasts, ``frugal`` after (at least ``frugal`` either way); what it spends comes out of
    the pool, not out of the enclosing block. Outside a pool, ``own_budget(full)``."""
    pool = _POOL.get()
    if pool is None:
        with own_budget(full):
            yield
        return
    counter = _Counter(max(frugal, min(full, pool.left)))
    token = _CURRENT.set(counter)
    try:
        yield
    except WorkBudgetExceeded as err:
        if err.counter is counter:
            raise OwnBudgetExceeded(err) from None
        raise
    finally:
        _CURRENT.reset(token)
        pool.left -= counter.spent


@dataclass
class _Recording:
    counter: _Counter | None
    """The block current when the recording began: only charges to it are recorded (a nested
    block's work reaches it as one charge when that block ends)."""
    charges: list[int]


_RECORDING: ContextVar[_Recording | None] = ContextVar("calico2cilium_work_recording", default=None)


@contextmanager
def recording() -> Iterator[list[int]]:
    """The charges made inside the block to the block current at its start, in order, so that
    ``replay`` can make them again (``sets/replay.py``). Recordings nest: an inner one's charges
    to the same block are the outer one's too."""
    outer = _RECORDING.get()
    inner = _Recording(_CURRENT.get(), [])
    token = _RECORDING.set(inner)
    try:
        yield inner.charges
    finally:
        _RECORDING.reset(token)
        if outer is not None and outer.counter is inner.counter:
            outer.charges.extend(inner.charges)


def replay(charges: Iterable[int]) -> None:
    """``charge`` each of ``charges`` in turn: the work budget sees what a recomputation would
    charge, so it runs out (or not) at the same point."""
    for units in charges:
        charge(units)


def charge(units: int = 1) -> None:
    """Spend ``units``; raises ``WorkBudgetExceeded`` once the block's limit is passed."""
    counter = _CURRENT.get()
    recorded = _RECORDING.get()
    if recorded is not None and recorded.counter is counter:
        recorded.charges.append(units)
    if counter is None:
        return
    counter.spent += units
    if counter.spent > counter.limit:
        err = WorkBudgetExceeded(counter.limit, counter.owner)
        err.counter = counter
        raise err


def working_on(owner: object) -> None:
    """Record what the innermost block is working on (a policy), for ``WorkBudgetExceeded``."""
    counter = _CURRENT.get()
    if counter is not None:
        counter.owner = owner


def spent() -> int:
    """What the innermost block has spent so far (0 outside any block)."""
    counter = _CURRENT.get()
    return 0 if counter is None else counter.spent


def left() -> int | None:
    """What the current block may still spend (``None`` outside any block)."""
    counter = _CURRENT.get()
    return None if counter is None else max(0, counter.limit - counter.spent)
