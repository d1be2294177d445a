"""Nodes alike are asked about once (``verify/hosts.py``): on random sets of nodes, rules about
node addresses and Cilium host policies, the grouped check decides every node as asking each
node on its own does, and each example it gives is a flow at its node."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calico2cilium.io.yamlstream import read_documents
from calico2cilium.semantics.calico import read_calico_side
from calico2cilium.semantics.cilium import read_cilium_side
from calico2cilium.semantics.world import DIRECTIONS, Assumptions
from calico2cilium.verify.hosts import check_hosts, compare_host, host_programs
from calico2cilium.verify.symbolic import Counterexample

CLUSTER = Assumptions(
    pod_cidrs=("10.0.0.0/16",),
    node_cidrs=("192.168.0.0/24",),
    ip_families=(4,),
    calico_hep_polices_own_pods=True,
)
PEERS = ["192.168.0.1/32", "192.168.0.2/32", "192.168.0.0/30", "203.0.113.0/24", None]
"""Rule peers: one node's address, two nodes', an outside range, anything. The Cilium side
transcribes the Calico rules ignoring their order (``broken``: without the first one), and
``fromCIDR`` does not match nodes as Calico's ``nets`` does: the sides may differ only for peers
at some nodes' addresses, which is where asking nodes together could go wrong."""

RULE = st.tuples(st.sampled_from(["Allow", "Deny"]), st.sampled_from(PEERS), st.sampled_from([80, 8080]))
CASE = st.fixed_dictionaries(
    {
        "roles": st.lists(st.sampled_from(["a", "b"]), min_size=2, max_size=4),
        "selector": st.sampled_from(["role == 'a'", "has(role)"]),
        "rules": st.lists(RULE, min_size=1, max_size=3),
        "broken": st.booleans(),
        "narrowing": st.booleans(),
    }
)


def documents(case: dict[str, Any]) -> tuple[str, str]:
    heps = [
        "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
        f"metadata: {{name: n{i}-all, labels: {{role: {role}}}}}\n"
        f'spec: {{node: n{i}, interfaceName: "*", expectedIPs: [192.168.0.{i}]}}\n'
        for i, role in enumerate(case["roles"], start=1)
    ]
    rules = "".join(
        f"  - {{action: {action}, protocol: TCP, destination: {{ports: [{port}]}}"
        + (f", source: {{nets: [{peer}]}}" if peer else "")
        + "}\n"
        for action, peer, port in case["rules"]
    )
    calico = (
        "---\n".join(heps) + "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
        f'metadata: {{name: p}}\nspec:\n  selector: "{case["selector"]}"\n  types: [Ingress]\n'
        f"  ingress:\n{rules}"
    )

    kept = case["rules"][1:] if case["broken"] else case["rules"]

    def cilium_rules(action: str) -> str:
        return "".join(
            f"  - {{toPorts: [{{ports: [{{port: '{port}', protocol: TCP}}]}}]"
            + (f", fromCIDR: [{peer}]" if peer else "")
            + "}\n"
            for a, peer, port in kept
            if a == action
        )

    denies = cilium_rules("Deny")
    cilium = (
        "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: h}\nspec:\n"
        "  nodeSelector: {matchLabels: {role: a}}\n"
        f"  ingress:\n{FAILSAFE}{cilium_rules('Allow')}" + (f"  ingressDeny:\n{denies}" if denies else "")
    )
    return calico, cilium


FAILSAFE = (
    "  - toPorts: [{ports: [{port: '22', protocol: TCP}, {port: '68', protocol: UDP},"
    " {port: '179', protocol: TCP}, {port: '2379', endPort: 2380, protocol: TCP},"
    " {port: '5473', protocol: TCP}, {port: '6443', protocol: TCP}, {port: '6666', endPort: 6667, protocol: TCP}]}]\n"
)
"""Calico's inbound failsafe ports, which the Cilium host policy must allow (as in test_verify_hosts)."""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CASE)
def test_nodes_asked_together_are_decided_as_each_on_its_own(case: dict[str, Any]) -> None:
    calico_text, cilium_text = documents(case)
    calico = read_calico_side(read_documents(calico_text, "c.yaml")[0], CLUSTER)
    cilium = read_cilium_side(read_documents(cilium_text, "l.yaml")[0], CLUSTER, nodes=calico.node_labels())
    narrowing = case["narrowing"]
    for direction in DIRECTIONS:
        grouped = check_hosts(calico, cilium, direction, CLUSTER, narrowing=narrowing)
        for subject, together in zip(calico.host_subjects, grouped, strict=True):
            programs = host_programs(calico, cilium, subject, direction, CLUSTER)
            alone = compare_host(subject, programs, direction, CLUSTER, narrowing=narrowing)
            assert together.status == alone.status, (subject.node, together.note, alone.note)
            examples: list[Counterexample] = [*together.counterexamples, *together.narrowed]
            for example in examples:
                flow = example.flow
                assert flow.subject.name == subject.node
                assert flow.peer.ip not in subject.own_ips
                calico_p, cilium_p = programs
                assert calico_p.decide(flow).allowed == example.calico.allowed
                assert cilium_p.decide(flow).allowed == example.cilium.allowed != example.calico.allowed
