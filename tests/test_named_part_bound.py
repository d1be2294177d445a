"""The named-protocols part of an allow is kept only while it stays about the size of the rule's
exact part (``rulekit._too_long``): unbounded, one GlobalNetworkPolicy of the realistic mix of
1,000 grew from 4 KB to 863 KB."""

from __future__ import annotations

from calico2cilium.cilium.rulekit import NAMED_PART_SMALL, choose
from calico2cilium.facts.target import cilium_target
from calico2cilium.plan import Grant
from calico2cilium.sets import Cube, KeyConstraint, L4Set, LabelCube, PodPeer
from calico2cilium.sets.l4 import ICMP

TARGET = cilium_target()
PEER = PodPeer(LabelCube.of({"app": KeyConstraint.eq("api")}))
GRE = L4Set.protocols([47])


def _grant(subjects: int) -> Grant:
    """Per subject: Calico allows ICMP type 0 and GRE. Neither has a Cilium form (GRE without the
    other protocols; type 0, which Cilium reads as every type, alone), so the named part is the
    wide form: every ICMP type allowed and types 1-255 denied, two cubes per subject."""
    cubes = [LabelCube.of({"app": KeyConstraint.eq(f"db-{n}")}) for n in range(subjects)]
    allow = tuple(Cube(s, PEER, L4Set.icmp_type(0, protocols=(ICMP,)) | GRE) for s in cubes)
    wide = tuple(Cube(s, PEER, L4Set.protocols([ICMP]) | GRE) for s in cubes)
    return Grant(None, allow, wide)


def _chosen(grant: Grant) -> tuple[int, int, list[str]]:
    failed: list[str] = []
    allow, deny = choose([grant], TARGET, lambda err, _: failed.append(type(err).__name__))
    return len(allow), len(deny), failed


def test_a_small_named_part_is_kept() -> None:
    assert NAMED_PART_SMALL >= 2
    assert _chosen(_grant(1)) == (1, 1, ["PartlyNamed"])


def test_a_named_part_larger_than_the_exact_part_leaves_the_rule_out_whole() -> None:
    subjects = NAMED_PART_SMALL  # 2 cubes each: twice the exact part, past the small bound
    assert _chosen(_grant(subjects)) == (0, 0, ["Inexpressible"])
