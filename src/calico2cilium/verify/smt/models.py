"""Back from z3: a satisfying model as a concrete flow; and a concrete flow pinned as constraints."""

from __future__ import annotations

import copy
import ipaddress
from dataclasses import replace
from typing import Any

import z3  # type: ignore[import-untyped]

from calico2cilium.semantics.expr import KINDS, PEER, SUBJECT, Attr, Entity, OnSubjectNode
from calico2cilium.semantics.world import IP, Direction, Endpoint, Flow
from calico2cilium.verify.smt.axioms import WorldFacts
from calico2cilium.verify.smt.terms import ENDPOINTS


class SymbolicFlow(WorldFacts):
    """The symbolic flow: variables, translation, world facts, and models back to flows."""

    def at_host(self, host: Endpoint, own_ips: tuple[IP, ...]) -> SymbolicFlow:
        """This host subject's symbolic flow at another host subject, sharing the encoding of label
        families and the translated terms (one translation serves every node; ``prepare`` every
        formula of every node first, as for the pod partitions).

        Translation never depends on which host the subject is (only on its being a host: its kind,
        no pod facts); the subject's own addresses enter only the world facts (``axioms``, rebuilt
        here) and the counterexample flows."""
        if self.host is None:
            raise ValueError("at_host: the shared flow must have a host subject")
        view = copy.copy(self)
        view.host, view.own_ips = host, own_ips
        if self._static is None:  # built once, shared by the views (no own addresses in it)
            self._static = self._static_axioms()
        view._static = self._static
        # "The peer is on the subject's node" may be translated already (by another view): then its
        # variable is in the terms, and its world fact must join this view's queries too.
        view.local = self._local_var() if OnSubjectNode() in self.terms else None
        return view

    def _value(self, model: Any, attr: Attr) -> str | None:
        if attr.space in ("nsname", "saname"):
            if attr.entity == PEER and model.eval(self.kind[PEER], model_completion=True).as_long() != 0:
                return None
        else:
            if not z3.is_true(model.eval(self._attr(attr)[0], model_completion=True)):
                return None
        value = model.eval(self._attr(attr)[1], model_completion=True)
        family = self._family(attr)
        if family.strings:
            return str(value.as_string())
        index = value.as_long()
        domain = self._domain(family)
        if index < len(domain):
            return str(domain[index])
        return _fresh(attr.space, index - len(domain), family.constants)

    def flow(self, model: Any, direction: Direction) -> Flow:
        """The concrete flow a satisfying model describes."""
        kind = KINDS[model.eval(self.kind[PEER], model_completion=True).as_long()]
        ipv6 = z3.is_true(model.eval(self.ipv6, model_completion=True))
        proto = model.eval(self.proto, model_completion=True).as_long()
        endpoints = {
            e: self._endpoint(model, e, self.subject_kind if e == SUBJECT else kind, ipv6) for e in ENDPOINTS
        }
        if self.host is not None:
            endpoints[SUBJECT] = replace(self.host, ip=endpoints[SUBJECT].ip)
            if self.local is not None and z3.is_true(model.eval(self.local, model_completion=True)):
                endpoints[PEER] = replace(endpoints[PEER], node=self.host.name)
        namespaces: dict[str, dict[str, str]] = {}
        for attr in self.attrs:
            if attr.entity.startswith("ns:") and attr.space == "ns":
                value = self._value(model, attr)
                if value is not None:
                    namespaces.setdefault(attr.entity[3:], {})[attr.key] = value

        def number(var: Any) -> int:
            return int(model.eval(var, model_completion=True).as_long())

        method = path = None
        if self.http_used and proto == 6 and z3.is_true(model.eval(self.http, model_completion=True)):
            method = self.cells("method").witnesses[number(self.http_cell["method"])]
            path = self.cells("path").witnesses[number(self.http_cell["path"])]

        return Flow(
            direction=direction,
            subject=endpoints[SUBJECT],
            peer=endpoints[PEER],
            protocol=proto,
            dst_port=number(self.port["dst"]),
            src_port=number(self.port["src"]),
            icmp_type=number(self.icmp_type),
            icmp_code=number(self.icmp_code),
            namespaces=namespaces,
            cluster_named_ports=self._cluster_ports(model, proto),
            http_method=method,
            http_path=path,
        )

    def _cluster_ports(self, model: Any, proto: int) -> dict[tuple[str, int], int] | None:
        if not self.cluster_named:
            return None
        out = {}
        for name, resolved in self.cluster_named.items():
            value = int(model.eval(resolved, model_completion=True).as_long())
            if value:
                out[(name, proto)] = value
        return out

    def _endpoint(self, model: Any, entity: Entity, kind: str, ipv6: bool) -> Endpoint:
        raw = model.eval(self.ip[entity], model_completion=True).as_long()
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = (
            ipaddress.IPv6Address(raw) if ipv6 else ipaddress.IPv4Address(raw & 0xFFFFFFFF)
        )
        if kind != "pod":
            apiserver = entity == PEER and z3.is_true(model.eval(self.apiserver[PEER], model_completion=True))
            return Endpoint(kind, ip, apiserver=apiserver)  # type: ignore[arg-type]
        spaces: dict[str, dict[str, str]] = {"pod": {}, "ns": {}, "sa": {}}
        for attr in self.attrs:
            if attr.entity == entity and attr.space in spaces:
                value = self._value(model, attr)
                if value is not None:
                    spaces[attr.space][attr.key] = value
        ns_attr, sa_attr = Attr(entity, "nsname"), Attr(entity, "saname")
        namespace = (self._value(model, ns_attr) if ns_attr in self.attrs else None) or "default"
        account = (self._value(model, sa_attr) if sa_attr in self.attrs else None) or "default"
        ports = {}
        for (owner, name), (num, nproto) in self.named.items():
            port = model.eval(num, model_completion=True).as_long()
            if owner == entity and port:
                ports[name] = (int(model.eval(nproto, model_completion=True).as_long()), int(port))
        return Endpoint(
            "pod",
            ip,
            namespace=namespace,
            labels=spaces["pod"],
            namespace_labels=spaces["ns"],
            service_account=account,
            service_account_labels=spaces["sa"],
            named_ports=ports,
            name=f"{entity}-pod",
        )


def _fresh(space: str, index: int, taken: list[str]) -> str:
    """A valid value different from every constant: the model's "some other value"."""
    base = {"nsname": "other-ns", "saname": "other-sa"}.get(space, "other")
    n = index
    while True:
        candidate = f"{base}-{n}"
        if candidate not in taken:
            return candidate
        n += len(ENDPOINTS) + 1


def pin(sym: SymbolicFlow, flow: Flow) -> list[Any]:
    """Constraints fixing every symbolic variable to the values of ``flow`` (for testing that the
    symbolic and concrete interpreters agree). Call after all ``term`` calls."""
    from calico2cilium.semantics.expr import OnSubjectNode
    from calico2cilium.semantics.world import attr_value, evaluate

    out: list[Any] = [sym.ipv6 == flow.ipv6, sym.kind[PEER] == KINDS.index(flow.peer.kind)]
    if sym.local is not None:
        out.append(sym.local == evaluate(OnSubjectNode(), flow))
    out.append(sym.apiserver[PEER] == flow.peer.apiserver)
    for entity in ENDPOINTS:
        endpoint = flow.subject if entity == SUBJECT else flow.peer
        out.append(sym.ip[entity] == int(endpoint.ip))
    out.append(sym.proto == flow.protocol)
    out.extend([sym.port["dst"] == flow.dst_port, sym.port["src"] == flow.src_port])
    out.extend([sym.icmp_type == flow.icmp_type, sym.icmp_code == flow.icmp_code])
    if sym.http_used:
        out.append(sym.http == (flow.http_method is not None and flow.http_path is not None))
    if sym.http_used and flow.http_method is not None and flow.http_path is not None:
        for field, value in (("method", flow.http_method), ("path", flow.http_path)):
            cell = sym.cells(field).of(value)  # type: ignore[arg-type]
            out.append(z3.BoolVal(False) if cell is None else sym.http_cell[field] == cell)
    others: dict[tuple[str, str], list[str]] = {}
    for attr, (has, value) in list(sym.attrs.items()):
        actual = attr_value(flow, attr)
        if attr.space not in ("nsname", "saname"):
            out.append(has == (actual is not None))
        if actual is None:
            continue
        family = sym._family(attr)
        if family.strings:
            out.append(value == z3.StringVal(actual))
            continue
        domain = sym._domain(family)
        if actual in domain:
            out.append(value == domain.index(actual))
        else:
            seen = others.setdefault((attr.space, attr.key), [])
            if actual not in seen:
                seen.append(actual)
            out.append(value == len(domain) + seen.index(actual))
    for name, resolved in sym.cluster_named.items():
        out.append(resolved == (flow.cluster_named_port(name) or 0))
    for (entity, name), (number, nproto) in sym.named.items():
        endpoint = flow.subject if entity == SUBJECT else flow.peer
        declared = endpoint.named_ports.get(name) if endpoint.kind == "pod" else None
        if declared is None:
            out.extend([number == 0, nproto == 6])
        else:
            out.extend([number == declared[1], nproto == declared[0]])
    return out
