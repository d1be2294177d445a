"""Lowering: typed input models -> the policy IR (``ir.py``), field by field.

What has no conversion at all is refused here, with a diagnostic at the field's position:
``doNotTrack``/``preDNAT``/``applyOnForward`` policies (no Cilium stage runs there), kinds the
compiler does not convert yet. ``Log`` rules are dropped with a warning: they are non-terminal in
Calico (docs/reference/semantics.md §1.2), so dropping them keeps every verdict. Everything else is carried over
verbatim, with Calico's defaults applied: ``types`` (``PolicyResource.effective_types``), the tier
(``default``), Kubernetes NetworkPolicy's place in Calico's order (order 1000 in the default tier,
``K8sNetworkPolicyToCalico``; docs/reference/semantics.md §1.2). Given a label inventory, the string tests
``contains``/``starts with``/``ends with`` are expanded here, once, before any selector reaches the
DNF (``compile/inventory.py``; a C2C316 warning at each expanded field).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from calico2cilium import ir
from calico2cilium.calico.globalnetworkpolicy import GlobalNetworkPolicySpec
from calico2cilium.calico.policyspec import PolicyResource
from calico2cilium.calico.rules import EntityRule, Rule
from calico2cilium.calico.selector import All, Selector, SelectorError, conjoin, parse
from calico2cilium.calico.tier import Tier as TierModel
from calico2cilium.calico.tier import TierV1
from calico2cilium.compile.inventory import Expander, Expansion, Universe
from calico2cilium.diagnostics import Diagnostic, Source
from calico2cilium.diagnostics.catalog import make
from calico2cilium.drain import drained
from calico2cilium.io.inventory import Inventory
from calico2cilium.k8s.networkpolicy import (
    KubernetesNetworkPolicy,
    LabelSelector,
    NetworkPolicyPeer,
    NetworkPolicyPort,
)
from calico2cilium.validate import Document

DEFAULT_NAMESPACE = "default"
KNP_ORDER = 1000.0
K8S_ONLY = parse("projectcalico.org/orchestrator == 'k8s'")
HOST_ENDPOINT_KIND = "HostEndpoint"
SET_KINDS = ("NetworkSet", "GlobalNetworkSet")


@dataclass(slots=True)
class Lowered:
    policies: list[ir.Policy] = field(default_factory=list)
    tiers: dict[str, ir.Tier] = field(default_factory=dict)
    sets: list[ir.NetworkSet] = field(default_factory=list)
    passthrough: list[dict[str, Any]] = field(default_factory=list)
    """Kubernetes NetworkPolicies, as given: they go to the output unchanged (Cilium enforces them)."""
    host_endpoints: list[ir.HostEndpoint] = field(default_factory=list)
    refused_global: list[tuple[ir.Origin, Selector]] = field(default_factory=list)
    """GlobalNetworkPolicies refused here (with their selector): a host endpoint one of them
    selects cannot be converted exactly (``compile/hosts.py``)."""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    expansions: list[tuple[Document, ir.JsonPath, Expansion]] = field(default_factory=list)
    """Selector fields whose string tests were expanded against the inventory (C2C316)."""

    def extend(self, other: Lowered) -> None:
        """Add ``other``'s IR after this one's, as if its documents had been lowered after these."""
        self.policies.extend(other.policies)
        self.tiers.update(other.tiers)
        self.sets.extend(other.sets)
        self.passthrough.extend(other.passthrough)
        self.host_endpoints.extend(other.host_endpoints)
        self.refused_global.extend(other.refused_global)
        self.diagnostics.extend(other.diagnostics)
        self.expansions.extend(other.expansions)


def lower(
    documents: Iterable[Document],
    default_namespace: str = DEFAULT_NAMESPACE,
    inventory: Inventory | None = None,
) -> Lowered:
    """``inventory``: expand ``contains``/``starts with``/``ends with`` against its label values
    (``compile/inventory.py``); without it they stay, and the compiler refuses them.

    ``documents`` is read once, in order, holding none but the current one (so a caller can
    free each as it is lowered: ``convert(keep_input=False)``), except with an inventory, whose
    expansion needs every network set first."""
    expander = None
    if inventory is not None:
        documents = list(documents)
        sets = [_network_set(d, default_namespace) for d in documents if d.kind in SET_KINDS]
        expander = Expander(inventory, sets)
    lowering = Lowering(default_namespace, expander)
    out = Lowered()
    for doc in documents:
        lowering.into(doc, out)
    return out


def joined(pieces: list[Lowered]) -> Lowered:
    """The pieces' IR in order as one (``Lowering.one``'s, of documents read in order), each
    piece taken out of ``pieces`` as it is joined."""
    out = Lowered()
    for piece in drained(pieces):
        out.extend(piece)
    return out


class Lowering:
    """Lowers documents one at a time, sharing equal IR leaves across them (``_Fields.shared``):
    ``lower`` over a whole input, or ``one`` document as it is read (``load(lower=...)``), so
    that no typed model outlives its lowering (issue 15, item 13). Without an ``expander``, the
    IR of a document does not depend on the others: lowering each into its own ``Lowered`` and
    joining them in order (``Lowered.extend``) is the same as lowering them together."""

    def __init__(self, default_namespace: str = DEFAULT_NAMESPACE, expander: Expander | None = None) -> None:
        self.default_namespace = default_namespace
        self.expander = expander
        self.table: dict[Any, Any] = {}

    def one(self, doc: Document) -> Lowered:
        """``doc``'s own IR."""
        out = Lowered()
        self.into(doc, out)
        return out

    def into(self, doc: Document, out: Lowered) -> None:
        """Add ``doc``'s IR to ``out``."""
        default_namespace = self.default_namespace
        model = doc.model
        if isinstance(model, TierModel | TierV1):
            _tier(doc, model, out)
        elif isinstance(model, PolicyResource):
            _calico_policy(_Fields(doc, out, self.expander, self.table), model, default_namespace)
        elif isinstance(model, KubernetesNetworkPolicy):
            out.policies.append(_knp(doc, model, default_namespace))
            copy = _passthrough(doc.raw.data, model.metadata.namespace or default_namespace)
            _drop_untyped_rules(doc, copy, out)
            _close_knp_egress_named_ports(doc, model, copy, out)
            out.passthrough.append(copy)
        elif doc.kind in SET_KINDS:
            out.sets.append(_network_set(doc, default_namespace))
        elif doc.kind == HOST_ENDPOINT_KIND:
            out.host_endpoints.append(_host_endpoint(doc))


def _host_endpoint(doc: Document) -> ir.HostEndpoint:
    model: Any = doc.model
    spec = model.spec
    fields = ("interfaceName", "expectedIPs", "profiles", "ports", "node")
    sources = tuple((f, doc.raw.source(("spec", f))) for f in fields if f in (doc.raw.data.get("spec") or {}))
    return ir.HostEndpoint(
        name=model.metadata.name,
        node=spec.node,
        interface=spec.interface_name or None,
        labels=tuple(sorted(model.metadata.labels.items())),
        expected_ips=tuple(str(ip.address) for ip in spec.expected_ips),
        profiles=tuple(spec.profiles),
        ports=tuple((p.name, str(p.protocol.as_yaml()), p.port) for p in spec.ports),
        origin=ir.Origin(doc.kind, model.metadata.name, None, (), doc.raw.source()),
        sources=sources,
    )


def _network_set(doc: Document, default_namespace: str) -> ir.NetworkSet:
    model: Any = doc.model
    namespace = (model.metadata.namespace or default_namespace) if doc.kind == "NetworkSet" else None
    return ir.NetworkSet(
        kind=doc.kind,
        name=model.metadata.name,
        namespace=namespace,
        labels=tuple(sorted(model.metadata.labels.items())),
        nets=tuple(c.text for c in model.spec.nets),
        origin=ir.Origin(doc.kind, model.metadata.name, namespace, (), doc.raw.source()),
    )


_SERVER_FIELDS = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
    "ownerReferences",
    "finalizers",
)


def _passthrough(data: Any, namespace: str) -> dict[str, Any]:
    """The Kubernetes NetworkPolicy as given, without the fields the API server owns (as
    ``kubectl get -o yaml`` output would be cleaned before ``kubectl apply``), namespace made
    explicit."""
    meta = {k: v for k, v in dict(data.get("metadata") or {}).items() if k not in _SERVER_FIELDS}
    meta["namespace"] = namespace
    annotations = {
        k: v
        for k, v in dict(meta.get("annotations") or {}).items()
        if k != "kubectl.kubernetes.io/last-applied-configuration"
    }
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out = {"apiVersion": data.get("apiVersion"), "kind": data.get("kind"), "metadata": meta}
    if "spec" in data:
        out["spec"] = data["spec"]
    return out


def _drop_untyped_rules(doc: Document, copy: dict[str, Any], out: Lowered) -> None:
    """Calico converts only the rules of the directions in ``policyTypes``; Cilium enforces every
    ingress and egress rule of a Kubernetes NetworkPolicy whatever ``policyTypes`` says, with
    default deny (docs/reference/semantics-check.md E11). The copy that goes to Cilium loses those rules."""
    spec = copy.get("spec")
    if not isinstance(spec, dict) or not spec.get("policyTypes"):
        return
    types = set(spec["policyTypes"])
    for key, kind in (("ingress", "Ingress"), ("egress", "Egress")):
        if kind not in types and spec.get(key):
            out.diagnostics.append(
                make(
                    "C2C313",
                    f"NetworkPolicy {copy['metadata'].get('namespace')}/{doc.name} has {key} rules but"
                    f" policyTypes {sorted(types)} leaves {kind} out: Calico ignores them, Cilium would"
                    f" enforce them, so the copy in the output has no {key} rules",
                    doc.raw.source(("spec", key)),
                )
            )
            spec = {k: v for k, v in spec.items() if k != key}
    copy["spec"] = spec


def _close_knp_egress_named_ports(
    doc: Document, model: KubernetesNetworkPolicy, copy: dict[str, Any], out: Lowered
) -> None:
    """A passed-through NetworkPolicy's egress named ports are enforced by Cilium its own way
    (``EGRESS_NAMED_PORTS``: one number cluster-wide, towards every peer of the rule), and no
    companion policy can correct that. The copy fails closed instead (review5 finding 2): the
    ``ports`` entry is dropped, and the whole rule when it was the rule's last entry (a rule
    without ports allows every port). The policy keeps selecting its pods, so Cilium denies what
    that entry allowed unless another rule allows it, and never allows more. A warning at each."""
    spec = model.spec
    types = spec.policy_types or (("Ingress", "Egress") if spec.egress else ("Ingress",))
    copied = copy.get("spec")
    if "Egress" not in types or not isinstance(copied, dict) or not isinstance(copied.get("egress"), list):
        return  # the copy has no egress rules (_drop_untyped_rules), and Calico ignores them
    namespace = copy["metadata"]["namespace"]
    kept_rules: list[Any] = []
    for index, (rule, raw_rule) in enumerate(zip(spec.egress, copied["egress"], strict=True)):
        named = [
            j for j, port in enumerate(rule.ports) if isinstance(port.port, str) and not port.port.isdigit()
        ]
        if not named or not isinstance(raw_rule, dict):
            kept_rules.append(raw_rule)
            continue
        entries = [entry for j, entry in enumerate(raw_rule.get("ports") or []) if j not in named]
        effect = (
            "that ports entry is left out of the copy"
            if entries
            else "the rule is left out of the copy (it had no other ports entry)"
        )
        for j in named:
            out.diagnostics.append(
                make(
                    "C2C335",
                    f"NetworkPolicy {namespace}/{doc.name} egress[{index}] ports[{j}]: named port"
                    f" '{rule.ports[j].port}': {EGRESS_NAMED_PORTS}. It fails closed: {effect}, so"
                    " Cilium denies the traffic it allowed unless another rule allows it",
                    doc.raw.source(("spec", "egress", index, "ports", j, "port")),
                    hint=_EGRESS_NAMED_HINT,
                    narrowing=True,
                )
            )
        if entries:
            kept_rules.append({**raw_rule, "ports": entries})
    copy["spec"] = {**copied, "egress": kept_rules}


def _origin(doc: Document, namespace: str | None = None) -> ir.Origin:
    return ir.Origin(doc.kind, doc.name, namespace, (), doc.raw.source())


def _tier(doc: Document, model: TierModel | TierV1, out: Lowered) -> None:
    name = model.metadata.name
    order = model.spec.order if model.spec.order is not None else ir.NO_ORDER
    action = ir.Action(model.spec.effective_default_action)
    out.tiers[name] = ir.Tier(name, order, action, _origin(doc))


def _selector(text: str | None) -> Selector:
    """A selector field: absent or empty is ``all()`` (Calico's default)."""
    if not text or not text.strip():
        return All()
    return parse(text)


def _optional_selector(text: str | None) -> Selector | None:
    return None if text is None else _selector(text)


_UNIVERSE_WORDS = {
    Universe.SUBJECT: "pod",
    Universe.PEER: "pod",
    Universe.NAMESPACE: "namespace",
    Universe.SERVICE_ACCOUNT: "service account",
}


_Leaf = TypeVar("_Leaf", ir.Peer, ir.L4Match)


@dataclass
class _Fields:
    """Reads the selector fields of one Calico policy, expanding string tests when an inventory
    is given, with a warning (C2C316) at each expanded field."""

    doc: Document
    out: Lowered
    expander: Expander | None
    table: dict[Any, Any]
    """One value for equal IR leaves across the documents (``shared``)."""

    def shared(self, value: _Leaf) -> _Leaf:
        """``value``, or an equal one lowered before: most rules' peers and ports repeat (an empty
        destination, ``TCP 443``), and the IR is held through the compile and the output. Only
        values without an origin are shared (``ir.Peer``, ``ir.L4Match``), so positions stay
        each rule's own."""
        return self.table.setdefault(value, value)  # type: ignore[no-any-return]

    def selector(self, text: str | None, path: ir.JsonPath, universe: Universe | None) -> Selector | None:
        selector = _optional_selector(text)
        if selector is None or self.expander is None or universe is None:
            return selector
        expansion = self.expander.expand(selector, universe)
        if expansion is None:
            return selector
        self.out.expansions.append((self.doc, path, expansion))
        self.out.diagnostics.append(_expanded(self.doc, path, expansion))
        return expansion.expanded

    def service_account_selector(self, text: str | None, path: ir.JsonPath) -> Selector | None:
        """A service-account selector, as the names of the inventory's accounts it matches when
        that is exact (``Expander.expand_service_accounts``); otherwise as written (refused by
        the compiler), with the reason (C2C370) when an inventory was given."""
        selector = _optional_selector(text)
        if selector is None or self.expander is None or isinstance(selector, All):
            return selector
        expansion = self.expander.expand_service_accounts(selector)
        if isinstance(expansion, str):
            self.out.diagnostics.append(
                make(
                    "C2C370",
                    f"{self.doc.raw.label} {_where(path)}: not expanded against the inventory's service"
                    f" accounts: {expansion}",
                    self.doc.raw.source(path),
                )
            )
            return selector
        self.out.expansions.append((self.doc, path, expansion))
        self.out.diagnostics.append(_expanded(self.doc, path, expansion))
        return expansion.expanded


def _where(path: ir.JsonPath) -> str:
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")


def _expanded(doc: Document, path: ir.JsonPath, expansion: Expansion) -> Diagnostic:
    where = _where(path)
    if expansion.universe is Universe.SERVICE_ACCOUNT:
        return make(
            "C2C316",
            f"{doc.raw.label} {where}: `{expansion.original}` matches, among the inventory's service"
            f" accounts, those named as in `{expansion.expanded}`. This is a snapshot: a service"
            " account created or relabelled later is treated differently by Cilium than by Calico",
            doc.raw.source(path),
            hint="convert again with a fresh inventory whenever service accounts change, or list the"
            " names in the Calico policy (serviceAccounts.names)",
        )
    terms = "; ".join(
        f"`{atom}` became `{new}`"
        + (" (no inventory value matches: it selects nothing)" if not new.values else "")
        for atom, new in expansion.terms
    )
    what = _UNIVERSE_WORDS[expansion.universe]
    return make(
        "C2C316",
        f"{doc.raw.label} {where}: expanded against the inventory: {terms}. This is a snapshot:"
        f" a {what} created later whose label value matches the pattern but is not in the inventory is"
        " treated differently by Cilium than by Calico",
        doc.raw.source(path),
        hint="convert again with a fresh inventory whenever these labels change, or write the values"
        " out in the Calico selector (`k in {...}`)",
    )


def _host_stage(fields: _Fields, origin: ir.Origin, spec: GlobalNetworkPolicySpec) -> bool:
    """C2C301 for a policy of a host-only policy stage; whether the policy is left out.

    Felix puts a ``doNotTrack`` or ``preDNAT`` policy in a host endpoint's untracked or pre-DNAT
    tiers only, never in the normal tiers a workload endpoint gets; an ``applyOnForward`` policy
    goes into a host endpoint's forward tiers *and* into the normal tiers of every endpoint
    (felix/calc/event_sequencer.go ``tierInfoToProtoTierInfo``, ``flushEndpointTierUpdates``). So
    for pods the first two select nothing and the third is a normal policy: it is converted for
    them, and left out only of the host policies, where Cilium has no stage for forwarded host
    traffic (the nodes of the host endpoints it selects are closed: ``refused_global``, C2C312).
    Leaving it out for pods too would lose its Denies to the pods' other allows (review13)."""
    flags = [
        flag
        for flag, on in (
            ("doNotTrack", spec.do_not_track),
            ("preDNAT", spec.pre_dnat),
            ("applyOnForward", spec.apply_on_forward),
        )
        if on
    ]
    if not flags:
        return False
    hosts = not (spec.namespace_selector or spec.service_account_selector)
    pods_only = flags == ["applyOnForward"]
    if pods_only and not hosts:
        return False  # it selects pods only, for which applyOnForward changes nothing
    if hosts:
        fields.out.refused_global.append((origin, _selector(spec.selector)))
    outcome = (
        "the policy is converted for pods only (for them applyOnForward changes nothing) and left out"
        " of the host policies"
        if pods_only
        else "the policy is not converted (it applies to host endpoints only)"
    ) + (
        "; the nodes of the host endpoints it selects are kept in host default deny, but traffic"
        " forwarded through them (to or from pods, a NodePort's say), which it may deny, is decided by"
        " the pods' own policies alone in Cilium, so the output may allow more there"
        if hosts
        else ""
    )
    fields.out.diagnostics.append(
        make(
            "C2C301",
            f"{origin.resource} sets {flags[0]}: Cilium has no policy stage for untracked, pre-DNAT or"
            f" forwarded host traffic, so {outcome}",
            fields.doc.raw.source(("spec", flags[0])),
        )
    )
    return not pods_only


def _calico_policy(fields: _Fields, model: PolicyResource, default_namespace: str) -> None:
    doc, out = fields.doc, fields.out
    spec = model.spec
    is_global = doc.kind == "GlobalNetworkPolicy"
    namespace = None if is_global else (model.metadata.namespace or default_namespace)
    origin = ir.Origin(doc.kind, model.policy_name, namespace, (), doc.raw.source())
    if isinstance(spec, GlobalNetworkPolicySpec) and _host_stage(fields, origin, spec):
        return
    types = model.effective_types()
    try:
        directions = {
            ir.Direction.INGRESS: _rules(fields, origin, "ingress", spec.ingress)
            if "Ingress" in types
            else None,
            ir.Direction.EGRESS: _rules(fields, origin, "egress", spec.egress) if "Egress" in types else None,
        }
        # Calico ANDs these in only when non-empty (globalnetworkpolicyprocessor.go): an empty
        # string is the same as none, which matters for host endpoints (no namespace, no SA).
        namespace_selector = (
            fields.selector(
                spec.namespace_selector or None, ("spec", "namespaceSelector"), Universe.NAMESPACE
            )
            if isinstance(spec, GlobalNetworkPolicySpec)
            else None
        )
        selector = fields.selector(spec.selector or "", ("spec", "selector"), Universe.SUBJECT)
        assert selector is not None
        policy = ir.Policy(
            kind=doc.kind,
            name=model.policy_name,
            scope=ir.Scope.GLOBAL if is_global else ir.Scope.NAMESPACED,
            namespace=namespace,
            tier=model.tier_name,
            order=spec.order if spec.order is not None else ir.NO_ORDER,
            selector=selector,
            namespace_selector=namespace_selector,
            # An empty serviceAccountSelector is no serviceAccountSelector: Calico acts only on a
            # non-empty one (docs/reference/semantics.md §1.1, globalnetworkpolicyprocessor.go).
            service_account_selector=fields.service_account_selector(
                spec.service_account_selector or None, ("spec", "serviceAccountSelector")
            ),
            ingress=directions[ir.Direction.INGRESS],
            egress=directions[ir.Direction.EGRESS],
            origin=origin,
            locate=doc.raw.without_data().source,  # positions only: the parsed data can go
        )
    except SelectorError as err:  # validated on load; kept as a guard
        out.diagnostics.append(make("C2C303", f"{origin.resource}: {err}", doc.raw.source(("spec",))))
        return
    out.policies.append(policy)


EGRESS_NAMED_PORTS = (
    "Cilium resolves an egress named port to one number for the whole cluster (pkg/endpoint/policy.go"
    ' GetNamedPort: "egress needs named ports of all the pods") and allows that number towards every'
    " peer of the rule, or nothing where pods declare the name with different numbers"
    " (ErrDuplicateNamedPorts); Calico allows each destination pod on its own declared port only"
    " (docs/reference/semantics.md §1.4)"
)
_EGRESS_NAMED_HINT = (
    "write the port numbers instead, with a destination selector for the pods that serve them"
)


def _egress_named_ports(
    fields: _Fields, origin: ir.Origin, index: int, rule: Rule
) -> tuple[Rule | None, list[Diagnostic]]:
    """Egress named ports have no exact Cilium form (``EGRESS_NAMED_PORTS``): the rule fails
    closed, never its policy (which keeps its pods in Cilium's default deny; review5 finding 1).
    An Allow rule is left out (``None``): the flows it allowed fall to later rules, at worst
    denied. A Deny or Pass rule becomes a Deny of its peers without its L4 part (protocol, ports,
    ICMP): a wider region, so Cilium denies at least what Calico denied there (a Pass sends flows
    on to later tiers, which may allow them; denying them is the safe side). Ingress named ports
    resolve against the selected pod in both, so they are converted."""
    doc = fields.doc
    named = [
        (key, j, port.name)
        for key, ports in (("ports", rule.destination.ports), ("notPorts", rule.destination.not_ports))
        for j, port in enumerate(ports)
        if port.is_named
    ]
    if not named or rule.action == "Log":
        return rule, []
    allow = rule.action == "Allow"
    effect = (
        "the rule is left out (the policy keeps its pods in Cilium's default deny), so Cilium denies"
        " the traffic it allowed unless a later rule allows it"
        if allow
        else f"the {rule.action} rule becomes a Deny of its peers on every protocol and port, so Cilium"
        " denies that traffic whatever its port"
    )
    diagnostics = [
        make(
            "C2C303",
            f"{origin.resource} egress[{index}] destination.{key}[{j}]: named port '{name}':"
            f" {EGRESS_NAMED_PORTS}. It fails closed: {effect}",
            doc.raw.source(("spec", "egress", index, "destination", key, j)),
            hint=_EGRESS_NAMED_HINT,
            narrowing=True,
        )
        for key, j, name in named
    ]
    if allow:
        return None, diagnostics
    without_ports = {"ports": (), "not_ports": ()}
    wider = rule.model_copy(
        update={
            "action": "Deny",
            "protocol": None,
            "not_protocol": None,
            "icmp": None,
            "not_icmp": None,
            "source": rule.source.model_copy(update=without_ports),
            "destination": rule.destination.model_copy(update=without_ports),
        }
    )
    return wider, diagnostics


def _rules(fields: _Fields, origin: ir.Origin, key: str, rules: Sequence[Rule]) -> tuple[ir.Rule, ...]:
    doc, out = fields.doc, fields.out
    lowered: list[ir.Rule] = []
    for index, rule in enumerate(rules):
        path = ("spec", key, index)
        if rule.action == "Log":
            out.diagnostics.append(
                make(
                    "C2C302",
                    f"{origin.resource} {key}[{index}] is a Log rule; Cilium has no per-rule logging, so it"
                    " is dropped (Log never decides a verdict, so traffic is unchanged)",
                    doc.raw.source(path),
                )
            )
            continue
        if key == "egress":
            kept, refused = _egress_named_ports(fields, origin, index, rule)
            out.diagnostics.extend(refused)
            if kept is None:
                continue
            rule = kept
        at = origin.at(key, index, source=doc.raw.source(path))
        http_at = doc.raw.source((*path, "http"), key=True) if rule.http is not None else None
        lowered.append(_rule(fields, path, rule, at, http_at))
    return tuple(lowered)


def _rule(
    fields: _Fields, path: ir.JsonPath, rule: Rule, origin: ir.Origin, http_source: Source | None = None
) -> ir.Rule:
    http = None
    if rule.http is not None:
        paths = tuple(
            ("exact", p.exact) if p.exact is not None else ("prefix", p.prefix or "") for p in rule.http.paths
        )
        http = ir.HttpMatch(tuple(rule.http.methods), paths, http_source)
    return ir.Rule(
        action=ir.Action(rule.action),
        source=_peer(fields, (*path, "source"), rule.source),
        destination=_peer(fields, (*path, "destination"), rule.destination),
        l4=fields.shared(
            ir.L4Match(
                protocol=None if rule.protocol is None else rule.protocol.as_yaml(),
                not_protocol=None if rule.not_protocol is None else rule.not_protocol.as_yaml(),
                dst_ports=tuple(p.as_yaml() for p in rule.destination.ports),
                not_dst_ports=tuple(p.as_yaml() for p in rule.destination.not_ports),
                src_ports=tuple(p.as_yaml() for p in rule.source.ports),
                not_src_ports=tuple(p.as_yaml() for p in rule.source.not_ports),
                icmp=None if rule.icmp is None else (rule.icmp.type, rule.icmp.code),
                not_icmp=None if rule.not_icmp is None else (rule.not_icmp.type, rule.not_icmp.code),
            )
        ),
        ip_version=rule.ip_version,
        http=http,
        origin=origin,
    )


def _peer(fields: _Fields, path: ir.JsonPath, entity: EntityRule) -> ir.Peer:
    sa = entity.service_accounts
    services = None if entity.services is None else (entity.services.name or "", entity.services.namespace)
    peer = ir.Peer(
        selector=fields.selector(entity.selector, (*path, "selector"), Universe.PEER),
        not_selector=fields.selector(entity.not_selector, (*path, "notSelector"), Universe.PEER)
        if entity.not_selector
        else None,
        namespace_selector=fields.selector(
            entity.namespace_selector, (*path, "namespaceSelector"), Universe.NAMESPACE
        ),
        nets=tuple(c.text for c in entity.nets),
        not_nets=tuple(c.text for c in entity.not_nets),
        service_account_names=tuple(sa.names) if sa is not None else (),
        service_account_selector=fields.service_account_selector(
            sa.selector, (*path, "serviceAccounts", "selector")
        )
        if sa is not None
        else None,
        services=services,
    )
    return fields.shared(peer)


# ---------------------------------------------------------------------- Kubernetes NetworkPolicy


def _quote(value: str) -> str:
    return "'" + value + "'" if "'" not in value else '"' + value + '"'


def k8s_selector(selector: LabelSelector) -> Selector:
    """A Kubernetes LabelSelector as a Calico selector (same semantics: ``NotIn`` is true when the
    key is absent, like Calico's ``not in``)."""
    terms = [f"{k} == {_quote(v)}" for k, v in sorted(selector.match_labels.items())]
    for req in selector.match_expressions:
        values = ", ".join(_quote(v) for v in req.values)
        terms.append(
            {
                "In": f"{req.key} in {{{values}}}",
                "NotIn": f"{req.key} not in {{{values}}}",
                "Exists": f"has({req.key})",
                "DoesNotExist": f"!has({req.key})",
            }[req.operator]
        )
    return parse(" && ".join(terms)) if terms else All()


def _knp_peer(peer: NetworkPolicyPeer) -> ir.Peer:
    if peer.ip_block is not None:
        return ir.Peer(nets=(peer.ip_block.cidr.text,), not_nets=tuple(c.text for c in peer.ip_block.except_))
    pods = k8s_selector(peer.pod_selector) if peer.pod_selector is not None else All()
    namespaces = None if peer.namespace_selector is None else k8s_selector(peer.namespace_selector)
    # Calico's K8sNetworkPolicyToCalico ANDs projectcalico.org/orchestrator == 'k8s' into peer
    # selectors, which pods carry and network sets never do (docs/reference/semantics.md §1.2).
    return ir.Peer(selector=conjoin([K8S_ONLY, pods]), namespace_selector=namespaces)


def _knp_l4(port: NetworkPolicyPort) -> ir.L4Match:
    protocol = port.protocol or "TCP"
    if port.port is None:
        return ir.L4Match(protocol=protocol)
    if isinstance(port.port, int) and port.end_port is not None:
        return ir.L4Match(protocol=protocol, dst_ports=(f"{port.port}:{port.end_port}",))
    return ir.L4Match(protocol=protocol, dst_ports=(port.port,))


def _knp(doc: Document, model: KubernetesNetworkPolicy, default_namespace: str) -> ir.Policy:
    """Calico's reading of a Kubernetes NetworkPolicy (``K8sNetworkPolicyToCalico``): order 1000 in
    the default tier, Allow rules only; one IR rule per (peer, port) pair, which keeps the union."""
    namespace = model.metadata.namespace or default_namespace
    origin = ir.Origin(doc.kind, model.metadata.name, namespace, (), doc.raw.source())
    spec = model.spec
    types = spec.policy_types or (("Ingress", "Egress") if spec.egress else ("Ingress",))

    def rules(
        key: str, items: Sequence[tuple[Sequence[NetworkPolicyPeer], Sequence[NetworkPolicyPort]]]
    ) -> tuple[ir.Rule, ...]:
        out: list[ir.Rule] = []
        for index, (peers, ports) in enumerate(items):
            at = origin.at(key, index, source=doc.raw.source(("spec", key, index)))
            lowered_peers = [_knp_peer(p) for p in peers] or [ir.Peer()]
            l4s = [_knp_l4(p) for p in ports] or [ir.L4Match()]
            for peer in lowered_peers:
                for l4 in l4s:
                    if key == "ingress":
                        out.append(ir.Rule(ir.Action.ALLOW, source=peer, l4=l4, origin=at))
                    else:
                        out.append(ir.Rule(ir.Action.ALLOW, destination=peer, l4=l4, origin=at))
        return tuple(out)

    ingress = rules("ingress", [(r.from_, r.ports) for r in spec.ingress]) if "Ingress" in types else None
    egress = rules("egress", [(r.to, r.ports) for r in spec.egress]) if "Egress" in types else None
    return ir.Policy(
        kind="KubernetesNetworkPolicy",
        name=model.metadata.name,
        scope=ir.Scope.NAMESPACED,
        namespace=namespace,
        tier="default",
        order=KNP_ORDER,
        selector=k8s_selector(spec.pod_selector),
        ingress=ingress,
        egress=egress,
        origin=origin,
    )
