"""A Cilium resource that fails its CRD schema is reported (C2C399) and never printed."""

from __future__ import annotations

from typing import Any

import pytest

from calico2cilium.cilium.emit import Emission
from calico2cilium.diagnostics import Severity
from calico2cilium.semantics.world import Assumptions
from helpers import convert, verify_explained

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
    result = convert(text=NP, quarantine=False)
    assert result.documents == []
    assert [d.code for d in result.diagnostics] == ["C2C399"]
    assert "left out of the output" in result.diagnostics[0].message


@pytest.mark.parametrize("breaks", ["selector", "rule"])
def test_a_resource_failing_the_crd_schema_fails_closed(monkeypatch: pytest.MonkeyPatch, breaks: str) -> None:
    """Where the output is written anyway (the library's default, --allow-partial), the policy left
    out would take its pods out of default deny: a quarantine of its name denies all their traffic
    in its directions instead (with its own selector, or its namespace's pods where that is what
    fails), and the proof shows Cilium allows nothing Calico denies."""

    def broken(self: Emission) -> list[dict[str, Any]]:
        documents = emit(self)
        spec = documents[0]["specs"][0]
        if breaks == "selector":
            spec["endpointSelector"] = {"matchLabels": {"app": "x y"}}
        else:
            spec["ingress"][0]["fromEndpoints"] = "not a list"
        return documents

    emit = Emission.documents
    monkeypatch.setattr(Emission, "documents", broken)
    result = convert(text=NP)
    (error,) = result.diagnostics
    assert error.code == "C2C399" and error.severity is Severity.ERROR and error.narrowing
    (stand_in,) = result.documents
    assert stand_in["metadata"]["name"] == "p1" and stand_in["metadata"]["namespace"] == "ns1"
    (spec,) = stand_in["specs"]
    assert spec["ingressDeny"] == [{"fromEntities": ["all"]}] and "egressDeny" not in spec
    assert spec["endpointSelector"] == ({} if breaks == "selector" else {"matchLabels": {"app": "web"}})
    proof = verify_explained(result, Assumptions())
    assert proof.status == "narrowed", proof.render_text()
