"""A cluster inventory for the concrete engine: pods, namespaces, service accounts and nodes as
``kubectl get pods,namespaces,serviceaccounts,nodes -o yaml`` prints them, plus probe addresses
outside the cluster."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from calico2cilium.semantics.protocols import CALICO_PROTOCOLS
from calico2cilium.semantics.world import IP, NAMESPACE_NAME_LABEL, Assumptions, Endpoint


@dataclass(frozen=True)
class PodInfo:
    name: str
    namespace: str
    labels: Mapping[str, str]
    service_account: str
    ips: tuple[IP, ...]
    node: str
    named_ports: Mapping[str, tuple[int, int]]


@dataclass
class Inventory:
    pods: list[PodInfo] = field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    service_accounts: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    nodes: dict[str, tuple[IP, ...]] = field(default_factory=dict)
    external: list[IP] = field(default_factory=list)

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        labels = dict(self.namespaces.get(namespace, {}))
        labels[NAMESPACE_NAME_LABEL] = namespace  # set by Kubernetes >= 1.21 (E9)
        return labels

    def pod_endpoint(self, pod: PodInfo, ip: IP) -> Endpoint:
        return Endpoint(
            "pod",
            ip,
            namespace=pod.namespace,
            labels=dict(pod.labels),
            namespace_labels=self.namespace_labels(pod.namespace),
            service_account=pod.service_account,
            service_account_labels=dict(self.service_accounts.get((pod.namespace, pod.service_account), {})),
            named_ports=dict(pod.named_ports),
            name=pod.name,
        )

    def peers_of(self, pod: PodInfo, ip: IP, assumptions: Assumptions) -> list[tuple[str, Endpoint]]:
        """Every other endpoint, named, in the subject's IP family."""
        apiserver = assumptions.apiserver_nets or ()
        out: list[tuple[str, Endpoint]] = []
        for other in self.pods:
            for other_ip in other.ips:
                if other_ip.version == ip.version and other_ip != ip:
                    out.append(
                        (f"pod {other.namespace}/{other.name} {other_ip}", self.pod_endpoint(other, other_ip))
                    )
        for node, ips in sorted(self.nodes.items()):
            kind = "host" if node == pod.node else "remote-node"
            for node_ip in ips:
                if node_ip.version == ip.version:
                    on_api = any(node_ip in n for n in apiserver)
                    out.append((f"{kind} {node} {node_ip}", Endpoint(kind, node_ip, apiserver=on_api)))  # type: ignore[arg-type]
        for ext in self.external:
            if ext.version == ip.version:
                on_api = any(ext in n for n in apiserver)
                out.append((f"world {ext}", Endpoint("world", ext, apiserver=on_api)))
        return out


def _items(docs: Iterable[Any]) -> Iterable[Mapping[str, Any]]:
    for doc in docs:
        data = getattr(doc, "data", doc)
        if isinstance(data, Mapping):
            if isinstance(data.get("items"), list):
                yield from (i for i in data["items"] if isinstance(i, Mapping))
            else:
                yield data


def _ips(values: Iterable[Any]) -> tuple[IP, ...]:
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_address(str(value)))
        except ValueError:
            continue
    return tuple(dict.fromkeys(out))


def read_inventory(docs: Iterable[Any], external: Iterable[str] = ()) -> Inventory:
    """Build an inventory from Kubernetes objects (documents or plain mappings, ``List``s allowed)."""
    inv = Inventory(external=list(_ips(external)))
    for item in _items(docs):
        kind, meta = item.get("kind"), item.get("metadata") or {}
        labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
        if kind == "Namespace":
            inv.namespaces[str(meta.get("name"))] = labels
        elif kind == "ServiceAccount":
            inv.service_accounts[(str(meta.get("namespace") or "default"), str(meta.get("name")))] = labels
        elif kind == "Node":
            addresses = (item.get("status") or {}).get("addresses") or []
            inv.nodes[str(meta.get("name"))] = _ips(
                a.get("address") for a in addresses if a.get("type") in ("InternalIP", "ExternalIP")
            )
        elif kind == "Pod":
            spec, status = item.get("spec") or {}, item.get("status") or {}
            if spec.get("hostNetwork"):
                continue  # a host-network pod is its node's identity, not a pod endpoint
            ips = _ips([p.get("ip") for p in status.get("podIPs") or []] + [status.get("podIP")])
            ports: dict[str, tuple[int, int]] = {}
            for container in spec.get("containers") or []:
                for port in container.get("ports") or []:
                    if port.get("name"):
                        proto = CALICO_PROTOCOLS.get(str(port.get("protocol") or "TCP"), 6)
                        ports[str(port["name"])] = (proto, int(port.get("containerPort", 0)))
            inv.pods.append(
                PodInfo(
                    name=str(meta.get("name")),
                    namespace=str(meta.get("namespace") or "default"),
                    labels=labels,
                    service_account=str(spec.get("serviceAccountName") or "default"),
                    ips=ips,
                    node=str(spec.get("nodeName") or ""),
                    named_ports=ports,
                )
            )
    return inv
