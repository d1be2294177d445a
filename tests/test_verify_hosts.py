"""The verifier's host decision points (semantics/hosts.py): a host endpoint's node as the subject,
Calico's host endpoint semantics against Cilium's host policies (nodeSelector), given the Nodes'
labels. Written by hand, not from the converter's output, so they hold the model itself."""

from __future__ import annotations

from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify, verify_texts

HEP = """\
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: n1-all, labels: {role: w}}
spec: {node: n1, interfaceName: "*", expectedIPs: [10.0.0.11], profiles: [projectcalico-default-allow]}
"""
GNP = """\
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: ssh-only}
spec:
  selector: role == 'w' && !has(projectcalico.org/namespace)  # host endpoints only
  namespaceSelector: ''
  types: [Ingress]
  ingress:
    - {action: Allow, protocol: TCP, destination: {ports: [443]}}
"""
HOST_POLICY = """\
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: n1}
spec:
  nodeSelector: {matchLabels: {SELECTOR}}
  ingress:
    - toPorts: [{ports: [{port: "443", protocol: TCP}]}]
    - toPorts: [{ports: [{port: "22", protocol: TCP}, {port: "179", protocol: TCP}, {port: "2379", endPort: 2380, protocol: TCP},
                         {port: "5473", protocol: TCP}, {port: "6443", protocol: TCP}, {port: "6666", endPort: 6667, protocol: TCP},
                         {port: "68", protocol: UDP}]}]
"""


def _assume(**extra: object) -> Assumptions:
    return Assumptions(
        pod_cidrs=("10.244.0.0/16",),
        node_cidrs=("10.0.0.0/24",),
        node_labels=Assumptions.labels_table({"n1": {"pool": "a", "kubernetes.io/hostname": "n1"}}),
        **extra,  # type: ignore[arg-type]
    )


def _cilium(selector: str = "pool: a") -> str:
    return HOST_POLICY.replace("{SELECTOR}", "{" + selector + "}")


def test_a_matching_host_policy_is_proven_equivalent() -> None:
    result = verify_texts(HEP + GNP, _cilium(), _assume())
    assert result.status == "equivalent", result.render_text()
    assert any(p.partition.startswith("host n1") for p in result.partitions)


def test_without_the_failsafe_ports_the_difference_is_found() -> None:
    cilium = _cilium().split('    - toPorts: [{ports: [{port: "22"')[0]
    result = verify_texts(HEP + GNP, cilium, _assume())
    assert result.status == "different"
    flow = result.counterexamples[0].flow
    assert flow.subject.kind == "host" and flow.direction == "ingress"


def test_kubernetes_io_labels_are_not_on_the_cilium_host_endpoint() -> None:
    # Cilium's label filter drops kubernetes.io/ keys, so this policy selects no node.
    result = verify_texts(HEP + GNP, _cilium("kubernetes.io/hostname: n1"), _assume())
    assert result.status == "different"


def test_host_policies_need_the_host_firewall() -> None:
    result = verify_texts(HEP + GNP, _cilium(), _assume(host_firewall=False))
    assert result.status == "different"


def test_a_host_policy_on_a_node_without_host_endpoint_is_a_difference() -> None:
    # Calico does not police a node without host endpoint; the Cilium policy denies most of it.
    result = verify_texts(GNP.lstrip("-\n"), _cilium(), _assume())
    assert result.status == "different"
    assert result.counterexamples[0].flow.subject.kind == "host"


def test_unknown_node_labels_leave_host_endpoints_unproven() -> None:
    result = verify_texts(
        HEP + GNP, _cilium(), Assumptions(pod_cidrs=("10.244.0.0/16",), node_cidrs=("10.0.0.0/24",))
    )
    assert result.status == "incomplete"
    assert any("host endpoint as a policy target" in u.reason for u in result.unsupported)


def test_named_interface_endpoints_are_outside_the_model() -> None:
    result = verify_texts(HEP.replace('"*"', "eth0") + GNP, _cilium(), _assume())
    assert result.status == "incomplete"
    assert any("one interface" in u.reason for u in result.unsupported)


def test_host_to_its_own_pods_is_always_allowed_by_calico() -> None:
    no_profile = HEP.replace(", profiles: [projectcalico-default-allow]", "")
    failsafe_out = (
        '  egress:\n    - toPorts: [{ports: [{port: "53", protocol: UDP}, {port: "67", protocol: UDP},'
        ' {port: "179", protocol: TCP}, {port: "2379", endPort: 2380, protocol: TCP},'
        ' {port: "5473", protocol: TCP}, {port: "6443", protocol: TCP}, {port: "6666", endPort: 6667, protocol: TCP}]}]\n'
    )
    result = verify_texts(no_profile + GNP, _cilium() + failsafe_out, _assume())
    assert result.status == "different", result.render_text()
    (found,) = [c for c in result.counterexamples if c.flow.direction == "egress"]
    # The only difference: a pod on the host's own node, which Calico always lets the host reach.
    assert found.calico.allowed and not found.cilium.allowed and found.flow.peer.kind == "pod"
    assert any(k.startswith(" ") for k in found.flow.peer.labels)


def test_alike_nodes_are_checked_once_and_reported_each_with_its_own_rules() -> None:
    from calico2cilium.convert import convert

    heps = "---\n".join(
        HEP.replace("n1", node).replace(", profiles: [projectcalico-default-allow]", "")
        for node in ("n1", "n2")
    )
    result = convert(text=heps, pod_cidrs=("10.244.0.0/16",), node_cidrs=("10.0.0.0/24",))
    labels = {node: {"calico2cilium.io/node": node} for node in ("n1", "n2")}
    assumptions = Assumptions(
        pod_cidrs=("10.244.0.0/16",),
        node_cidrs=("10.0.0.0/24",),
        node_labels=Assumptions.labels_table(labels),
    )
    proof = verify(result.loaded, result.documents, assumptions)
    by_node = {c.flow.subject.name: c for c in proof.counterexamples}
    assert set(by_node) == {"n1", "n2"}  # host -> own pods, on each node (C2C324)
    for node, example in by_node.items():
        assert f"calico2cilium-host-{node}" in example.cilium.ref.what
