"""A rule whose structural form is too large to build fails closed on its own (C2C350 at the
rule), instead of the whole direction: a Deny is denied as written (also what earlier rules
allowed of it), an Allow or a Pass's profile piece is left out. Forced here with a zero per-rule
budget; the verifier proves Cilium allows no flow Calico denies."""

from __future__ import annotations

import pytest

from calico2cilium.compile import structure
from calico2cilium.convert import convert
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify

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


def test_rules_past_their_budget_fail_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(structure, "RULE_BASE", 0)
    monkeypatch.setattr(structure, "RULE_PER_ITEM", 0)
    monkeypatch.setattr(structure, "DENY_BASE", 0)
    result = convert(text=TEXT % {"allows": ALLOWS + "\n" + PASSES}, name="in.yaml")
    found = [d for d in result.diagnostics if d.code == "C2C350"]
    assert found and all(d.narrowing for d in found)
    assert any("denied as written" in str(d) for d in found)
    assert not any("every pod a policy selects" in str(d) for d in found)  # not the whole direction
    descriptions = [s.get("description", "") for d in result.documents for s in d.get("specs", [])]
    assert any("Deny (denied as written" in text for text in descriptions)  # the reviewer sees why
    proof = verify(result.loaded, result.documents, Assumptions(), narrowing=True)
    assert proof.status in ("narrowed", "equivalent"), proof.render_text()


def test_a_larger_work_budget_converts_what_the_default_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """``convert(work_budget=...)`` / ``convert --work-budget`` scales every limit."""
    monkeypatch.setattr(structure, "RULE_BASE", 40)
    monkeypatch.setattr(structure, "DENY_BASE", 40)
    monkeypatch.setattr(structure, "RULE_PER_ITEM", 0)
    text = TEXT % {"allows": ALLOWS + "\n" + PASSES}
    tight = convert(text=text, name="in.yaml")
    assert any(d.code == "C2C350" for d in tight.diagnostics)
    roomy = convert(text=text, name="in.yaml", work_budget=1000)
    assert not any(d.code == "C2C350" for d in roomy.diagnostics)
    proof = verify(roomy.loaded, roomy.documents, Assumptions())
    assert proof.status == "equivalent", proof.render_text()


def test_a_deny_too_large_to_narrow_is_absorbed_not_failed_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past its own budget, a Deny whose reach can be built is absorbed (exact), not denied as
    written (tests/test_absorbed_denies.py)."""
    monkeypatch.setattr(structure, "DENY_BASE", 0)
    monkeypatch.setattr(structure, "RULE_PER_ITEM", 0)
    result = convert(text=TEXT % {"allows": ALLOWS}, name="in.yaml")
    assert not any(d.code == "C2C350" for d in result.diagnostics)
    proof = verify(result.loaded, result.documents, Assumptions())
    assert proof.status == "equivalent", proof.render_text()
