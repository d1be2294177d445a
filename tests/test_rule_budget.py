"""A rule whose structural form is too large to build fails closed on its own, instead of the
whole direction: a Deny is narrowed by only the earlier rules its budget allows, down to none
(C2C353: also denied where the others allowed it), an Allow or a Pass's profile piece is left out
(C2C350 at the rule). Forced here with a zero per-rule budget (and a zero frugal floor, which the
rules after a few costly ones get: ``sets/budget.py``, ``shared_pool``); the verifier proves
Cilium allows no flow Calico denies."""

from __future__ import annotations

import pytest

from calico2cilium.compile import structure
from calico2cilium.convert import convert
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify
from helpers import verify_explained

TEXT = """
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.guard}
spec:
  tier: security
  order: 10
  selector: has(app)
  ingress:
%(allows)s
    - action: Deny
      source: {selector: has(team)}
    - action: Pass
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  selector: app == 'web'
  ingress:
    - action: Allow
      protocol: TCP
      destination: {ports: [80]}
"""
ALLOWS = "\n".join(
    f"    - {{action: Allow, protocol: TCP, source: {{selector: app == 'monitor-{i}'}}, destination: {{ports: [{9090 + i}]}}}}"
    for i in range(12)  # more than 8: the subtraction goes through the index, which charges the budget
)


PASSES = "\n".join(
    f"    - {{action: Pass, protocol: UDP, source: {{selector: app == 'batch-{i}'}}}}" for i in range(9)
)
"""Passes before the Deny: building its reach (``R(d)``, which absorbing it needs) takes work too."""


def _no_budget(monkeypatch: pytest.MonkeyPatch, base: int = 0) -> None:
    for name in ("RULE_BASE", "DENY_BASE", "FRUGAL_BASE"):
        monkeypatch.setattr(structure, name, base)
    for name in ("RULE_PER_ITEM", "FRUGAL_PER_ITEM"):
        monkeypatch.setattr(structure, name, 0)


def test_rules_past_their_budget_fail_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_budget(monkeypatch)
    result = convert(text=TEXT % {"allows": ALLOWS + "\n" + PASSES}, name="in.yaml")
    found = [d for d in result.diagnostics if d.code in ("C2C350", "C2C353")]
    assert found and all(d.narrowing for d in found)
    deny = [str(d) for d in found if d.code == "C2C353"]
    assert (
        deny and "GlobalNetworkPolicy security.guard ingress.20" in deny[0]
    )  # names what it no longer leaves out
    assert not any("every pod a policy selects" in str(d) for d in found)  # not the whole direction
    descriptions = [s.get("description", "") for d in result.documents for s in d.get("specs", [])]
    assert any("ingress[21] Deny" in t and "C2C353" in t for t in descriptions)  # the reviewer sees why
    proof = verify_explained(result, Assumptions())
    assert proof.status in ("narrowed", "equivalent"), proof.render_text()


def test_a_larger_work_budget_converts_what_the_default_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """``convert(work_budget=...)`` / ``convert --work-budget`` scales every limit."""
    _no_budget(monkeypatch, 40)
    text = TEXT % {"allows": ALLOWS + "\n" + PASSES}
    tight = convert(text=text, name="in.yaml")
    assert any(d.code in ("C2C350", "C2C353") for d in tight.diagnostics)
    roomy = convert(text=text, name="in.yaml", work_budget=1000)
    assert not any(d.code in ("C2C350", "C2C353") for d in roomy.diagnostics)
    proof = verify(roomy.loaded, roomy.documents, Assumptions())
    assert proof.status == "equivalent", proof.render_text()


def test_a_deny_too_large_to_narrow_is_absorbed_not_failed_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past its own budget, a Deny whose reach can be built is absorbed (exact), not denied as
    written (tests/test_absorbed_denies.py)."""
    monkeypatch.setattr(structure, "DENY_BASE", 0)
    monkeypatch.setattr(structure, "RULE_PER_ITEM", 0)
    monkeypatch.setattr(structure, "FRUGAL_BASE", 0)
    monkeypatch.setattr(structure, "FRUGAL_PER_ITEM", 0)
    result = convert(text=TEXT % {"allows": ALLOWS}, name="in.yaml")
    assert not any(d.code == "C2C350" for d in result.diagnostics)
    proof = verify(result.loaded, result.documents, Assumptions())
    assert proof.status == "equivalent", proof.render_text()
