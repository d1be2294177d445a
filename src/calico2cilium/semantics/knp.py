"""Kubernetes NetworkPolicy, read once; each side's semantics translates it its own way.

The API server defaults ``policyTypes`` before either dataplane sees the object: ``Ingress``
always, plus ``Egress`` when ``spec.egress`` has rules (k8s ``SetDefaults_NetworkPolicy``;
docs/reference/semantics-check.md E10). Both sides therefore start from the defaulted types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from calico2cilium.semantics.cilium_read import Invalid, Path, Selector, _cidr, _list, _mapping, read_selector


@dataclass(frozen=True)
class KnpPeer:
    pod_selector: Selector | None
    namespace_selector: Selector | None
    cidr: str | None
    excepts: tuple[str, ...]
    path: Path


@dataclass(frozen=True)
class KnpPort:
    protocol: str
    port: str | None
    end_port: int | None


@dataclass(frozen=True)
class KnpRule:
    peers: tuple[KnpPeer, ...] | None
    """``None`` or empty: all peers (``from``/``to`` missing or empty)."""
    ports: tuple[KnpPort, ...] | None
    path: Path


@dataclass(frozen=True)
class Knp:
    name: str
    namespace: str
    pod_selector: Selector
    policy_types: tuple[str, ...]
    ingress: tuple[KnpRule, ...]
    egress: tuple[KnpRule, ...]


def _peer(value: Any, path: Path) -> KnpPeer:
    data = _mapping(value, path)
    pods = (
        read_selector(data["podSelector"], (*path, "podSelector"))
        if data.get("podSelector") is not None
        else None
    )
    nss = (
        read_selector(data["namespaceSelector"], (*path, "namespaceSelector"))
        if data.get("namespaceSelector") is not None
        else None
    )
    block = data.get("ipBlock")
    if block is not None:
        if pods is not None or nss is not None:
            raise Invalid("ipBlock cannot be combined with podSelector or namespaceSelector", path)
        bdata = _mapping(block, (*path, "ipBlock"))
        cidr = _cidr(bdata.get("cidr"), (*path, "ipBlock", "cidr"), bare_ip=False)
        excepts = tuple(
            _cidr(e, (*path, "ipBlock", "except", i), bare_ip=False)
            for i, e in enumerate(_list(bdata.get("except"), (*path, "ipBlock", "except")) or [])
        )
        return KnpPeer(None, None, cidr, excepts, path)
    if pods is None and nss is None:
        raise Invalid("a NetworkPolicy peer needs podSelector, namespaceSelector or ipBlock", path)
    return KnpPeer(pods, nss, None, (), path)


def _port(value: Any, path: Path) -> KnpPort:
    data = _mapping(value, path)
    protocol = str(data.get("protocol") or "TCP")
    if protocol not in ("TCP", "UDP", "SCTP"):
        raise Invalid(f"unsupported protocol {protocol!r}", (*path, "protocol"))
    port = data.get("port")
    text = None if port is None else str(port)
    end = data.get("endPort")
    if end is not None and (
        text is None or not text.isdigit() or not isinstance(end, int) or end < int(text)
    ):
        raise Invalid("endPort needs a numeric port not greater than it", (*path, "endPort"))
    return KnpPort(protocol, text, end)


def _rules(value: Any, path: Path, peers_key: str) -> tuple[KnpRule, ...]:
    out = []
    for i, item in enumerate(_list(value, path) or []):
        data = _mapping(item, (*path, i))
        raw_peers = _list(data.get(peers_key), (*path, i, peers_key))
        peers = (
            None
            if raw_peers is None
            else tuple(_peer(p, (*path, i, peers_key, j)) for j, p in enumerate(raw_peers))
        )
        raw_ports = _list(data.get("ports"), (*path, i, "ports"))
        ports = (
            None
            if raw_ports is None
            else tuple(_port(p, (*path, i, "ports", j)) for j, p in enumerate(raw_ports))
        )
        out.append(KnpRule(peers, ports, (*path, i)))
    return tuple(out)


def read_knp(data: Mapping[str, Any], default_namespace: str) -> Knp:
    metadata = _mapping(data.get("metadata"), ("metadata",))
    spec = _mapping(data.get("spec"), ("spec",))
    ingress = _rules(spec.get("ingress"), ("spec", "ingress"), "from")
    egress = _rules(spec.get("egress"), ("spec", "egress"), "to")
    types = _list(spec.get("policyTypes"), ("spec", "policyTypes"))
    if types is None:
        policy_types: tuple[str, ...] = ("Ingress", "Egress") if egress else ("Ingress",)
    else:
        for i, t in enumerate(types):
            if t not in ("Ingress", "Egress"):
                raise Invalid(f"unknown policy type {t!r}", ("spec", "policyTypes", i))
        policy_types = tuple(str(t) for t in types)
    if spec.get("podSelector") is None:
        raise Invalid("podSelector is required", ("spec",))
    return Knp(
        name=str(metadata.get("name") or "?"),
        namespace=str(metadata.get("namespace") or default_namespace),
        pod_selector=read_selector(spec["podSelector"], ("spec", "podSelector")),
        policy_types=policy_types,
        ingress=ingress,
        egress=egress,
    )
