"""Which network sets a namespaced rule side picks: the set's own labels decide before its
namespace's labels are asked for (issue 12 item 4; compile/match.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from calico2cilium.convert import convert

_INPUT = """apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {{name: partners, namespace: other, labels: {{role: partner}}}}
spec:
  nets: [203.0.113.0/24]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {{name: p, namespace: shop}}
spec:
  selector: app == 'web'
  types: [Ingress]
  ingress:
  - action: Allow
    source:
      namespaceSelector: team == 'a'
      {side}
"""


@pytest.mark.parametrize(
    ("side", "refused"),
    [
        ("selector: app == 'frontend'", False),  # the set's labels rule it out
        ("notSelector: role == 'partner'", False),  # so does the notSelector
        ("selector: role == 'partner'", True),  # picked by label: the namespace labels decide
        ("selector: has(role)", True),
    ],
)
def test_a_set_the_selector_rules_out_needs_no_namespace_labels(
    tmp_path: Path, side: str, refused: bool
) -> None:
    path = tmp_path / "in.yaml"
    path.write_text(_INPUT.format(side=side))
    result = convert([str(path)], pod_cidrs=("10.244.0.0/16",), node_cidrs=("10.0.0.0/24",))
    # A refusal that fails closed is a warning marked narrowing (review5 finding 6).
    codes = [d.code for d in result.diagnostics if d.severity.value == "error" or d.narrowing]
    if refused:
        assert codes == ["C2C303"]
        (error,) = [d for d in result.diagnostics if d.code == "C2C303"]
        assert "depends on namespace labels (team)" in error.message
    else:
        assert codes == [] and [d["kind"] for d in result.documents].count("CiliumNetworkPolicy") == 1
