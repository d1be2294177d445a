"""Host subjects (host firewall): Calico HostEndpoints and Cilium host policies as decision points.

Sources: docs/reference/semantics.md §1.1 (which policies can select a host endpoint), 1.2
(tiers, Pass, profiles after the tiers), 1.5 (host endpoints: default deny except failsafe ports,
``projectcalico-default-allow``, ``interfaceName``, host to local workloads always allowed), 2.1
(host policies: CCNP ``nodeSelector``), 2.4 (default deny, deny wins); docs/reference/semantics-check.md claim 13
(failsafe defaults, ``"*"``, auto HEPs carry the default-allow profile); Calico docs
``reference/resources/hostendpoint.mdx`` ("Traffic from a host to its workload endpoints ... is
always allowed, despite any policy in place"); cilium/cilium#13121 (host policies are enforced
between the host and its local pods too).
"""

from __future__ import annotations

import ipaddress

from calico2cilium.io.yamlstream import read_documents
from calico2cilium.semantics.calico import read_calico_side
from calico2cilium.semantics.cilium import read_cilium_side
from calico2cilium.semantics.world import ICMP, TCP, UDP, Assumptions, Endpoint, Flow, evaluate, node_labels

A = Assumptions(pod_cidrs=("10.0.0.0/16",), node_cidrs=("192.168.0.0/24",))
NODE_IP = ipaddress.ip_address("192.168.0.1")


def hep(
    name: str = "n1-all", node: str = "n1", interface: str = "'*'", profiles: str = "", **labels: str
) -> str:
    labels = labels or {"role": "worker"}
    text = ", ".join(f"{k}: {v}" for k, v in labels.items())
    extra = f", profiles: [{profiles}]" if profiles else ""
    iface = f"interfaceName: {interface}, " if interface else ""
    return (
        "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
        f"metadata: {{name: {name}, labels: {{{text}}}}}\n"
        f"spec: {{node: {node}, {iface}expectedIPs: [{NODE_IP}]{extra}}}\n---\n"
    )


def gnp(name: str, body: str) -> str:
    return f"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n{body}\n---\n"


def world(ip: str = "203.0.113.7") -> Endpoint:
    return Endpoint("world", ipaddress.ip_address(ip))


def calico_host(
    text: str,
    direction: str,
    peer: Endpoint,
    protocol: int = TCP,
    port: int = 80,
    assumptions: Assumptions = A,
) -> tuple[bool, str]:
    side = read_calico_side(read_documents(text, "c.yaml")[0], assumptions)
    assert not side.invalid, [str(i) for i in side.invalid]
    (subject,) = side.host_subjects
    program = side.hosts[subject.key][direction]  # type: ignore[index]
    assert not program.unsupported and not subject.unsupported
    flow = Flow(
        direction, subject.endpoint(NODE_IP), peer, protocol, port if protocol in (TCP, UDP) else 0, 40000
    )  # type: ignore[arg-type]
    result = program.decide(flow)
    assert evaluate(program.verdict(), flow) == result.allowed  # the two readings agree
    return result.allowed, result.ref.what


def test_hep_without_policy_denies_except_failsafe_ports() -> None:
    # docs/reference/semantics.md §1.5 / docs/reference/semantics-check.md claim 13: a "*" HEP with no policy and no allow profile
    # denies to and from the host, except the failsafe ports (inbound tcp:22 ..., outbound udp:53 ...).
    text = hep()
    assert calico_host(text, "ingress", world(), TCP, 22) == (
        True,
        "Felix failsafe port tcp:22 (failsafeInboundHostPorts)",
    )
    assert calico_host(text, "ingress", world(), UDP, 68)[0]
    allowed, why = calico_host(text, "ingress", world(), TCP, 80)
    assert not allowed and "no profile allows" in why
    assert not calico_host(text, "ingress", world(), ICMP)[0]
    assert not calico_host(text, "ingress", world(), UDP, 53)[0]  # an outbound failsafe port only
    assert calico_host(text, "egress", world(), UDP, 53)[0]
    assert calico_host(text, "egress", world(), TCP, 6443)[0]
    assert not calico_host(text, "egress", world(), TCP, 22)[0]  # an inbound failsafe port only
    # The failsafe ports are an assumption: without them, everything is denied.
    none = Assumptions(pod_cidrs=A.pod_cidrs, calico_failsafe_inbound=())
    assert not calico_host(text, "ingress", world(), TCP, 22, assumptions=none)[0]


def test_default_allow_profile_allows_without_policy() -> None:
    # docs/reference/semantics.md §1.5: the projectcalico-default-allow profile turns the default into allow-all.
    text = hep(profiles="projectcalico-default-allow")
    assert calico_host(text, "ingress", world(), TCP, 80) == (
        True,
        "HostEndpoint n1-all: profile projectcalico-default-allow (allow)",
    )
    assert calico_host(text, "egress", world(), ICMP)[0]


def test_other_profiles_are_not_modelled() -> None:
    side = read_calico_side(read_documents(hep(profiles="custom"), "c.yaml")[0], A)
    assert any("profile 'custom'" in u.reason for u in side.host_subjects[0].unsupported)


INGRESS_22 = gnp(
    "ssh",
    "  selector: role == 'worker'\n  types: [Ingress]\n  ingress:\n  - action: Allow\n    protocol: TCP\n    destination: {ports: [22]}",
)


def test_gnp_selecting_a_hep_allows_port_22_only() -> None:
    # docs/reference/semantics.md §1.1: a GNP without namespaceSelector selects host endpoints by their labels;
    # 1.2: a selected endpoint matched by no rule is denied at the end of the tier.
    text = hep() + INGRESS_22
    no_failsafe = Assumptions(pod_cidrs=A.pod_cidrs, calico_failsafe_inbound=())
    allowed, why = calico_host(text, "ingress", world(), TCP, 22, assumptions=no_failsafe)
    assert allowed and why == "GlobalNetworkPolicy ssh ingress[0] (Allow)"
    allowed, why = calico_host(text, "ingress", world(), TCP, 80)
    assert not allowed and "end of tier" in why
    # Egress: the policy is Ingress only, so no tier applies and there is no profile: deny.
    assert not calico_host(text, "egress", world(), TCP, 80)[0]


def test_namespaced_policies_never_select_a_hep() -> None:
    # docs/reference/semantics.md §1.1: a namespaceSelector rewrites all() to has(projectcalico.org/namespace); a
    # NetworkPolicy adds projectcalico.org/namespace == <ns>: labels no host endpoint has.
    ns_gnp = gnp(
        "ns",
        "  selector: all()\n  namespaceSelector: all()\n  types: [Ingress]\n  ingress: [{action: Allow}]",
    )
    np = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: np, namespace: app}\nspec:\n  selector: all()\n  ingress: [{action: Allow}]\n---\n"
    text = hep(profiles="projectcalico-default-allow") + ns_gnp + np
    assert calico_host(text, "ingress", world(), TCP, 80)[1].startswith("HostEndpoint n1-all: profile")


def test_pass_out_of_the_last_tier_goes_to_the_profiles() -> None:
    # docs/reference/semantics.md §1.2: after the last tier passes, the profiles decide: a HEP without an allow
    # profile is denied (a pod's namespace profile would allow, DESIGN "Pass out of the last tier").
    tier = (
        "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: security}\nspec: {order: 100}\n---\n"
    )
    passing = gnp("p", "  tier: security\n  selector: all()\n  types: [Ingress]\n  ingress: [{action: Pass}]")
    allowed, why = calico_host(hep() + tier + passing, "ingress", world(), TCP, 80)
    assert not allowed and "no profile allows" in why
    allowed, why = calico_host(
        hep(profiles="projectcalico-default-allow") + tier + passing, "ingress", world(), TCP, 80
    )
    assert allowed and "projectcalico-default-allow" in why
    # The same policy on a pod ends in the namespace profile: allow.
    side = read_calico_side(read_documents(tier + passing, "c.yaml")[0], A)
    pod = Endpoint("pod", ipaddress.ip_address("10.0.0.1"), namespace="app")
    assert side.programs["ingress"].decide(Flow("ingress", pod, world(), TCP, 80, 1)).allowed


def test_host_to_its_own_pods_is_always_allowed_in_calico() -> None:
    # hostendpoint.mdx: "Traffic from a host to its workload endpoints ... is always allowed".
    local = Endpoint("pod", ipaddress.ip_address("10.0.0.9"), namespace="app", node="n1")
    remote = Endpoint("pod", ipaddress.ip_address("10.0.1.9"), namespace="app", node="n2")
    assert calico_host(hep(), "egress", local, TCP, 80)[0]
    assert not calico_host(hep(), "egress", remote, TCP, 80)[0]
    assert not calico_host(hep(), "ingress", remote, TCP, 80)[0]  # a remote pod -> host: policed


def test_own_pods_to_host_are_not_host_endpoint_policy() -> None:
    # felix rules/static.go filterInputChain: packets from a workload interface go to the
    # workload-to-host chain (pod egress policy, then DefaultEndpointToHostAction) before the host
    # endpoint dispatch, so the HEP's ingress policy never sees them (projectcalico/calico#7398,
    # #7056, #5161); the pod's egress decision point applies the action.
    local = Endpoint("pod", ipaddress.ip_address("10.0.0.9"), namespace="app", node="n1")
    allowed, why = calico_host(hep(), "ingress", local, TCP, 80)
    assert allowed and "not by host endpoint policy" in why
    policed = Assumptions(calico_hep_polices_own_pods=True)
    assert not calico_host(hep(), "ingress", local, TCP, 80, assumptions=policed)[0]


def test_named_interface_and_label_conflicts_are_not_proven() -> None:
    # docs/reference/semantics.md §1.5: a named-interface HEP governs only that interface; not expressible.
    side = read_calico_side(read_documents(hep(interface="eth0"), "c.yaml")[0], A)
    assert any("interfaceName 'eth0'" in u.reason for u in side.unsupported)
    two = hep() + hep(name="n1-b", env="x")
    side = read_calico_side(read_documents(two, "c.yaml")[0], A)
    assert all(s.node_labels is None for s in side.host_subjects)
    assert any("carry different labels" in u.reason for u in side.unsupported)


def test_doNotTrack_policy_selecting_a_hep_is_not_proven() -> None:
    text = hep() + gnp(
        "u", "  selector: all()\n  doNotTrack: true\n  applyOnForward: true\n  ingress: [{action: Allow}]"
    )
    side = read_calico_side(read_documents(text, "c.yaml")[0], A)
    assert any("untracked, pre-DNAT" in u.reason for u in side.host_subjects[0].unsupported)


CCNP = """apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: h}
spec:
  nodeSelector: {matchLabels: {role: worker}}
  ingress:
  - toPorts: [{ports: [{port: "22", protocol: TCP}]}]
"""


def cilium_host(
    text: str,
    direction: str,
    peer: Endpoint,
    protocol: int = TCP,
    port: int = 80,
    labels: dict[str, str] | None = None,
    assumptions: Assumptions = A,
) -> tuple[bool, str]:
    side = read_cilium_side(
        read_documents(text, "h.yaml")[0], assumptions, nodes={"n1": labels or {"role": "worker"}}
    )
    assert not side.invalid and not side.unsupported
    program = side.hosts["n1"][direction]  # type: ignore[index]
    assert not program.unsupported
    subject = Endpoint("host", NODE_IP, name="n1")
    flow = Flow(direction, subject, peer, protocol, port if protocol in (TCP, UDP) else 0, 40000)  # type: ignore[arg-type]
    result = program.decide(flow)
    assert evaluate(program.verdict(), flow) == result.allowed
    return result.allowed, result.ref.what


def test_cilium_host_policy_selects_nodes_by_labels() -> None:
    # docs/reference/semantics.md §2.1/2.4: a selected node is default deny in the directions its rules name.
    assert cilium_host(CCNP, "ingress", world(), TCP, 22)[0]
    allowed, why = cilium_host(CCNP, "ingress", world(), TCP, 80)
    assert not allowed and why.startswith("default deny")
    assert cilium_host(CCNP, "egress", world(), TCP, 80)[0]  # no egress rules: egress open
    assert cilium_host(CCNP, "ingress", world(), TCP, 80, labels={"role": "db"})[0]  # not selected
    off = Assumptions(pod_cidrs=A.pod_cidrs, host_firewall=False)
    assert cilium_host(CCNP, "ingress", world(), TCP, 80, assumptions=off) == (
        True,
        "host firewall off: host policies are not enforced",
    )


def test_cilium_host_policy_entities() -> None:
    # docs/reference/semantics.md §2.3: remote-node = other nodes; host = the local node (never a peer of itself).
    text = CCNP.replace(
        '  - toPorts: [{ports: [{port: "22", protocol: TCP}]}]', "  - fromEntities: [remote-node]"
    )
    assert cilium_host(text, "ingress", Endpoint("remote-node", ipaddress.ip_address("192.168.0.2")))[0]
    assert not cilium_host(text, "ingress", world())[0]


def test_without_host_subjects_host_policies_stay_reported() -> None:
    side = read_cilium_side(read_documents(CCNP, "h.yaml")[0], A)
    assert any("host policy" in u.reason for u in side.unsupported)
    side = read_cilium_side(read_documents(CCNP, "h.yaml")[0], A, nodes={"n1": {"role": "worker"}})
    assert not side.unsupported and side.hosts["n1"]["ingress"].policies


def test_node_labels_pass_the_identity_label_filter() -> None:
    # cilium pkg/endpoint/endpoint.go InitWithNodeLabels: the host identity is reserved:host plus the
    # node labels (source k8s) after labelsfilter.Filter, which drops kubernetes.io/... keys.
    text = CCNP.replace("{role: worker}", "{kubernetes.io/hostname: n1}")
    labels = {"kubernetes.io/hostname": "n1"}
    assert cilium_host(text, "ingress", world(), TCP, 80, labels=labels) == (
        True,
        "no host policy puts node n1 in default deny",
    )
    reserved = CCNP.replace("{matchLabels: {role: worker}}", "{matchLabels: {'reserved:host': ''}}")
    assert not cilium_host(reserved, "ingress", world(), TCP, 80, labels={})[0]


def test_node_labels_assumption_overrides_hep_labels() -> None:
    given = Assumptions(pod_cidrs=A.pod_cidrs, node_labels=node_labels({"n1": {"role": "db"}, "n9": {}}))
    side = read_calico_side(read_documents(hep(), "c.yaml")[0], given)
    assert side.node_labels() == {"n1": {"role": "db"}, "n9": {}}
    no_hep = next(s for s in side.host_subjects if s.node == "n9")
    assert no_hep.hep is None
    assert (
        side.hosts[no_hep.key]["ingress"]
        .decide(Flow("ingress", no_hep.endpoint(NODE_IP), world(), TCP, 80, 1))
        .allowed
    )


def test_a_named_interface_hep_makes_its_node_unproven() -> None:
    text = hep() + hep(name="n1-eth0", interface="eth0")
    side = read_calico_side(read_documents(text, "c.yaml")[0], A)
    assert all(any("named-interface" in u.reason for u in s.unsupported) for s in side.host_subjects)
