"""Service-account selectors that test the account's name convert to Cilium's service-account
label; label tests need an inventory (fixtures field-serviceaccount-selector-inventory*)."""

from __future__ import annotations

from pathlib import Path

import pytest

from calico2cilium.convert import convert
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify

_GNP = """apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {{name: p}}
spec:
  selector: app == 'db'
  serviceAccountSelector: {subject}
  types: [Ingress]
  ingress:
  - action: Allow
    source:
      serviceAccounts: {{selector: "{peer}"}}
"""


@pytest.mark.parametrize(
    ("subject", "peer", "converted"),
    [
        ("projectcalico.org/name in {'postgres', 'mysql'}", "projectcalico.org/name == 'web'", True),
        # pcsa.projectcalico.org/name matches any length; Cilium's label value cannot hold 63+.
        ("projectcalico.org/name == 'postgres'", "projectcalico.org/name == '" + "w" * 63 + "'", False),
        ("role == 'database'", "projectcalico.org/name == 'web'", False),  # labels: no inventory
    ],
)
def test_name_tests_convert_and_are_proven(tmp_path: Path, subject: str, peer: str, converted: bool) -> None:
    path = tmp_path / "in.yaml"
    path.write_text(_GNP.format(subject=subject, peer=peer))
    result = convert([str(path)], pod_cidrs=("10.244.0.0/16",), node_cidrs=("10.0.0.0/24",))
    # A refusal that fails closed is a warning marked narrowing (review5 finding 6).
    errors = [d.code for d in result.diagnostics if d.severity.value == "error" or d.narrowing]
    assert (errors == []) is converted, errors
    if converted:
        proof = verify(result.loaded, result.documents, Assumptions(pod_cidrs=("10.244.0.0/16",)))
        assert proof.status == "equivalent", proof.render_text()
