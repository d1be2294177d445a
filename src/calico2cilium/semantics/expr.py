"""Boolean formulas over one flow: the language both semantic models are written in.

Each side's semantics is written once, as functions that *build* formulas from these nodes with the
smart constructors below (``and_``, ``or_``, ``not_``, ``ite`` and the atoms). Two interpreters give
them meaning: :func:`calico2cilium.semantics.world.evaluate` over a concrete flow (the concrete
engine, ``explain``), and ``verify.smt`` over symbolic flow variables (the proof). Building
data instead of calling a backend directly lets one build serve thousands of concrete evaluations,
lets constants fold before the solver sees them, and makes the decision structure inspectable.

The atoms talk about *facts* of the flow (a pod's own labels, its namespace's labels and name, its
service account), never about one side's label keys: ``views`` maps each side's label keys onto
these facts, which is how "both sides look at the same pod" is guaranteed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

Entity = str
"""``"subject"`` (the endpoint whose policy decides), ``"peer"`` (the other end of the flow), or
``"ns:<name>"`` (the labels of one concrete namespace, for namespaced NetworkSets)."""

SUBJECT: Entity = "subject"
PEER: Entity = "peer"

Space = Literal["pod", "ns", "sa", "nsname", "saname"]
"""Which fact an attribute reads: a pod label, a label of the pod's namespace, a label of its
service account, the namespace name, or the service account name."""

Kind = Literal["pod", "host", "remote-node", "world"]
KINDS: tuple[Kind, ...] = ("pod", "host", "remote-node", "world")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
StrOp = Literal["eq", "prefix", "suffix", "contains"]
PortSide = Literal["dst", "src"]


@dataclass(frozen=True, slots=True)
class Attr:
    """One string-valued fact of an entity, which may be absent (``Present``)."""

    entity: Entity
    space: Space
    key: str = ""

    def __str__(self) -> str:
        return f"{self.entity}.{self.space}" + (f"[{self.key}]" if self.key else "")


@dataclass(frozen=True, eq=False)
class Expr:
    """Base of all formula nodes. Equality is structural; the hash is computed once."""

    _hash: int = field(init=False, repr=False, compare=False)

    def _key(self) -> tuple[object, ...]:
        raise NotImplementedError

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((type(self).__name__, *self._key())))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        # Iterative: decision chains nest as deep as there are rules.
        stack: list[tuple[object, object]] = [(self, other)]
        while stack:
            a, b = stack.pop()
            if a is b:
                continue
            if type(a) is not type(b):
                return False
            if isinstance(a, Expr):
                assert isinstance(b, Expr)
                if a._hash != b._hash:
                    return False
                ka, kb = a._key(), b._key()
                if len(ka) != len(kb):
                    return False
                stack.extend(zip(ka, kb, strict=True))
            elif a != b:
                return False
        return True


@dataclass(frozen=True, eq=False)
class Const(Expr):
    value: bool

    def _key(self) -> tuple[object, ...]:
        return (self.value,)


TRUE = Const(True)
FALSE = Const(False)


@dataclass(frozen=True, eq=False)
class And(Expr):
    args: tuple[Expr, ...]

    def _key(self) -> tuple[object, ...]:
        return self.args


@dataclass(frozen=True, eq=False)
class Or(Expr):
    args: tuple[Expr, ...]

    def _key(self) -> tuple[object, ...]:
        return self.args


@dataclass(frozen=True, eq=False)
class Not(Expr):
    arg: Expr

    def _key(self) -> tuple[object, ...]:
        return (self.arg,)


@dataclass(frozen=True, eq=False)
class Present(Expr):
    """The attribute exists (a label is set). ``nsname``/``saname`` exist exactly for pods."""

    attr: Attr

    def _key(self) -> tuple[object, ...]:
        return (self.attr,)


@dataclass(frozen=True, eq=False)
class StrTest(Expr):
    """The attribute exists and its value passes a string test (Go ``strings`` semantics)."""

    attr: Attr
    op: StrOp
    value: str

    def _key(self) -> tuple[object, ...]:
        return (self.attr, self.op, self.value)


@dataclass(frozen=True, eq=False)
class StrShorter(Expr):
    """The attribute exists and its value has fewer than ``n`` characters."""

    attr: Attr
    n: int

    def _key(self) -> tuple[object, ...]:
        return (self.attr, self.n)


@dataclass(frozen=True, eq=False)
class IsKind(Expr):
    entity: Entity
    kind: Kind

    def _key(self) -> tuple[object, ...]:
        return (self.entity, self.kind)


@dataclass(frozen=True, eq=False)
class IsApiserver(Expr):
    """The entity's address serves the Kubernetes API (Cilium labels it ``reserved:kube-apiserver``)."""

    entity: Entity

    def _key(self) -> tuple[object, ...]:
        return (self.entity,)


@dataclass(frozen=True, eq=False)
class InNet(Expr):
    entity: Entity
    net: Network

    def _key(self) -> tuple[object, ...]:
        return (self.entity, self.net)


@dataclass(frozen=True, eq=False)
class OnSubjectNode(Expr):
    """The peer is a pod running on the subject's node (meaningful for host subjects only: a pod
    subject's own node is the ``host`` peer instead)."""

    def _key(self) -> tuple[object, ...]:
        return ()


@dataclass(frozen=True, eq=False)
class IsIPv6(Expr):
    """The flow is IPv6 (both ends share the family)."""

    def _key(self) -> tuple[object, ...]:
        return ()


@dataclass(frozen=True, eq=False)
class ProtoIs(Expr):
    number: int

    def _key(self) -> tuple[object, ...]:
        return (self.number,)


@dataclass(frozen=True, eq=False)
class PortIn(Expr):
    """The flow's destination (or source) port is in ``lo..hi``; false for protocols without ports."""

    side: PortSide
    lo: int
    hi: int

    def _key(self) -> tuple[object, ...]:
        return (self.side, self.lo, self.hi)


@dataclass(frozen=True, eq=False)
class IcmpTypeIs(Expr):
    value: int

    def _key(self) -> tuple[object, ...]:
        return (self.value,)


@dataclass(frozen=True, eq=False)
class IcmpCodeIs(Expr):
    value: int

    def _key(self) -> tuple[object, ...]:
        return (self.value,)


@dataclass(frozen=True, eq=False)
class NamedPort(Expr):
    """``entity`` is a pod declaring a port called ``name`` whose number is the flow's ``side`` port
    and whose protocol is the flow's protocol."""

    entity: Entity
    name: str
    side: PortSide

    def _key(self) -> tuple[object, ...]:
        return (self.entity, self.name, self.side)


@dataclass(frozen=True, eq=False)
class ClusterNamedPort(Expr):
    """The cluster's pods resolve ``name`` to one number for the flow's protocol, and it is the
    flow's ``side`` port: some pod declares ``name`` on that protocol and every pod that does
    gives that number. This is how Cilium resolves an *egress* named port (not per destination):
    pkg/endpoint/policy.go ``GetNamedPort`` ("egress needs named ports of all the pods") and
    ``NamedPortMultiMap.GetNamedPort`` (ErrDuplicateNamedPorts when pods disagree; the caller then
    skips the entry, port 0)."""

    name: str
    side: PortSide

    def _key(self) -> tuple[object, ...]:
        return (self.name, self.side)


# --- smart constructors -------------------------------------------------------------------------


HttpField = Literal["method", "path"]
HttpOp = Literal["eq", "prefix", "regex"]


@dataclass(frozen=True, eq=False)
class HttpRequest(Expr):
    """The flow is TCP and carries an HTTP request (one request per flow: its method and path).
    A TCP flow without one (not HTTP at all) fails every HTTP test."""

    def _key(self) -> tuple[object, ...]:
        return ()


@dataclass(frozen=True, eq=False)
class HttpTest(Expr):
    """The flow carries an HTTP request whose ``field`` passes a test: equal to or starting with
    ``value``, or (``regex``) matched in full by the pattern ``value`` (``semantics/regex.py``)."""

    field: HttpField
    op: HttpOp
    value: str

    def _key(self) -> tuple[object, ...]:
        return (self.field, self.op, self.value)


def and_(*args: Expr) -> Expr:
    """Conjunction with constant folding, flattening and duplicate removal (order kept)."""
    out: dict[Expr, None] = {}
    for arg in args:
        if arg == FALSE:
            return FALSE
        if arg == TRUE:
            continue
        for item in arg.args if isinstance(arg, And) else (arg,):
            out[item] = None
    if not out:
        return TRUE
    if len(out) == 1:
        return next(iter(out))
    items = tuple(out)
    if any(isinstance(item, Not) and item.arg in out for item in items):
        return FALSE
    return And(items)


def or_(*args: Expr) -> Expr:
    """Disjunction with constant folding, flattening and duplicate removal (order kept)."""
    out: dict[Expr, None] = {}
    for arg in args:
        if arg == TRUE:
            return TRUE
        if arg == FALSE:
            continue
        for item in arg.args if isinstance(arg, Or) else (arg,):
            out[item] = None
    if not out:
        return FALSE
    if len(out) == 1:
        return next(iter(out))
    items = tuple(out)
    if any(isinstance(item, Not) and item.arg in out for item in items):
        return TRUE
    return Or(items)


def not_(arg: Expr) -> Expr:
    if isinstance(arg, Const):
        return FALSE if arg.value else TRUE
    if isinstance(arg, Not):
        return arg.arg
    return Not(arg)


def ite(cond: Expr, then: Expr, other: Expr) -> Expr:
    """``if cond then then else other`` as a formula, folding the common constant cases."""
    if cond == TRUE or then == other:
        return then
    if cond == FALSE:
        return other
    if then == TRUE:
        return or_(cond, other)
    if then == FALSE:
        return and_(not_(cond), other)
    if other == FALSE:
        return and_(cond, then)
    if other == TRUE:
        return or_(not_(cond), then)
    return or_(and_(cond, then), and_(not_(cond), other))


def const(value: bool) -> Expr:
    return TRUE if value else FALSE


def port_range(side: PortSide, lo: int, hi: int) -> Expr:
    """Ports ``lo..hi`` (inclusive); an empty range is false, the whole 1..65535 needs a port protocol."""
    if lo > hi:
        return FALSE
    return PortIn(side, lo, hi)


def walk(expr: Expr, seen: dict[int, Expr] | None = None) -> list[Expr]:
    """Every node of ``expr`` once (shared sub-formulas are visited once). ``seen``: nodes (by
    identity) to skip with everything under them; the nodes visited are added to it."""
    if seen is None:
        seen = {}
    out: list[Expr] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        out.append(node)
        if isinstance(node, And | Or):
            stack.extend(node.args)
        elif isinstance(node, Not):
            stack.append(node.arg)
    return out
