"""The concrete engine's view of a cluster inventory (read by ``io.inventory``): endpoints in the
verifier's own world model, and every peer of a pod, plus probe addresses outside the cluster."""

from __future__ import annotations

from dataclasses import replace

from calico2cilium.io.inventory import Inventory, PodInfo
from calico2cilium.semantics.world import IP, Assumptions, Endpoint


def pod_endpoint(inventory: Inventory, pod: PodInfo, ip: IP) -> Endpoint:
    return Endpoint(
        "pod",
        ip,
        namespace=pod.namespace,
        labels=dict(pod.labels),
        namespace_labels=inventory.namespace_labels(pod.namespace),
        service_account=pod.service_account,
        service_account_labels=dict(inventory.service_accounts.get((pod.namespace, pod.service_account), {})),
        named_ports=dict(pod.named_ports),
        name=pod.name,
    )


def cluster_named_ports(inventory: Inventory) -> dict[tuple[str, int], int]:
    """``(name, protocol) -> number`` where every pod declaring the name on that protocol gives the
    same number: what Cilium resolves an egress named port to (``ClusterNamedPort``)."""
    numbers: dict[tuple[str, int], set[int]] = {}
    for pod in inventory.pods:
        for name, (proto, port) in pod.named_ports.items():
            numbers.setdefault((name, proto), set()).add(port)
    return {key: next(iter(found)) for key, found in numbers.items() if len(found) == 1}


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
