"""Calico rule matching: one rule of one policy, as a formula over the flow.

Sources: docs/reference/semantics.md §1.3 (selectors), 1.4 (rules, "How the fields combine into selectors", from
calico ``updateprocessors/rules.go`` ``getEndpointSelector``), 1.6 (network sets); felix
``rule_scanner.go`` for selectors matching by IP and named ports.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from calico2cilium.calico.selector import (
    All,
    Contains,
    EndsWith,
    Eq,
    Global,
    Has,
    In,
    SelectorError,
    StartsWith,
    parse,
)
from calico2cilium.calico.selector import And as SAnd
from calico2cilium.calico.selector import Not as SNot
from calico2cilium.calico.selector import Or as SOr
from calico2cilium.calico.selector import Selector as CalicoSelector
from calico2cilium.facts.cluster import Services
from calico2cilium.semantics.calico_sets import (
    Atom,
    LabelledSet,
    SetIndex,
    View,
    group_sets,
    set_view,
)
from calico2cilium.semantics.expr import (
    FALSE,
    PEER,
    SUBJECT,
    TRUE,
    Entity,
    Expr,
    HttpRequest,
    HttpTest,
    IcmpCodeIs,
    IcmpTypeIs,
    InNet,
    IsIPv6,
    IsKind,
    NamedPort,
    PortSide,
    ProtoIs,
    and_,
    not_,
    or_,
    port_range,
)
from calico2cilium.semantics.protocols import calico_protocol
from calico2cilium.semantics.services import Unresolvable, service_endpoints
from calico2cilium.semantics.views import (
    CALICO_NAMESPACE,
    CALICO_SERVICE_ACCOUNT,
    PCNS,
    PCSA,
    Unsupported,
    calico_pod_label,
)
from calico2cilium.semantics.world import Direction

AllMeans = Literal["all", "namespaced", "service-account"]


@dataclass(frozen=True)
class Part:
    """One selector of a composite: its AST, the label prefix Calico adds (``pcns.``/``pcsa.``), and
    what its ``all()``/``global()`` were rewritten to (globalnetworkpolicyprocessor.go, rules.go)."""

    ast: CalicoSelector
    prefix: str = ""
    all_means: AllMeans = "all"
    global_means_no_namespace: bool = False


Composite = tuple[Part, ...]
"""Parts ANDed together; the empty composite means "no selector"."""


def parse_selector(value: Any) -> CalicoSelector:
    if isinstance(value, CalicoSelector):
        return value
    try:
        return parse(str(value or ""))
    except SelectorError as exc:
        raise Unsupported(f"invalid selector {value!r}: {exc}") from exc


def evaluate_part(part: Part, view: View) -> Expr:
    def rec(node: CalicoSelector) -> Expr:
        if isinstance(node, All):
            if part.all_means == "namespaced":
                return view(CALICO_NAMESPACE).has()
            if part.all_means == "service-account":
                return view(CALICO_SERVICE_ACCOUNT).has()
            return TRUE
        if isinstance(node, Global):
            return not_(view(CALICO_NAMESPACE).has()) if part.global_means_no_namespace else TRUE
        if isinstance(node, Has):
            return view(part.prefix + node.key).has()
        if isinstance(node, Eq):
            return view(part.prefix + node.key).eq(node.value)
        if isinstance(node, In):
            label = view(part.prefix + node.key)
            return or_(*(label.eq(v) for v in sorted(node.values)))
        if isinstance(node, Contains | StartsWith | EndsWith):
            op = {Contains: "contains", StartsWith: "prefix", EndsWith: "suffix"}[type(node)]
            return view(part.prefix + node.key).test(op, node.value)  # type: ignore[arg-type]
        if isinstance(node, SNot):
            return not_(rec(node.operand))
        if isinstance(node, SAnd):
            return and_(*(rec(o) for o in node.operands))
        if isinstance(node, SOr):
            return or_(*(rec(o) for o in node.operands))
        raise Unsupported(f"selector node {type(node).__name__} is not modelled")

    return rec(part.ast)


def composite_on(parts: Composite, view: View) -> Expr:
    return and_(*(evaluate_part(p, view) for p in parts))


@dataclass
class RuleContext:
    """What a rule's meaning depends on besides the rule itself."""

    direction: Direction
    namespace: str | None
    """The policy's namespace (NetworkPolicy), ``None`` for a GlobalNetworkPolicy."""
    sets: list[LabelledSet] = field(default_factory=list)
    services: Services | None = None
    """The Service objects taken as given (``Assumptions.services``)."""
    families: tuple[int, ...] = (4, 6)
    """The IP versions that carry traffic (``Assumptions.families``)."""
    index: SetIndex | None = None
    """``SetIndex(group_sets(sets))``, when the caller made it once for many rules (``None``: made
    here on first use)."""

    def set_index(self) -> SetIndex:
        if self.index is None:
            self.index = SetIndex(group_sets(self.sets))
        return self.index


def _atoms(parts: Composite) -> list[Atom]:
    """What every match of the composite requires, read off its conjuncts: ``k == v`` and
    ``k in {...}`` a value of the label, ``has(k)`` and an ``all()`` rewritten to a ``has`` its
    presence (``evaluate_part``). A set lacking one makes that conjunct, and so the composite, false."""
    out: list[Atom] = []

    def rec(node: CalicoSelector, part: Part) -> None:
        if isinstance(node, SAnd):
            for operand in node.operands:
                rec(operand, part)
        elif isinstance(node, Has):
            out.append((part.prefix + node.key, None))
        elif isinstance(node, Eq):
            out.append((part.prefix + node.key, frozenset((node.value,))))
        elif isinstance(node, In):
            out.append((part.prefix + node.key, frozenset(node.values)))
        elif isinstance(node, All) and part.all_means != "all":
            key = CALICO_NAMESPACE if part.all_means == "namespaced" else CALICO_SERVICE_ACCOUNT
            out.append((key, None))

    for part in parts:
        rec(part.ast, part)
    return out


def matches_by_ip(entity: Entity, parts: Composite, ctx: RuleContext) -> Expr:
    """A rule selector matches *addresses*: those of matching pods, of matching host endpoints
    (``expectedIPs``) and of matching network sets (``nets``) (docs/reference/semantics.md §1.4; rule_scanner.go).
    So a network set that contains a pod's address makes the selector match that pod's traffic."""
    index = ctx.set_index()
    remembered = index.memo.get((entity, parts)) if index.indexed else None
    if remembered is not None:
        return remembered
    out = [and_(IsKind(entity, "pod"), composite_on(parts, lambda key: calico_pod_label(entity, key)))]
    for number in index.candidates(_atoms(parts)):
        chosen = composite_on(parts, index.views[number])
        if chosen != FALSE:
            nets = index.groups[number][1]
            out.append(and_(chosen, or_(*(InNet(entity, n) for n in nets))))
    result = or_(*out)
    if index.indexed:
        index.memo[(entity, parts)] = result
    return result


def _named_ports(
    entity: Entity, names: list[str], side: PortSide, parts: Composite, ctx: RuleContext
) -> Expr:
    """Named ports resolve to the (address, port) pairs of endpoints declaring them, filtered by the
    rule side's positive selector (rule_scanner.go); pods and host endpoints declare ports."""
    pods = and_(
        IsKind(entity, "pod"),
        composite_on(parts, lambda key: calico_pod_label(entity, key)),
        or_(*(NamedPort(entity, n, side) for n in names)),
    )
    heps = []
    for labelled in ctx.sets:
        if labelled.host and composite_on(parts, set_view(labelled)) == TRUE:
            for name, proto, port in labelled.ports:
                if name in names:
                    at = or_(*(InNet(entity, n) for n in labelled.nets))
                    heps.append(and_(at, ProtoIs(proto), port_range(side, port, port)))
    return or_(pods, *heps)


def _port_items(values: list[Any]) -> tuple[list[tuple[int, int]], list[str]]:
    ranges, names = [], []
    for value in values:
        text = str(value)
        if isinstance(value, int) and not isinstance(value, bool):
            ranges.append((value, value))
        elif ":" in text and all(p.isdigit() for p in text.split(":", 1)):
            lo, hi = text.split(":", 1)
            ranges.append((int(lo), int(hi)))
        elif text.isdigit():
            ranges.append((int(text), int(text)))
        else:
            names.append(text)
    return ranges, names


def entity_match(er: Mapping[str, Any], entity: Entity, side: PortSide, ctx: RuleContext) -> Expr:
    """One side (``source`` or ``destination``) of a rule, for the endpoint at that side."""
    if er.get("services"):
        rest = {k: v for k, v in er.items() if k != "services"}
        return and_(_service_match(er["services"], entity, side, ctx), entity_match(rest, entity, side, ctx))
    terms: list[Expr] = []
    nets = [ipaddress.ip_network(str(n), strict=False) for n in er.get("nets") or []]
    if nets:
        terms.append(or_(*(InNet(entity, n) for n in nets)))
    not_nets = [ipaddress.ip_network(str(n), strict=False) for n in er.get("notNets") or []]
    if not_nets:
        terms.append(not_(or_(*(InNet(entity, n) for n in not_nets))))
    positive = positive_composite(er, ctx)
    not_selector = er.get("notSelector")
    if positive and not_selector:
        # With a positive selector N, felix folds notSelector X into it by labels: one IP set of
        # the endpoints and network sets matching (N) && !(X), not "N's addresses less X's"
        # (felix/calc/rule_scanner.go combineMatchesIfPossible; rule_scanner_test.go "positive
        # selectors should be combined with negative ones").
        positive = (*positive, Part(SNot(parse_selector(not_selector))))
        not_selector = None
    ranges, names = _port_items(list(er.get("ports") or []))
    numeric = or_(*(port_range(side, lo, hi) for lo, hi in ranges))
    selected = matches_by_ip(entity, positive, ctx) if positive else TRUE
    if names:
        named = _named_ports(entity, names, side, positive, ctx)
        terms.append(or_(and_(selected, numeric), named) if ranges else named)
    else:
        terms.append(and_(selected, numeric) if ranges else selected)
    not_ranges, not_names = _port_items(list(er.get("notPorts") or []))
    if not_ranges:
        terms.append(not_(or_(*(port_range(side, lo, hi) for lo, hi in not_ranges))))
    if not_names:
        # Negated named ports are filtered by the (combined) positive selector too (rule_scanner.go
        # namedPortsToIPSets(notDstNamedPorts, dstSel, ...)).
        terms.append(not_(_named_ports(entity, not_names, side, positive, ctx)))
    if not_selector:
        # No positive selector (a GlobalNetworkPolicy side with only notSelector): every address
        # outside X's IP set (NotSrcIPSetIDs/NotDstIPSetIDs rendered as negated IP-set matches).
        excluded = (Part(parse_selector(not_selector)),)
        terms.append(not_(matches_by_ip(entity, excluded, ctx)))
    return and_(*terms)


def _service_match(service: Mapping[str, Any], entity: Entity, side: PortSide, ctx: RuleContext) -> Expr:
    """A ``services`` match: the addresses of the Service's endpoints, with their ports in a
    destination (felix ``rule_scanner.go``, ``service_index.go``), resolved from the Service object
    taken as given (``semantics/services.py``): its namespace's pods carrying the selector's labels,
    on each (protocol, target port). Unknown Service: outside the proof."""
    name = str(service.get("name") or "")
    namespace = str(service.get("namespace") or ctx.namespace or "")
    destination = side == "dst"
    try:
        found = service_endpoints(
            ctx.services, name, namespace, with_ports=destination, families=ctx.families
        )
    except Unresolvable as err:
        raise Unsupported(f"services match: {err}") from err
    terms = [IsKind(entity, "pod"), calico_pod_label(entity, CALICO_NAMESPACE).eq(namespace)]
    if found.family is not None:  # a single-stack Service's endpoints: one family only
        terms.append(IsIPv6() if found.family == 6 else not_(IsIPv6()))
    terms.extend(calico_pod_label(entity, key).eq(value) for key, value in found.labels)
    if destination:
        numbered = [and_(ProtoIs(p), port_range(side, n, n)) for p, n in found.ports]
        named = [and_(ProtoIs(p), NamedPort(entity, n, side)) for p, n in found.named]
        terms.append(or_(*numbered, *named))
    return and_(*terms)


def positive_composite(er: Mapping[str, Any], ctx: RuleContext) -> Composite:
    """The positive selector N of a rule side (rules.go ``getEndpointSelector``): the namespace part
    (``pcns.``-prefixed namespaceSelector with ``all()``→namespaced and ``global()``→not namespaced,
    or the policy's own namespace), ANDed with the service-account and user selectors, but only
    when one of selector, serviceAccounts, notSelector or namespaceSelector is set. ``notSelector``
    itself is *not* namespace-scoped (where N exists, ``entity_match`` ANDs its negation into N),
    and a nets-only rule is not namespace-restricted."""
    ns_part: Part | None = None
    if er.get("namespaceSelector"):
        ns_part = Part(parse_selector(er["namespaceSelector"]), PCNS, "namespaced", True)
    elif ctx.namespace is not None:
        ns_part = Part(Eq(CALICO_NAMESPACE, ctx.namespace))
    sel: list[Part] = []
    accounts = er.get("serviceAccounts")
    if accounts:
        if accounts.get("selector"):
            sel.append(Part(parse_selector(accounts["selector"]), PCSA))
        if accounts.get("names"):
            sel.append(Part(In(CALICO_SERVICE_ACCOUNT, frozenset(str(n) for n in accounts["names"]))))
    if er.get("selector"):
        sel.append(Part(parse_selector(er["selector"])))
    if ns_part is not None and (sel or er.get("notSelector") or er.get("namespaceSelector")):
        return (ns_part, *sel)
    return tuple(sel)


def http_match(http: Mapping[str, Any]) -> Expr:
    """An ``http`` match as Dikastes evaluates it per request (Application Layer Policy; ingress
    only, which the validator enforces): methods ORed, ``*`` any method; paths ORed, compared with
    the request path cut at its first ``?`` and then its first ``#``, ``exact`` for equality and
    ``prefix`` as a string prefix; the two lists ANDed (projectcalico/calico
    ``app-policy/checker/match.go`` ``matchHTTP``). A request exists only on an HTTP flow over TCP;
    this models the cluster as enforcing ALP (the converter says so with C2C314)."""
    methods = [str(m) for m in http.get("methods") or []]
    method = TRUE if not methods or "*" in methods else or_(*(HttpTest("method", "eq", m) for m in methods))
    paths: list[Expr] = []
    for item in http.get("paths") or []:
        if item.get("exact") is not None:
            value = str(item["exact"])
            if "?" in value or "#" in value:
                paths.append(FALSE)  # the cut path never holds them
                continue
            paths.append(
                or_(
                    HttpTest("path", "eq", value),
                    HttpTest("path", "prefix", value + "?"),
                    HttpTest("path", "prefix", value + "#"),
                )
            )
        else:
            value = str(item.get("prefix") or "")
            if "?" in value or "#" in value:
                paths.append(FALSE)
                continue
            # With no '?' or '#' in the prefix, the cut path starts with it iff the path does.
            paths.append(HttpTest("path", "prefix", value))
    path = or_(*paths) if http.get("paths") else TRUE
    return and_(HttpRequest(), method, path)


def rule_match(rule: Mapping[str, Any], ctx: RuleContext) -> Expr:
    """Everything a rule requires, ANDed (docs/reference/semantics.md §1.4): IP version, protocol, ICMP, both sides."""
    terms: list[Expr] = []
    if rule.get("http") is not None:
        terms.append(http_match(rule["http"]))
    version = rule.get("ipVersion")
    if version is not None:
        terms.append(IsIPv6() if int(version) == 6 else not_(IsIPv6()))
    for key, negate in (("protocol", False), ("notProtocol", True)):
        if rule.get(key) is not None:
            number = calico_protocol(rule[key])
            if number is None:
                raise Unsupported(f"invalid protocol {rule[key]!r}")
            terms.append(not_(ProtoIs(number)) if negate else ProtoIs(number))
    for key, negate in (("icmp", False), ("notICMP", True)):
        icmp = rule.get(key)
        if icmp:
            parts: list[Expr] = []
            if icmp.get("type") is not None:
                parts.append(IcmpTypeIs(int(icmp["type"])))
            if icmp.get("code") is not None:
                parts.append(IcmpCodeIs(int(icmp["code"])))
            terms.append(not_(and_(*parts)) if negate else and_(*parts))
    source, destination = (PEER, SUBJECT) if ctx.direction == "ingress" else (SUBJECT, PEER)
    terms.append(entity_match(rule.get("source") or {}, source, "src", ctx))
    terms.append(entity_match(rule.get("destination") or {}, destination, "dst", ctx))
    return and_(*terms)
