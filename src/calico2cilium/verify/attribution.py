"""Which narrowing finding explains a narrowed flow (``convert --verify``).

A conversion that says it fails closed somewhere is proven to allow nothing Calico denies
(``verify(narrowing=True)``). That alone would accept *any* amount of narrowing anywhere, so a
compiler bug that over-denies the traffic of a policy no diagnostic mentions would pass as
"narrowed" as soon as one unrelated narrowing finding exists. This module is the second half of
the judge: every narrowed flow (Calico allows, Cilium denies) must be explained by a narrowing
finding that concerns it, or it is reported (C2C414) like an unexplained difference.

What a finding concerns is read from neutral facts only, never from how the compiler works:

- its ``Diagnostic.scope``, where the compiler gives one (a C2C350 of a direction or a part of one
  failing closed, a C2C352 of a policy a wider Deny shadows): the policies it names by their
  resources' positions, whose subjects it narrows in its directions, or every subject of its
  directions (a whole direction). A scope is all the finding concerns: its position is then only
  where it is reported (a C2C350 is positioned at the policy being compiled when the budget ran
  out, a C2C352 at its policy as a whole, which alone would read as a subject widened to its whole
  namespace). Never its message: rewording a message must not change what is accepted;
- else the input resource its position falls in (``ResourceIndex``: per file, by first line), in
  the direction of the rule list it is positioned in, if any (``spec.ingress``, ``spec.egress``);
- a FelixConfiguration's findings (failsafe ports, C2C232) concern every host subject, and a
  HostEndpoint's its own host subject; those of the node-local codes (``NODE_LOCAL``) only the
  traffic between a node and its own pods that Calico decides before any policy;
- a finding with no position and no scope concerns the traffic no resource decides:
  what Calico allows after every tier (the profiles).

What a flow concerns is read with the verifier's *own* Calico semantics (the program of its
decision point): the policies that select its endpoint (``CalicoPolicy.selects``), its
HostEndpoint, and whether the profile decided it. A narrowing in a policy can only change the
verdicts of that policy's subjects (its rules apply nowhere else), so a finding on a policy
explains the narrowed flows of the subjects it selects; those are then left out of the question
(``Explanation.exclusion``: everything *any* finding explains there, so the next question finds
only narrowing no finding explains) and the solver is asked again. When the solver gives up on
that question (or past ``MAX_ROUNDS``), the rest is reported as not attributed (C2C415), never
accepted silently.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from calico2cilium.diagnostics import Diagnostic, Severity
from calico2cilium.semantics.expr import FALSE, SUBJECT, TRUE, Attr, Expr, StrTest, and_, ite, not_, or_
from calico2cilium.semantics.program import CalicoPolicy, CalicoProgram
from calico2cilium.semantics.world import evaluate

MAX_ROUNDS = 6
"""Questions one partition's attribution may ask. Each explained flow leaves out everything the
findings explain at its decision point (``Attribution.explainable``), so the next question finds
only unexplained narrowing: two questions suffice. The bound is a safety net (C2C415 past it)."""

NODE_LOCAL = frozenset({"C2C324", "C2C342", "C2C343"})
"""Codes about the traffic between a node and its own pods, which Calico decides before (and
whatever) the policies say (``CalicoProgram.always_allow``): their findings explain only flows
Calico decided that way, at the subjects they concern."""


def resource_label(data: Any) -> str | None:
    """``Kind ns/name`` of a resource given as a mapping (the form ``Origin.resource`` and the
    ``calico2cilium.io/source`` annotation use), or ``None``."""
    return _label(data, data.get("kind") if isinstance(data, dict) else None)


K8S_NETWORKING = "networking.k8s.io/"
"""The API group of a Kubernetes NetworkPolicy (``apiVersion: networking.k8s.io/v1``)."""


def resource_key(data: Any) -> str | None:
    """How the attribution tells input resources apart: ``resource_label``, but a Kubernetes
    NetworkPolicy is ``KubernetesNetworkPolicy ns/name`` (Calico's own name for its reading of
    one), so that a finding on a Calico NetworkPolicy never concerns the Kubernetes NetworkPolicy
    of the same namespace and name, nor the other way round. Calico's two API versions of one
    policy (v3, crd v1) stay one resource, as the loader takes them."""
    return _label(data, _kind(data))


def _kind(data: Any) -> object:
    """The kind ``resource_key`` names a resource by."""
    if not isinstance(data, dict):
        return None
    kind, version = data.get("kind"), data.get("apiVersion")
    if kind == "NetworkPolicy" and isinstance(version, str) and version.startswith(K8S_NETWORKING):
        return "KubernetesNetworkPolicy"
    return kind


def _label(data: Any, kind: object) -> str | None:
    if not isinstance(data, dict) or not isinstance(kind, str):
        return None
    meta = data.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        return None
    namespace = meta.get("namespace")
    return f"{kind} {namespace + '/' if namespace else ''}{meta['name']}"


class ResourceIndex:
    """Which input resource a position falls in: per file, the resources by their first line
    (``kind: List`` items and top-level list items included), so a diagnostic anywhere inside a
    resource finds it. Resources are named by ``resource_key``; a document with no name (no
    kind, no ``metadata.name``) is in the index too, so that a position inside it falls in no
    resource rather than in the one before it."""

    def __init__(self, documents: Iterable[Any], unconverted: Iterable[Any] = ()) -> None:
        starts: dict[str, list[tuple[int, int, str]]] = {}
        self._documents: dict[tuple[str, int, int], Any] = {}
        """Each resource's document by its start, for positions inside it (two resources may
        share a key: two documents of one object)."""
        self._unconverted: set[tuple[str, int, int]] = set()
        """The starts of the resources read but not converted (invalid, or given twice with
        different content): a position inside one is in it, not in the resource before it."""
        for document, converted in [*((d, True) for d in documents), *((d, False) for d in unconverted)]:
            raw = getattr(document, "raw", document)
            data = getattr(raw, "data", None)
            label = (resource_key(data) if converted else unconverted_label(data)) or ""
            where = raw.source()
            starts.setdefault(where.file, []).append((where.line, where.column, label))
            self._documents[where.file, where.line, where.column] = raw
            if not converted:
                self._unconverted.add((where.file, where.line, where.column))
        self._starts = {file: sorted(rows) for file, rows in starts.items()}

    def _row(self, source: Any) -> tuple[int, int, str] | None:
        if source is None:
            return None
        rows = self._starts.get(source.file, [])
        at = bisect.bisect_right(rows, (source.line, source.column, "\uffff"))
        return rows[at - 1] if at and rows[at - 1][2] else None

    def resource_at(self, source: Any) -> str | None:
        row = self._row(source)
        return row[2] if row is not None else None

    def document_at(self, source: Any) -> Any:
        """The document of the resource ``source`` falls in (``None``: none)."""
        row = self._row(source)
        return self._documents[source.file, row[0], row[1]] if row is not None else None

    def unconverted_at(self, source: Any) -> bool:
        """Whether ``source`` falls in a resource that was read but not converted."""
        row = self._row(source)
        return row is not None and (source.file, row[0], row[1]) in self._unconverted


def unconverted_label(data: Any) -> str | None:
    """``resource_key`` of a resource that was not converted, or ``Kind ns/?`` when its name
    is missing or not a string (its quarantine is still there: C2C236)."""
    label, kind = resource_key(data), _kind(data)
    if label is not None or not isinstance(data, dict) or not isinstance(kind, str):
        return label
    meta = data.get("metadata")
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    return f"{kind} {namespace + '/' if isinstance(namespace, str) and namespace else ''}?"


_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
"""A namespace name (a DNS label)."""


def unconverted_scope(document: Any) -> str | None:
    """The subjects a policy that was read but not converted could govern, for the findings on
    it (its quarantine, C2C236, denies them): its namespace's (``metadata.namespace``, when it
    is a valid name), else any namespace's (``""``: a GlobalNetworkPolicy, or a namespace that
    is missing, so ``-n`` or kubectl's context decides it, or not valid). ``None``: not a policy."""
    data = getattr(document, "data", None)
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "GlobalNetworkPolicy":
        return ""
    if kind != "NetworkPolicy":
        return None
    meta = data.get("metadata") if isinstance(data, dict) else None
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    return namespace if isinstance(namespace, str) and _NAMESPACE.fullmatch(namespace) else ""


def is_narrowing(diagnostic: Diagnostic) -> bool:
    """A warning or error where the output decides traffic otherwise than Calico: marked
    ``narrowing``, or of a code whose ``CodeDoc.narrowing`` is set."""
    from calico2cilium.diagnostics.catalog import CATALOG

    if diagnostic.severity not in (Severity.ERROR, Severity.WARNING):
        return False
    doc = CATALOG.get(diagnostic.code)
    return bool(getattr(diagnostic, "narrowing", False)) or (doc is not None and doc.narrowing)


def policy_label(policy: CalicoPolicy) -> str | None:
    """The input resource a Calico policy of the verifier's program was read from (named as
    ``ResourceIndex`` names it, ``resource_key``: from the document alone)."""
    return resource_key(getattr(policy.ref.doc, "data", None))


@dataclass(frozen=True)
class Explanation:
    """A narrowed flow's explanation: the ``finding``, and the flows it explains at this decision
    point (``exclusion``, a formula over flows), left out of the next question."""

    finding: Diagnostic
    exclusion: Expr

    def describe(self) -> str:
        where = f" at {self.finding.source}" if self.finding.source is not None else ""
        return f"{self.finding.code}{where}"


@dataclass(frozen=True)
class _Reason:
    finding: Diagnostic
    at: str | None
    """The resource the finding's position falls in."""
    resources: frozenset[str]
    """The resource it is positioned in, if any (its rules' direction alone: ``side``)."""
    narrows: frozenset[tuple[str, str]] = frozenset()
    """The policies whose subjects it narrows, each with a direction it narrows them in (its
    ``Diagnostic.scope``)."""
    scopes: frozenset[str] = frozenset()
    """Policies whose subject selection (not a rule) the finding is about: every subject they
    could select (their namespace; anything, for a global policy) in the directions they apply to."""
    directions: frozenset[str] = frozenset()
    """Every subject of these directions (its ``Diagnostic.scope`` says so: a whole direction)."""
    hosts: bool = False
    """Every host subject (a FelixConfiguration's finding)."""
    profile: bool = False
    """The traffic Calico allows after every tier (a finding with no position and no scope)."""
    unconverted: frozenset[str] = frozenset()
    """A finding on a policy that was not converted (in error: its quarantine, C2C236): every
    subject it could govern, of this namespace (``""``: any; ``unconverted_scope``)."""
    unmodelled: frozenset[str] = frozenset()
    """A finding on policies the proof's programs leave out (their tier is not in the input: outside
    the proof; not converted: ``unconverted``): every subject they could select, of these
    namespaces (``""``: any)."""
    side: str | None = None
    """The direction of the rule list (``spec.ingress``, ``spec.egress``) the finding is positioned
    in: a rule decides only its own direction, so the finding explains the narrowed flows of its
    policy's subjects in that direction alone."""


class Attribution:
    """The narrowing findings of a conversion, ready to explain narrowed flows (see the module
    docstring). ``findings``: the run's diagnostics (others than narrowing ones are ignored);
    ``documents``: the Calico input as read (``RawDocument`` or ``Document``)."""

    def __init__(
        self, findings: Iterable[Diagnostic], documents: Sequence[Any], unconverted: Sequence[Any] = ()
    ) -> None:
        index = ResourceIndex(documents, unconverted)
        self.reasons: list[_Reason] = []
        for finding in findings:
            # The verifier's own findings (C2C4xx) report differences; they explain none.
            if is_narrowing(finding) and not finding.code.startswith("C2C4"):
                self.reasons.append(_reason(finding, index))
        self.flagged = frozenset(
            r
            for reason in self.reasons
            for r in (*reason.resources, *reason.scopes, *(name for name, _ in reason.narrows))
        )
        self._regions: dict[tuple[int, str, str], tuple[CalicoProgram, list[Expr], Expr]] = {}
        """Per decision point: its program (held, so that its ``id`` is not reused by another while
        cached), each reason's region (held: ``evaluate``'s memo is keyed by node identity, so a
        region freed while others are evaluated could lend its ``id`` to a new node) and their
        disjunction."""

    def __bool__(self) -> bool:
        return bool(self.reasons)

    def read(self, programs: Iterable[CalicoProgram], default_namespace: str) -> None:
        """The Calico programs of every decision point of the proof. A finding on a policy none
        of them holds (the verifier leaves it out, outside the proof: a tier missing from the
        input) cannot be placed by what the policy selects: it concerns every subject the policy
        could select (its namespace; any, for a global policy)."""
        self._regions.clear()
        modelled = {policy_label(p) for program in programs for p in program.policies}
        for i, reason in enumerate(self.reasons):
            on = {name for name, _ in reason.narrows}
            if reason.finding.scope is None and reason.at is not None and not reason.unconverted:
                on.add(reason.at)
            spaces = set(reason.unconverted)
            for resource in on - modelled:
                kind, _, rest = resource.partition(" ")
                if kind == "GlobalNetworkPolicy":
                    spaces.add("")
                elif kind in ("NetworkPolicy", "KubernetesNetworkPolicy"):
                    spaces.add(rest.partition("/")[0] if "/" in rest else default_namespace)
            self.reasons[i] = replace(reason, unmodelled=frozenset(spaces))

    def mark(self, policy: object) -> bool:
        """Whether a narrowing finding concerns ``policy`` (kept apart by ``symmetry.quotient``:
        two policies alike but for this are not interchangeable for attribution)."""
        return isinstance(policy, CalicoPolicy) and policy_label(policy) in self.flagged

    def __call__(self, example: Any, calico: CalicoProgram) -> Explanation | None:
        """The explanation of a narrowed flow ``example`` (a ``Counterexample``) at the decision
        point of ``calico`` (the complete Calico program the flow was replayed through), or
        ``None``: no narrowing finding concerns it. Its ``exclusion`` is everything every finding
        explains at that decision point (``explainable``), so that the next question finds only
        narrowed flows no finding explains."""
        flow = example.flow
        memo: dict[int, bool] = {}
        _, regions, _ = self._at(calico, flow.subject)
        for reason, region in zip(self.reasons, regions, strict=True):
            if evaluate(region, flow, memo):
                return Explanation(reason.finding, self.explainable(calico, flow.subject))
        return None

    def explainable(self, calico: CalicoProgram, subject: Any) -> Expr:
        """The flows some finding explains at the decision point of ``calico`` (whose subject is
        ``subject``, or one like it: only a host subject's HostEndpoint is read)."""
        return self._at(calico, subject)[2]

    def _at(self, calico: CalicoProgram, subject: Any) -> tuple[CalicoProgram, list[Expr], Expr]:
        key = (id(calico), subject.kind, subject.host_endpoint if subject.kind == "host" else "")
        found = self._regions.get(key)
        if found is None or found[0] is not calico:
            regions = [_region(reason, calico, subject) for reason in self.reasons]
            found = (calico, regions, or_(*regions))
            self._regions[key] = found
        return found


def _region(reason: _Reason, calico: CalicoProgram, subject: Any) -> Expr:
    """The flows Calico allows that ``reason`` explains at the decision point of ``calico``
    (``subject``: its subject, for a host subject's HostEndpoint): one formula, so that a flow is
    explained exactly when it satisfies it (``Attribution.__call__`` evaluates it on the flow, the
    solver leaves it out of the next question)."""
    host = subject.kind == "host"
    own = host and f"HostEndpoint {subject.host_endpoint}" in reason.resources
    named = [
        p.selects
        for p in calico.policies
        if ((label := policy_label(p)) in reason.resources and reason.side in (None, calico.direction))
        or (label, calico.direction) in reason.narrows
    ]
    if reason.finding.code in NODE_LOCAL:
        # Only the traffic Calico decides as node-local, before (and whatever) the policies say.
        anywhere = reason.at is None or reason.hosts or own
        return and_(calico.always_allow, TRUE if anywhere else or_(*named))
    parts: list[Expr] = [*named]
    if own or calico.direction in reason.directions or (host and reason.hosts):
        parts.append(TRUE)
    for policy in calico.policies:
        if policy_label(policy) in reason.scopes:
            parts.append(TRUE if policy.namespace is None else _in_namespace(policy.namespace))
    if reason.profile:
        decided_before = or_(calico.always_allow, calico.always_deny)
        parts.append(and_(not_(decided_before), after_tiers(calico)))
    parts.extend(_in_namespace(namespace) if namespace else TRUE for namespace in sorted(reason.unmodelled))
    return or_(*parts)


def _reason(finding: Diagnostic, index: ResourceIndex) -> _Reason:
    at = index.resource_at(finding.source)
    scope = finding.scope
    if scope is not None:
        # It says what it narrows; its position is only where it is reported (a C2C350 at the
        # policy being compiled when the budget ran out is no finding on that policy's subject).
        named = {index.resource_at(source) for source in scope.policies}
        narrows = frozenset((name, d) for name in named if name is not None for d in scope.directions)
        directions = frozenset(scope.directions) if scope.every else frozenset()
        return _Reason(finding, at, frozenset(), narrows, directions=directions)
    resources = frozenset({at}) if at is not None else frozenset()
    hosts = at is not None and at.startswith("FelixConfiguration ")
    profile = at is None
    document = index.document_at(finding.source)
    scopes = frozenset({at}) if at is not None and _on_subject(finding, document) else frozenset()
    side = _rule_side(finding, document) if at is not None and finding.code not in NODE_LOCAL else None
    # A policy in error is not in the proof's programs: a finding on it (its quarantine) concerns
    # every subject it could govern, as for a policy in a tier missing from the input.
    spaces = unconverted_scope(document) if index.unconverted_at(finding.source) else None
    unconverted = frozenset({spaces}) if spaces is not None else frozenset()
    return _Reason(
        finding,
        at,
        resources,
        scopes=scopes,
        hosts=hosts,
        profile=profile,
        unconverted=unconverted,
        side=side,
    )


def _rule_side(finding: Diagnostic, document: Any) -> str | None:
    """``ingress`` or ``egress`` when ``finding`` is positioned in that rule list of ``document``'s
    spec (the field whose key is the last at or before the finding, among the resource's and its
    spec's fields), else ``None``."""
    source, data = finding.source, getattr(document, "data", None)
    if source is None or not isinstance(data, dict) or not isinstance(data.get("spec"), dict):
        return None
    fields = [((), key) for key in data] + [(("spec",), key) for key in data["spec"]]
    starts = []
    for parent, key in fields:
        where = document.source((*parent, key), key=True)
        if where.file == source.file:
            starts.append(((where.line, where.column), parent, key))
    before = [start for start in starts if start[0] <= (source.line, source.column)]
    if not before:
        return None
    _, parent, key = max(before, key=lambda start: start[0])
    return str(key) if parent == ("spec",) and key in ("ingress", "egress") else None


SUBJECT_FIELDS: tuple[tuple[str, ...], ...] = (
    (),
    ("spec",),
    ("spec", "selector"),
    ("spec", "namespaceSelector"),
    ("spec", "serviceAccountSelector"),
)
"""Where a finding about a policy's subjects (not about one of its rules) is positioned: the
resource itself, its spec, or one of the fields that select its endpoints."""


def _on_subject(finding: Diagnostic, document: Any) -> bool:
    """Whether ``finding`` is positioned at ``document``'s subject selection (``SUBJECT_FIELDS``)."""
    source = finding.source
    return source is not None and any(document.source(path) == source for path in SUBJECT_FIELDS)


def _in_namespace(namespace: str) -> Expr:
    """The subject is a pod of ``namespace``."""
    return StrTest(Attr(SUBJECT, "nsname"), "eq", namespace)


def after_tiers(program: CalicoProgram) -> Expr:
    """The flows no tier decides at this decision point (every selecting tier passes them on):
    those the profiles decide (``CalicoProgram.verdict`` with the tiers' Allow and Deny made
    false and the profiles true)."""
    rest: Expr = TRUE
    for tier in reversed(program.tiers):
        chain: Expr = rest if tier.pass_by_default else FALSE
        for policy in reversed(tier.policies):
            for rule in reversed(policy.rules):
                outcome = rest if rule.action == "Pass" else FALSE
                chain = ite(and_(policy.selects, rule.match), outcome, chain)
        rest = ite(or_(*(p.selects for p in tier.policies)), chain, rest)
    return rest
