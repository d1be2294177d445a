"""CIDR-group references by Cilium release (``CiliumTarget.cidr_group_ref_breaks_other_rules``):
cilium/cilium#36393, fixed by #40139 on the v1.16 branch; 1.17 selects groups by label (#33441)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from calico2cilium.convert import convert
from calico2cilium.load import load
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify

_INPUT = """apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: partners, labels: {role: partner}}
spec: {nets: [203.0.113.0/24]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  selector: app == 'web'
  types: [Egress]
  egress:
  - action: Allow
    destination: {selector: role == 'partner', namespaceSelector: global()}
  - action: Allow
    destination: {selector: app == 'db'}
"""
_PODS = ("10.244.0.0/16",)


def _cidr_items(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        item
        for d in documents
        if d["kind"] == "CiliumNetworkPolicy"
        for spec in d.get("specs") or [d["spec"]]
        for rule in spec.get("egress", [])
        for item in rule.get("toCIDRSet", [])
    ]


@pytest.mark.parametrize(
    ("version", "refs"), [("1.15", True), ("1.16", False), ("1.17", True), ("1.18", True)]
)
def test_no_reference_is_written_for_1_16_and_the_output_is_proven(version: str, refs: bool) -> None:
    result = convert(
        text=_INPUT, name="in.yaml", pod_cidrs=_PODS, node_cidrs=("10.0.0.0/24",), cilium_version=version
    )
    items = _cidr_items(result.documents)
    assert items and all(("cidrGroupRef" in item) is refs for item in items)
    assert any(d["kind"] == "CiliumCIDRGroup" for d in result.documents)  # the group is kept
    major, minor = (int(x) for x in version.split("."))
    assumptions = Assumptions(pod_cidrs=_PODS, node_cidrs=("10.0.0.0/24",), cilium_version=(major, minor))
    assert verify(result.loaded, result.documents, assumptions).status == "equivalent"


_CILIUM = """apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egress:
  - toCIDRSet: [{cidrGroupRef: calico-gns-partners}]
  - toEndpoints: [{matchLabels: {app: db, k8s:io.kubernetes.pod.namespace: shop}}]
---
apiVersion: cilium.io/v2alpha1
kind: CiliumCIDRGroup
metadata: {name: calico-gns-partners, labels: {role: partner}}
spec: {externalCIDRs: [203.0.113.0/24]}
"""


@pytest.mark.parametrize(("version", "status"), [((1, 16), "incomplete"), ((1, 17), "equivalent")])
def test_the_verifier_leaves_1_16_rules_beside_a_reference_outside_the_proof(
    version: tuple[int, int], status: str
) -> None:
    calico = load(text=_INPUT, name="in.yaml")
    documents = list(yaml.safe_load_all(_CILIUM))
    assumptions = Assumptions(pod_cidrs=_PODS, node_cidrs=("10.0.0.0/24",), cilium_version=version)
    proof = verify(calico, documents, assumptions)
    assert proof.status == status, proof.render_text()
    if status == "incomplete":
        assert "cilium/cilium#36393" in proof.render_text()
