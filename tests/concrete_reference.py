"""The concrete engine as it was first written: one ``decide`` per flow, tables diffed with deepdiff.

Kept only as the reference of ``test_concrete_bitsets.py``: the bitset engine of
``verify/concrete.py`` must give the same verdict on every flow, the same differences and the same
flow count. It is slow (every flow walks both programs), so it runs on small inventories.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any

from deepdiff import DeepDiff

from calico2cilium.io.inventory import Inventory
from calico2cilium.semantics.program import CalicoProgram, CiliumProgram, Verdict
from calico2cilium.semantics.world import DIRECTIONS, ICMP, ICMPV6, Assumptions, Direction, Flow
from calico2cilium.verify.concrete import Difference, HostCase, Probe, probe_name, probes
from calico2cilium.verify.inventory import cluster_named_ports, host_peers, peers_of, pod_endpoint


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
