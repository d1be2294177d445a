"""A cluster inventory: the pods, namespaces, service accounts, nodes and Services of a
``kubectl get pods,namespaces,serviceaccounts,nodes,services -A -o yaml`` export, as plain data.

Read here once for both of its users, which stay independent in what the labels *mean*: the
converter expands ``contains``/``starts with``/``ends with`` selectors against the label values
(``compile/inventory.py``), and the verifier's concrete engine builds endpoints from it
(``verify/inventory.py``); each resolves Calico ``services`` rule matches against its Services
with its own code (``compile/services.py``, ``semantics/services.py``). This module only reads.

Items of those kinds must have a name and string labels. Other workload kinds (Deployments,
EndpointSlices ... of a ``kubectl get all`` export) carry nothing an inventory uses and are skipped;
a policy given as the inventory (a Calico, Cilium or Kubernetes network policy), an item that is
not an object, and an export with no pods and no namespaces are errors (C2C317) at their
position, since a wrong file would otherwise silently expand every selector to nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from calico2cilium.diagnostics import Diagnostic, Severity, Source

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""Set on every namespace by Kubernetes >= 1.21 to its name (docs/reference/semantics-check.md E9)."""
KINDS = ("Pod", "Namespace", "ServiceAccount", "Node", "Service")
_POLICY_APIS = ("projectcalico.org/", "crd.projectcalico.org/", "cilium.io/")


def _is_policy(data: Mapping[str, Any]) -> bool:
    """A policy-side resource: Calico's or Cilium's kinds, or a Kubernetes NetworkPolicy."""
    api = str(data.get("apiVersion") or "")
    return api.startswith(_POLICY_APIS) or data.get("kind") in ("NetworkPolicy", "NetworkPolicyList")


_IP_FAMILIES = {"IPv4": 4, "IPv6": 6}
_CONTAINER_PROTOCOLS = {"TCP": 6, "UDP": 17, "SCTP": 132}
"""``containerPort`` protocols (Kubernetes allows only these three; the default is TCP)."""


@dataclass(frozen=True)
class PodInfo:
    name: str
    namespace: str
    labels: Mapping[str, str]
    service_account: str
    ips: tuple[IP, ...]
    node: str
    named_ports: Mapping[str, tuple[int, int]]


@dataclass(frozen=True)
class ServicePort:
    """One ``spec.ports`` item: ``protocol`` a number (TCP when absent), ``target`` the
    ``targetPort`` (a number, a container port name, or ``None``: the same as ``port``)."""

    protocol: int
    port: int
    target: int | str | None


@dataclass(frozen=True)
class ServiceSpec:
    """The parts of a Kubernetes Service that decide its endpoints: ``selector`` ``None`` when the
    Service has none (its EndpointSlices are written by someone else); ``cluster_ip`` as given
    (``None`` for headless)."""

    namespace: str
    name: str
    type: str
    selector: tuple[tuple[str, str], ...] | None
    cluster_ip: str | None
    ports: tuple[ServicePort, ...]
    ip_families: tuple[int, ...] | None = None
    """``spec.ipFamilies`` as IP versions (``IPv4`` -> 4); ``None`` when the export has none (the API
    server fills it in since Kubernetes 1.20, so only a hand-written Service lacks it)."""


@dataclass(frozen=True)
class HostNetworkPod:
    """A ``hostNetwork`` pod: not a pod endpoint, but a Service selecting it has its node's
    address as an endpoint."""

    name: str
    namespace: str
    labels: tuple[tuple[str, str], ...]


@dataclass
class Inventory:
    pods: list[PodInfo] = field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    service_accounts: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    nodes: dict[str, tuple[IP, ...]] = field(default_factory=dict)
    external: list[IP] = field(default_factory=list)
    services: dict[tuple[str, str], ServiceSpec] = field(default_factory=dict)
    """Services by ``(namespace, name)``."""
    host_network_pods: list[HostNetworkPod] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list, compare=False)
    """Problems met while reading (C2C317 and the file readers' codes)."""

    @property
    def ok(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        labels = dict(self.namespaces.get(namespace, {}))
        labels[NAMESPACE_NAME_LABEL] = namespace  # the API server sets it (Kubernetes >= 1.21)
        return labels


def _ips(values: Iterable[Any]) -> tuple[IP, ...]:
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_address(str(value)))
        except ValueError:
            continue
    return tuple(dict.fromkeys(out))


class _Reader:
    def __init__(self, inventory: Inventory) -> None:
        self.inv = inventory

    def problem(self, doc: Any, path: tuple[str | int, ...], message: str) -> None:
        from calico2cilium.diagnostics.catalog import make

        source = doc.source(path) if callable(getattr(doc, "source", None)) else None
        if not isinstance(source, Source):
            source = None
        self.inv.diagnostics.append(make("C2C317", f"inventory: {message}", source))

    def labels(self, doc: Any, meta: Mapping[str, Any], what: str) -> dict[str, str] | None:
        labels = meta.get("labels")
        if labels is None:
            return {}
        if not isinstance(labels, Mapping):
            self.problem(doc, ("metadata", "labels"), f"{what}: metadata.labels is not a mapping")
            return None
        out: dict[str, str] = {}
        for key, value in labels.items():
            # Kubernetes label keys and values are strings: the API server refuses an unquoted
            # `true` or `1` (it does not decode into map[string]string). Reading one with str()
            # would turn `true` into "True" and silently change what a string test matches.
            if not isinstance(key, str) or not isinstance(value, str):
                self.problem(
                    doc,
                    ("metadata", "labels", key),
                    f"{what}: label {key!r} has no string value ({value!r}; quote it as Kubernetes requires)",
                )
                return None
            out[key] = value
        return out

    def item(self, doc: Any, data: Any) -> None:
        if not isinstance(data, Mapping):
            self.problem(doc, (), "not a Kubernetes object")
            return
        kind = data.get("kind")
        if kind not in KINDS:
            if _is_policy(data) or not isinstance(kind, str):
                self.problem(
                    doc, ("kind",), f"kind {kind!r} is not part of an inventory (expected {', '.join(KINDS)})"
                )
            return
        meta = data.get("metadata")
        name = meta.get("name") if isinstance(meta, Mapping) else None
        if not isinstance(name, str) or not name:
            self.problem(doc, ("metadata",), f"{kind} without metadata.name")
            return
        assert isinstance(meta, Mapping)
        namespace = str(meta.get("namespace") or "default")
        labels = self.labels(doc, meta, f"{kind} {name}")
        if labels is None:
            return
        if kind == "Namespace":
            self.inv.namespaces[name] = labels
        elif kind == "ServiceAccount":
            self.inv.service_accounts[(namespace, name)] = labels
        elif kind == "Service":
            self.service(doc, data, name, namespace)
        elif kind == "Node":
            addresses = (data.get("status") or {}).get("addresses") or []
            self.inv.nodes[name] = _ips(
                a.get("address") for a in addresses if a.get("type") in ("InternalIP", "ExternalIP")
            )
        else:
            self.pod(data, name, namespace, labels)

    def service(self, doc: Any, data: Mapping[str, Any], name: str, namespace: str) -> None:
        spec = data.get("spec") or {}
        if not isinstance(spec, Mapping):
            self.problem(doc, ("spec",), f"Service {name}: spec is not a mapping")
            return
        raw_selector = spec.get("selector")
        selector: tuple[tuple[str, str], ...] | None = None
        if raw_selector is not None:
            if not isinstance(raw_selector, Mapping) or any(
                not isinstance(k, str) or not isinstance(v, str) for k, v in raw_selector.items()
            ):
                self.problem(doc, ("spec", "selector"), f"Service {name}: spec.selector is not a label map")
                return
            selector = tuple(sorted(raw_selector.items()))
        ports: list[ServicePort] = []
        for index, item in enumerate(spec.get("ports") or []):
            port = item.get("port") if isinstance(item, Mapping) else None
            if not isinstance(port, int) or isinstance(port, bool):
                self.problem(doc, ("spec", "ports", index), f"Service {name}: a port without a number")
                return
            target = item.get("targetPort")
            if isinstance(target, str) and target.isdigit():
                target = int(target)
            if not (target is None or isinstance(target, int | str)) or isinstance(target, bool):
                self.problem(
                    doc, ("spec", "ports", index, "targetPort"), f"Service {name}: invalid targetPort"
                )
                return
            proto = _CONTAINER_PROTOCOLS.get(str(item.get("protocol") or "TCP"))
            if proto is None:
                self.problem(doc, ("spec", "ports", index, "protocol"), f"Service {name}: invalid protocol")
                return
            ports.append(ServicePort(proto, port, target))
        families: tuple[int, ...] | None = None
        raw_families = spec.get("ipFamilies")
        if raw_families is not None:
            if not isinstance(raw_families, list) or not all(
                isinstance(f, str) and f in _IP_FAMILIES for f in raw_families
            ):
                self.problem(
                    doc, ("spec", "ipFamilies"), f"Service {name}: ipFamilies is not a list of IPv4/IPv6"
                )
                return
            families = tuple(sorted({_IP_FAMILIES[f] for f in raw_families}))
        cluster_ip = spec.get("clusterIP")
        self.inv.services[(namespace, name)] = ServiceSpec(
            namespace=namespace,
            name=name,
            type=str(spec.get("type") or "ClusterIP"),
            selector=selector,
            cluster_ip=None if cluster_ip in (None, "", "None") else str(cluster_ip),
            ports=tuple(ports),
            ip_families=families,
        )

    def pod(self, data: Mapping[str, Any], name: str, namespace: str, labels: dict[str, str]) -> None:
        spec, status = data.get("spec") or {}, data.get("status") or {}
        if spec.get("hostNetwork"):
            # A host-network pod is its node's identity, not a pod endpoint; kept aside because a
            # Service selecting it has the node's address as an endpoint.
            self.inv.host_network_pods.append(HostNetworkPod(name, namespace, tuple(sorted(labels.items()))))
            return
        ips = _ips([p.get("ip") for p in status.get("podIPs") or []] + [status.get("podIP")])
        ports: dict[str, tuple[int, int]] = {}
        for container in spec.get("containers") or []:
            for port in container.get("ports") or []:
                if port.get("name"):
                    proto = _CONTAINER_PROTOCOLS.get(str(port.get("protocol") or "TCP"), 6)
                    ports[str(port["name"])] = (proto, int(port.get("containerPort", 0)))
        self.inv.pods.append(
            PodInfo(
                name=name,
                namespace=namespace,
                labels=labels,
                service_account=str(spec.get("serviceAccountName") or "default"),
                ips=ips,
                node=str(spec.get("nodeName") or ""),
                named_ports=ports,
            )
        )


def read_inventory(docs: Iterable[Any], external: Iterable[str] = ()) -> Inventory:
    """An inventory from Kubernetes objects: documents with positions (``RawDocument``, ``List``
    items already split) or plain mappings (``List``s allowed). Problems are in ``.diagnostics``."""
    inv = Inventory(external=list(_ips(external)))
    reader = _Reader(inv)
    for doc in docs:
        data = getattr(doc, "data", doc)
        if isinstance(data, Mapping) and isinstance(data.get("items"), list):
            for index, item in enumerate(data["items"]):
                reader.item(_Item(doc, index), item)
        else:
            reader.item(doc, data)
    return inv


@dataclass(frozen=True)
class _Item:
    """An item of a plain ``List`` mapping: positions relative to the list."""

    doc: Any
    index: int

    def source(self, path: tuple[str | int, ...] = ()) -> Source | None:
        source = getattr(self.doc, "source", None)
        return source(("items", self.index, *path)) if callable(source) else None


def read_inventory_files(paths: Sequence[str], recursive: bool = False) -> Inventory:
    """The inventory in ``paths`` (files or directories of YAML/JSON exports). An export with no pod
    and no namespace is an error: expanding selectors against it would match nothing."""
    from calico2cilium.diagnostics.catalog import make
    from calico2cilium.io.files import read_files

    docs, problems = read_files(paths, recursive=recursive)
    inv = read_inventory(docs)
    inv.diagnostics[:0] = problems
    if inv.ok and not inv.pods and not inv.namespaces:
        names = ", ".join(paths)
        inv.diagnostics.append(
            make("C2C317", f"inventory: {names} holds no pods and no namespaces", Source(names))
        )
    return inv
