"""A Deny whose exact forms are all too large is narrowed by only some of the earlier rules that
meet it (compile/structure.py ``_partly_narrowed``, C2C353): in Calico's order, each earlier
Allow (or Pass of its tier) is left out of it unless that keeps it within ``DENY_CAP`` rules, and
it is absorbed only when at most ``ABSORB_CAP`` later rules meet it. What the skipped rules
allowed of it Cilium denies: the output may only allow less, which the verifier proves
(Cilium ⊆ Calico), on a hand-written case, random sets and realistic mixes with the caps forced
tight."""

from __future__ import annotations

import os

import pytest
from hypothesis import event, given, seed, settings

from calico2cilium.compile import structure
from calico2cilium.convert import convert
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify
from calico_strategies import Scenario, scenarios
from test_absorbed_denies import assert_never_wider, convert_mix
from test_convert_differential import check_scenario

EARLY = 40
LATE = 34
TEXT = (
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: db, namespace: shop}\n"
    "spec:\n  selector: all()\n  ingress:\n"
    + "".join(
        f"    - {{action: Allow, protocol: TCP, source: {{selector: app == 'c{i}'}},"
        f" destination: {{ports: [{1000 + i}]}}}}\n"
        for i in range(EARLY)
    )
    + "    - action: Deny\n"
    + "".join(
        f"    - {{action: Allow, protocol: UDP, destination: {{ports: [{2000 + i}]}}}}\n" for i in range(LATE)
    )
)
"""A catch-all Deny after 40 Allows that each cut it (another peer and port), and 34 later
Allows that meet it: its narrowed form takes about 41 rules, absorbing it about 34."""


def _proof(text: str) -> tuple[list[str], str]:
    result = convert(text=text, name="in.yaml")
    narrowing = any(d.narrowing for d in result.diagnostics)
    proof = verify(result.loaded, result.documents, Assumptions(), narrowing=narrowing)
    assert proof.status in ("narrowed", "equivalent"), proof.render_text()
    return [d.code for d in result.diagnostics], proof.status


def test_a_deny_too_large_for_every_exact_form_is_partly_narrowed() -> None:
    codes, status = _proof(TEXT)
    assert "C2C353" in codes and status == "narrowed"  # Cilium denies what the skipped Allows allowed
    result = convert(text=TEXT, name="in.yaml")
    [found] = [d for d in result.diagnostics if d.code == "C2C353"]
    assert "NetworkPolicy shop/db ingress" in str(found)
    assert "so Cilium also denies what NetworkPolicy shop/db ingress." in found.message  # review9
    denies = [r for d in result.documents for s in d["specs"] for r in s.get("ingressDeny", [])]
    assert 0 < len(denies) <= structure.DENY_CAP  # a reviewable size, not one rule per Allow


def test_with_room_the_same_deny_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(structure, "DENY_CAP", 10**6)
    codes, status = _proof(TEXT)
    assert "C2C353" not in codes and status == "equivalent"
    monkeypatch.setattr(structure, "DENY_CAP", 1)
    monkeypatch.setattr(structure, "ABSORB_CAP", 10**6)
    codes, status = _proof(TEXT)
    assert "C2C353" not in codes and status == "equivalent"  # absorbed instead


EXAMPLES = int(os.environ.get("C2C_DIFFTEST_EXAMPLES", "30"))
SEED = int(os.environ.get("C2C_DIFFTEST_SEED", "1"))


@seed(SEED + 11)
@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(scenarios())
def test_random_sets_with_tight_caps_never_allow_more(scenario: Scenario) -> None:
    """Every Deny that earlier rules meet is partly narrowed (none absorbed, none narrowed
    exactly), and any narrowing that lengthens it is left out: never wider."""
    skipped: list[int] = []
    partly = structure._partly_narrowed

    def counted(*args: object, **kwargs: object) -> tuple[tuple[object, ...], list[object]]:
        form, left = partly(*args, **kwargs)  # type: ignore[arg-type]
        skipped.append(len(left))
        return form, left  # type: ignore[return-value]

    with pytest.MonkeyPatch.context() as patch:
        # Any narrowing that adds a rule is too long: the random sets' Denies are small.
        patch.setattr(structure, "_too_long", lambda entry, cubes: len(cubes) > len(entry.cubes))
        patch.setattr(structure, "ABSORB_CAP", -1)
        patch.setattr(structure, "_narrowed_deny", lambda *_: None)  # every Deny with takers
        patch.setattr(structure, "_partly_narrowed", counted)
        checked = check_scenario(scenario)
    event(f"{checked}, {'with' if any(skipped) else 'without'} a partly narrowed Deny")


@pytest.mark.parametrize("mix_seed", range(1, 5))
def test_realistic_mixes_with_tight_caps_never_allow_more(
    mix_seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With tight caps many of the realistic mix's Denies are partly narrowed: the verifier
    proves Cilium allows nothing Calico denies, and no direction fails closed as a whole."""
    monkeypatch.setattr(structure, "DENY_CAP", 2)
    monkeypatch.setattr(structure, "ABSORB_CAP", 2)
    # A Deny that would be partly narrowed is absorbed instead where few later rules meet it
    # (LONG_ABSORB_CAP): kept as tight, so that this path runs.
    monkeypatch.setattr(structure, "LONG_ABSORB_CAP", 2)
    result = convert_mix(mix_seed)
    assert any(d.code == "C2C353" for d in result.diagnostics)  # the path ran
    assert not any("every pod a policy selects" in str(d) for d in result.diagnostics)
    assert_never_wider(result)


LATER = (
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: db, namespace: shop}\n"
    "spec:\n  selector: all()\n  ingress:\n"
    "    - {action: Allow, protocol: TCP, destination: {ports: [80]}}\n"
    "    - {action: Allow, source: {selector: app == 'x' && role == 'y' && team == 'z' && tier == 'w'}}\n"
    "    - {action: Deny}\n"
    "    - {action: Allow, protocol: UDP, destination: {ports: [53]}}\n"
)
"""A Deny partly narrowed (caps forced to nothing): it leaves out the second Allow, and its part
of the protocols Cilium cannot name by port (no Cilium form) is taken out of the allows after it
that meet it (tests/test_left_out_denies.py)."""


def test_an_allow_before_a_partly_narrowed_deny_is_not_narrowed_by_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second Allow comes before the Deny: it decided all its flows in Calico, so the Deny's
    part with no form is nothing it must lose (before, it lost it, and its description named the
    Deny among the earlier rules). Cilium still denies its TCP, UDP and SCTP flows, which the
    Deny's rule names (C2C353)."""
    monkeypatch.setattr(structure, "DENY_CAP", 0)
    monkeypatch.setattr(structure, "ABSORB_CAP", 0)
    monkeypatch.setattr(structure, "LONG_ABSORB_CAP", 0)
    codes, status = _proof(LATER)
    assert "C2C353" in codes and status == "narrowed"
    result = convert(text=LATER, name="in.yaml")
    notes = [part for d in result.documents for s in d["specs"] for part in s["description"].split("; ")]
    [second] = [n for n in notes if n.startswith("db ingress[1] Allow")]
    assert second == "db ingress[1] Allow"
