"""Facts every flow of the world satisfies, as z3 constraints added to every query.

Only pods have labels; two pods of one namespace see the same namespace labels (of one service
account, the same service-account labels); addresses come from the stated CIDRs (pods from pod
CIDRs, nodes from node CIDRs, the outside world from neither, nobody from service CIDRs); ports
exist for TCP/UDP/SCTP only, ICMP type/code for ICMP only, ICMP is IPv4 and ICMPv6 IPv6; an HTTP
request's method is a token and its path visible ASCII (RFC 9110 5.6.2 ``tchar``; RFC 9112 3.2
request-target and RFC 9113 8.2.1: no whitespace or control characters in a request line or a
``:path``; HTTP proxies refuse such requests).
"""

from __future__ import annotations

import ipaddress
from typing import Any

import z3  # type: ignore[import-untyped]

from calico2cilium.semantics.expr import KINDS, PEER, SUBJECT, Attr, Entity, Network, Space, StrTest
from calico2cilium.semantics.protocols import container_port_name
from calico2cilium.semantics.world import ICMP, ICMPV6, PORT_PROTOCOLS
from calico2cilium.verify.smt.terms import ENDPOINTS, SymbolicTerms, _Family, _regex


class WorldFacts(SymbolicTerms):
    _static: list[Any] | None = None
    _named_facts: dict[tuple[str, str], list[Any]] | None = None

    def axioms(self) -> list[Any]:
        """Facts every flow satisfies (see the module docstring); call after all ``term`` calls.
        The facts that do not depend on the formulas are built once per symbolic flow."""
        if self._static is None:
            self._static = self._static_axioms()
        is_pod = self.kind[PEER] == KINDS.index("pod")
        cluster = self._cluster_named_axioms()  # first: it may create named-port variables
        out = [
            *self._static,
            *self._own_address_axioms(),
            *cluster,
            *self._named_axioms(),
            *self._attr_axioms(is_pod),
            *self._http_axioms(),
        ]
        if self.local is not None:
            out.append(z3.Implies(self.local, is_pod))
        return out

    def _static_axioms(self) -> list[Any]:
        a = self.assumptions
        out: list[Any] = []
        families = a.families
        if families == (4,):
            out.append(z3.Not(self.ipv6))
        elif families == (6,):
            out.append(self.ipv6)
        peer_kind = self.kind[PEER]
        out.append(z3.ULT(peer_kind, len(KINDS)))
        is_pod = peer_kind == KINDS.index("pod")
        out.extend(self._address_axioms(is_pod))
        out.append(self.ip[SUBJECT] != self.ip[PEER])
        if self.host is not None:
            # A host subject is never its own peer (its known addresses: ``_own_address_axioms``).
            out.append(peer_kind != KINDS.index("host"))
        apiserver = self.apiserver[PEER]
        nets = a.apiserver_nets
        if nets is None:
            out.append(z3.Implies(is_pod, z3.Not(apiserver)))
        else:
            inside = z3.Or(*(self._in_net(self.ip[PEER], n) for n in nets)) if nets else z3.BoolVal(False)
            out.append(apiserver == z3.And(z3.Not(is_pod), inside))
        out.extend(self._l4_axioms())
        return out

    def _own_address_axioms(self) -> list[Any]:
        """A host subject's known addresses are nobody else's (apart from ``_static``: the views of
        one shared flow at several hosts, ``SymbolicFlow.at_host``, share the rest)."""
        own = [self._in_net(self.ip[PEER], ipaddress.ip_network(ip)) for ip in self.own_ips]
        return [z3.Not(z3.Or(*own))] if own else []

    def _http_axioms(self) -> list[Any]:
        """Each HTTP field is in one of its cells (``verify/smt/http.py``; the domains there)."""
        if not self.http_used:
            return []
        out = []
        for field in ("method", "path"):
            count = len(self.cells(field).members)
            cell = self.http_cell[field]
            out.append(z3.And(cell >= 0, cell < count))
        return out

    def _address_axioms(self, peer_is_pod: Any) -> list[Any]:
        a = self.assumptions
        out = []
        for entity in ENDPOINTS:
            ip = self.ip[entity]
            out.append(z3.Implies(z3.Not(self.ipv6), z3.Extract(127, 32, ip) == 0))
            for n in a.service_nets:
                out.append(z3.Not(self._in_net(ip, n)))

        def within(ip: Any, nets: tuple[Network, ...]) -> Any:
            # Only families for which CIDRs are given are constrained.
            parts = []
            for version in (4, 6):
                chosen = [n for n in nets if n.version == version]
                if chosen:
                    fam = self.ipv6 if version == 6 else z3.Not(self.ipv6)
                    parts.append(z3.Implies(fam, z3.Or(*(self._in_net(ip, n) for n in chosen))))
            return z3.And(*parts) if parts else z3.BoolVal(True)

        pods, nodes = a.pod_nets, a.node_nets
        peer_ip, kind = self.ip[PEER], self.kind[PEER]
        out.append(within(self.ip[SUBJECT], pods if self.host is None else nodes))
        out.append(z3.Implies(peer_is_pod, within(peer_ip, pods)))
        is_node = z3.Or(kind == KINDS.index("host"), kind == KINDS.index("remote-node"))
        out.append(z3.Implies(is_node, within(peer_ip, nodes)))
        outside = [z3.Not(self._in_net(peer_ip, n)) for n in (*pods, *nodes)]
        out.append(z3.Implies(kind == KINDS.index("world"), z3.And(*outside)))
        return out

    def _l4_axioms(self) -> list[Any]:
        proto = self.proto
        out = [proto != 0]
        out.append(z3.Implies(proto == ICMP, z3.Not(self.ipv6)))
        out.append(z3.Implies(proto == ICMPV6, self.ipv6))
        has_ports = self._port_proto()
        for port in self.port.values():
            out.append(z3.If(has_ports, port != 0, port == 0))
        is_icmp = z3.Or(proto == ICMP, proto == ICMPV6)
        for value in (self.icmp_type, self.icmp_code):
            out.append(z3.Implies(z3.Not(is_icmp), value == 0))
        return out

    def _named_axioms(self) -> list[Any]:
        if self._named_facts is None:
            self._named_facts = {}
        out: list[Any] = []
        for key, (number, nproto) in self.named.items():
            facts = self._named_facts.get(key)
            if facts is None:
                entity, name = key
                facts = self._named_facts[key] = [z3.Or(*(nproto == p for p in sorted(PORT_PROTOCOLS)))]
                if entity != SUBJECT:
                    facts.append(z3.Implies(self.kind[PEER] != KINDS.index("pod"), number == 0))
                elif self.host is not None:
                    facts.append(number == 0)  # a host subject declares no pod ports
                if not container_port_name(name):
                    facts.append(number == 0)
            out.extend(facts)
        return out

    def _cluster_named_axioms(self) -> list[Any]:
        """The flow's pods are pods of the cluster: where the cluster resolves a name to one number
        on the flow's protocol, a pod of the flow declaring the name on that protocol has it; a
        name no container port can have resolves to nothing."""
        out: list[Any] = []
        for name, resolved in list(self.cluster_named.items()):
            if not container_port_name(name):
                out.append(resolved == 0)
                continue
            for entity in ENDPOINTS:
                number, nproto = self._named(entity, name)
                declares = z3.And(number != 0, nproto == self.proto)
                out.append(z3.Implies(z3.And(resolved != 0, declares), number == resolved))
        return out

    def _others(self, family: _Family) -> int:
        return len(self._domain(family))

    def _attr_axioms(self, peer_is_pod: Any) -> list[Any]:
        out = self._consistency()  # first: it may create the name attributes it compares
        bound = len(self.entities)
        for attr, (has, value) in self.attrs.items():
            family = self._family(attr)
            facts = self._attr_facts.get(attr)
            if facts is None:
                facts = self._attr_facts[attr] = []
                if attr.entity == PEER and attr.space in ("pod", "ns", "sa"):
                    facts.append(z3.Implies(z3.Not(peer_is_pod), z3.Not(has)))
                if attr.entity == SUBJECT and self.host is not None and attr.space in ("pod", "ns", "sa"):
                    facts.append(z3.Not(has))  # a host subject has no pod facts
                if family.strings and self.assumptions.valid_k8s_values:
                    limit = 253 if attr.space == "saname" else 63
                    facts.append(z3.Length(value) <= limit)
                    facts.append(z3.InRe(value, _regex(attr.space)))
            out.extend(facts)
            if not family.strings:
                out.append(z3.ULT(value, self._others(family) + bound))
        return out

    def _same(self, a: Attr, b: Attr) -> Any:
        (has_a, val_a), (has_b, val_b) = self._attr(a), self._attr(b)
        return z3.And(has_a == has_b, z3.Implies(has_a, val_a == val_b))

    def _same_name(self, space: Space, a: Entity, b: Entity) -> Any:
        """Two entities have the same namespace (or service-account) name."""
        if a.startswith("ns:") or b.startswith("ns:"):
            named, other = (a, b) if a.startswith("ns:") else (b, a)
            if other.startswith("ns:"):
                return z3.BoolVal(named == other)
            return z3.And(
                self._has(Attr(other, "nsname")),
                self._str_test(StrTest(Attr(other, "nsname"), "eq", named[3:])),
            )
        return z3.And(
            self._has(Attr(a, space)),
            self._has(Attr(b, space)),
            self._attr(Attr(a, space))[1] == self._attr(Attr(b, space))[1],
        )

    def _consistency(self) -> list[Any]:
        """Two pods of one namespace see the same namespace labels; of one service account, the same
        service-account labels (and a NetworkSet's namespace is a real namespace)."""
        out = []
        by_family: dict[tuple[str, str], list[Attr]] = {}
        for attr in list(self.attrs):
            if attr.space in ("ns", "sa"):
                by_family.setdefault((attr.space, attr.key), []).append(attr)
        for (space, _), attrs in by_family.items():
            for i, a in enumerate(attrs):
                for b in attrs[i + 1 :]:
                    fact = self._pair_facts.get((a, b))
                    if fact is None:
                        if space == "sa" and (a.entity.startswith("ns:") or b.entity.startswith("ns:")):
                            continue
                        same = self._same_name("nsname", a.entity, b.entity)
                        if space == "sa":
                            same = z3.And(same, self._same_name("saname", a.entity, b.entity))
                        fact = self._pair_facts[(a, b)] = z3.Implies(same, self._same(a, b))
                    out.append(fact)
        return out
