"""The engines on host subjects: an equivalent HostEndpoint / host-policy pair is proven, mutations
are caught with counterexamples naming the node, HostEndpoint and rules; constructs outside the flow
world keep the result unproven; the concrete engine agrees on an inventory with nodes.

Sources: docs/reference/semantics.md §1.5 and docs/reference/semantics-check.md claim 13 (Calico host endpoints: default deny
except failsafe ports, ``projectcalico-default-allow``, ``interfaceName``), docs/reference/semantics.md §2.1/2.4
(Cilium host policies), Calico ``hostendpoint.mdx`` (host to local workloads always allowed),
cilium/cilium#13121 (host policies apply between the host and its local pods).
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from calico2cilium.io.inventory import read_inventory
from calico2cilium.io.yamlstream import read_documents
from calico2cilium.semantics.world import Assumptions, node_labels
from calico2cilium.verify.api import decide_flow, verify_inventory, verify_texts

CLUSTER = Assumptions(
    pod_cidrs=("10.0.0.0/16",),
    node_cidrs=("192.168.0.0/24",),
    ip_families=(4,),
    calico_hep_polices_own_pods=True,
)
"""``calico_hep_polices_own_pods``: the node's own pods -> host, which Calico never polices with the
host endpoint and Cilium's host policy does (C2C343), is left out of these comparisons so that
they test the rest; ``test_own_pods_to_host_is_not_host_endpoint_policy`` has it in."""

HEP = """apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: n1-all, labels: {role: worker}}
spec: {node: n1, interfaceName: "*", expectedIPs: [192.168.0.1], profiles: [projectcalico-default-allow]}
---
"""

CALICO = (
    HEP
    + """apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: ssh}
spec:
  selector: role == 'worker'
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    destination: {ports: [22]}
"""
)

# Calico's GNP selects pods labelled role=worker too (docs/reference/semantics.md §1.1), hence the pod policy; the
# host policy lists the inbound failsafe ports, which Calico allows whatever the policy.
CILIUM = """apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: ssh-pods}
spec:
  endpointSelector: {matchLabels: {role: worker}}
  ingress:
  - toPorts: [{ports: [{port: "22", protocol: TCP}]}]
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: ssh-hosts}
spec:
  nodeSelector: {matchLabels: {role: worker}}
  ingress:
  - toPorts:
    - ports:
      - {port: "SSH", protocol: TCP}
      - {port: "68", protocol: UDP}
      - {port: "179", protocol: TCP}
      - {port: "2379", endPort: 2380, protocol: TCP}
      - {port: "5473", protocol: TCP}
      - {port: "6443", protocol: TCP}
      - {port: "6666", endPort: 6667, protocol: TCP}
"""
EQUIVALENT = CILIUM.replace('"SSH"', '"22"')


def test_equivalent_host_policy_is_proven() -> None:
    result = verify_texts(CALICO, EQUIVALENT, CLUSTER)
    assert result.status == "equivalent", result.render_text()
    hosts = [p for p in result.partitions if p.partition.startswith("node n1")]
    assert {p.direction for p in hosts} == {"ingress", "egress"}
    assert all(p.status == "equivalent" for p in hosts)
    text = result.render_text()
    assert (
        "Host subjects: node n1 (HostEndpoint n1-all); node labels (Cilium's nodeSelector): each carries the labels of its HostEndpoints"
        in text
    )
    assert (
        "Calico failsafe ports: inbound Felix defaults, outbound Felix defaults; Cilium host firewall on"
        in text
    )
    data = result.to_dict()
    assert data["host_subjects"] == ["node n1 (HostEndpoint n1-all)"]
    assert data["assumptions"]["calico_failsafe_inbound"][0] == "tcp:22"


def test_mutated_host_policy_is_caught_naming_the_node() -> None:
    mutated = CILIUM.replace('"SSH"', '"2222"')
    result = verify_texts(CALICO, mutated, CLUSTER, max_examples=3)
    assert result.status == "different"
    examples = [c for c in result.counterexamples if c.flow.subject.kind == "host"]
    assert examples and all(c.partition == "node n1 (HostEndpoint n1-all)" for c in examples)
    text = result.render_text()
    assert "ingress at node n1 (HostEndpoint n1-all) [calico2cilium.io/node=n1,role=worker]" in text
    refs = {(c.calico.ref.what, c.cilium.ref.what) for c in examples}
    port_2222 = (
        "GlobalNetworkPolicy ssh: no rule matched (end of tier)",
        "CiliumClusterwideNetworkPolicy ssh-hosts spec.ingress[0]",
    )
    port_22 = (
        "Felix failsafe port tcp:22 (failsafeInboundHostPorts)",
        "default deny (CiliumClusterwideNetworkPolicy ssh-hosts)",
    )
    assert refs & {port_2222, port_22}, refs
    for example in examples:  # each counterexample replays through both sides
        calico, cilium = decide_flow(
            read_documents(CALICO, "c")[0], read_documents(mutated, "x")[0], example.flow, CLUSTER
        )
        assert calico.allowed == example.calico.allowed and cilium.allowed == example.cilium.allowed
    assert examples[0].to_dict()["subject"]["node"] == "n1"


def test_dropping_a_failsafe_port_is_caught() -> None:
    mutated = EQUIVALENT.replace('      - {port: "179", protocol: TCP}\n', "")
    result = verify_texts(CALICO, mutated, CLUSTER)
    (example,) = [c for c in result.counterexamples if c.flow.subject.kind == "host"]
    assert (example.flow.protocol, example.flow.dst_port) == (6, 179)
    assert example.calico.allowed and "failsafe port tcp:179" in example.calico.ref.what


def test_host_firewall_off_is_a_difference() -> None:
    off = Assumptions(
        pod_cidrs=CLUSTER.pod_cidrs, node_cidrs=CLUSTER.node_cidrs, ip_families=(4,), host_firewall=False
    )
    result = verify_texts(CALICO, EQUIVALENT, off)
    assert any(c.cilium.ref.what.startswith("host firewall off") for c in result.counterexamples)


def test_host_egress_to_its_own_pods() -> None:
    # Calico always allows the host to reach its own workloads; Cilium enforces the host's egress
    # policy on that path (cilium/cilium#13121), so a host egress policy must allow it.
    calico = HEP.replace(", profiles: [projectcalico-default-allow]", "") + (
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: out}\n"
        "spec:\n  selector: '!has(projectcalico.org/namespace)'\n  types: [Ingress, Egress]\n"
        "  ingress: [{action: Allow}]\n  egress: [{action: Allow, destination: {nets: [203.0.113.0/24]}}]\n"
    )
    cilium = (
        "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: out}\nspec:\n"
        "  nodeSelector: {}\n  ingress: [{fromEntities: [all]}]\n"
        "  egress:\n  - toCIDR: [203.0.113.0/24]\n"
        "  - toPorts: [{ports: [{port: '53', protocol: UDP}, {port: '67', protocol: UDP}, {port: '179', protocol: TCP},"
        " {port: '2379', endPort: 2380, protocol: TCP}, {port: '5473', protocol: TCP}, {port: '6443', protocol: TCP},"
        " {port: '6666', endPort: 6667, protocol: TCP}]}]\n"
    )
    result = verify_texts(calico, cilium, CLUSTER)
    assert result.status == "different"
    (example,) = result.counterexamples
    assert example.flow.direction == "egress" and example.flow.peer.kind == "pod"
    assert example.flow.peer.node == "n1" and "on node n1" in example.describe()
    assert example.calico.ref.what == "traffic from the host to its own workloads (always allowed)"
    # Allowing every pod covers the local ones, and widens to remote pods, which Calico denies.
    widened = cilium + "  - toEndpoints: [{}]\n"
    result = verify_texts(calico, widened, CLUSTER, max_examples=4)
    peers = [c.flow.peer for c in result.counterexamples]
    assert peers and all(p.node != "n1" for p in peers)
    assert any(p.kind == "pod" for p in peers)


def test_named_interface_hep_is_not_proven() -> None:
    named = CALICO.replace('interfaceName: "*"', "interfaceName: eth0")
    result = verify_texts(named, EQUIVALENT, CLUSTER)
    assert result.status == "incomplete"
    assert any("interfaceName 'eth0'" in u.reason for u in result.unsupported)
    assert any(p.status == "unsupported" for p in result.partitions if p.partition.startswith("node n1"))


def test_heps_of_one_node_with_different_labels_are_not_proven() -> None:
    other = HEP.replace("n1-all", "n1-b").replace("{role: worker}", "{role: db}")
    result = verify_texts(CALICO + "---\n" + other, EQUIVALENT, CLUSTER)
    assert result.status == "incomplete"
    assert any("carry different labels" in u.reason for u in result.unsupported)


INVENTORY = """
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
- {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: shop, labels: {role: worker}}, spec: {nodeName: n1}, status: {podIP: 10.0.0.5}}
- {apiVersion: v1, kind: Pod, metadata: {name: api, namespace: shop, labels: {app: api}}, spec: {nodeName: n2}, status: {podIP: 10.0.1.5}}
- {apiVersion: v1, kind: Node, metadata: {name: n1, labels: {role: worker}}, status: {addresses: [{type: InternalIP, address: 192.168.0.1}]}}
- {apiVersion: v1, kind: Node, metadata: {name: n2, labels: {zone: b}}, status: {addresses: [{type: InternalIP, address: 192.168.0.2}]}}
"""


def _inventory(text: str = INVENTORY) -> object:
    return read_inventory(read_documents(text, "inv.yaml")[0], external=["203.0.113.9"])


def test_concrete_engine_agrees_on_an_inventory_with_nodes() -> None:
    calico, cilium = read_documents(CALICO, "c")[0], read_documents(EQUIVALENT, "x")[0]
    result = verify_inventory(calico, cilium, _inventory(), CLUSTER)
    assert result.equivalent, result.render_text()
    assert any(subject.startswith("node n1 (HostEndpoint n1-all)") for subject in result.calico["ingress"])
    mutated = read_documents(CILIUM.replace('"SSH"', '"2222"'), "x")[0]
    result = verify_inventory(calico, mutated, _inventory(), CLUSTER)
    hosts = [d for d in result.differences if d.flow.subject.kind == "host"]
    assert hosts and {d.flow.subject.name for d in hosts} == {"n1"}
    assert {d.flow.dst_port for d in hosts} == {22, 2222}


def test_concrete_engine_finds_a_node_without_hep_selected_by_a_host_policy() -> None:
    # No HostEndpoint on n2: Calico polices nothing there; with n2's labels known (here from the
    # node_labels assumption) the Cilium host policy selects it and puts it in default deny.
    calico, cilium = read_documents(CALICO, "c")[0], read_documents(EQUIVALENT, "x")[0]
    given = Assumptions(
        pod_cidrs=CLUSTER.pod_cidrs,
        node_cidrs=CLUSTER.node_cidrs,
        ip_families=(4,),
        node_labels=node_labels({"n2": {"role": "worker"}}),
        calico_hep_polices_own_pods=True,
    )
    result = verify_inventory(calico, cilium, _inventory(), given)
    assert not result.equivalent
    assert {d.flow.subject.name for d in result.differences} == {"n2"}
    difference = result.differences[0]
    assert difference.calico.allowed and "has no HostEndpoint" in difference.calico.ref.what
    assert not difference.cilium.allowed


def test_a_known_node_without_hep_selected_by_a_host_policy_is_a_difference() -> None:
    # Assumptions.node_labels: n2 is known and carries role=worker, but has no HostEndpoint, so
    # Calico polices nothing there while the Cilium host policy selects it (default deny).
    given = Assumptions(
        pod_cidrs=CLUSTER.pod_cidrs,
        node_cidrs=CLUSTER.node_cidrs,
        ip_families=(4,),
        node_labels=node_labels({"n2": {"role": "worker"}}),
        calico_hep_polices_own_pods=True,
    )
    result = verify_texts(CALICO, EQUIVALENT, given)
    assert result.status == "different"
    assert {c.partition for c in result.counterexamples} == {"node n2 (no HostEndpoint)"}
    assert "has no HostEndpoint" in result.counterexamples[0].calico.ref.what
    assert "node n2 (no HostEndpoint)" in result.host_subjects
    unlabelled = Assumptions(
        pod_cidrs=CLUSTER.pod_cidrs,
        ip_families=(4,),
        node_labels=node_labels({"n2": {}}),
        calico_hep_polices_own_pods=True,
    )
    assert verify_texts(CALICO, EQUIVALENT, unlabelled).status == "equivalent"


def test_symbolic_and_concrete_readings_agree_on_host_flows() -> None:
    from calico2cilium.semantics.calico import read_calico_side
    from calico2cilium.semantics.world import TCP, UDP, Endpoint, Flow, evaluate
    from calico2cilium.verify.smt import SymbolicFlow, value_on

    calico = CALICO.replace(", profiles: [projectcalico-default-allow]", "")
    side = read_calico_side(read_documents(calico, "c")[0], CLUSTER)
    (subject,) = side.host_subjects
    ip = subject.own_ips[0]
    peers = [
        Endpoint("pod", ipaddress.ip_address("10.0.0.7"), namespace="a", node="n1"),
        Endpoint("pod", ipaddress.ip_address("10.0.1.7"), namespace="a", node="n2"),
        Endpoint("remote-node", ipaddress.ip_address("192.168.0.2")),
        Endpoint("world", ipaddress.ip_address("203.0.113.1")),
    ]
    checked = 0
    for direction in ("ingress", "egress"):
        verdict = side.hosts[subject.key][direction].verdict()
        for peer in peers:
            for proto, port in ((TCP, 22), (TCP, 80), (UDP, 53)):
                flow = Flow(direction, subject.endpoint(ip), peer, proto, port, 40000)  # type: ignore[arg-type]
                sym = SymbolicFlow(CLUSTER, host=subject.endpoint(ip), own_ips=subject.own_ips)
                assert value_on(sym, verdict, flow) == evaluate(verdict, flow), (direction, peer, port)
                checked += 1
    assert checked == 24


def test_own_pods_to_host_is_not_host_endpoint_policy() -> None:
    # felix rules/static.go filterInputChain: a packet from a workload interface goes to the
    # workload-to-host chain before the host endpoint dispatch (projectcalico/calico#7398), so
    # the HEP's ingress policy never sees the node's own pods; Cilium's host policy does.
    real = replace(CLUSTER, calico_hep_polices_own_pods=False)
    result = verify_texts(CALICO, EQUIVALENT, real)
    assert result.status == "different"
    (example,) = result.counterexamples
    flow = example.flow
    assert flow.direction == "ingress" and flow.subject.kind == "host" and flow.peer.kind == "pod"
    assert flow.peer.node == flow.subject.name == "n1"
    assert example.calico.allowed and not example.cilium.allowed
    # With Drop, that traffic is decided at the pods' egress (the pod side proves it), not here.
    drop = replace(real, calico_endpoint_to_host_action="Drop")
    hosts = [
        p for p in verify_texts(CALICO, EQUIVALENT, drop).partitions if p.partition.startswith("node n1")
    ]
    assert hosts and all(p.status == "equivalent" for p in hosts)


def test_views_of_one_shared_host_flow_keep_their_own_addresses() -> None:
    """``SymbolicFlow.at_host`` (the nodes of one direction share terms): each view states that no
    peer has *its* node's addresses, not those of the node the shared flow was made for, and a
    term translated through one view means the same in the next."""
    import z3  # type: ignore[import-untyped]

    from calico2cilium.semantics.expr import PEER, InNet, OnSubjectNode
    from calico2cilium.semantics.world import Endpoint
    from calico2cilium.verify.smt import SymbolicFlow

    a, b = ipaddress.ip_address("10.0.0.1"), ipaddress.ip_address("10.0.0.2")
    at_a = InNet(PEER, ipaddress.ip_network("10.0.0.1/32"))
    shared = SymbolicFlow(CLUSTER, host=Endpoint("host", a, name="a"), own_ips=(a,))
    shared.prepare([at_a, OnSubjectNode()])

    def possible(view: SymbolicFlow) -> bool:
        solver = z3.Solver()
        solver.add(view.term(at_a), *view.axioms())
        return bool(solver.check() == z3.sat)

    view_a = shared.at_host(Endpoint("host", a, name="a"), (a,))
    view_b = shared.at_host(Endpoint("host", b, name="b"), (b,))
    assert not possible(view_a)  # node a's own address is no peer's, at node a
    assert possible(view_b)  # but node b may talk to node a
    view_a.term(OnSubjectNode())  # translated through one view: the next states its fact too
    later = shared.at_host(Endpoint("host", b, name="b"), (b,))
    assert later.local is not None
    assert any("peer_on_subject_node" in str(fact) for fact in later.axioms())


def _three_nodes(calico: str) -> str:
    """``calico`` with HostEndpoints alike (same labels) for nodes n2 and n3 added."""
    more = "".join(HEP.replace("n1", f"n{i}").replace("192.168.0.1", f"192.168.0.{i}") for i in (2, 3))
    return more + calico


def test_nodes_alike_are_proven_by_one_question() -> None:
    result = verify_texts(_three_nodes(CALICO), EQUIVALENT, CLUSTER)
    assert result.status == "equivalent", result.render_text()
    ingress = [p for p in result.partitions if p.direction == "ingress" and p.partition.startswith("node")]
    assert len(ingress) == 3 and all(p.status == "equivalent" for p in ingress)
    assert all("asked once for the 3 nodes" in p.note for p in ingress)


def test_a_difference_at_one_of_the_nodes_alike_is_found_there_only() -> None:
    """The group's question leaves out the peers no node of it may have (none here): it finds a
    flow from 192.168.0.1, which is n1's own address, so each node is asked on its own. n1 is
    proven (no peer has its address), n2 and n3 differ (Calico allows n1 to reach them on 8080)."""
    from_n1 = (
        CALICO
        + "  - {action: Allow, protocol: TCP, source: {nets: [192.168.0.1/32]}, destination: {ports: [8080]}}\n"
    )
    result = verify_texts(_three_nodes(from_n1), EQUIVALENT, CLUSTER)
    status = {
        p.partition.split(" ")[1]: p.status
        for p in result.partitions
        if p.direction == "ingress" and p.partition.startswith("node")
    }
    assert status == {"n1": "equivalent", "n2": "different", "n3": "different"}, result.render_text()
    for example in result.counterexamples:
        if example.flow.subject.kind == "host":
            assert str(example.flow.peer.ip) == "192.168.0.1" and example.flow.dst_port == 8080


def test_nodes_alike_that_narrow_each_get_an_example_of_their_own() -> None:
    """``--narrowing``: one question for the three nodes; each node's example is a flow at it."""
    from calico2cilium.verify.api import verify

    narrower = EQUIVALENT.replace('      - {port: "6443", protocol: TCP}\n', "")
    calico, _ = read_documents(_three_nodes(CALICO), "calico.yaml")
    cilium, _ = read_documents(narrower, "cilium.yaml")
    result = verify(calico, cilium, CLUSTER, narrowing=True)
    assert result.status == "narrowed", result.render_text()
    hosts = [p for p in result.partitions if p.direction == "ingress" and p.partition.startswith("node")]
    assert [p.status for p in hosts] == ["narrowed"] * 3
    assert sum("asked once for the 3 nodes" in p.note for p in hosts) == 3
    for part in hosts:
        (example,) = part.narrowed
        assert part.partition.startswith(f"node {example.flow.subject.name} ")
        assert str(example.flow.peer.ip) != f"192.168.0.{example.flow.subject.name[1:]}"  # not its own
        assert example.calico.allowed and not example.cilium.allowed
