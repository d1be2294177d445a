"""Hostile inputs found by review7.

Rule nets that reach a HostEndpoint address outside the node ranges: the converter now fails
closed on them (compile/hostpeers._by_address; fixture hep-nets-outside-node-range). The verifier
counts such an address as a node's (verify/api._with_host_addresses), so it shows the widening the
converter used to write."""

from __future__ import annotations

import yaml

from calico2cilium.convert import convert
from calico2cilium.load import load
from calico2cilium.semantics.world import Assumptions, node_labels
from calico2cilium.verify.api import verify

PODS, NODES = ("10.244.0.0/16",), ("10.0.0.0/24",)

CALICO = """
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: h1, labels: {role: w}}
spec: {node: n1, interfaceName: "*", expectedIPs: [192.0.2.7], profiles: [projectcalico-default-allow]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: a}
spec:
  selector: app == 'db'
  ingress:
  - {action: Deny, source: {nets: [192.0.2.0/24]}}
  - {action: Allow}
"""

WIDE_CILIUM = """
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: a}
specs:
- endpointSelector:
    matchLabels: {app: db}
    matchExpressions: [{key: k8s:io.kubernetes.pod.namespace, operator: Exists}]
  ingress: [{fromEntities: [all]}]
  ingressDeny: [{fromCIDRSet: [{cidr: 192.0.2.0/24}]}]
"""
"""What the converter wrote before review7: node n1's 192.0.2.7 (remote-node identity in Cilium,
which CIDR rules never match) is allowed, while Calico's nets deny it."""


def test_a_deny_of_nets_holding_a_host_address_outside_the_node_ranges_denies_the_nodes() -> None:
    result = convert(text=CALICO, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    denies = [r for d in result.documents for s in d["specs"] for r in s.get("ingressDeny", [])]
    assert any("remote-node" in r.get("fromEntities", ()) for r in denies), yaml.safe_dump_all(
        result.documents
    )
    assert "C2C325" in {d.code for d in result.diagnostics}


def test_the_verifier_sees_a_cidr_deny_miss_a_node_address_outside_the_node_ranges() -> None:
    calico = load(text=CALICO, name="calico.yaml")
    cilium = list(yaml.safe_load_all(WIDE_CILIUM))
    labels = node_labels({"n1": {"calico2cilium.io/node": "n1", "role": "w"}})
    proof = verify(calico, cilium, Assumptions(pod_cidrs=PODS, node_cidrs=NODES, node_labels=labels))
    assert proof.status != "equivalent"
