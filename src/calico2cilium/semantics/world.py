"""The flow world: what one decision is about, under stated cluster assumptions.

A *decision point* is one pod (the subject) and one direction. A flow at that point has a peer (a
pod, the subject's own node ``host``, another node ``remote-node``, or an address outside the
cluster ``world``), an IP family, a protocol, ports and ICMP type/code. Ingress: the peer is the
source and the subject the destination; egress: the reverse.

What is deliberately *not* in the world, and why (each is an assumption the report states):

- Cilium-only identities (``health``, ``init``, ``ingress``, ``unmanaged``) have no Calico
  counterpart, so no flow can be compared for them.
- Service virtual IPs: both dataplanes translate them before policy (Calico enforces workload policy
  after DNAT, docs/reference/semantics.md §1.1; Cilium resolves services before policy), so no peer has one.
- Traffic of a pod to itself, and ClusterMesh remote-cluster pods.

*Host subjects* (host firewall) are decision points too: a Calico HostEndpoint and the node it is on
(``Endpoint`` of kind ``host`` with the node's name). Their peers are pods (``node`` says where a pod
runs, so "a pod on the subject's node" can be told apart), other nodes (``remote-node``) and the
outside world; the node itself is never its own peer. See ``semantics.hosts``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# Facts the verifier's modules read from here (``facts/``, shared with the compiler as facts only).
from calico2cilium.facts.cluster import Cluster, NodeLabels, Services
from calico2cilium.facts.cluster import node_labels as node_labels
from calico2cilium.facts.felix import DEFAULT_ENDPOINT_TO_HOST_ACTION as DEFAULT_ENDPOINT_TO_HOST_ACTION
from calico2cilium.facts.felix import ENDPOINT_TO_HOST_ACTIONS as ENDPOINT_TO_HOST_ACTIONS
from calico2cilium.facts.felix import FAILSAFE_INBOUND as FAILSAFE_INBOUND
from calico2cilium.facts.felix import FAILSAFE_OUTBOUND as FAILSAFE_OUTBOUND
from calico2cilium.facts.felix import EndpointToHostAction as EndpointToHostAction
from calico2cilium.facts.felix import FailsafePorts as FailsafePorts
from calico2cilium.facts.protocols import ICMP as ICMP
from calico2cilium.facts.protocols import ICMPV6 as ICMPV6
from calico2cilium.facts.protocols import PORT_PROTOCOLS as PORT_PROTOCOLS
from calico2cilium.facts.protocols import SCTP as SCTP
from calico2cilium.facts.protocols import TCP as TCP
from calico2cilium.facts.protocols import UDP as UDP
from calico2cilium.facts.protocols import UDPLITE as UDPLITE
from calico2cilium.facts.target import DEFAULT_TARGET, CiliumTarget, cilium_target
from calico2cilium.semantics.expr import (
    PEER,
    SUBJECT,
    And,
    Attr,
    ClusterNamedPort,
    Const,
    Entity,
    Expr,
    HttpRequest,
    HttpTest,
    IcmpCodeIs,
    IcmpTypeIs,
    InNet,
    IsApiserver,
    IsIPv6,
    IsKind,
    Kind,
    NamedPort,
    Network,
    Not,
    OnSubjectNode,
    Or,
    PortIn,
    Present,
    ProtoIs,
    StrShorter,
    StrTest,
)
from calico2cilium.semantics.regex import full_match

Direction = Literal["ingress", "egress"]
DIRECTIONS: tuple[Direction, ...] = ("ingress", "egress")
IP = ipaddress.IPv4Address | ipaddress.IPv6Address

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""Set on every namespace by Kubernetes >= 1.21 to its name (docs/reference/semantics-check.md E9)."""


def _nets(values: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


@dataclass(frozen=True)
class Assumptions:
    """What the verifier takes as given about the cluster. Empty CIDR lists mean "unknown": then
    any address may be of that kind, which is the sound (most pessimistic) reading.

    - ``pod_cidrs`` / ``node_cidrs``: where pod and node addresses come from.
    - ``service_cidrs``: virtual IPs, never seen by policy (translated before it).
    - ``apiserver_cidrs``: addresses of the Kubernetes API server; ``None`` = unknown, any node or
      external address may be it (Cilium's ``kube-apiserver`` and ``cluster`` entities match it).
    - ``ip_families``: which families carry traffic; default: those of ``pod_cidrs``, else both.
    - ``cilium_version``: (major, minor); decides namespace injection (1.16), endPort, etc.
    - ``policy_cidr_match_nodes``: Cilium ``--policy-cidr-match-mode=nodes`` (CIDR rules match nodes).
    - ``policy_default_local_cluster``: Cilium adds the local-cluster term to peer selectors;
      ``None`` = the version's default (on from 1.19; docs/reference/semantics.md §2.1).
    - ``host_firewall``: Cilium host firewall on (host policies enforced). Off: a node's traffic is
      allowed whatever the host policies say (docs/reference/semantics.md §2.1: host policies need it).
    - ``calico_failsafe_inbound`` / ``calico_failsafe_outbound``: Felix failsafe ports, allowed to
      and from every host endpoint whatever the policy (docs/reference/semantics.md §1.5; docs/reference/semantics-check.md claim 13);
      ``(protocol, port)``, matched on the destination port.
    - ``node_labels``: the labels Cilium sees on nodes (``nodeSelector`` matches them). ``None``: each
      node named by a HostEndpoint's ``spec.node`` carries the labels of its HostEndpoints and
      ``calico2cilium.io/node=<node>`` (the label the converter tells users to add, C2C321); a node
      whose HostEndpoints carry different labels is not proven. Given: those nodes, with those labels, are the host subjects
      (a node given without a HostEndpoint is one where Calico polices nothing).
    - ``calico_local_host_allowed`` / ``cilium_local_host_allowed``: traffic from a pod's own node
      to the pod is allowed whatever the policy (Calico: docs/reference/semantics.md §1.5 "Host to local workloads
      is always allowed"; Cilium: ``--allow-localhost``, docs/reference/semantics.md §2.4).
    - ``calico_endpoint_to_host_action``: Felix ``DefaultEndpointToHostAction``, what Calico does with
      traffic from a pod to its own node (peer ``host`` at a pod's egress) *after* the pod's egress
      policy allowed it (felix ``rules/static.go`` ``filterWorkloadToHostChain``: the egress policy
      chains, then the configured action). ``Drop``: denied whatever the policy says. ``Accept``:
      allowed. ``Return``: handed back to the host's INPUT chain, where only rules outside Calico
      remain (``filterInputChain`` jumps to the workload-to-host chain before host endpoint policy),
      so for Calico's policy it is ``Accept``. Default: ``Accept``
      (``DEFAULT_ENDPOINT_TO_HOST_ACTION``).
    - ``calico_hep_polices_own_pods``: whether a host endpoint's ingress policy applies to traffic
      from the node's own pods. ``False`` (what Felix does): it does not; the pod's egress policy and
      ``calico_endpoint_to_host_action`` decide that traffic (felix ``rules/static.go``
      ``filterInputChain``: packets from a workload interface go to the workload-to-host chain
      before the host endpoint dispatch; projectcalico/calico#7056, #7398, #5161). ``True`` only to
      take that one known difference of host conversions (Cilium's host ingress policy governs it,
      C2C343) out of a comparison, as ``calico_host_to_own_pods_allowed`` does for egress.
    - ``calico_host_to_own_pods_allowed``: the same Calico fact seen from the host's egress side;
      ``False`` only to take that one known difference of host conversions (Cilium's host egress
      policy governs it, C2C324) out of a comparison, so that it cannot hide another one.
    - ``cluster_name``: the value of ``io.cilium.k8s.policy.cluster`` on pods.
    - ``calico_types_default``: how Calico fills an absent ``types`` (docs/reference/semantics-check.md claim 14):
      ``"clientv3"`` (by rule counts, calicoctl/API server) or ``"admission"`` (by presence of the
      ``egress`` key, the v3.32+ native-CRD admission policy).
    - ``valid_k8s_values``: label values, namespace and service-account names follow Kubernetes
      syntax (so e.g. a Calico ``k == 'a b'`` can never match a pod).
    - ``services``: the Kubernetes Service objects taken as given (an inventory's), for Calico
      ``services`` matches (``semantics/services.py``); ``None``: unknown, and such rules are
      outside the proof.
    """

    pod_cidrs: tuple[str, ...] = ()
    node_cidrs: tuple[str, ...] = ()
    service_cidrs: tuple[str, ...] = ()
    apiserver_cidrs: tuple[str, ...] | None = None
    ip_families: tuple[int, ...] | None = None
    cilium_version: tuple[int, int] = DEFAULT_TARGET.version
    policy_cidr_match_nodes: bool = False
    policy_default_local_cluster: bool | None = None
    host_firewall: bool = True
    calico_local_host_allowed: bool = True
    cilium_local_host_allowed: bool = True
    calico_host_to_own_pods_allowed: bool = True
    calico_endpoint_to_host_action: EndpointToHostAction = DEFAULT_ENDPOINT_TO_HOST_ACTION
    calico_hep_polices_own_pods: bool = False
    cluster_name: str = "default"
    calico_types_default: Literal["clientv3", "admission"] = "clientv3"
    valid_k8s_values: bool = True
    calico_failsafe_inbound: FailsafePorts = FAILSAFE_INBOUND
    calico_failsafe_outbound: FailsafePorts = FAILSAFE_OUTBOUND
    node_labels: NodeLabels | None = None
    services: Services | None = None

    @property
    def pod_nets(self) -> tuple[Network, ...]:
        return _nets(self.pod_cidrs)

    @property
    def node_nets(self) -> tuple[Network, ...]:
        return _nets(self.node_cidrs)

    @property
    def service_nets(self) -> tuple[Network, ...]:
        return _nets(self.service_cidrs)

    @property
    def apiserver_nets(self) -> tuple[Network, ...] | None:
        return None if self.apiserver_cidrs is None else _nets(self.apiserver_cidrs)

    @property
    def families(self) -> tuple[int, ...]:
        if self.ip_families:
            return tuple(sorted(set(self.ip_families)))
        if self.pod_cidrs:
            return tuple(sorted({n.version for n in self.pod_nets}))
        return (4, 6)

    @property
    def local_cluster_filter(self) -> bool:
        if self.policy_default_local_cluster is not None:
            return self.policy_default_local_cluster
        return self.target.local_cluster_default

    @property
    def target(self) -> CiliumTarget:
        """The Cilium release's facts (``facts/target.py``)."""
        return cilium_target(self.cilium_version)

    @staticmethod
    def of(cluster: Cluster, **verifier_options: Any) -> Assumptions:
        """The verifier's assumptions for ``cluster``; ``verifier_options`` set the knobs that are
        the proof's own (``host_firewall``, ``calico_hep_polices_own_pods``, ...)."""
        return Assumptions(
            pod_cidrs=cluster.pod_cidrs,
            node_cidrs=cluster.node_cidrs,
            service_cidrs=cluster.service_cidrs,
            ip_families=cluster.ip_families,
            cilium_version=cluster.target.version,
            policy_cidr_match_nodes=cluster.policy_cidr_match_nodes,
            calico_endpoint_to_host_action=cluster.endpoint_to_host,
            calico_failsafe_inbound=cluster.failsafe_inbound,
            calico_failsafe_outbound=cluster.failsafe_outbound,
            node_labels=cluster.node_labels,
            services=cluster.services,
            **verifier_options,
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "pod_cidrs": list(self.pod_cidrs),
            "node_cidrs": list(self.node_cidrs),
            "service_cidrs": list(self.service_cidrs),
            "apiserver_cidrs": None if self.apiserver_cidrs is None else list(self.apiserver_cidrs),
            "ip_families": list(self.families),
            "cilium_version": f"{self.cilium_version[0]}.{self.cilium_version[1]}",
            "policy_cidr_match_nodes": self.policy_cidr_match_nodes,
            "policy_default_local_cluster": self.local_cluster_filter,
            "host_firewall": self.host_firewall,
            "calico_local_host_allowed": self.calico_local_host_allowed,
            "cilium_local_host_allowed": self.cilium_local_host_allowed,
            "calico_endpoint_to_host_action": self.calico_endpoint_to_host_action,
            "cluster_name": self.cluster_name,
            "calico_types_default": self.calico_types_default,
            "valid_k8s_values": self.valid_k8s_values,
            "calico_failsafe_inbound": [f"{p}:{n}" for p, n in self.calico_failsafe_inbound],
            "calico_failsafe_outbound": [f"{p}:{n}" for p, n in self.calico_failsafe_outbound],
            "node_labels": (
                "the labels of each node's HostEndpoints"
                if self.node_labels is None
                else {name: dict(labels) for name, labels in self.node_labels}
            ),
        }


@dataclass(frozen=True)
class Endpoint:
    """One end of a flow. Pods carry facts; other kinds have only an address.

    ``named_ports`` maps a container port name to ``(protocol number, port)``. ``node``: the node a
    pod runs on (``""``: not said). A host subject is of kind ``host`` with ``name`` its node, its
    node ``labels`` and ``host_endpoint`` the HostEndpoint it stands for (``""``: none).
    """

    kind: Kind
    ip: IP
    namespace: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    service_account: str = "default"
    service_account_labels: Mapping[str, str] = field(default_factory=dict)
    named_ports: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    apiserver: bool = False
    name: str = ""
    node: str = ""
    host_endpoint: str = ""

    def describe(self) -> str:
        if self.kind == "host" and self.name:
            labels = ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
            hep = f"HostEndpoint {self.host_endpoint}" if self.host_endpoint else "no HostEndpoint"
            return f"node {self.name} ({hep}) [{labels}] ip={self.ip}"
        if self.kind != "pod":
            extra = ", kube-apiserver" if self.apiserver else ""
            return f"{self.kind} {self.ip}{extra}"
        labels = ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        ns_labels = ",".join(f"{k}={v}" for k, v in sorted(self.namespace_labels.items()))
        who = f"{self.namespace}/{self.name}" if self.name else f"pod in namespace {self.namespace}"
        extra = f" ns-labels=[{ns_labels}]" if ns_labels else ""
        where = f" on node {self.node}" if self.node else ""
        if self.named_ports:
            ports = ",".join(f"{k}={proto_name(p)}/{n}" for k, (p, n) in sorted(self.named_ports.items()))
            extra += f" ports=[{ports}]"
        return f"{who} [{labels}]{extra} sa={self.service_account} ip={self.ip}{where}"


@dataclass(frozen=True)
class Flow:
    """One concrete flow at one decision point."""

    direction: Direction
    subject: Endpoint
    peer: Endpoint
    protocol: int
    dst_port: int = 0
    src_port: int = 0
    icmp_type: int = 0
    icmp_code: int = 0
    namespaces: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Labels of namespaces named by NetworkSets (``ns:<name>`` entities)."""
    http_method: str | None = None
    http_path: str | None = None
    """The HTTP request a TCP flow carries (``None``: none, the flow is not HTTP)."""

    @property
    def http(self) -> bool:
        return self.protocol == TCP and self.http_method is not None and self.http_path is not None

    cluster_named_ports: Mapping[tuple[str, int], int] | None = None
    """``(name, protocol) -> number`` for the named ports the cluster's pods resolve to one number
    (``ClusterNamedPort``); ``None``: the flow's own pods are all the cluster there is."""

    def cluster_named_port(self, name: str) -> int | None:
        """The one number the cluster's pods give ``name`` on the flow's protocol, if any."""
        if self.cluster_named_ports is not None:
            return self.cluster_named_ports.get((name, self.protocol))
        numbers = {
            e.named_ports[name][1]
            for e in (self.subject, self.peer)
            if e.kind == "pod" and e.named_ports.get(name, (None,))[0] == self.protocol
        }
        return numbers.pop() if len(numbers) == 1 else None

    def endpoint(self, entity: Entity) -> Endpoint | None:
        if entity == SUBJECT:
            return self.subject
        if entity == PEER:
            return self.peer
        return None

    @property
    def ipv6(self) -> bool:
        return self.subject.ip.version == 6

    @property
    def source(self) -> Endpoint:
        return self.peer if self.direction == "ingress" else self.subject

    @property
    def destination(self) -> Endpoint:
        return self.subject if self.direction == "ingress" else self.peer

    def describe(self) -> str:
        proto = proto_name(self.protocol)
        if self.protocol in PORT_PROTOCOLS:
            l4 = f"{proto} dport {self.dst_port} sport {self.src_port}"
        elif self.protocol in (ICMP, ICMPV6):
            l4 = f"{proto} type {self.icmp_type} code {self.icmp_code}"
        else:
            l4 = proto
        extra = ""
        declared = bool(self.subject.named_ports or self.peer.named_ports)
        if self.cluster_named_ports is not None and (self.cluster_named_ports or declared):
            resolved = [
                f"{n}={port}"
                for (n, p), port in sorted(self.cluster_named_ports.items())
                if p == self.protocol
            ]
            extra = f" (cluster-wide named ports: {', '.join(resolved) or 'none resolves to one number'})"
        if self.http:
            l4 += f" HTTP {self.http_method} {self.http_path!r}"
        return f"{self.source.describe()} -> {self.destination.describe()} {l4}{extra}"


def proto_name(number: int) -> str:
    return {TCP: "TCP", UDP: "UDP", SCTP: "SCTP", ICMP: "ICMP", ICMPV6: "ICMPv6"}.get(
        number, f"proto {number}"
    )


def attr_value(flow: Flow, attr: Attr) -> str | None:
    """The value of a fact in a concrete flow (``None``: absent)."""
    if attr.entity.startswith("ns:"):
        if attr.space != "ns":
            return None
        name = attr.entity[3:]
        if attr.key == NAMESPACE_NAME_LABEL:
            return name
        return flow.namespaces.get(name, {}).get(attr.key)
    endpoint = flow.endpoint(attr.entity)
    if endpoint is None or endpoint.kind != "pod":
        return None
    if attr.space == "pod":
        return endpoint.labels.get(attr.key)
    if attr.space == "ns":
        if attr.key == NAMESPACE_NAME_LABEL:
            return endpoint.namespace
        return endpoint.namespace_labels.get(attr.key)
    if attr.space == "sa":
        return endpoint.service_account_labels.get(attr.key)
    if attr.space == "nsname":
        return endpoint.namespace
    return endpoint.service_account


def str_test(value: str, op: str, operand: str) -> bool:
    """A string test (``StrTest``/``HttpTest`` ``op``: eq, prefix, suffix, else contains) on a value."""
    if op == "eq":
        return value == operand
    if op == "prefix":
        return value.startswith(operand)
    if op == "suffix":
        return value.endswith(operand)
    return operand in value


def evaluate(expr: Expr, flow: Flow, memo: dict[int, bool] | None = None) -> bool:
    """The concrete interpreter: the truth of ``expr`` for ``flow``.

    Iterative (decision chains nest as deep as there are rules); ``memo`` (keyed by node identity)
    may be shared by several formulas of one program evaluated on the same flow."""
    if memo is None:
        memo = {}
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        key = id(node)
        if key in memo:
            continue
        if isinstance(node, And | Or | Not):
            children = (node.arg,) if isinstance(node, Not) else node.args
            if not ready:
                stack.append((node, True))
                stack.extend((child, False) for child in children if id(child) not in memo)
                continue
            values = [memo[id(child)] for child in children]
            if isinstance(node, And):
                memo[key] = all(values)
            elif isinstance(node, Or):
                memo[key] = any(values)
            else:
                memo[key] = not values[0]
        else:
            memo[key] = _atom(node, flow)
    return memo[id(expr)]


def _atom(expr: Expr, flow: Flow) -> bool:
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Present):
        return attr_value(flow, expr.attr) is not None
    if isinstance(expr, StrTest):
        value = attr_value(flow, expr.attr)
        return value is not None and str_test(value, expr.op, expr.value)
    if isinstance(expr, StrShorter):
        value = attr_value(flow, expr.attr)
        return value is not None and len(value) < expr.n
    if isinstance(expr, IsKind):
        endpoint = flow.endpoint(expr.entity)
        return endpoint is not None and endpoint.kind == expr.kind
    if isinstance(expr, IsApiserver):
        endpoint = flow.endpoint(expr.entity)
        return endpoint is not None and endpoint.apiserver
    if isinstance(expr, InNet):
        endpoint = flow.endpoint(expr.entity)
        return endpoint is not None and endpoint.ip in expr.net
    if isinstance(expr, OnSubjectNode):
        peer, subject = flow.peer, flow.subject
        return peer.kind == "pod" and subject.kind == "host" and bool(peer.node) and peer.node == subject.name
    if isinstance(expr, IsIPv6):
        return flow.ipv6
    if isinstance(expr, ProtoIs):
        return flow.protocol == expr.number
    if isinstance(expr, PortIn):
        if flow.protocol not in PORT_PROTOCOLS:
            return False
        port = flow.dst_port if expr.side == "dst" else flow.src_port
        return expr.lo <= port <= expr.hi
    if isinstance(expr, IcmpTypeIs):
        return flow.protocol in (ICMP, ICMPV6) and flow.icmp_type == expr.value
    if isinstance(expr, IcmpCodeIs):
        return flow.protocol in (ICMP, ICMPV6) and flow.icmp_code == expr.value
    if isinstance(expr, ClusterNamedPort):
        if flow.protocol not in PORT_PROTOCOLS:
            return False
        port = flow.dst_port if expr.side == "dst" else flow.src_port
        return flow.cluster_named_port(expr.name) == port
    if isinstance(expr, NamedPort):
        endpoint = flow.endpoint(expr.entity)
        if endpoint is None or endpoint.kind != "pod" or flow.protocol not in PORT_PROTOCOLS:
            return False
        declared = endpoint.named_ports.get(expr.name)
        port = flow.dst_port if expr.side == "dst" else flow.src_port
        return declared is not None and declared == (flow.protocol, port)
    if isinstance(expr, HttpRequest):
        return flow.http
    if isinstance(expr, HttpTest):
        if not flow.http:
            return False
        value = flow.http_method if expr.field == "method" else flow.http_path
        assert value is not None
        if expr.op == "regex":
            return full_match(expr.value, value)
        return str_test(value, expr.op, expr.value)
    raise TypeError(f"unknown formula node {type(expr).__name__}")


atom_holds = _atom
"""The truth of one atom (not ``And``/``Or``/``Not``) for a flow: what ``evaluate`` asks at the leaves
(the concrete engine's bitsets ask it once per point an atom depends on)."""
