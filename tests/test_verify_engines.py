"""The two engines interpret the same semantics: they must agree.

1. For random policy sets and random flows, a program's structural reading (``decide``), its formula
   read concretely (``evaluate``) and its formula read by z3 (pinned to the flow) give one verdict.
2. On random small inventories, the symbolic engine's verdict and the concrete tables agree: a
   proven partition has no concrete difference, and every concrete difference is found symbolically.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calico2cilium.io.inventory import Inventory, PodInfo
from calico2cilium.semantics.calico import read_calico_side
from calico2cilium.semantics.cilium import read_cilium_side
from calico2cilium.semantics.program import PlainDocument
from calico2cilium.semantics.world import ICMP, TCP, UDP, Assumptions, Endpoint, Flow, evaluate
from calico2cilium.verify.api import verify, verify_inventory
from calico2cilium.verify.smt import SymbolicFlow, value_on

A = Assumptions(ip_families=(4,))
NAMESPACES = {"a": {"env": "prod"}, "b": {"env": "dev"}}
KEYS, VALUES = ("app", "role"), ("x", "y")

calico_selector = st.sampled_from(
    [
        "",
        "app == 'x'",
        "role != 'y'",
        "has(role)",
        "app in {'x', 'y'}",
        "app starts with 'x'",
        "!has(app) || role == 'x'",
    ]
)
cilium_selector = st.sampled_from(
    [
        {},
        {"matchLabels": {"app": "x"}},
        {"matchExpressions": [{"key": "role", "operator": "NotIn", "values": ["y"]}]},
        {"matchExpressions": [{"key": "role", "operator": "Exists"}]},
        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "b"}},
        {"matchLabels": {"k8s:io.cilium.k8s.namespace.labels.env": "prod"}},
    ]
)
calico_entity = st.fixed_dictionaries(
    {},
    optional={
        "selector": calico_selector.filter(bool),
        "notSelector": st.sampled_from(["role == 'x'", "has(app)"]),
        "nets": st.sampled_from([["10.0.0.0/24"], ["0.0.0.0/0"], ["203.0.113.0/24"]]),
        "namespaceSelector": st.sampled_from(["env == 'prod'", "all()"]),
    },
)
calico_rule = st.builds(
    lambda action, proto, ports, source: {
        "action": action,
        **({"protocol": proto} if proto else {}),
        "source": source,
        "destination": {"ports": ports} if ports and proto in ("TCP", "UDP") else {},
    },
    st.sampled_from(["Allow", "Deny", "Pass", "Log"]),
    st.sampled_from([None, "TCP", "UDP", "ICMP"]),
    st.sampled_from([None, [80], ["79:81"], ["http"], [443, 80]]),
    calico_entity,
)


NETWORK_SETS = [
    {
        "apiVersion": "projectcalico.org/v3",
        "kind": "GlobalNetworkSet",
        "metadata": {"name": "partners", "labels": {"role": "x"}},
        "spec": {"nets": ["203.0.113.0/28"]},
    },
    {
        "apiVersion": "projectcalico.org/v3",
        "kind": "NetworkSet",
        "metadata": {"name": "pods", "namespace": "a", "labels": {"app": "x"}},
        "spec": {"nets": ["10.0.0.0/30"]},
    },
]


@st.composite
def calico_policies(draw: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = list(NETWORK_SETS) if draw(st.booleans()) else []
    for i in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["NetworkPolicy", "GlobalNetworkPolicy"]))
        meta: dict[str, Any] = {"name": f"p{i}"}
        if kind == "NetworkPolicy":
            meta["namespace"] = draw(st.sampled_from(list(NAMESPACES)))
        spec: dict[str, Any] = {
            "selector": draw(calico_selector),
            "order": draw(st.sampled_from([None, 1, 2])),
        }
        spec["ingress"] = draw(st.lists(calico_rule, max_size=3))
        spec["egress"] = draw(st.lists(calico_rule, max_size=2))
        out.append({"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": meta, "spec": spec})
    return out


cilium_rule = st.builds(
    lambda peer, ports: {**peer, **ports},
    st.sampled_from(
        [
            {},
            {"fromEndpoints": [{"matchLabels": {"role": "x"}}]},
            {"fromEndpoints": [{}]},
            {"fromEndpoints": []},
            {"fromCIDR": ["0.0.0.0/0"]},
            {"fromCIDRSet": [{"cidr": "10.0.0.0/16", "except": ["10.0.0.0/24"]}]},
            {"fromEntities": ["cluster"]},
            {"fromEntities": ["world", "host"]},
        ]
    ),
    st.sampled_from(
        [
            {},
            {"toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]},
            {"toPorts": [{"ports": [{"port": "79", "endPort": 81}]}]},
            {"toPorts": [{"ports": [{"port": "http", "protocol": "TCP"}]}]},
            {"icmps": [{"fields": [{"type": 8}]}]},
        ]
    ),
)


def _egress(rule: dict[str, Any]) -> dict[str, Any]:
    return {k.replace("from", "to", 1) if k.startswith("from") else k: v for k, v in rule.items()}


@st.composite
def cilium_policies(draw: Any) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"]))
        meta: dict[str, Any] = {"name": f"k{i}"}
        if kind == "CiliumNetworkPolicy":
            meta["namespace"] = draw(st.sampled_from(list(NAMESPACES)))
        spec: dict[str, Any] = {"endpointSelector": draw(cilium_selector)}
        for key in ("ingress", "ingressDeny", "egress", "egressDeny"):
            rules = draw(st.lists(cilium_rule, max_size=2))
            if key.startswith("egress"):
                rules = [_egress(r) for r in rules]
            if key.endswith("Deny"):
                rules = [r for r in rules if "toPorts" not in r or "http" not in str(r)]
            if rules or draw(st.booleans()):
                spec[key] = rules
        if not any(spec.get(k) for k in ("ingress", "ingressDeny", "egress", "egressDeny")):
            spec["ingress"] = [{}]
        out.append({"apiVersion": "cilium.io/v2", "kind": kind, "metadata": meta, "spec": spec})
    return out


IPS = ["10.0.0.1", "10.0.0.7", "10.0.1.3", "203.0.113.5", "192.168.0.4"]


@st.composite
def flows(draw: Any) -> Flow:
    def endpoint(kind: str, ip: str) -> Endpoint:
        if kind != "pod":
            return Endpoint(kind, ipaddress.ip_address(ip), apiserver=draw(st.booleans()) and kind != "pod")  # type: ignore[arg-type]
        ns = draw(st.sampled_from(list(NAMESPACES)))
        labels = {k: draw(st.sampled_from(VALUES)) for k in KEYS if draw(st.booleans())}
        ports = {"http": (TCP, draw(st.sampled_from([80, 8080])))} if draw(st.booleans()) else {}
        return Endpoint("pod", ipaddress.ip_address(ip), ns, labels, NAMESPACES[ns], named_ports=ports)

    subject_ip, peer_ip = draw(st.lists(st.sampled_from(IPS), min_size=2, max_size=2, unique=True))
    subject = endpoint("pod", subject_ip)
    peer = endpoint(draw(st.sampled_from(["pod", "host", "remote-node", "world"])), peer_ip)
    proto = draw(st.sampled_from([TCP, UDP, ICMP, 47]))
    port = draw(st.sampled_from([79, 80, 81, 443, 8080])) if proto in (TCP, UDP) else 0
    icmp = draw(st.sampled_from([0, 8])) if proto == ICMP else 0
    direction = draw(st.sampled_from(["ingress", "egress"]))
    # What the cluster's pods resolve `http` to (Cilium's egress named ports), consistent with the
    # flow's own pods: None (they are the whole cluster), or other pods agree or disagree.
    declared = {e.named_ports["http"][1] for e in (subject, peer) if "http" in e.named_ports}
    choices: list[dict[tuple[str, int], int] | None] = [None, {}]
    choices += [{("http", TCP): n} for n in (declared or {80, 8080})] if len(declared) <= 1 else []
    cluster = draw(st.sampled_from(choices))
    return Flow(direction, subject, peer, proto, port, 1024 if port else 0, icmp, 0, NAMESPACES, cluster)


def _z3_value(expr: Any, flow: Flow) -> bool:
    value = value_on(SymbolicFlow(A), expr, flow)
    assert value is not None, "the generated flow violates the world axioms"
    return value


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(calico_policies(), flows())
def test_calico_readings_agree(policies: list[dict[str, Any]], flow: Flow) -> None:
    side = read_calico_side([PlainDocument(p) for p in policies], A)
    program = side.programs[flow.direction]
    expr = program.verdict()
    decided = program.decide(flow).allowed
    assert evaluate(expr, flow) == decided
    assert _z3_value(expr, flow) == decided


@SETTINGS
@given(cilium_policies(), flows())
def test_cilium_readings_agree(policies: list[dict[str, Any]], flow: Flow) -> None:
    side = read_cilium_side([PlainDocument(p) for p in policies], A)
    assert not side.invalid, [str(i) for i in side.invalid]
    program = side.programs[flow.direction]
    expr = program.verdict()
    decided = program.decide(flow).allowed
    assert evaluate(expr, flow) == decided
    assert _z3_value(expr, flow) == decided


@st.composite
def inventories(draw: Any) -> Inventory:
    inv = Inventory(
        namespaces={k: dict(v) for k, v in NAMESPACES.items()},
        nodes={"n1": (ipaddress.ip_address("192.168.0.1"),), "n2": (ipaddress.ip_address("192.168.0.2"),)},
    )
    for i in range(draw(st.integers(1, 4))):
        ns = draw(st.sampled_from(list(NAMESPACES)))
        labels = {k: draw(st.sampled_from(VALUES)) for k in KEYS if draw(st.booleans())}
        ports = {"http": (TCP, draw(st.sampled_from([80, 8080])))} if draw(st.booleans()) else {}
        inv.pods.append(
            PodInfo(
                f"pod{i}",
                ns,
                labels,
                "default",
                (ipaddress.ip_address(f"10.0.0.{i + 10}"),),
                draw(st.sampled_from(["n1", "n2"])),
                ports,
            )
        )
    inv.external = [ipaddress.ip_address("203.0.113.5"), ipaddress.ip_address("8.8.8.8")]
    return inv


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calico_policies(), cilium_policies(), inventories())
def test_symbolic_and_concrete_engines_agree(
    calico: list[dict[str, Any]], cilium: list[dict[str, Any]], inventory: Inventory
) -> None:
    symbolic = verify(calico, cilium, A, max_counterexamples=None)
    # Every symbolic counterexample was replayed through both concrete semantics and confirmed.
    assert not any(p.status == "unknown" for p in symbolic.partitions), [p.note for p in symbolic.partitions]
    concrete = verify_inventory(calico, cilium, inventory, A)
    proven = {(p.direction, p.partition) for p in symbolic.partitions if p.status == "equivalent"}
    named = {p.partition for p in symbolic.partitions}
    for difference in concrete.differences:
        flow = difference.flow
        partition = flow.subject.namespace if flow.subject.namespace in named else "(any other namespace)"
        assert (flow.direction, partition) not in proven, difference.describe()
    if concrete.differences:
        assert symbolic.status in ("different", "incomplete"), yaml.safe_dump([calico, cilium])
