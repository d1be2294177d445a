"""Calico semantics: Calico documents (and Kubernetes NetworkPolicies) to one program per direction.

Read from the documents' plain data (``RawDocument.data``) so that the verifier does not share
code paths with the compiler's lowering; the loader's typed models have already validated them
when a ``LoadResult`` is given. Claims cite docs/reference/semantics.md (§1.x) and docs/reference/semantics-check.md.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from calico2cilium.semantics.calico_hosts import HostChoices, host_program
from calico2cilium.semantics.calico_knp import knp_to_calico
from calico2cilium.semantics.calico_rules import (
    Part,
    RuleContext,
    composite_on,
    parse_selector,
    rule_match,
)
from calico2cilium.semantics.calico_sets import LabelledSet, SetIndex, group_sets
from calico2cilium.semantics.cilium_read import Invalid
from calico2cilium.semantics.expr import FALSE, PEER, SUBJECT, IsKind
from calico2cilium.semantics.hosts import HostSubject, host_subjects, read_host_endpoints
from calico2cilium.semantics.knp import read_knp
from calico2cilium.semantics.program import (
    CalicoPolicy,
    CalicoProgram,
    CalicoRule,
    CalicoTier,
    InvalidItem,
    Located,
    Ref,
    UnsupportedItem,
)
from calico2cilium.semantics.views import PCNS, PCSA, Unsupported, calico_pod_label
from calico2cilium.semantics.world import DIRECTIONS, Assumptions, Direction

CALICO_APIS = ("projectcalico.org/v3", "crd.projectcalico.org/v1")
POLICY_KINDS = ("GlobalNetworkPolicy", "NetworkPolicy")
SET_KINDS = ("NetworkSet", "GlobalNetworkSet")
STAGED_KINDS = ("StagedGlobalNetworkPolicy", "StagedNetworkPolicy", "StagedKubernetesNetworkPolicy")
BUILTIN_TIERS = {
    "kube-admin": (1_000.0, "Pass"),
    "default": (1_000_000.0, "Deny"),
    "kube-baseline": (1e7, "Pass"),
}
"""Orders and default actions fixed by CEL (docs/reference/semantics.md §1.2, tier.go)."""
KNP_ORDER = 1000.0
"""Kubernetes NetworkPolicies sit at order 1000 in the default tier (docs/reference/semantics.md §1.2; conversion.go)."""


@dataclass
class PolicyInput:
    """A Calico policy, from a Calico document or converted from a Kubernetes NetworkPolicy."""

    kind: str
    name: str
    namespace: str | None
    tier: str
    order: float | None
    subject: tuple[Part, ...]
    types: tuple[str, ...]
    ingress: Sequence[Mapping[str, Any]]
    egress: Sequence[Mapping[str, Any]]
    doc: Located
    host_only: bool = False
    """``doNotTrack``/``preDNAT`` policies are rendered for host endpoints only (docs/reference/semantics.md §1.1)."""
    apply_on_forward: bool = False
    """Also governs traffic forwarded through a host endpoint (docs/reference/semantics.md §1.5)."""

    @property
    def title(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"

    def sort_key(self) -> tuple[float, str, str, str]:
        # docs/reference/semantics.md §1.2: order ascending, missing = +inf, ties by name (version dependent).
        order = math.inf if self.order is None else self.order
        return (order, self.name, self.namespace or "", self.kind)


@dataclass
class CalicoSide:
    """``programs``: the pod decision per direction. ``members``: per direction, per tier of
    ``programs[direction].tiers``, each policy's input beside its built form (host subjects reuse
    the built rules). ``hosts``: per host subject (``HostSubject.key``), its programs."""

    programs: dict[Direction, CalicoProgram]
    invalid: list[InvalidItem] = field(default_factory=list)
    unsupported: list[UnsupportedItem] = field(default_factory=list)
    members: dict[Direction, list[list[tuple[PolicyInput, CalicoPolicy]]]] = field(default_factory=dict)
    host_subjects: list[HostSubject] = field(default_factory=list)
    hosts: dict[str, dict[Direction, CalicoProgram]] = field(default_factory=dict)

    def node_labels(self) -> dict[str, dict[str, str]]:
        """Cilium's labels of every host subject's node whose labels are known."""
        return {s.node: dict(s.node_labels) for s in self.host_subjects if s.node_labels is not None}


def _data(doc: Located) -> dict[str, Any]:
    return doc.data if isinstance(doc.data, dict) else {}


def _title(doc: Located) -> str:
    data = _data(doc)
    meta = data.get("metadata") or {}
    ns = f"{meta.get('namespace')}/" if meta.get("namespace") else ""
    return f"{data.get('kind', '?')} {ns}{meta.get('name', '?')}"


def _types(spec: Mapping[str, Any], api: str, assumptions: Assumptions) -> tuple[str, ...]:
    """Stored ``types`` win. Absent: clientv3 defaulting by rule counts, or (v3.32+ admission) by
    presence of ``egress``; a stored v1 object without types is Ingress+Egress in felix
    (docs/reference/semantics-check.md claim 14)."""
    stored = spec.get("types")
    if stored:
        return tuple(str(t) for t in stored)
    if api == "crd.projectcalico.org/v1":
        return ("Ingress", "Egress")
    has_egress = (
        ("egress" in spec) if assumptions.calico_types_default == "admission" else bool(spec.get("egress"))
    )
    has_ingress = bool(spec.get("ingress"))
    if has_egress and not has_ingress:
        return ("Egress",)
    if has_egress:
        return ("Ingress", "Egress")
    return ("Ingress",)


def _subject(spec: Mapping[str, Any], kind: str, namespace: str | None) -> tuple[Part, ...]:
    """Which endpoints a policy applies to (docs/reference/semantics.md §1.1): a NetworkPolicy's selector ANDed with
    its namespace and ``pcsa.``-prefixed serviceAccountSelector (networkpolicyprocessor.go); a
    GlobalNetworkPolicy's selector ANDed with the ``pcns.``/``pcsa.`` selectors, every ``all()``
    rewritten to has(namespace)/has(serviceaccount) (globalnetworkpolicyprocessor.go)."""
    from calico2cilium.calico.selector import Eq

    ns_sel, sa_sel = spec.get("namespaceSelector"), spec.get("serviceAccountSelector")
    if kind == "NetworkPolicy":
        parts = [
            Part(parse_selector(spec.get("selector"))),
            Part(Eq("projectcalico.org/namespace", namespace or "")),
        ]
        if sa_sel:
            parts.append(Part(parse_selector(sa_sel), PCSA))
        return tuple(parts)
    user_all = "namespaced" if ns_sel else ("service-account" if sa_sel else "all")
    parts = [Part(parse_selector(spec.get("selector")), "", user_all)]  # type: ignore[arg-type]
    if ns_sel:
        parts.append(Part(parse_selector(ns_sel), PCNS, "namespaced"))
    if sa_sel:
        parts.append(Part(parse_selector(sa_sel), PCSA, "service-account"))
    return tuple(parts)


def _policy(doc: Located, assumptions: Assumptions, default_namespace: str) -> PolicyInput:
    data = _data(doc)
    kind, api = str(data.get("kind")), str(data.get("apiVersion"))
    meta, spec = data.get("metadata") or {}, data.get("spec") or {}
    namespace = str(meta.get("namespace") or default_namespace) if kind == "NetworkPolicy" else None
    order = spec.get("order")
    return PolicyInput(
        kind=kind,
        name=str(meta.get("name") or "?"),
        namespace=namespace,
        tier=str(spec.get("tier") or "default"),
        order=None if order is None else float(order),
        subject=_subject(spec, kind, namespace),
        types=_types(spec, api, assumptions),
        ingress=list(spec.get("ingress") or []),
        egress=list(spec.get("egress") or []),
        doc=doc,
        host_only=bool(spec.get("doNotTrack")) or bool(spec.get("preDNAT")),
        apply_on_forward=bool(spec.get("applyOnForward")),
    )


def _labelled_set(doc: Located, default_namespace: str) -> LabelledSet | None:
    data = _data(doc)
    kind, meta, spec = data.get("kind"), data.get("metadata") or {}, data.get("spec") or {}
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    if kind in SET_KINDS:
        nets = tuple(ipaddress.ip_network(str(n), strict=False) for n in spec.get("nets") or [])
        namespace = str(meta.get("namespace") or default_namespace) if kind == "NetworkSet" else None
        return LabelledSet(labels, nets, namespace)
    if kind == "HostEndpoint":
        ips = tuple(ipaddress.ip_network(str(ip)) for ip in spec.get("expectedIPs") or [])
        ports = tuple(
            (str(p.get("name")), _proto(p.get("protocol")), int(p.get("port")))
            for p in spec.get("ports") or []
        )
        return LabelledSet(labels, ips, None, host=True, ports=ports)
    return None


def _proto(value: Any) -> int:
    from calico2cilium.semantics.protocols import calico_protocol

    return calico_protocol(value or "TCP") or 6


def read_calico_side(
    docs: Iterable[Located],
    assumptions: Assumptions,
    default_namespace: str = "default",
    extra_nodes: Mapping[str, Mapping[str, str]] | None = None,
    *,
    indexed: bool = True,
) -> CalicoSide:
    """``extra_nodes``: nodes known besides those named by HostEndpoints (e.g. an inventory's), with
    their labels: host subjects without a HostEndpoint.

    ``indexed=False``: the plain reading, every rule side evaluated against every group of sets and
    every host subject's program built on its own; the default reads the same (tested) with the
    shortcuts that keep it near linear (``calico_sets.SetIndex``, ``calico_hosts.HostChoices``)."""
    docs = list(docs)
    side = CalicoSide({d: CalicoProgram(d, []) for d in ("ingress", "egress")})
    tiers: dict[str, tuple[float | None, str, Located | None]] = {
        name: (order, action, None) for name, (order, action) in BUILTIN_TIERS.items()
    }
    policies: list[PolicyInput] = []
    for doc in docs:
        data = _data(doc)
        kind, api = data.get("kind"), str(data.get("apiVersion", ""))
        try:
            if kind == "Tier" and api in CALICO_APIS:
                spec = data.get("spec") or {}
                order = spec.get("order")
                name = str((data.get("metadata") or {}).get("name"))
                tiers[name] = (
                    None if order is None else float(order),
                    str(spec.get("defaultAction") or "Deny"),
                    doc,
                )
            elif kind in POLICY_KINDS and api in CALICO_APIS:
                policy = _policy(doc, assumptions, default_namespace)
                policies.append(policy)
                if policy.host_only:
                    reason = (
                        "doNotTrack/preDNAT policy: applies to host endpoints only, and untracked or "
                        "pre-DNAT traffic is not verified"
                    )
                    side.unsupported.append(UnsupportedItem("calico", reason, policy.title, doc))
            elif kind == "NetworkPolicy" and api.startswith("networking.k8s.io/"):
                policies.append(knp_to_calico(read_knp(data, default_namespace), doc, KNP_ORDER))
            elif kind in STAGED_KINDS or kind in SET_KINDS or kind == "HostEndpoint":
                continue  # staged policies are not enforced; sets and host endpoints are read below
            else:
                side.unsupported.append(
                    UnsupportedItem("calico", f"kind {kind!r} is not modelled; ignored", _title(doc), doc)
                )
        except (Invalid, Unsupported, ValueError, TypeError) as exc:
            side.invalid.append(InvalidItem("calico", str(exc), _title(doc), doc))
    sets = []
    for doc in docs:
        try:
            labelled = _labelled_set(doc, default_namespace)
        except (ValueError, TypeError, AttributeError) as exc:
            side.invalid.append(InvalidItem("calico", str(exc), _title(doc), doc))
            continue
        if labelled is not None:
            sets.append(labelled)
    index = SetIndex(group_sets(sets), indexed)
    for direction, program in side.programs.items():
        if direction == "ingress" and assumptions.calico_local_host_allowed:
            program.always_allow = IsKind(PEER, "host")
        if direction == "egress" and assumptions.calico_endpoint_to_host_action == "Drop":
            # felix rules/static.go filterWorkloadToHostChain: the pod's egress policy, then the
            # configured DefaultEndpointToHostAction (here DROP) for traffic to the pod's own node.
            program.always_deny = IsKind(PEER, "host")
            program.deny_ref = Ref(
                "calico",
                "Felix defaultEndpointToHostAction Drop: traffic from a pod to its own node is dropped"
                " after its egress policy",
            )
        program.tiers = _tiers(tiers, policies, direction, sets, side, assumptions, index)
    heps, invalid = read_host_endpoints(docs)
    side.invalid.extend(invalid)
    side.host_subjects = host_subjects(heps, assumptions, extra_nodes or {})
    choices: HostChoices | None = {} if indexed else None
    for subject in side.host_subjects:
        side.hosts[subject.key] = {
            d: host_program(subject, d, side, assumptions, choices) for d in DIRECTIONS
        }
        for note in subject.unsupported:
            if note not in side.unsupported:
                side.unsupported.append(note)
    return side


def _tiers(
    tiers: dict[str, tuple[float | None, str, Located | None]],
    policies: list[PolicyInput],
    direction: Direction,
    sets: list[LabelledSet],
    side: CalicoSide,
    assumptions: Assumptions,
    index: SetIndex | None = None,
) -> list[CalicoTier]:
    """Tiers by order (missing = last), then name (docs/reference/semantics.md §1.2, ``TierLess``)."""
    used = sorted({p.tier for p in policies})
    for name in used:
        if name not in tiers:
            side.unsupported.append(
                UnsupportedItem(
                    "calico",
                    f"tier {name!r} is not defined in the input: its order and default action are unknown",
                    name,
                )
            )
    ordered = sorted(
        (n for n in used if n in tiers), key=lambda n: (tiers[n][0] is None, tiers[n][0] or 0.0, n)
    )
    out = []
    for name in ordered:
        _, action, tier_doc = tiers[name]
        members = sorted((p for p in policies if p.tier == name), key=PolicyInput.sort_key)
        built = [_program_policy(p, direction, sets, side, assumptions, index) for p in members]
        side.members.setdefault(direction, []).append(list(zip(members, built, strict=True)))
        end = Ref(
            "calico",
            f"end of tier {name!r} (default action {action})",
            tier_doc,
            ("spec",) if tier_doc else (),
        )
        out.append(CalicoTier(name, action == "Pass", built, end))
    return out


def _program_policy(
    policy: PolicyInput,
    direction: Direction,
    sets: list[LabelledSet],
    side: CalicoSide,
    assumptions: Assumptions,
    set_index: SetIndex | None = None,
) -> CalicoPolicy:
    title = policy.title
    ref = Ref("calico", title, policy.doc, ("spec",))
    end = Ref("calico", f"{title}: no rule matched (end of tier)", policy.doc, ("spec",))
    if direction.capitalize() not in policy.types or policy.host_only:
        return CalicoPolicy(FALSE, [], ref, end, policy.namespace)
    built = CalicoPolicy(FALSE, [], ref, end, policy.namespace)
    try:
        built.selects = composite_on(policy.subject, lambda key: calico_pod_label(SUBJECT, key))
    except Unsupported as exc:
        built.unsupported.append(UnsupportedItem("calico", exc.reason, title, policy.doc, ("spec",)))
    ctx = RuleContext(
        direction, policy.namespace, sets, assumptions.services, assumptions.families, set_index
    )
    rules = policy.ingress if direction == "ingress" else policy.egress
    base = ("spec", direction)
    for index, rule in enumerate(rules):
        path = tuple(rule.get("_path") or (*base, index))
        action = str(rule.get("action"))
        if action == "Log":
            continue  # non-terminal: logs and continues with the next rule (docs/reference/semantics.md §1.2)
        rule_ref = Ref("calico", f"{title} {direction}[{index}] ({action})", policy.doc, path)
        try:
            if action not in ("Allow", "Deny", "Pass"):
                raise Unsupported(f"unknown action {action!r}")
            match = rule_match(rule, ctx)
        except Unsupported as exc:
            built.unsupported.append(UnsupportedItem("calico", exc.reason, title, policy.doc, path))
            continue
        except (ValueError, TypeError, AttributeError) as exc:
            # Only unvalidated input gets here (the loader refuses such documents).
            side.invalid.append(InvalidItem("calico", str(exc), title, policy.doc, path))
            built.unsupported.append(
                UnsupportedItem("calico", f"invalid rule: {exc}", title, policy.doc, path)
            )
            continue
        built.rules.append(CalicoRule(match, action, rule_ref))  # type: ignore[arg-type]
    return built
