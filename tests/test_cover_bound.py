"""``cilium/cover.py`` with a ``Bound``: a Deny's cubes written as looser cubes that still hold
every flow handed and stay inside the bound (its region less what earlier rules take), checked
against brute force over the small universe of ``test_sets_universe``."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from calico2cilium.cilium.cover import Bound, _Inside, cover
from calico2cilium.sets import Cube, KeyConstraint, L4Set, LabelCube, PodPeer
from calico2cilium.sets.budget import budget
from calico2cilium.sets.regions import subtract_cubes
from test_sets_universe import cubes, raw_cubes, raw_flows

FAST = settings(max_examples=200, deadline=None)


def _any(cube: Cube) -> bool:
    return True


@FAST
@given(raw_cubes(max_size=3), raw_cubes(max_size=4), cubes())
def test_the_bound_test_is_inside_within_less_taken(
    within: list[Cube], taken: list[Cube], candidate: list[Cube]
) -> None:
    inside = _Inside(Bound(within, taken))
    allowed = raw_flows(within) - raw_flows(taken)
    for cube in candidate:
        assert inside(cube) == (raw_flows([cube]) <= allowed)


@FAST
@given(raw_cubes(max_size=3), raw_cubes(max_size=4), raw_cubes(max_size=5), st.booleans())
def test_a_bounded_cover_holds_what_is_needed_and_stays_inside(
    within: list[Cube], taken: list[Cube], picks: list[Cube], whole: bool
) -> None:
    # What must be denied: pieces of the bound (all of it, or some cubes' part of it).
    allowed = subtract_cubes(within, taken)
    need = allowed if whole else [h for c in allowed for p in picks if (h := c & p) is not None]
    out = cover(need, _any, Bound(within, taken))
    flows = raw_flows(out)
    assert raw_flows(need) <= flows
    assert flows <= raw_flows(within) - raw_flows(taken)


@FAST
@given(raw_cubes(max_size=3), raw_cubes(max_size=4), raw_cubes(max_size=5))
def test_a_bounded_cover_is_as_exact_inside_an_enclosing_budget(
    within: list[Cube], taken: list[Cube], picks: list[Cube]
) -> None:
    # Past its own budget it gives the cubes back; an enclosing budget is charged, not broken.
    need = [h for c in subtract_cubes(within, taken) for p in picks if (h := c & p) is not None]
    with budget(10**9):
        out = cover(need, _any, Bound(within, taken))
    assert raw_flows(need) <= raw_flows(out) <= raw_flows(within) - raw_flows(taken)


def test_a_deny_narrowed_by_allows_of_other_apps_is_one_cube_where_later_allows_meet_it() -> None:
    # Deny role == 'db' <- app == 'x' TCP, less earlier Allows for app == 'a' and app == 'b' (the
    # takers): denied only where later allows meet it, for app == 'c' and app == 'd'. The bound
    # lets one cube say both: every app but the takers'.
    role = ("role", KeyConstraint.eq("db"))
    peer = PodPeer(LabelCube.of({"app": KeyConstraint.eq("x")}))
    tcp = L4Set.all()
    within = [Cube(LabelCube.of([role]), peer, tcp)]
    taken = [Cube(LabelCube.of([role, ("app", KeyConstraint.eq(a))]), peer, tcp) for a in "ab"]
    need = [Cube(LabelCube.of([role, ("app", KeyConstraint.eq(a))]), peer, tcp) for a in "cd"]
    out = cover(need, _any, Bound(within, taken))
    assert out == [Cube(LabelCube.of([role, ("app", KeyConstraint.not_in(["a", "b"]))]), peer, tcp)]
    # Without the bound: the same union, one cube with both apps.
    assert cover(need, _any) == [
        Cube(LabelCube.of([role, ("app", KeyConstraint.in_(["c", "d"]))]), peer, tcp)
    ]
