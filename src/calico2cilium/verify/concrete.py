"""The concrete engine: verdict tables over an inventory, compared with deepdiff.

For every pod of the inventory (the subject), both directions, every peer (other pods, the pod's
own node, other nodes, external probe addresses) and a set of probes (protocol, port or ICMP
type) chosen from the boundaries the policies mention, each side's program decides. The two tables
are canonical nested dicts (sorted keys, strings), so ``DeepDiff`` reports exactly the differing
flows; the report adds which rule decided on each side.

It is exhaustive only over the inventory and the probes; the symbolic engine is the proof. Use it on
a real cluster export, and as a cross-check of the symbolic engine in tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from deepdiff import DeepDiff

from calico2cilium.io.inventory import Inventory
from calico2cilium.semantics.expr import Expr, IcmpTypeIs, PortIn, ProtoIs, walk
from calico2cilium.semantics.hosts import HostSubject
from calico2cilium.semantics.program import CalicoProgram, CiliumProgram, Verdict
from calico2cilium.semantics.world import (
    DIRECTIONS,
    ICMP,
    ICMPV6,
    PORT_PROTOCOLS,
    SCTP,
    TCP,
    UDP,
    Assumptions,
    Direction,
    Flow,
)
from calico2cilium.verify.inventory import cluster_named_ports, host_peers, peers_of, pod_endpoint

Probe = tuple[int, int, int]
"""(protocol, destination port, ICMP type); unused fields are 0."""

_NAMES = {TCP: "TCP", UDP: "UDP", SCTP: "SCTP", ICMP: "ICMP", ICMPV6: "ICMPv6"}


def probe_name(probe: Probe) -> str:
    proto, port, icmp = probe
    name = _NAMES.get(proto, f"proto{proto}")
    if proto in PORT_PROTOCOLS:
        return f"{name}/{port}"
    if proto in (ICMP, ICMPV6):
        return f"{name}/type{icmp}"
    return name


def probes(formulas: Iterable[Expr], inventory: Inventory) -> list[Probe]:
    """Probes at every boundary the formulas mention (each port range's ends and neighbours), each
    declared named port, each ICMP type mentioned, and one protocol without ports (GRE)."""
    ports = {1, 80, 65535}
    protocols = {TCP, UDP, SCTP, ICMP, ICMPV6, 47}
    types = {0, 8, 128, 255}
    for formula in formulas:
        for node in walk(formula):
            if isinstance(node, PortIn):
                ports.update(p for p in (node.lo - 1, node.lo, node.hi, node.hi + 1) if 1 <= p <= 65535)
            elif isinstance(node, ProtoIs):
                protocols.add(node.number)
            elif isinstance(node, IcmpTypeIs):
                types.update(t for t in (node.value - 1, node.value, node.value + 1) if 0 <= t <= 255)
    for pod in inventory.pods:
        ports.update(port for _, port in pod.named_ports.values())
    out: list[Probe] = []
    for proto in sorted(protocols):
        if proto in PORT_PROTOCOLS:
            out.extend((proto, port, 0) for port in sorted(ports))
        elif proto in (ICMP, ICMPV6):
            out.extend((proto, 0, t) for t in sorted(types))
        else:
            out.append((proto, 0, 0))
    return out


def _flows(
    inventory: Inventory, direction: Direction, assumptions: Assumptions, probe_list: list[Probe]
) -> Iterator[tuple[str, str, str, Flow]]:
    namespaces = {name: inventory.namespace_labels(name) for name in inventory.namespaces}
    resolved = cluster_named_ports(inventory)
    for pod in sorted(inventory.pods, key=lambda p: (p.namespace, p.name)):
        for ip in pod.ips:
            if ip.version not in assumptions.families:
                continue
            subject = pod_endpoint(inventory, pod, ip)
            subject_name = f"{pod.namespace}/{pod.name} {ip}"
            for peer_name, peer in peers_of(inventory, pod, ip, assumptions):
                for proto, port, icmp in probe_list:
                    if (proto == ICMP and ip.version == 6) or (proto == ICMPV6 and ip.version == 4):
                        continue
                    src = 40000 if port else 0
                    flow = Flow(
                        direction,
                        subject,
                        peer,
                        proto,
                        port,
                        src,
                        icmp,
                        0,
                        namespaces,
                        cluster_named_ports=resolved,
                    )
                    yield subject_name, peer_name, probe_name((proto, port, icmp)), flow


@dataclass
class Difference:
    flow: Flow
    calico: Verdict
    cilium: Verdict

    def describe(self) -> str:
        def v(x: Verdict) -> str:
            return f"{'allow' if x.allowed else 'deny'} ({x.ref})"

        return f"{self.flow.direction}: {self.flow.describe()}\n    calico {v(self.calico)}\n    cilium {v(self.cilium)}"


@dataclass
class ConcreteResult:
    calico: dict[str, Any]
    cilium: dict[str, Any]
    diff: dict[str, Any]
    differences: list[Difference] = field(default_factory=list)
    flows: int = 0

    @property
    def equivalent(self) -> bool:
        return not self.differences

    def render_text(self) -> str:
        if self.equivalent:
            return f"No difference on {self.flows} flows of the inventory."
        lines = [f"{len(self.differences)} of {self.flows} flows differ:"]
        lines.extend(f"  - {d.describe()}" for d in self.differences)
        return "\n".join(lines)


HostCase = tuple[HostSubject, dict[Direction, tuple[CalicoProgram, CiliumProgram]]]
"""A host subject and both sides' programs at it, per direction."""


def _host_flows(
    inventory: Inventory,
    hosts: Sequence[HostCase],
    direction: Direction,
    assumptions: Assumptions,
    probe_list: list[Probe],
) -> Iterator[tuple[str, str, str, Flow, CalicoProgram, CiliumProgram]]:
    """Flows at every host subject: its node's inventory addresses (else its expectedIPs) against
    every pod, other node and outside address."""
    namespaces = {name: inventory.namespace_labels(name) for name in inventory.namespaces}
    for subject, programs in hosts:
        calico_p, cilium_p = programs[direction]
        for ip in inventory.nodes.get(subject.node) or subject.own_ips:
            if ip.version not in assumptions.families:
                continue
            endpoint = subject.endpoint(ip)
            for peer_name, peer in host_peers(inventory, subject.node, ip, assumptions):
                for proto, port, icmp in probe_list:
                    if (proto == ICMP and ip.version == 6) or (proto == ICMPV6 and ip.version == 4):
                        continue
                    src = 40000 if port else 0
                    flow = Flow(direction, endpoint, peer, proto, port, src, icmp, 0, namespaces)
                    name = f"{subject.label} {ip}"
                    yield name, peer_name, probe_name((proto, port, icmp)), flow, calico_p, cilium_p


def tables(
    calico: dict[Direction, CalicoProgram],
    cilium: dict[Direction, CiliumProgram],
    inventory: Inventory,
    assumptions: Assumptions,
    hosts: Sequence[HostCase] = (),
) -> ConcreteResult:
    """Verdict tables of both sides over the inventory (pods, then host subjects), and their deepdiff."""
    formulas = [p.verdict() for p in calico.values()] + [p.verdict() for p in cilium.values()]
    formulas += [p.verdict() for _, programs in hosts for pair in programs.values() for p in pair]
    probe_list = probes(formulas, inventory)
    left: dict[str, Any] = {}
    right: dict[str, Any] = {}
    decided: dict[tuple[str, ...], tuple[Flow, Verdict, Verdict]] = {}
    for direction in DIRECTIONS:
        pods = (
            (subject, peer, probe, flow, calico[direction], cilium[direction])
            for subject, peer, probe, flow in _flows(inventory, direction, assumptions, probe_list)
        )
        everything = chain(pods, _host_flows(inventory, hosts, direction, assumptions, probe_list))
        for subject, peer, probe, flow, calico_p, cilium_p in everything:
            a, b = calico_p.decide(flow), cilium_p.decide(flow)
            left.setdefault(direction, {}).setdefault(subject, {}).setdefault(peer, {})[probe] = _cell(a)
            right.setdefault(direction, {}).setdefault(subject, {}).setdefault(peer, {})[probe] = _cell(b)
            decided[(direction, subject, peer, probe)] = (flow, a, b)
    diff = DeepDiff(left, right, view="tree")
    differences = []
    for change in diff.get("values_changed", []):
        key = tuple(str(k) for k in change.path(output_format="list"))
        flow, a, b = decided[key]
        differences.append(Difference(flow, a, b))
    differences.sort(key=lambda d: (d.flow.direction, d.flow.describe()))
    return ConcreteResult(left, right, DeepDiff(left, right).to_dict(), differences, len(decided))


def _cell(verdict: Verdict) -> str:
    return "allow" if verdict.allowed else "deny"
