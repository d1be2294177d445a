"""Output names are unique (cilium/naming.py): kubectl apply keeps only the last of two resources
with one kind, namespace and name, so a collision must never reach the output silently."""

from __future__ import annotations

from collections import Counter

from helpers import convert

SETS = """\
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: c, namespace: a-b, labels: {role: x}}
spec: {nets: [198.51.100.0/24]}
---
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: b-c, namespace: a, labels: {role: y}}
spec: {nets: [203.0.113.0/24]}
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


def test_colliding_cidr_group_names_are_an_error() -> None:
    result = convert(text=SETS, pod_cidrs=["10.244.0.0/16"], node_cidrs=["192.168.0.0/24"])
    groups = [d for d in result.documents if d["kind"] == "CiliumCIDRGroup"]
    assert [g["metadata"]["name"] for g in groups] == ["calico-ns-a-b-c", "calico-ns-a-b-c"]
    errors = [d for d in result.diagnostics if d.code == "C2C319"]
    assert len(errors) == 1 and not result.ok
