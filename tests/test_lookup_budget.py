"""The structural walk's look-ups are bounded (issue 13): the rule index (``compile/rule_index.py``)
finds exactly the rules a scan of them all finds, and every scan the per-rule work does (the rule
index, the subject indexes of the profile pieces' "less what a later tier selects") is charged to
the work budget, so a broad rule past its budget takes its fail-closed fallback instead of running
unbounded. A Deny whose look-up of the rules taking part of it runs out is denied as written
(C2C353); the verifier proves the output never allows more than Calico."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calico2cilium.compile import structure
from calico2cilium.compile.rule_index import RuleIndex
from calico2cilium.convert import convert
from calico2cilium.semantics.world import Assumptions
from calico2cilium.sets import Cube, KeyConstraint, L4Set, LabelCube, PodPeer
from calico2cilium.sets.budget import WorkBudgetExceeded, budget
from helpers import verify_explained
from test_rule_budget import ALLOWS, TEXT, _no_budget
from test_sets_universe import cubes

rule_sets = st.lists(cubes(), max_size=12)


def _position(value: int) -> int:
    return value


@settings(max_examples=300, deadline=None)
@given(rule_sets, cubes(), st.integers(0, 13), st.integers(-1, 12), st.integers(0, 4))
def test_the_rule_index_finds_what_a_scan_finds(
    rules: list[list[Cube]], query: list[Cube], before: int, after: int, limit: int
) -> None:
    index = RuleIndex(((c, i) for i, group in enumerate(rules) for c in group), _position)
    meeting = [i for i, group in enumerate(rules) if any(c.intersects(q) for c in group for q in query)]
    assert index.meeting(query) == meeting
    assert index.meeting(query, before=before, after=after) == [i for i in meeting if after < i < before]
    capped = index.meeting(query, limit=limit)
    assert len(capped) == min(len(meeting), limit + 1) and set(capped) <= set(meeting)
    assert index.candidates(query) >= len(meeting)


def _pods(subject: dict[str, KeyConstraint]) -> Cube:
    """A cube of ``subject``'s pods with every pod peer and every L4 flow."""
    return Cube(LabelCube.of(subject), PodPeer(LabelCube.all()), L4Set.all())


def test_a_rule_index_look_up_is_charged() -> None:
    others = [_pods({"app": KeyConstraint.eq(f"db-{i}")}) for i in range(50)]
    index = RuleIndex(((c, i) for i, c in enumerate(others)), _position)
    broad = [_pods({"team": KeyConstraint.eq("a")})]
    assert len(index.meeting(broad)) == 50  # no value of the indexed key: every cube is scanned
    with pytest.raises(WorkBudgetExceeded), budget(10):
        index.meeting(broad)
    with budget(10):  # one bucket: a narrow look-up costs about what it may return
        assert index.meeting([_pods({"app": KeyConstraint.eq("web")})]) == []


def test_the_subjects_a_profile_piece_is_cut_by_are_charged() -> None:
    """``P - Sel(t)`` for a later tier scans that tier's subjects: charged even when none meets."""
    later = [
        LabelCube.of({"team": KeyConstraint.eq(f"t{i}"), "app": KeyConstraint.ne("web")}) for i in range(40)
    ]
    piece = _pods({"app": KeyConstraint.eq("web")})
    index = structure._index(later)
    assert structure._unselected([piece], index) == [piece]
    with pytest.raises(WorkBudgetExceeded), budget(20):
        structure._unselected([piece], index)


def test_a_deny_whose_look_up_runs_out_is_denied_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_budget(monkeypatch)
    monkeypatch.setattr(structure, "LOOKUP_BASE", 0)
    result = convert(text=TEXT % {"allows": ALLOWS}, name="in.yaml")
    found = [d for d in result.diagnostics if d.code in ("C2C350", "C2C353")]
    assert found and all(d.narrowing for d in found)
    deny = [str(d) for d in found if d.code == "C2C353"]
    assert deny and "too many to look up" in deny[0]
    descriptions = [s.get("description", "") for d in result.documents for s in d.get("specs", [])]
    assert any("Deny" in t and "too many to look up" in t for t in descriptions)
    proof = verify_explained(result, Assumptions())
    assert proof.status == "narrowed", proof.render_text()


def test_an_allow_whose_reach_runs_out_is_left_out_of_the_denies_it_takes_part_of(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An Allow's reach (its region less the Passes before it in its tier) is built once, in its
    own budget (``REACH_BASE``); past it, every Deny it takes part of leaves it out (C2C353 names
    it): Cilium also denies what it allowed of the Deny's traffic, never less."""
    monkeypatch.setattr(structure, "REACH_BASE", 0)
    for name in ("RULE_PER_ITEM", "FRUGAL_BASE", "FRUGAL_PER_ITEM"):
        monkeypatch.setattr(structure, name, 0)
    passes = "\n".join(
        f"    - {{action: Pass, protocol: UDP, destination: {{ports: [{5000 + i}]}}}}" for i in range(9)
    )  # any source: a look-up of the Passes before an Allow scans them all (none meets it)
    result = convert(text=TEXT % {"allows": passes + "\n" + ALLOWS}, name="in.yaml")
    deny = [str(d) for d in result.diagnostics if d.code == "C2C353"]
    assert deny and "ingress.9" in deny[0]  # the first Allow after the nine Passes
    assert not any(d.code == "C2C350" for d in result.diagnostics)  # the Allows themselves convert
    proof = verify_explained(result, Assumptions())
    assert proof.status == "narrowed", proof.render_text()
