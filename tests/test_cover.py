"""``cilium/cover.py``: a rule's cubes written as fewer, looser cubes with the same union."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from calico2cilium.cilium.cover import cover, covered_by_others
from calico2cilium.sets import Cube, KeyConstraint, L4Set, LabelCube, PodPeer, Region
from calico2cilium.sets.intervals import IntervalSet
from calico2cilium.sets.l4 import TCP
from calico2cilium.sets.ports import PORT_MAX, PORT_MIN
from test_sets_universe import raw_cubes, raw_flows

FAST = settings(max_examples=150, deadline=None)


def _any(cube: Cube) -> bool:
    return True


@FAST
@given(raw_cubes(max_size=6))
def test_cover_keeps_the_union_and_never_grows(cubes: list[Cube]) -> None:
    out = cover(cubes, _any)
    assert raw_flows(out) == raw_flows(cubes)
    assert len(out) <= len({c for c in cubes if not c.is_empty})


@FAST
@given(raw_cubes(max_size=6))
def test_cover_of_a_region_keeps_it(cubes: list[Cube]) -> None:
    # the compiler's disjoint pieces, the emitter's input
    region = Region.of(cubes)
    assert raw_flows(cover(region.cubes, _any)) == raw_flows(cubes)


def _tcp(*ranges: tuple[int, int]) -> L4Set:
    return L4Set.dst_ports(IntervalSet.of(PORT_MIN, PORT_MAX, ranges), protocols=(TCP,))


def test_a_deny_narrowed_by_an_earlier_allow_is_one_cube_and_the_rest() -> None:
    # Deny color == 'red' <- color == 'blue' TCP, less an earlier Allow of app == 'dns' <- TCP 53:
    # the compiler's pieces split the subject by app; written as one cube without port 53 for
    # every subject, and port 53 for the subjects the Allow did not take.
    red, dns = KeyConstraint.eq("red"), KeyConstraint.eq("dns")
    blue = PodPeer(LabelCube.of({"color": KeyConstraint.eq("blue")}))
    pieces = [
        Cube(LabelCube.of({"color": red, "app": dns}), blue, _tcp((1, 52), (54, 65535))),
        Cube(LabelCube.of({"color": red, "app": KeyConstraint.ne("dns")}), blue, _tcp((1, 65535))),
    ]
    out = cover(pieces, _any)
    assert raw_flows(out) == raw_flows(pieces)
    assert Cube(LabelCube.of({"color": red}), blue, _tcp((1, 52), (54, 65535))) in out


def test_a_loosening_that_cannot_be_written_is_not_taken() -> None:
    a = LabelCube.of({"app": KeyConstraint.eq("a")})
    peer = PodPeer(LabelCube.all())
    pieces = [Cube(a, peer, _tcp((80, 80))), Cube(a, peer, _tcp((443, 443)))]
    assert cover(pieces, lambda c: c.l4 == c.l4 & _tcp((80, 80))) == pieces
    assert cover(pieces, _any) == [Cube(a, peer, _tcp((80, 80), (443, 443)))]


def test_past_its_work_budget_the_cubes_stay_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    import calico2cilium.cilium.cover as module

    a = LabelCube.of({"app": KeyConstraint.eq("a")})
    peer = PodPeer(LabelCube.all())
    pieces = [Cube(a, peer, _tcp((p, p))) for p in range(80, 120)]
    monkeypatch.setattr(module, "COVER_WORK", 1)
    assert cover(pieces, _any) == pieces
    monkeypatch.setattr(module, "COVER_WORK", 100_000)
    assert cover(pieces, _any) == [Cube(a, peer, _tcp((80, 119)))]


@FAST
@given(raw_cubes(max_size=6))
def test_dropping_the_cubes_the_others_cover_keeps_the_union(cubes: list[Cube]) -> None:
    covered = covered_by_others(cubes)
    kept = [c for i, c in enumerate(cubes) if i not in covered]
    assert raw_flows(kept) == raw_flows(cubes)
    for i, takers in covered.items():
        assert takers and all(k not in covered for k in takers)
        assert not cubes[i].is_empty and raw_flows([cubes[i]]) <= raw_flows([cubes[k] for k in takers])


def test_a_deny_inside_another_rules_deny_is_written_once_and_named_by_both() -> None:
    # Deny ICMP to has(team) for the canary pods, Deny ICMP to everyone for all of them: the first
    # adds nothing to the second (cilium/policies._deny_once), and its rule is named where the
    # second is written.
    from calico2cilium import ir
    from calico2cilium.cilium.policies import lay_out
    from calico2cilium.facts.target import DEFAULT_TARGET
    from calico2cilium.plan import Denial
    from calico2cilium.sets.l4 import ICMP

    icmp = L4Set.protocols([ICMP])
    present = KeyConstraint(False, KeyConstraint.not_in(()).values)  # has(key)
    team = PodPeer(LabelCube.of({"team": present}))
    canary = LabelCube.of({"tier": KeyConstraint.eq("web"), "canary": present})
    narrow = Cube(canary, team, icmp)
    broad = Cube(LabelCube.of({"tier": KeyConstraint.eq("web")}), PodPeer(LabelCube.all()), icmp)
    denies = {
        ir.Direction.EGRESS: [
            Denial(None, (narrow,), "p egress[0] Deny"),
            Denial(None, (broad,), "p egress[1] Deny"),
        ]
    }
    section = lay_out({}, DEFAULT_TARGET, lambda err, grant: None, denies)[ir.Direction.EGRESS]
    assert section.deny == [broad]
    assert section.origins[broad] == ["p egress[0] Deny", "p egress[1] Deny"]
