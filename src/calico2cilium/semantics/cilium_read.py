"""A light typed reading of Cilium policy YAML (CNP, CCNP, CiliumCIDRGroup), independent of the
compiler's emitter: the verifier must not trust the code it judges.

Reading refuses what Cilium itself refuses (``Invalid``, with the path of the offending field), so
the verifier never judges a policy that the cluster would reject (docs/reference/semantics-check.md E3, E14).
Sources: cilium ``pkg/policy/api/rule_validation.go`` (``Sanitize``), ``cnp_types.go``, ``l4.go``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from calico2cilium.semantics.protocols import CILIUM_L4, cilium_icmp_type, iana_svc_name
from calico2cilium.semantics.world import Assumptions

Path = tuple[str | int, ...]

PEER_FIELDS = {
    "ingress": ("fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities", "fromNodes", "fromGroups"),
    "egress": (
        "toEndpoints",
        "toCIDR",
        "toCIDRSet",
        "toEntities",
        "toServices",
        "toFQDNs",
        "toGroups",
        "toNodes",
    ),
}
UNMODELLED_PEERS = {"fromNodes", "toNodes", "fromGroups", "toGroups", "toServices", "toFQDNs"}
ENTITIES = {
    "all",
    "world",
    "world-ipv4",
    "world-ipv6",
    "cluster",
    "host",
    "remote-node",
    "kube-apiserver",
    "health",
    "init",
    "ingress",
    "unmanaged",
    "none",
}
OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist"}


class Invalid(Exception):
    """Cilium would reject this resource; ``path`` points at the offending field."""

    def __init__(self, message: str, path: Path = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Selector:
    """A Kubernetes LabelSelector with Cilium's key sources (``k8s:``, ``reserved:``, none = any)."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

    @property
    def keys(self) -> list[str]:
        return [k for k, _ in self.match_labels] + [r.key for r in self.match_expressions]

    def matches(self, value: Callable[[str], str | None]) -> bool:
        """The selector on an object whose labels are all known: ``value(key)`` is the label's value
        (``None``: absent); ``NotIn``/``DoesNotExist`` hold when the key is absent."""
        for key, expected in self.match_labels:
            if value(key) != expected:
                return False
        for req in self.match_expressions:
            found = value(req.key)
            ok = {
                "In": found is not None and found in req.values,
                "NotIn": found is None or found not in req.values,
                "Exists": found is not None,
                "DoesNotExist": found is None,
            }[req.operator]
            if not ok:
                return False
        return True


@dataclass(frozen=True)
class PortProtocol:
    port: str
    end_port: int | None
    protocol: str


@dataclass(frozen=True)
class PortRule:
    ports: tuple[PortProtocol, ...]
    has_l7: bool
    path: Path
    rules: Any = None
    """The ``rules`` (L7) mapping as written, when ``has_l7``."""


@dataclass(frozen=True)
class IcmpField:
    family: str
    type: int


@dataclass(frozen=True)
class CidrRule:
    cidr: str | None = None
    group_ref: str | None = None
    group_selector: Selector | None = None
    excepts: tuple[str, ...] = ()


@dataclass
class PeerRule:
    """One item of ``ingress``/``ingressDeny``/``egress``/``egressDeny``.

    A peer list that is ``None`` was absent; an empty list was given and selects nothing (E1).
    ``wildcard_endpoints``: the Kubernetes NetworkPolicy translation's "all sources" selector, which
    matches every identity and gets no namespace injection (cilium ``pkg/k8s/network_policy.go``).
    """

    path: Path
    endpoints: list[Selector] | None = None
    cidrs: list[str] | None = None
    cidr_set: list[CidrRule] | None = None
    entities: list[str] | None = None
    unmodelled: list[str] = field(default_factory=list)
    to_ports: list[PortRule] | None = None
    icmps: list[list[IcmpField]] | None = None
    inject_namespace: bool = True
    wildcard_endpoints: bool = False


@dataclass
class RuleSpec:
    path: Path
    endpoint_selector: Selector | None
    node_selector: Selector | None
    lists: dict[str, list[PeerRule] | None]
    enable_default_deny: dict[str, bool | None]
    inject_namespace: bool = True


@dataclass
class CiliumPolicyDoc:
    kind: str
    name: str
    namespace: str | None
    specs: list[RuleSpec]


@dataclass
class CidrGroup:
    name: str
    labels: dict[str, str]
    cidrs: list[str]


def _mapping(value: Any, path: Path) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a mapping, found {type(value).__name__}", path)
    return value


def _list(value: Any, path: Path) -> list[Any] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise Invalid(f"expected a list, found {type(value).__name__}", path)
    return value


def _str(value: Any, path: Path) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Invalid(f"expected a string, found {type(value).__name__}", path)
    return str(value)


def read_selector(value: Any, path: Path) -> Selector:
    data = _mapping(value, path)
    labels = tuple(
        (_str(k, (*path, "matchLabels")), _str(v, (*path, "matchLabels", k)))
        for k, v in _mapping(data.get("matchLabels"), (*path, "matchLabels")).items()
    )
    requirements = []
    for i, item in enumerate(_list(data.get("matchExpressions"), (*path, "matchExpressions")) or []):
        where = (*path, "matchExpressions", i)
        req = _mapping(item, where)
        operator = req.get("operator")
        if operator not in OPERATORS:
            raise Invalid(f"unknown selector operator {operator!r}", (*where, "operator"))
        values = tuple(
            _str(v, (*where, "values")) for v in _list(req.get("values"), (*where, "values")) or []
        )
        if operator in ("In", "NotIn") and not values:
            raise Invalid(f"operator {operator} needs at least one value", where)
        if operator in ("Exists", "DoesNotExist") and values:
            raise Invalid(f"operator {operator} takes no values", where)
        requirements.append(Requirement(_str(req.get("key"), (*where, "key")), str(operator), values))
    return Selector(labels, tuple(requirements))


def _cidr(value: Any, path: Path, *, bare_ip: bool) -> str:
    text = _str(value, path)
    try:
        if "/" not in text and not bare_ip:
            raise ValueError("prefix notation required")
        ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise Invalid(f"invalid CIDR {text!r}: {exc}", path) from exc
    return text


def _cidr_rule(value: Any, path: Path, assumptions: Assumptions) -> CidrRule:
    data = _mapping(value, path)
    given = [k for k in ("cidr", "cidrGroupRef", "cidrGroupSelector") if data.get(k) is not None]
    if len(given) != 1:
        raise Invalid("a CIDR rule needs exactly one of cidr, cidrGroupRef, cidrGroupSelector", path)
    excepts = tuple(
        _cidr(e, (*path, "except", i), bare_ip=False)
        for i, e in enumerate(_list(data.get("except"), (*path, "except")) or [])
    )
    if given[0] == "cidr":
        cidr = _cidr(data["cidr"], (*path, "cidr"), bare_ip=False)
        outer = ipaddress.ip_network(cidr, strict=False)
        for i, e in enumerate(excepts):
            inner = ipaddress.ip_network(e, strict=False)
            if inner.version != outer.version or not inner.subnet_of(outer):  # type: ignore[arg-type]
                raise Invalid(f"except {e} is not inside {cidr}", (*path, "except", i))
        return CidrRule(cidr=cidr, excepts=excepts)
    if given[0] == "cidrGroupRef":
        if not assumptions.target.cidr_group_ref:
            raise Invalid("cidrGroupRef needs Cilium 1.14", (*path, "cidrGroupRef"))
        return CidrRule(group_ref=_str(data["cidrGroupRef"], (*path, "cidrGroupRef")), excepts=excepts)
    if not assumptions.target.cidr_group_selector:
        raise Invalid("cidrGroupSelector needs Cilium 1.17", (*path, "cidrGroupSelector"))
    selector = read_selector(data["cidrGroupSelector"], (*path, "cidrGroupSelector"))
    return CidrRule(group_selector=selector, excepts=excepts)


def _port(value: Any, path: Path, assumptions: Assumptions) -> PortProtocol:
    data = _mapping(value, path)
    port = data.get("port")
    if port is None or port == "":
        raise Invalid("Port must be specified (an omitted port is rejected by Cilium)", path)
    text = _str(port, (*path, "port"))
    if iana_svc_name(text):
        text = text.lower()
    elif not text.isdigit() or int(text) > 65535:
        raise Invalid(f"unable to parse port {text!r}", (*path, "port"))
    end = data.get("endPort")
    if end is not None:
        if not assumptions.target.end_port:
            raise Invalid("endPort needs Cilium 1.16", (*path, "endPort"))
        if isinstance(end, bool) or not isinstance(end, int) or not 0 <= end <= 65535:
            raise Invalid(f"invalid endPort {end!r}", (*path, "endPort"))
    protocol = str(data.get("protocol") or "ANY").upper()
    if protocol not in CILIUM_L4:
        raise Invalid(
            f"protocol {data.get('protocol')!r} is not modelled or not allowed", (*path, "protocol")
        )
    return PortProtocol(text, end, protocol)


def _port_rules(value: Any, path: Path, assumptions: Assumptions) -> list[PortRule] | None:
    items = _list(value, path)
    if items is None:
        return None
    rules = []
    for i, item in enumerate(items):
        data = _mapping(item, (*path, i))
        ports_value = _list(data.get("ports"), (*path, i, "ports")) or []
        if len(ports_value) > 40:
            raise Invalid("too many ports, the max is 40", (*path, i, "ports"))
        ports = tuple(_port(p, (*path, i, "ports", j), assumptions) for j, p in enumerate(ports_value))
        has_l7 = bool(data.get("rules"))
        if has_l7 and any(p.port == "0" for p in ports):
            raise Invalid("L7 rules can not be used when a port is 0", (*path, i, "rules"))
        rules.append(PortRule(ports, has_l7, (*path, i), data.get("rules") if has_l7 else None))
    return rules


def _icmps(value: Any, path: Path, assumptions: Assumptions) -> list[list[IcmpField]] | None:
    items = _list(value, path)
    if items is None:
        return None
    out = []
    for i, item in enumerate(items):
        fields_value = _list(_mapping(item, (*path, i)).get("fields"), (*path, i, "fields")) or []
        if len(fields_value) > 40:
            raise Invalid("too many types, the max is 40", (*path, i, "fields"))
        fields = []
        for j, f in enumerate(fields_value):
            where = (*path, i, "fields", j)
            data = _mapping(f, where)
            family = data.get("family") or "IPv4"
            if family not in ("IPv4", "IPv6"):
                raise Invalid(f"wrong family: {family}", (*where, "family"))
            raw_type = data.get("type")
            if (
                isinstance(raw_type, str)
                and not raw_type.isdigit()
                and not assumptions.target.icmp_type_names
            ):
                raise Invalid("ICMP type names need Cilium 1.16", (*where, "type"))
            number = cilium_icmp_type(raw_type, family)
            if number is None:
                raise Invalid(f"ICMP type {raw_type!r} not found in {family}", (*where, "type"))
            fields.append(IcmpField(family, number))
        out.append(fields)
    return out


def read_peer_rule(value: Any, path: Path, direction: str, assumptions: Assumptions) -> PeerRule:
    data = _mapping(value, path)
    rule = PeerRule(path)
    nonempty = []
    for name in PEER_FIELDS[direction]:
        items = _list(data.get(name), (*path, name))
        if items is None:
            continue
        if items:
            nonempty.append(name)
        where = (*path, name)
        if name in ("fromEndpoints", "toEndpoints"):
            rule.endpoints = [read_selector(s, (*where, i)) for i, s in enumerate(items)]
        elif name in ("fromCIDR", "toCIDR"):
            rule.cidrs = [_cidr(c, (*where, i), bare_ip=True) for i, c in enumerate(items)]
        elif name in ("fromCIDRSet", "toCIDRSet"):
            rule.cidr_set = [_cidr_rule(c, (*where, i), assumptions) for i, c in enumerate(items)]
        elif name in ("fromEntities", "toEntities"):
            rule.entities = [_str(e, (*where, i)) for i, e in enumerate(items)]
            for i, entity in enumerate(rule.entities):
                if entity not in ENTITIES:
                    raise Invalid(f"unsupported entity: {entity}", (*where, i))
        elif items:
            rule.unmodelled.append(name)
    if len(nonempty) > 1:
        raise Invalid(f"combining {nonempty[0]} and {nonempty[1]} is not supported by Cilium", path)
    for name in ("fromRequires", "toRequires"):
        if data.get(name):
            rule.unmodelled.append(name)
    auth = data.get("authentication")
    if isinstance(auth, Mapping) and auth.get("mode") not in (None, "disabled"):
        rule.unmodelled.append(f"authentication mode {auth.get('mode')!r}")
    rule.to_ports = _port_rules(data.get("toPorts"), (*path, "toPorts"), assumptions)
    rule.icmps = _icmps(data.get("icmps"), (*path, "icmps"), assumptions)
    if rule.to_ports and rule.icmps:
        raise Invalid("the icmps block may only be present without toPorts", path)
    return rule


LISTS = ("ingress", "ingressDeny", "egress", "egressDeny")


def read_rule_spec(value: Any, path: Path, namespaced: bool, assumptions: Assumptions) -> RuleSpec:
    data = _mapping(value, path)
    has_ep, has_node = data.get("endpointSelector") is not None, data.get("nodeSelector") is not None
    if has_ep == has_node:
        raise Invalid("a rule needs exactly one of endpointSelector and nodeSelector", path)
    if has_node and namespaced:
        raise Invalid("a CiliumNetworkPolicy rule cannot have nodeSelector", (*path, "nodeSelector"))
    endpoint = read_selector(data["endpointSelector"], (*path, "endpointSelector")) if has_ep else None
    node = read_selector(data["nodeSelector"], (*path, "nodeSelector")) if has_node else None
    lists: dict[str, list[PeerRule] | None] = {}
    for name in LISTS:
        items = _list(data.get(name), (*path, name))
        direction = "ingress" if name.startswith("ingress") else "egress"
        lists[name] = (
            None
            if items is None
            else [read_peer_rule(r, (*path, name, i), direction, assumptions) for i, r in enumerate(items)]
        )
    if assumptions.target.rule_needs_a_section and not any(lists.values()):
        raise Invalid("a rule needs at least one of ingress, ingressDeny, egress, egressDeny", path)
    default_deny: dict[str, bool | None] = {"ingress": None, "egress": None}
    if data.get("enableDefaultDeny") is not None:
        if not assumptions.target.enable_default_deny:
            raise Invalid("enableDefaultDeny needs Cilium 1.16", (*path, "enableDefaultDeny"))
        edd = _mapping(data["enableDefaultDeny"], (*path, "enableDefaultDeny"))
        for direction in ("ingress", "egress"):
            if edd.get(direction) is not None:
                default_deny[direction] = bool(edd[direction])
    return RuleSpec(path, endpoint, node, lists, default_deny)


def read_policy(data: Mapping[str, Any], assumptions: Assumptions, default_namespace: str) -> CiliumPolicyDoc:
    """Read a CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy."""
    kind = str(data.get("kind"))
    namespaced = kind == "CiliumNetworkPolicy"
    metadata = _mapping(data.get("metadata"), ("metadata",))
    name = str(metadata.get("name") or "?")
    namespace = str(metadata.get("namespace") or default_namespace) if namespaced else None
    specs: list[RuleSpec] = []
    if data.get("spec") is not None:
        specs.append(read_rule_spec(data["spec"], ("spec",), namespaced, assumptions))
    for i, item in enumerate(_list(data.get("specs"), ("specs",)) or []):
        specs.append(read_rule_spec(item, ("specs", i), namespaced, assumptions))
    if not specs:
        raise Invalid("a Cilium policy needs spec or specs", ())
    return CiliumPolicyDoc(kind, name, namespace, specs)


def read_cidr_group(data: Mapping[str, Any]) -> CidrGroup:
    metadata = _mapping(data.get("metadata"), ("metadata",))
    spec = _mapping(data.get("spec"), ("spec",))
    cidrs = _list(spec.get("externalCIDRs"), ("spec", "externalCIDRs"))
    if cidrs is None:
        raise Invalid("externalCIDRs is required", ("spec",))
    labels = {str(k): str(v) for k, v in _mapping(metadata.get("labels"), ("metadata", "labels")).items()}
    return CidrGroup(
        str(metadata.get("name") or "?"),
        labels,
        [_cidr(c, ("spec", "externalCIDRs", i), bare_ip=False) for i, c in enumerate(cidrs)],
    )
