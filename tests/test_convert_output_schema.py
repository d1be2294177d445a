"""A Cilium resource that fails its CRD schema is reported (C2C399) and never printed."""

from __future__ import annotations

from typing import Any

import pytest

from calico2cilium.cilium.emit import Emission
from helpers import convert

NP = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: p1, namespace: ns1}
spec:
  selector: "app == 'web'"
  types: [Ingress]
  ingress:
  - action: Allow
    source: {selector: "role == 'fe'"}
"""


def test_impossible_value_is_simplified_not_an_internal_error() -> None:
    # docs/reference/semantics.md §3.3: no pod can carry 'x y', so the policy selects nothing: no output, no C2C399.
    result = convert(text=NP.replace("app == 'web'", "app == 'x y'"))
    assert result.documents == []
    assert [d.code for d in result.diagnostics] == []


def test_a_resource_failing_the_crd_schema_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Emission) -> list[dict[str, Any]]:
        documents = emit(self)
        documents[0]["specs"][0]["endpointSelector"] = {"matchLabels": {"app": "x y"}}
        return documents

    emit = Emission.documents
    monkeypatch.setattr(Emission, "documents", broken)
    result = convert(text=NP)
    assert result.documents == []
    assert [d.code for d in result.diagnostics] == ["C2C399"]
    assert "left out of the output" in result.diagnostics[0].message
