"""The concrete engine as it was first written: one ``decide`` per flow, tables diffed with deepdiff.

Kept only as the reference of ``test_concrete_bitsets.py``: the bitset engine of
``verify/concrete.py`` must give the same verdict on every flow, the same differences and the same
flow count. It is slow (every flow walks both programs), so it runs on small inventories.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from itertools import chain
from typing import Any

from deepdiff import DeepDiff

from calico2cilium.io.inventory import Inventory, PodInfo
from calico2cilium.semantics.program import CalicoProgram, CiliumProgram, Verdict
from calico2cilium.semantics.world import DIRECTIONS, ICMP, ICMPV6, IP, Assumptions, Direction, Endpoint, Flow
from calico2cilium.verify.concrete import Difference, HostCase, Probe, probe_name, probes
from calico2cilium.verify.inventory import cluster_named_ports, pod_endpoint


def peers_of(
    inventory: Inventory, pod: PodInfo, ip: IP, assumptions: Assumptions
) -> list[tuple[str, Endpoint]]:
    """Every other endpoint, named, in the subject's IP family."""
    apiserver = assumptions.apiserver_nets or ()
    out: list[tuple[str, Endpoint]] = []
    for other in inventory.pods:
        for other_ip in other.ips:
            if other_ip.version == ip.version and other_ip != ip:
                out.append(
                    (
                        f"pod {other.namespace}/{other.name} {other_ip}",
                        pod_endpoint(inventory, other, other_ip),
                    )
                )
    for node, ips in sorted(inventory.nodes.items()):
        kind = "host" if node == pod.node else "remote-node"
        for node_ip in ips:
            if node_ip.version == ip.version:
                on_api = any(node_ip in n for n in apiserver)
                out.append((f"{kind} {node} {node_ip}", Endpoint(kind, node_ip, apiserver=on_api)))  # type: ignore[arg-type]
    for ext in inventory.external:
        if ext.version == ip.version:
            on_api = any(ext in n for n in apiserver)
            out.append((f"world {ext}", Endpoint("world", ext, apiserver=on_api)))
    return out


def host_peers(
    inventory: Inventory, node: str, ip: IP, assumptions: Assumptions
) -> list[tuple[str, Endpoint]]:
    """Every endpoint but the node itself, seen from a host subject on ``node``: pods (with the node
    they run on), the other nodes (``remote-node``) and the outside addresses."""
    apiserver = assumptions.apiserver_nets or ()
    out: list[tuple[str, Endpoint]] = []
    for pod in inventory.pods:
        for pod_ip in pod.ips:
            if pod_ip.version == ip.version:
                peer = replace(pod_endpoint(inventory, pod, pod_ip), node=pod.node)
                out.append((f"pod {pod.namespace}/{pod.name} {pod_ip}", peer))
    for other, ips in sorted(inventory.nodes.items()):
        if other == node:
            continue
        for node_ip in ips:
            if node_ip.version == ip.version and node_ip != ip:
                on_api = any(node_ip in n for n in apiserver)
                out.append(
                    (f"remote-node {other} {node_ip}", Endpoint("remote-node", node_ip, apiserver=on_api))
                )
    for ext in inventory.external:
        if ext.version == ip.version:
            on_api = any(ext in n for n in apiserver)
            out.append((f"world {ext}", Endpoint("world", ext, apiserver=on_api)))
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
                        direction, subject, peer, proto, port, src, icmp, 0, namespaces,
                        cluster_named_ports=resolved,
                    )  # fmt: skip
                    yield subject_name, peer_name, probe_name((proto, port, icmp)), flow


def _host_flows(
    inventory: Inventory,
    hosts: Sequence[HostCase],
    direction: Direction,
    assumptions: Assumptions,
    probe_list: list[Probe],
) -> Iterator[tuple[str, str, str, Flow, CalicoProgram, CiliumProgram]]:
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


def reference_tables(
    calico: dict[Direction, CalicoProgram],
    cilium: dict[Direction, CiliumProgram],
    inventory: Inventory,
    assumptions: Assumptions,
    hosts: Sequence[HostCase] = (),
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[Difference], int]:
    """(calico table, cilium table, deepdiff as a dict, differences, flow count), as ``tables`` gave."""
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
    # The text view of the same DeepDiff (verbose level 1, its default) is DeepDiff(left, right).to_dict().
    return left, right, diff.to_dict(verbose_level=1), differences, len(decided)


def _cell(verdict: Verdict) -> str:
    return "allow" if verdict.allowed else "deny"
