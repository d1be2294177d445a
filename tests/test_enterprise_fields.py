"""Calico Enterprise fields get their own code (C2C230), not a bare "unknown field" (C2C210)."""

from __future__ import annotations

import pytest

from calico2cilium.load import load

_NETWORK_SET = """apiVersion: projectcalico.org/v3
kind: {kind}
metadata: {{name: s{namespace}}}
spec:
  nets: [203.0.113.0/24]
  allowedEgressDomains: [api.example.com]
"""

_POLICY = """apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  selector: all()
  egress:
    - action: Allow
      destination:
        domains: ["*.example.com"]
"""


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (_POLICY, 9),
        (_NETWORK_SET.format(kind="GlobalNetworkSet", namespace=""), 6),
        (_NETWORK_SET.format(kind="NetworkSet", namespace=", namespace: ns"), 6),
    ],
)
def test_enterprise_fields_name_the_product_and_ciliums_form(text: str, line: int) -> None:
    result = load(text=text, name="e.yaml")
    assert result.documents == []
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "C2C230" and diagnostic.source is not None and diagnostic.source.line == line
    assert "Calico Enterprise" in diagnostic.message
    assert diagnostic.hint is not None and "toFQDNs" in diagnostic.hint


def test_the_same_name_elsewhere_is_an_unknown_field() -> None:
    text = _POLICY.replace("      destination:\n        domains", "      domains")
    (diagnostic,) = load(text=text, name="e.yaml").diagnostics
    assert diagnostic.code == "C2C210"
