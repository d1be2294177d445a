"""A Cilium resource that fails its CRD schema is reported (C2C399) and never printed."""

from __future__ import annotations

import importlib

import pytest

from helpers import convert

# The module (the package's attribute 'convert' is the function, also after this import).
convert_module = importlib.import_module("calico2cilium.convert")

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
    def broken(*args: object, **kwargs: object) -> object:
        documents = emit(*args, **kwargs)
        documents[0]["specs"][0]["endpointSelector"] = {"matchLabels": {"app": "x y"}}
        return documents

    emit = convert_module.emit_policies
    monkeypatch.setattr(convert_module, "emit_policies", broken)
    result = convert(text=NP)
    assert result.documents == []
    assert [d.code for d in result.diagnostics] == ["C2C399"]
    assert "left out of the output" in result.diagnostics[0].message
