"""Output names are unique (cilium/naming.py): kubectl apply keeps only the last of two resources
with one kind, namespace and name, so a collision must never reach the output silently."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from calico2cilium.cilium.naming import deduplicate_names
from calico2cilium.diagnostics import Severity
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify
from helpers import convert

SETS = """\
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: c, namespace: a-b, labels: {role: x}}
spec: {nets: [198.51.100.0/24]}
---
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: b-c, namespace: a, labels: {role: 'y'}}
spec: {nets: [203.0.113.0/24]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: to-x, namespace: a-b}
spec:
  selector: all()
  types: [Egress]
  egress: [{action: Allow, destination: {selector: role == 'x'}}]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: not-y, namespace: a}
spec:
  selector: all()
  types: [Egress]
  egress: [{action: Deny, destination: {selector: role == 'y'}}, {action: Allow}]
"""

POLICIES = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: no-ssh}
spec:
  order: 1
  selector: all()
  ingress: [{action: Deny, protocol: TCP, destination: {ports: [22]}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: x, namespace: a}
spec:
  podSelector: {}
  ingress: [{}]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: knp-x, namespace: a}
spec:
  order: 5
  selector: app == 'db'
  ingress: [{action: Allow}]
"""
"""The Kubernetes NetworkPolicy ``x`` needs a companion (Cilium's reading allows TCP/22, which the
earlier Deny denies), whose generated name ``knp-x`` is a source policy's."""


def _names(docs: list[dict[str, object]]) -> Counter[tuple[object, ...]]:
    return Counter((d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs)  # type: ignore[attr-defined]


def test_a_generated_policy_yields_its_name_to_a_source_policy() -> None:
    result = convert(text=POLICIES, pod_cidrs=["10.244.0.0/16"], node_cidrs=["192.168.0.0/24"])
    names = _names(result.documents)
    assert max(names.values()) == 1
    own = [d for d in result.documents if d["metadata"]["name"] == "knp-x"]
    assert own[0]["metadata"]["annotations"]["calico2cilium.io/source"] == "NetworkPolicy a/knp-x"
    assert [d.code for d in result.diagnostics] == ["C2C318"]
    assert "knp-x-2" in result.diagnostics[0].message


def test_colliding_cidr_group_names_are_renamed_and_never_referenced() -> None:
    """Two sets giving one group name: the cluster would keep one group, so a reference would mean
    the other set's addresses (a rule allowing one set's addresses would allow the other's). No
    rule refers to such a name, the second group is renamed, and the conversion is exact."""
    result = convert(text=SETS, pod_cidrs=["10.244.0.0/16"], node_cidrs=["192.168.0.0/24"])
    groups = [d for d in result.documents if d["kind"] == "CiliumCIDRGroup"]
    assert sorted(g["metadata"]["name"] for g in groups) == ["calico-ns-a-b-c", "calico-ns-a-b-c-2"]
    assert "cidrGroupRef" not in json.dumps(result.documents)
    (renamed,) = [d for d in result.diagnostics if d.code == "C2C319"]
    assert renamed.severity is Severity.WARNING and result.ok
    assumptions = Assumptions(pod_cidrs=("10.244.0.0/16",), node_cidrs=("192.168.0.0/24",))
    assert verify(result.loaded, result.documents, assumptions).status == "equivalent"


def test_a_referenced_colliding_group_name_is_a_widening_error() -> None:
    """Should a rule refer to a name two groups share, neither can be renamed: an error."""

    def group(cidr: str) -> dict[str, Any]:
        return {"kind": "CiliumCIDRGroup", "metadata": {"name": "g"}, "spec": {"externalCIDRs": [cidr]}}

    policy = {
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "p", "namespace": "a"},
        "spec": {"endpointSelector": {}, "egress": [{"toCIDRSet": [{"cidrGroupRef": "g"}]}]},
    }
    documents = [group("192.0.2.0/24"), group("198.51.100.0/24"), policy]
    (error,) = deduplicate_names(documents)
    assert error.code == "C2C319" and error.severity is Severity.ERROR
    assert [d["metadata"]["name"] for d in documents if d["kind"] == "CiliumCIDRGroup"] == ["g", "g"]
