"""Decision programs: what each side's semantics builds for one decision point (subject, direction).

A program keeps the *structure* of a side's decision (tiers and first-match rules for Calico,
deny-wins union for Cilium) with formulas at the leaves. It has two readings, kept side by side so
the tests can hold them to each other:

- :meth:`decide`: walk the structure for one concrete flow and say which rule decided (``explain``,
  counterexample attribution, the concrete engine);
- :meth:`verdict`: the whole decision as one formula, "the flow is allowed" (the symbolic engine).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from calico2cilium.diagnostics import Source
from calico2cilium.semantics.expr import FALSE, TRUE, Expr, and_, ite, not_, or_
from calico2cilium.semantics.world import Direction, Flow, evaluate

Action = Literal["Allow", "Deny", "Pass"]
Side = Literal["calico", "cilium"]
Path = tuple[str | int, ...]


class Located(Protocol):
    """A resource and a way to find positions in its file (``io.documents.RawDocument`` is one)."""

    @property
    def data(self) -> Any: ...

    def source(self, path: Path = ...) -> Source: ...


@dataclass(frozen=True)
class PlainDocument:
    """A resource given as a plain mapping: positions are the file name only (or none)."""

    data: Any
    file: str = ""

    def source(self, path: Path = ()) -> Source:
        return Source(self.file or "<input>")


@dataclass(frozen=True)
class Ref:
    """Where a decision came from: a rule, a policy's end, a default. Positions are looked up only
    when shown (``source``), so building thousands of rules costs no YAML re-parsing."""

    side: Side
    what: str
    doc: Located | None = field(default=None, compare=False, repr=False)
    path: Path = ()

    @property
    def source(self) -> Source | None:
        return None if self.doc is None else self.doc.source(self.path)

    def __str__(self) -> str:
        return f"{self.what} ({self.source})" if self.source is not None else self.what

    def to_dict(self) -> dict[str, object]:
        return {"side": self.side, "what": self.what, "source": str(self.source) if self.source else None}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    ref: Ref

    def to_dict(self) -> dict[str, object]:
        return {"allowed": self.allowed, "by": self.ref.to_dict()}


@dataclass(frozen=True)
class UnsupportedItem:
    """A construct the semantics does not model, and where it is. It keeps the result unproven."""

    side: Side
    reason: str
    resource: str = ""
    doc: Located | None = field(default=None, compare=False, repr=False)
    path: Path = ()

    @property
    def source(self) -> Source | None:
        return None if self.doc is None else self.doc.source(self.path)

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        what = f"{self.resource}: " if self.resource else ""
        return f"{where}{what}{self.reason}"

    def to_dict(self) -> dict[str, object]:
        return {
            "side": self.side,
            "reason": self.reason,
            "resource": self.resource,
            "source": str(self.source) if self.source else None,
        }


@dataclass
class InvalidItem:
    """A resource its cluster would reject (or that does not parse): reported, never evaluated."""

    side: Side
    message: str
    resource: str
    doc: Located | None = field(default=None, compare=False, repr=False)
    path: Path = ()
    at: Source | None = None
    """The position when there is no document (e.g. a file that did not load)."""

    @property
    def source(self) -> Source | None:
        return self.at if self.doc is None else self.doc.source(self.path)

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source is not None else ""
        what = f"{self.resource}: " if self.resource else ""
        return f"{where}{what}{self.message}"

    def to_dict(self) -> dict[str, object]:
        return {
            "side": self.side,
            "message": self.message,
            "resource": self.resource,
            "source": str(self.source) if self.source else None,
        }


# --- Calico --------------------------------------------------------------------------------------


@dataclass
class CalicoRule:
    match: Expr
    action: Action
    ref: Ref


@dataclass
class CalicoPolicy:
    """``namespace``: the only namespace whose pods it can select (``None``: any); ``unsupported``:
    constructs in it that are not modelled, which make its decision points unprovable."""

    selects: Expr
    rules: list[CalicoRule]
    ref: Ref
    end_ref: Ref
    namespace: str | None = None
    unsupported: list[UnsupportedItem] = field(default_factory=list)


@dataclass
class CalicoTier:
    name: str
    pass_by_default: bool
    policies: list[CalicoPolicy]
    end_ref: Ref


@dataclass
class CalicoProgram:
    """Calico's decision at one endpoint for one direction (docs/reference/semantics.md §1.2, felix endpoints.go):
    tiers in order, skipping tiers with no policy selecting the endpoint; in a tier, policies then
    rules in order, first Allow/Deny/Pass decides (Pass: next tier); no decision: the tier's default
    (Deny, or Pass); after the tiers, the profiles: the namespace profile allows (pods); a host
    endpoint's profiles allow only if it has ``projectcalico-default-allow`` (``profile_allows``)."""

    direction: Direction
    tiers: list[CalicoTier]
    always_allow: Expr = FALSE
    always_ref: Ref = field(default_factory=lambda: Ref("calico", "traffic from the pod's own node"))
    profile_ref: Ref = field(default_factory=lambda: Ref("calico", "namespace profile kns.<ns> (allow)"))
    profile_allows: bool = True
    always_deny: Expr = FALSE
    """Denied whatever the policy decides (after ``always_allow``): a pod's traffic to its own node
    under Felix ``DefaultEndpointToHostAction: Drop``, applied after the egress policy allowed it."""
    deny_ref: Ref = field(default_factory=lambda: Ref("calico", "denied whatever the policy says"))

    def restrict(self, keep: Callable[[CalicoPolicy], bool]) -> CalicoProgram:
        """The program without the policies ``keep`` rejects. Sound for a set of subjects when the
        rejected policies select none of them (they can then never apply)."""
        tiers = [
            CalicoTier(t.name, t.pass_by_default, [p for p in t.policies if keep(p)], t.end_ref)
            for t in self.tiers
        ]
        return CalicoProgram(
            self.direction,
            [t for t in tiers if t.policies],
            self.always_allow,
            self.always_ref,
            self.profile_ref,
            self.profile_allows,
            self.always_deny,
            self.deny_ref,
        )

    @property
    def policies(self) -> list[CalicoPolicy]:
        return [p for t in self.tiers for p in t.policies]

    @property
    def unsupported(self) -> list[UnsupportedItem]:
        return [u for t in self.tiers for p in t.policies for u in p.unsupported]

    def decide(self, flow: Flow) -> Verdict:
        memo: dict[int, bool] = {}
        if evaluate(self.always_allow, flow, memo):
            return Verdict(True, self.always_ref)
        if evaluate(self.always_deny, flow, memo):
            return Verdict(False, self.deny_ref)
        for tier in self.tiers:
            applying = [p for p in tier.policies if evaluate(p.selects, flow, memo)]
            if not applying:
                continue
            outcome = _first_match(applying, flow, memo)
            if outcome is not None:
                if outcome.action == "Pass":
                    continue
                return Verdict(outcome.action == "Allow", outcome.ref)
            if not tier.pass_by_default:
                return Verdict(False, applying[-1].end_ref if len(applying) == 1 else tier.end_ref)
        return Verdict(self.profile_allows, self.profile_ref)

    def verdict(self) -> Expr:
        rest: Expr = TRUE if self.profile_allows else FALSE  # the profiles (pods: kns.<ns> allows)
        for tier in reversed(self.tiers):
            chain: Expr = rest if tier.pass_by_default else FALSE
            for policy in reversed(tier.policies):
                for rule in reversed(policy.rules):
                    outcome = {"Allow": TRUE, "Deny": FALSE, "Pass": rest}[rule.action]
                    chain = ite(and_(policy.selects, rule.match), outcome, chain)
            rest = ite(or_(*(p.selects for p in tier.policies)), chain, rest)
        return or_(self.always_allow, and_(not_(self.always_deny), rest))


def _first_match(policies: list[CalicoPolicy], flow: Flow, memo: dict[int, bool]) -> CalicoRule | None:
    for policy in policies:
        for rule in policy.rules:
            if evaluate(rule.match, flow, memo):
                return rule
    return None


# --- Cilium --------------------------------------------------------------------------------------


@dataclass
class CiliumRule:
    match: Expr
    ref: Ref


@dataclass
class CiliumPolicy:
    """One Cilium rule set (a ``spec`` or an item of ``specs``; a translated K8s NetworkPolicy)."""

    selects: Expr
    allows: list[CiliumRule]
    denies: list[CiliumRule]
    default_deny: bool
    ref: Ref
    namespace: str | None = None
    unsupported: list[UnsupportedItem] = field(default_factory=list)


@dataclass
class CiliumProgram:
    """Cilium's decision at one endpoint for one direction (docs/reference/semantics.md §2.4; semantics-check 3-5):
    a matching deny rule of a selecting policy wins; otherwise, if some selecting policy puts the
    endpoint in default deny for this direction, an allow rule must match; otherwise allowed."""

    direction: Direction
    policies: list[CiliumPolicy]
    always_allow: Expr = FALSE
    always_ref: Ref = field(default_factory=lambda: Ref("cilium", "traffic from the pod's own node"))
    open_ref: Ref = field(
        default_factory=lambda: Ref("cilium", "no policy puts the endpoint in default deny")
    )

    def restrict(self, keep: Callable[[CiliumPolicy], bool]) -> CiliumProgram:
        """The program without the policies ``keep`` rejects (see ``CalicoProgram.restrict``)."""
        policies = [p for p in self.policies if keep(p)]
        return CiliumProgram(self.direction, policies, self.always_allow, self.always_ref, self.open_ref)

    @property
    def unsupported(self) -> list[UnsupportedItem]:
        return [u for p in self.policies for u in p.unsupported]

    def decide(self, flow: Flow) -> Verdict:
        memo: dict[int, bool] = {}
        if evaluate(self.always_allow, flow, memo):
            return Verdict(True, self.always_ref)
        applying = [p for p in self.policies if evaluate(p.selects, flow, memo)]
        for policy in applying:
            for rule in policy.denies:
                if evaluate(rule.match, flow, memo):
                    return Verdict(False, rule.ref)
        for policy in applying:
            for rule in policy.allows:
                if evaluate(rule.match, flow, memo):
                    return Verdict(True, rule.ref)
        enforcing = [p for p in applying if p.default_deny]
        if not enforcing:
            return Verdict(True, self.open_ref)
        first = enforcing[0].ref
        return Verdict(False, Ref("cilium", f"default deny ({first.what})", first.doc, first.path))

    def verdict(self) -> Expr:
        denied = or_(*(and_(p.selects, r.match) for p in self.policies for r in p.denies))
        allowed = or_(*(and_(p.selects, r.match) for p in self.policies for r in p.allows))
        enforcing = or_(*(p.selects for p in self.policies if p.default_deny))
        return or_(self.always_allow, and_(not_(denied), or_(not_(enforcing), allowed)))
