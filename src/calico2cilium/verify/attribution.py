"""Which narrowing finding explains a narrowed flow (``convert --verify``).

A conversion that says it fails closed somewhere is proven to allow nothing Calico denies
(``verify(narrowing=True)``). That alone would accept *any* amount of narrowing anywhere, so a
compiler bug that over-denies the traffic of a policy no diagnostic mentions would pass as
"narrowed" as soon as one unrelated narrowing finding exists. This module is the second half of
the judge: every narrowed flow (Calico allows, Cilium denies) must be explained by a narrowing
finding that concerns it, or it is reported (C2C414) like an unexplained difference.

What a finding concerns is read from neutral facts only, never from how the compiler works:

- the input resource its position falls in (``ResourceIndex``: per file, by first line), in the
  direction of the rule list it is positioned in, if any (``spec.ingress``, ``spec.egress``);
- for C2C350 (a part of a direction failing closed), the policies its message names, whose subjects
  it says are left in default deny; when it names no part (the whole direction) or not all of it
  (``... and N more``), every subject of the direction it names;
- a FelixConfiguration's findings (failsafe ports, C2C232) concern every host subject, and a
  HostEndpoint's its own host subject; those of the node-local codes (``NODE_LOCAL``) only the
  traffic between a node and its own pods that Calico decides before any policy;
- a finding with no position that names no resource concerns the traffic no resource decides:
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

NAMES_ITS_SUBJECTS = frozenset({"C2C350"})
"""Codes whose message names the policies whose subjects it narrows (a part of a direction left in
default deny). Other codes name other resources as the rules a narrowed rule overlaps, not as the
subjects it narrows, so their names are not read."""

NODE_LOCAL = frozenset({"C2C324", "C2C342", "C2C343"})
"""Codes about the traffic between a node and its own pods, which Calico decides before (and
whatever) the policies say (``CalicoProgram.always_allow``): their findings explain only flows
Calico decided that way, at the subjects they concern."""

_MORE = re.compile(r"\band \d+ more\b")
_DIRECTION = re.compile(r"\bfor (ingress|egress)\b")


def resource_label(data: Any) -> str | None:
    """``Kind ns/name`` of a resource given as a mapping (the form ``Origin.resource`` and the
    ``calico2cilium.io/source`` annotation use), or ``None``."""
    if not isinstance(data, dict):
        return None
    meta = data.get("metadata")
    if not isinstance(meta, dict) or not isinstance(data.get("kind"), str) or not meta.get("name"):
        return None
    namespace = meta.get("namespace")
    return f"{data['kind']} {namespace + '/' if namespace else ''}{meta['name']}"


class ResourceIndex:
    """Which input resource a position falls in: per file, the resources by their first line
    (``kind: List`` items and top-level list items included), so a diagnostic anywhere inside a
    resource finds it."""

    def __init__(self, documents: Iterable[Any], unconverted: Iterable[Any] = ()) -> None:
        starts: dict[str, list[tuple[int, int, str]]] = {}
        self._documents: dict[tuple[str, int, int], Any] = {}
        """Each resource's document by its start, for positions inside it (two resources may
        share a label: a Calico and a Kubernetes NetworkPolicy of one name)."""
        self._unconverted: set[tuple[str, int, int]] = set()
        """The starts of the resources read but not converted (invalid, or given twice with
        different content): a position inside one is in it, not in the resource before it."""
        for document, converted in [*((d, True) for d in documents), *((d, False) for d in unconverted)]:
            raw = getattr(document, "raw", document)
            data = getattr(raw, "data", None)
            label = resource_label(data) if converted else unconverted_label(data)
            if label is None:
                continue
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
        return rows[at - 1] if at else None

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

    @property
    def labels(self) -> set[str]:
        return {label for rows in self._starts.values() for _, _, label in rows}


def unconverted_label(data: Any) -> str | None:
    """``resource_label`` of a resource that was not converted, or ``Kind ns/?`` when its name
    is missing or not a string (its quarantine is still there: C2C236)."""
    label = resource_label(data)
    if label is not None or not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        return label
    meta = data.get("metadata")
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    return f"{data['kind']} {namespace + '/' if isinstance(namespace, str) and namespace else ''}?"


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
    """The input resource a Calico policy of the verifier's program was read from (labelled as
    ``ResourceIndex`` labels it: from the document alone)."""
    return resource_label(getattr(policy.ref.doc, "data", None))


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
    scopes: frozenset[str] = frozenset()
    """Policies whose subject selection (not a rule) the finding is about: every subject they
    could select (their namespace; anything, for a global policy) in the directions they apply to."""
    directions: frozenset[str] = frozenset()
    """Every subject of these directions (a C2C350 of a whole direction, or of a part it does not
    name in full)."""
    hosts: bool = False
    """Every host subject (a FelixConfiguration's finding)."""
    profile: bool = False
    """The traffic Calico allows after every tier (a finding with no position naming nothing)."""
    unmodelled: str | None = None
    """A finding on a policy the proof's programs leave out (its tier is not in the input: outside
    the proof): every subject it could select, of this namespace (``""``: any)."""
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
        labels = index.labels
        self.reasons: list[_Reason] = []
        for finding in findings:
            # The verifier's own findings (C2C4xx) report differences; they explain none.
            if is_narrowing(finding) and not finding.code.startswith("C2C4"):
                self.reasons.append(_reason(finding, index, labels))
        self.flagged = frozenset(r for reason in self.reasons for r in reason.resources | reason.scopes)
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
            at = reason.at
            if at is None or at in modelled or reason.unmodelled is not None:
                continue
            kind, _, rest = at.partition(" ")
            if kind == "GlobalNetworkPolicy":
                self.reasons[i] = replace(reason, unmodelled="")
            elif kind == "NetworkPolicy":
                namespace = rest.partition("/")[0] if "/" in rest else default_namespace
                self.reasons[i] = replace(reason, unmodelled=namespace)

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
        if (label := policy_label(p)) in reason.resources
        and (reason.side in (None, calico.direction) or label != reason.at)
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
    if reason.unmodelled is not None:
        parts.append(_in_namespace(reason.unmodelled) if reason.unmodelled else TRUE)
    return or_(*parts)


def _reason(finding: Diagnostic, index: ResourceIndex, labels: set[str]) -> _Reason:
    at = index.resource_at(finding.source)
    resources = {at} if at is not None else set()
    directions: frozenset[str] = frozenset()
    if finding.code in NAMES_ITS_SUBJECTS:
        resources |= {label for label in labels if _names(finding.message, label)}
        if _MORE.search(finding.message) or "every pod a policy selects" in finding.message:
            directions = frozenset(_DIRECTION.findall(finding.message)) or frozenset(("ingress", "egress"))
    hosts = at is not None and at.startswith("FelixConfiguration ")
    profile = at is None and not resources and not directions
    document = index.document_at(finding.source)
    scopes = frozenset({at}) if at is not None and _on_subject(finding, document) else frozenset()
    side = _rule_side(finding, document) if at is not None and finding.code not in NODE_LOCAL else None
    # A policy in error is not in the proof's programs: a finding on it (its quarantine) concerns
    # every subject it could govern, as for a policy in a tier missing from the input.
    unmodelled = unconverted_scope(document) if index.unconverted_at(finding.source) else None
    return _Reason(
        finding,
        at,
        frozenset(resources),
        scopes,
        directions,
        hosts,
        profile,
        unmodelled=unmodelled,
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


def _names(message: str, label: str) -> bool:
    """Whether ``message`` names the resource ``label`` as a whole (not a prefix of a longer name:
    ``NetworkPolicy shop/db`` is not named by ``NetworkPolicy shop/db2``)."""
    start = message.find(label)
    while start >= 0:
        end = start + len(label)
        before = message[start - 1] if start else " "
        after = message[end] if end < len(message) else " "
        if not before.isalnum() and not (after.isalnum() or after in "-./_"):
            return True
        start = message.find(label, start + 1)
    return False


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
