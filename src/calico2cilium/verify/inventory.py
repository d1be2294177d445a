"""The concrete engine's view of a cluster inventory (read by ``io.inventory``): endpoints in the
verifier's own world model, and the named ports the cluster resolves (``verify.concrete`` builds
each subject's peers)."""

from __future__ import annotations

from calico2cilium.io.inventory import Inventory, PodInfo
from calico2cilium.semantics.world import IP, Endpoint


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
