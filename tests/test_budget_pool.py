"""``sets/budget.py``'s shared pool: per-item budgets inside ``shared_pool`` draw on one
allowance and never charge the enclosing block, so a few costly rules cost only themselves (their
own fallback), never the whole direction (issue 13: a mix of 1,000 policies failed both
directions closed after nine narrowed Denies spent the direction's budget)."""

from __future__ import annotations

import pytest

from calico2cilium.sets.budget import (
    OwnBudgetExceeded,
    WorkBudgetExceeded,
    budget,
    charge,
    item_budget,
    shared_pool,
)


def _spend(units: int, full: int, frugal: int) -> bool:
    """Whether an item spending ``units`` fits its budget."""
    try:
        with item_budget(full, frugal):
            charge(units)
    except OwnBudgetExceeded:
        return False
    return True


def test_items_draw_on_the_pool_then_get_their_frugal_limit() -> None:
    with budget(50) as outer, shared_pool(100):
        assert _spend(80, full=90, frugal=10)  # the pool has 100 left: the full limit
        assert not _spend(30, full=90, frugal=10)  # 20 left: 20
        assert _spend(10, full=90, frugal=10)  # the pool is spent: the frugal limit
        assert not _spend(11, full=90, frugal=10)
        assert outer.spent == 0  # the items never charge the enclosing block


def test_without_a_pool_an_item_is_an_own_budget_of_the_enclosing_block() -> None:
    with pytest.raises(WorkBudgetExceeded), budget(50):
        assert _spend(40, full=45, frugal=10)
        _spend(40, full=45, frugal=10)  # fits its own 45, but the enclosing 50 is spent
