"""``sets/replay.py``: a remembered result charges the work budget exactly what computing it again
would, so caching never moves a fallback (the budget runs out at the same charge, with the same
amount spent); and the walks' remembered subject parts (``structure._Tier.parts``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calico2cilium.compile.ordering import DefaultAction
from calico2cilium.compile.structure import _index, _split, _subject_parts, _Tier
from calico2cilium.sets.budget import (
    OwnBudgetExceeded,
    WorkBudgetExceeded,
    budget,
    charge,
    own_budget,
    recording,
)
from calico2cilium.sets.l4 import L4Set
from calico2cilium.sets.labels import LabelCube
from calico2cilium.sets.peers import PodPeer
from calico2cilium.sets.regions import Cube
from calico2cilium.sets.replay import Replayed
from test_sets_universe import label_cubes

FAST = settings(max_examples=200, deadline=None)


def _work(units: tuple[int, ...], nested: int = 0) -> int:
    """Charges ``units`` one by one, then ``nested`` inside an own budget of 5 (falling back to -1
    past it), and returns their sum."""
    for u in units:
        charge(u)
    if nested:
        try:
            with own_budget(5):
                charge(nested)
        except OwnBudgetExceeded:
            return -1
    return sum(units)


def _outcome(
    limit: int, calls: list[tuple[int, ...]], cache: Replayed[tuple[int, ...], int] | None
) -> tuple[str, int, list[int]]:
    """What a block of ``limit`` sees: the results and the spent amount, or where it ran out."""
    results: list[int] = []
    with budget(10**9):  # an enclosing block: the inner one's spent is charged to it on exit
        try:
            with budget(limit) as counter:
                for units in calls:
                    nested = units[-1] if units else 0
                    if cache is None:
                        results.append(_work(units, nested))
                    else:
                        results.append(cache.get(units, lambda u=units, n=nested: _work(u, n)))
        except WorkBudgetExceeded:
            return ("exceeded", counter.spent, results)
    return ("done", counter.spent, results)


@FAST
@given(
    st.integers(0, 60),
    st.lists(st.lists(st.integers(1, 9), max_size=4).map(tuple), max_size=12),
)
def test_replayed_results_charge_as_recomputing(limit: int, calls: list[tuple[int, ...]]) -> None:
    cache: Replayed[tuple[int, ...], int] = Replayed()
    assert _outcome(limit, calls, cache) == _outcome(limit, calls, None)
    # Again with the cache full: every result is replayed.
    assert _outcome(limit, calls, cache) == _outcome(limit, calls, None)


def test_a_recording_holds_its_blocks_charges_and_a_nested_blocks_total() -> None:
    with budget(100), recording() as made:
        charge(3)
        with budget(50):
            charge(4)
            charge(5)
        with recording() as inner:
            charge(6)
    assert inner == [6]
    assert made == [3, 9, 6]  # the nested block's 4 + 5 reach the outer one when it ends


def test_a_computation_that_runs_out_is_not_remembered() -> None:
    cache: Replayed[str, int] = Replayed()
    with pytest.raises(WorkBudgetExceeded), budget(5):
        cache.get("k", lambda: _work((3, 3)))
    assert len(cache) == 0
    with budget(10):
        assert cache.get("k", lambda: _work((3, 3))) == 6
    assert len(cache) == 1


@FAST
@given(
    st.lists(label_cubes, max_size=6),
    st.lists(st.tuples(label_cubes, st.booleans()), min_size=1, max_size=6),
)
def test_a_tiers_remembered_parts_are_the_parts_with_their_charges(
    subjects: list[LabelCube], asked: list[tuple[LabelCube, bool]]
) -> None:
    """``structure._split`` remembers each subject's parts per tier (``_Tier.parts``): every
    answer, first or remembered, is what ``_subject_parts`` computes, charging what it charges."""
    selected = _index(subjects)
    tier = _Tier("t", DefaultAction.DENY, subjects, selected, _index([]), _index([]))
    peer, flows = PodPeer(LabelCube.all()), L4Set.all()
    for subject, inside in asked * 2:  # each asked twice: the second from the memo
        with recording() as remembered:
            got = _split([Cube(subject, peer, flows)], tier, inside)
        with recording() as plain:
            parts = _subject_parts(subject, selected, inside)
        assert remembered == plain
        if parts is None:
            assert got == ([], [Cube(subject, peer, flows)])
        else:
            assert got == (
                [Cube(s, peer, flows) for s in parts[0]],
                [Cube(s, peer, flows) for s in parts[1]],
            )
