"""Symbolic flow variables and the translation of formulas into z3 terms over them.

Encoding choices, for speed without losing exactness:

- A label family (a space and key, e.g. pod label ``app``) that is only ever compared with ``==``
  is a finite domain: the constants it is compared with, plus one fresh value per entity (two pods
  can both have a value outside the constants, and different ones). Only families that meet prefix,
  suffix, contains or a length test use z3 strings.
- Numbers (protocol, ports, ICMP, finite-domain indices) and addresses are bit-vectors, so a query
  without string families is pure bit-vector logic (bit-blasted: far faster than integer theory).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import z3  # type: ignore[import-untyped]

from calico2cilium.semantics.expr import (
    KINDS,
    PEER,
    SUBJECT,
    And,
    Attr,
    ClusterNamedPort,
    Const,
    Entity,
    Expr,
    HttpField,
    HttpRequest,
    HttpTest,
    IcmpCodeIs,
    IcmpTypeIs,
    InNet,
    IsApiserver,
    IsIPv6,
    IsKind,
    NamedPort,
    Network,
    Not,
    OnSubjectNode,
    Or,
    PortIn,
    Present,
    ProtoIs,
    StrShorter,
    StrTest,
    walk,
)
from calico2cilium.semantics.world import (
    ICMP,
    ICMPV6,
    IP,
    PORT_PROTOCOLS,
    TCP,
    Assumptions,
    Endpoint,
)
from calico2cilium.verify.smt.http import Cells
from calico2cilium.verify.smt.http import cells as http_cells

ENDPOINTS = (SUBJECT, PEER)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def valid_value(space: str, value: str) -> bool:
    """Whether Kubernetes lets this value exist (label values <= 63; DNS names for namespaces and
    service accounts)."""
    if space == "nsname":
        return len(value) <= 63 and bool(_DNS_LABEL.match(value))
    if space == "saname":
        return len(value) <= 253 and bool(_DNS_SUBDOMAIN.match(value))
    return len(value) <= 63 and bool(_LABEL_VALUE.match(value))


def _regex(space: str) -> Any:
    alnum = z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"))
    lower = z3.Union(z3.Range("a", "z"), z3.Range("0", "9"))
    if space == "nsname":
        middle = z3.Union(lower, z3.Re("-"))
        return z3.Concat(lower, z3.Option(z3.Concat(z3.Star(middle), lower)))
    if space == "saname":
        middle = z3.Union(lower, z3.Re("-"), z3.Re("."))
        return z3.Concat(lower, z3.Option(z3.Concat(z3.Star(middle), lower)))
    middle = z3.Union(alnum, z3.Re("-"), z3.Re("_"), z3.Re("."))
    return z3.Option(z3.Concat(alnum, z3.Option(z3.Concat(z3.Star(middle), alnum))))


def _junction(make: Any, terms: list[Any]) -> Any:
    """``z3.And``/``z3.Or`` through the C API: the Python wrappers coerce and re-check every
    argument, which dominated translation time on large policy sets."""
    ctx = terms[0].ctx
    array = (z3.Ast * len(terms))()
    for i, term in enumerate(terms):
        array[i] = term.as_ast()
    return z3.BoolRef(make(ctx.ref(), len(terms), array), ctx)


@dataclass
class _Family:
    """All attributes of one (space, key): how their values are encoded."""

    space: str
    key: str
    constants: list[str] = field(default_factory=list)
    strings: bool = False
    _known: set[str] = field(default_factory=set)

    def add(self, constant: str) -> None:
        if constant not in self._known:
            self._known.add(constant)
            self.constants.append(constant)


class SymbolicTerms:
    """Symbolic variables of one flow and the translation of formulas over them.

    ``prepare`` every formula that will be asked about first (so that the encoding of each label
    family is known), then ``term`` them.
    """

    def __init__(
        self, assumptions: Assumptions, host: Endpoint | None = None, own_ips: tuple[IP, ...] = ()
    ) -> None:
        """``host``: the subject is this host (a node; its ``ip`` is ignored, the address is
        symbolic) instead of a pod; ``own_ips``: addresses of that host, which no peer has."""
        self.assumptions = assumptions
        self.host = host
        self.own_ips = own_ips
        self.subject_kind = "pod" if host is None else "host"
        self.local: Any = None
        """The peer is a pod on the subject's node (``OnSubjectNode``); created when used."""
        self.families: dict[tuple[str, str], _Family] = {}
        self.attrs: dict[Attr, tuple[Any, Any]] = {}
        self.named: dict[tuple[Entity, str], tuple[Any, Any]] = {}
        self.cluster_named: dict[str, Any] = {}
        """Per port name: the number the cluster resolves it to on the flow's protocol (0: none)."""
        self.terms: dict[Expr, Any] = {}
        self._prepared: dict[int, Expr] = {}
        """Formulas scanned, by identity (kept alive here, so an identity is never reused; comparing
        by structure would cost more than scanning a copy again)."""
        self._domains: dict[tuple[str, str], tuple[int, list[str]]] = {}
        self._indices: dict[tuple[str, str], dict[str, int]] = {}
        self._attr_facts: dict[Attr, list[Any]] = {}
        self._pair_facts: dict[tuple[Attr, Attr], Any] = {}
        self.entities: set[Entity] = set(ENDPOINTS)
        self.kind = {PEER: z3.BitVec("peer_kind", 3)}
        self.apiserver = {PEER: z3.Bool("peer_apiserver")}
        self.ip = {e: z3.BitVec(f"{e}_ip", 128) for e in ENDPOINTS}
        self.ipv6 = z3.Bool("ipv6")
        self.proto = z3.BitVec("protocol", 8)
        self.port = {"dst": z3.BitVec("dst_port", 16), "src": z3.BitVec("src_port", 16)}
        self.icmp_type = z3.BitVec("icmp_type", 8)
        self.icmp_code = z3.BitVec("icmp_code", 8)
        self._http_vars: tuple[Any, dict[str, Any]] | None = None
        self._http_atoms: dict[str, list[HttpTest]] = {"method": [], "path": []}
        self._http_cells: dict[str, Cells] = {}
        self.http_used = False
        """Whether any formula tests HTTP requests (only then do their facts join the query)."""

    @staticmethod
    def _local_var() -> Any:
        return z3.Bool("peer_on_subject_node")

    @property
    def kind_var(self) -> Any:
        return self.kind[PEER]

    @staticmethod
    def kind_value(kind: str) -> int:
        return [str(k) for k in KINDS].index(kind)

    # --- families ---------------------------------------------------------------------------

    def prepare(self, exprs: Iterable[Expr]) -> None:
        """Scan formulas for the label families they use and how (sub-formulas already scanned,
        by this or an earlier call, are skipped)."""
        for expr in exprs:
            for node in walk(expr, self._prepared):
                if not isinstance(node, And | Or | Not):
                    self._prepare_atom(node)

    def _prepare_atom(self, node: Expr) -> None:
        if isinstance(node, HttpRequest | HttpTest):
            self.http_used = True
        if isinstance(node, HttpTest) and node not in self._http_atoms[node.field]:
            self._http_atoms[node.field].append(node)
            self._http_cells.pop(node.field, None)
        if isinstance(node, StrTest | StrShorter | Present):
            family = self._family(node.attr)
            if isinstance(node, StrShorter) or (isinstance(node, StrTest) and node.op != "eq"):
                family.strings = True
            elif isinstance(node, StrTest):
                family.add(node.value)
            if node.attr.entity.startswith("ns:"):
                self._family(Attr(SUBJECT, "nsname")).add(node.attr.entity[3:])

    def _family(self, attr: Attr) -> _Family:
        key = (attr.space, attr.key)
        family = self.families.get(key)
        if family is None:
            family = self.families[key] = _Family(attr.space, attr.key)
        return family

    def _domain(self, family: _Family) -> list[str]:
        """The constants a finite-domain family can take (invalid Kubernetes values cannot occur)."""
        cached = self._domains.get((family.space, family.key))
        if cached is not None and cached[0] == len(family.constants):
            return cached[1]
        if self.assumptions.valid_k8s_values:
            domain = [c for c in family.constants if valid_value(family.space, c)]
        else:
            domain = list(family.constants)
        self._domains[(family.space, family.key)] = (len(family.constants), domain)
        self._indices[(family.space, family.key)] = {c: i for i, c in enumerate(domain)}
        return domain

    def _attr(self, attr: Attr) -> tuple[Any, Any]:
        found = self.attrs.get(attr)
        if found is None:
            name = f"{attr.entity}.{attr.space}.{attr.key}"
            family = self._family(attr)
            has = z3.Bool(f"has:{name}")
            value = z3.String(f"val:{name}") if family.strings else z3.BitVec(f"idx:{name}", 16)
            found = self.attrs[attr] = (has, value)
            if attr.entity not in ENDPOINTS:
                self.entities.add(attr.entity)
        return found

    def _has(self, attr: Attr) -> Any:
        if attr.space in ("nsname", "saname"):
            return self._term(IsKind(attr.entity, "pod")) if attr.entity in ENDPOINTS else z3.BoolVal(False)
        return self._attr(attr)[0]

    # --- translation --------------------------------------------------------------------------

    def term(self, expr: Expr) -> Any:
        return self._term(expr)

    def _term(self, expr: Expr) -> Any:
        """Translate iteratively (children first): decision chains nest as deep as there are rules."""
        found = self.terms.get(expr)
        if found is not None:
            return found
        stack: list[tuple[Expr, bool]] = [(expr, False)]
        while stack:
            node, ready = stack.pop()
            if node in self.terms:
                continue
            if isinstance(node, And | Or | Not) and not ready:
                stack.append((node, True))
                children = (node.arg,) if isinstance(node, Not) else node.args
                stack.extend((child, False) for child in children if child not in self.terms)
                continue
            self.terms[node] = self._translate(node)
        return self.terms[expr]

    def _translate(self, expr: Expr) -> Any:
        if isinstance(expr, Const):
            return z3.BoolVal(expr.value)
        if isinstance(expr, And):
            return _junction(z3.Z3_mk_and, [self.terms[a] for a in expr.args])
        if isinstance(expr, Or):
            return _junction(z3.Z3_mk_or, [self.terms[a] for a in expr.args])
        if isinstance(expr, Not):
            term = self.terms[expr.arg]
            return z3.BoolRef(z3.Z3_mk_not(term.ctx.ref(), term.as_ast()), term.ctx)
        if isinstance(expr, Present):
            return self._has(expr.attr)
        if isinstance(expr, StrTest):
            return z3.And(self._has(expr.attr), self._str_test(expr))
        if isinstance(expr, StrShorter):
            value = self._attr(expr.attr)[1]
            return z3.And(self._has(expr.attr), z3.Length(value) < expr.n)
        if isinstance(expr, IsKind):
            if expr.entity == SUBJECT:
                return z3.BoolVal(expr.kind == self.subject_kind)
            if expr.entity not in self.kind:
                return z3.BoolVal(False)
            return self.kind[expr.entity] == KINDS.index(expr.kind)
        if isinstance(expr, IsApiserver):
            return self.apiserver.get(expr.entity, z3.BoolVal(False))
        if isinstance(expr, InNet):
            return (
                self._in_net(self.ip[expr.entity], expr.net) if expr.entity in self.ip else z3.BoolVal(False)
            )
        if isinstance(expr, IsIPv6):
            return self.ipv6
        if isinstance(expr, OnSubjectNode):
            if self.host is None:
                return z3.BoolVal(False)
            if self.local is None:
                self.local = self._local_var()
            return self.local
        if isinstance(expr, ProtoIs):
            return self.proto == expr.number
        if isinstance(expr, PortIn):
            port = self.port[expr.side]
            return z3.And(self._port_proto(), z3.UGE(port, expr.lo), z3.ULE(port, expr.hi))
        if isinstance(expr, IcmpTypeIs):
            return z3.And(z3.Or(self.proto == ICMP, self.proto == ICMPV6), self.icmp_type == expr.value)
        if isinstance(expr, IcmpCodeIs):
            return z3.And(z3.Or(self.proto == ICMP, self.proto == ICMPV6), self.icmp_code == expr.value)
        if isinstance(expr, ClusterNamedPort):
            resolved = self._cluster_named(expr.name)
            return z3.And(resolved != 0, resolved == self.port[expr.side], self._port_proto())
        if isinstance(expr, NamedPort):
            number, proto = self._named(expr.entity, expr.name)
            return z3.And(
                number != 0, number == self.port[expr.side], proto == self.proto, self._port_proto()
            )
        if isinstance(expr, HttpRequest):
            return z3.And(self.http, self.proto == TCP)
        if isinstance(expr, HttpTest):
            found = self.cells(expr.field)
            index = found.atoms.index(expr)
            cell = self.http_cell[expr.field]
            inside = [cell == i for i, member in enumerate(found.members) if index in member]
            return z3.And(self.http, self.proto == TCP, z3.Or(*inside) if inside else z3.BoolVal(False))
        raise TypeError(f"unknown formula node {type(expr).__name__}")

    @property
    def http(self) -> Any:
        """Whether the flow carries an HTTP request (declared only for queries that test one)."""
        return self._http()[0]

    @property
    def http_cell(self) -> dict[str, Any]:
        """The cell (``verify/smt/http.py``) of each HTTP field."""
        return self._http()[1]

    def _http(self) -> tuple[Any, dict[str, Any]]:
        if self._http_vars is None:
            cells = {"method": z3.Int("http_method_cell"), "path": z3.Int("http_path_cell")}
            self._http_vars = (z3.Bool("http_request"), cells)
        return self._http_vars

    def cells(self, field: HttpField) -> Cells:
        """The cells of an HTTP field for the atoms ``prepare`` saw (``verify/smt/http.py``)."""
        found = self._http_cells.get(field)
        if found is None:
            atoms = tuple(sorted(self._http_atoms[field], key=lambda a: (a.op, a.value)))
            found = self._http_cells[field] = http_cells(field, atoms)
        return found

    def _port_proto(self) -> Any:
        return z3.Or(*(self.proto == p for p in sorted(PORT_PROTOCOLS)))

    def _str_test(self, expr: StrTest) -> Any:
        family = self._family(expr.attr)
        if expr.attr.space in ("nsname", "saname") and expr.attr.entity not in ENDPOINTS:
            return z3.BoolVal(False)
        value = self._attr(expr.attr)[1]
        if family.strings:
            operand = z3.StringVal(expr.value)
            if expr.op == "eq":
                return value == operand
            if expr.op == "prefix":
                return z3.PrefixOf(operand, value)
            if expr.op == "suffix":
                return z3.SuffixOf(operand, value)
            return z3.Contains(value, operand)
        self._domain(family)
        index = self._indices[(family.space, family.key)].get(expr.value)
        if index is None:
            return z3.BoolVal(False)
        return value == index

    def _named(self, entity: Entity, name: str) -> tuple[Any, Any]:
        found = self.named.get((entity, name))
        if found is None:
            found = self.named[(entity, name)] = (
                z3.BitVec(f"np:{entity}:{name}", 16),
                z3.BitVec(f"npproto:{entity}:{name}", 8),
            )
        return found

    def _cluster_named(self, name: str) -> Any:
        found = self.cluster_named.get(name)
        if found is None:
            found = self.cluster_named[name] = z3.BitVec(f"cnp:{name}", 16)
        return found

    @staticmethod
    def _in_net(ip: Any, net: Network) -> Any:
        width = 32 if net.version == 4 else 128
        family = z3.Not(z3.Bool("ipv6")) if net.version == 4 else z3.Bool("ipv6")
        plen = net.prefixlen
        if plen == 0:
            return family
        bits = int(net.network_address) >> (width - plen)
        return z3.And(family, z3.Extract(width - 1, width - plen, ip) == bits)
