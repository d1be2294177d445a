"""The policy IR: a typed, target-neutral AST of every policy the compiler reads.

Calico NetworkPolicy, GlobalNetworkPolicy and Kubernetes NetworkPolicy all lower to ``Policy``
(``compile/lower.py``); the compiler never looks at input models again. Selectors are parsed,
defaults are applied (``types``, tier, Kubernetes NetworkPolicy's order 1000 in the default tier),
and every node carries its ``Origin`` (the document, the JSON path, the source position).
Positions are excluded from equality, so two identical policies from different files compare
equal.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from calico2cilium.calico.selector import Selector
from calico2cilium.diagnostics import Source

JsonPath = tuple[str | int, ...]


class Action(enum.Enum):
    ALLOW = "Allow"
    DENY = "Deny"
    PASS = "Pass"
    LOG = "Log"


class Direction(enum.Enum):
    INGRESS = "ingress"
    EGRESS = "egress"


class Scope(enum.Enum):
    """Where a policy's subjects live: one namespace, or the whole cluster."""

    NAMESPACED = "namespaced"
    GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class Origin:
    """Which input a node came from: the resource, the JSON path inside it, and where it is."""

    kind: str
    name: str
    namespace: str | None = None
    path: JsonPath = ()
    source: Source | None = field(default=None, compare=False, hash=False)

    @property
    def resource(self) -> str:
        """``Kind ns/name`` (or ``Kind name``), for messages and annotations."""
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"

    def at(self, *path: str | int, source: Source | None = None) -> Origin:
        """The origin of a node below this one."""
        return Origin(self.kind, self.name, self.namespace, (*self.path, *path), source or self.source)

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.path)
        return f"{self.resource}{' ' + where if where else ''}"


@dataclass(frozen=True, slots=True)
class Peer:
    """One side of a rule (Calico ``EntityRule``); every given criterion must hold (AND).

    A selector of ``None`` means the field was absent (no constraint); ``all()`` is a parsed
    selector. ``nets``/``not_nets`` are CIDR strings as written.
    """

    selector: Selector | None = None
    not_selector: Selector | None = None
    namespace_selector: Selector | None = None
    nets: tuple[str, ...] = ()
    not_nets: tuple[str, ...] = ()
    service_account_names: tuple[str, ...] = ()
    service_account_selector: Selector | None = None
    services: tuple[str, str | None] | None = None
    """``(name, namespace)`` of a Kubernetes Service (``services`` match)."""

    @property
    def has_label_criteria(self) -> bool:
        """Whether the peer must be an endpoint picked by labels (not just any address)."""
        return (
            self.selector is not None
            or self.not_selector is not None
            or self.namespace_selector is not None
            or bool(self.service_account_names)
            or self.service_account_selector is not None
        )


@dataclass(frozen=True, slots=True)
class L4Match:
    """Protocol, ports and ICMP criteria, as Calico writes them (``None``/empty = absent)."""

    protocol: int | str | None = None
    not_protocol: int | str | None = None
    dst_ports: tuple[int | str, ...] = ()
    not_dst_ports: tuple[int | str, ...] = ()
    src_ports: tuple[int | str, ...] = ()
    not_src_ports: tuple[int | str, ...] = ()
    icmp: tuple[int | None, int | None] | None = None
    not_icmp: tuple[int | None, int | None] | None = None


@dataclass(frozen=True, slots=True)
class HttpMatch:
    """A rule's ``http`` match (Application Layer Policy): methods ORed, paths ORed, the two lists
    ANDed; an empty list is no constraint (docs/reference/semantics.md §1.4)."""

    methods: tuple[str, ...] = ()
    paths: tuple[tuple[str, str], ...] = ()
    """``(kind, value)`` with kind ``exact`` or ``prefix``."""
    source: Source | None = field(default=None, compare=False, hash=False)
    """Where the ``http`` field is, for diagnostics about it."""


@dataclass(frozen=True, slots=True)
class Rule:
    action: Action
    source: Peer = Peer()
    destination: Peer = Peer()
    l4: L4Match = L4Match()
    ip_version: int | None = None
    http: HttpMatch | None = None
    origin: Origin = field(default=Origin("", ""), compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Policy:
    """One policy. ``ingress``/``egress`` is ``None`` when the policy does not govern that
    direction (not in its ``types``), and a possibly empty tuple of rules when it does (an empty
    tuple still selects its subjects, so they are denied at the end of the tier)."""

    kind: str
    name: str
    scope: Scope
    namespace: str | None
    tier: str
    order: float
    selector: Selector
    namespace_selector: Selector | None = None
    service_account_selector: Selector | None = None
    ingress: tuple[Rule, ...] | None = None
    egress: tuple[Rule, ...] | None = None
    origin: Origin = field(default=Origin("", ""), compare=False, hash=False)
    # Where a path of the source document is (e.g. ("spec", "selector")), looked up only when a
    # diagnostic needs it: positions cost a re-read of the file.
    locate: Callable[[JsonPath], Source] | None = field(default=None, compare=False, hash=False, repr=False)

    def field_origin(self, *path: str | int) -> Origin:
        """The origin of one field of the policy's document, positioned when it can be."""
        return self.origin.at(*path, source=self.locate(path) if self.locate is not None else None)

    def rules(self, direction: Direction) -> tuple[Rule, ...] | None:
        return self.ingress if direction is Direction.INGRESS else self.egress

    @property
    def sort_key(self) -> tuple[float, str, str, str]:
        """Calico's order inside a tier: ``order`` (absent = +inf), then name (a version-dependent
        tie-break, so ties are diagnosed), then namespace and kind for determinism."""
        return (self.order, self.name, self.namespace or "", self.kind)


NO_ORDER = math.inf


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    order: float
    default_action: Action = Action.DENY
    origin: Origin | None = field(default=None, compare=False, hash=False)

    @property
    def sort_key(self) -> tuple[float, str]:
        return (self.order, self.name)


DEFAULT_TIER = Tier("default", 1_000_000.0)
"""Calico's built-in tier (``tier.go`` CEL: order 1,000,000, defaultAction Deny)."""
BUILTIN_TIERS = {
    "default": DEFAULT_TIER,
    "kube-admin": Tier("kube-admin", 1_000.0, Action.PASS),
    "kube-baseline": Tier("kube-baseline", 10_000_000.0, Action.PASS),
}


@dataclass(frozen=True, slots=True)
class NetworkSet:
    """A NetworkSet (``namespace`` set) or GlobalNetworkSet: labelled CIDRs that rule selectors
    can match (docs/reference/semantics.md §1.6); never a policy subject."""

    kind: str
    name: str
    namespace: str | None
    labels: tuple[tuple[str, str], ...]
    nets: tuple[str, ...]
    origin: Origin = field(default=Origin("", ""), compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class HostEndpoint:
    """A Calico HostEndpoint (docs/reference/semantics.md §1.5): a policy subject whose labels are all known, and
    a rule peer through its ``expected_ips``. ``interface`` is ``"*"``, an interface name, or
    ``None`` (the interface holding one of the expected IPs). ``ports`` are its named ports as
    ``(name, protocol, port)``. ``sources`` holds positions of fields, for diagnostics."""

    name: str
    node: str
    interface: str | None
    labels: tuple[tuple[str, str], ...]
    expected_ips: tuple[str, ...]
    profiles: tuple[str, ...]
    ports: tuple[tuple[str, str, int], ...]
    origin: Origin = field(default=Origin("", ""), compare=False, hash=False)
    sources: tuple[tuple[str, Source], ...] = field(default=(), compare=False, hash=False)

    @property
    def all_interfaces(self) -> bool:
        return self.interface == "*"

    def source(self, name: str) -> Source | None:
        """The position of field ``name`` (e.g. ``"interfaceName"``), else of the resource."""
        return dict(self.sources).get(name, self.origin.source)
