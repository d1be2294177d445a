"""Cilium semantics: CNP, CCNP and Kubernetes NetworkPolicy (as Cilium translates it) to programs.

Every claim below cites its source: ``docs/reference/semantics.md`` (§2.x) and ``docs/reference/semantics-check.md`` (claim N /
deviation EN), which name the Cilium files they were read from.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from calico2cilium.semantics.cilium_hosts import HostSpec, host_program
from calico2cilium.semantics.cilium_l7 import PortEntry, overlaps_unsafely
from calico2cilium.semantics.cilium_read import (
    CidrGroup,
    CidrRule,
    CiliumPolicyDoc,
    Invalid,
    PeerRule,
    PortRule,
    Requirement,
    RuleSpec,
    Selector,
    read_cidr_group,
    read_policy,
)
from calico2cilium.semantics.expr import (
    FALSE,
    PEER,
    SUBJECT,
    TRUE,
    ClusterNamedPort,
    Entity,
    Expr,
    HttpRequest,
    HttpTest,
    IcmpTypeIs,
    InNet,
    IsApiserver,
    IsIPv6,
    IsKind,
    NamedPort,
    Network,
    ProtoIs,
    and_,
    not_,
    or_,
    port_range,
)
from calico2cilium.semantics.knp import Knp, read_knp
from calico2cilium.semantics.program import (
    CiliumPolicy,
    CiliumProgram,
    CiliumRule,
    InvalidItem,
    Located,
    Ref,
    UnsupportedItem,
)
from calico2cilium.semantics.protocols import CILIUM_L4
from calico2cilium.semantics.regex import parse as parse_regex
from calico2cilium.semantics.selector_validity import valid_key, valid_value
from calico2cilium.semantics.views import (
    CILIUM_CLUSTER,
    CILIUM_NAMESPACE,
    CILIUM_NS_LABELS,
    LabelTerm,
    Unsupported,
    cilium_label,
    split_cilium_key,
)
from calico2cilium.semantics.world import DIRECTIONS, ICMP, ICMPV6, Assumptions, Direction

CILIUM_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")
CIDR_GROUP_KIND = "CiliumCIDRGroup"


HOST_NOT_VERIFIED = "host policy (nodeSelector): host subjects are not verified"
"""The note on a host policy when no host subjects (nodes and their labels) are known."""


@dataclass
class CiliumSide:
    """The Cilium side, read: one program per direction, plus what could not be used."""

    programs: dict[Direction, CiliumProgram]
    invalid: list[InvalidItem] = field(default_factory=list)
    unsupported: list[UnsupportedItem] = field(default_factory=list)
    """Constructs outside the proof that do not belong to a pod decision (e.g. host policies when
    no host subjects are given)."""
    hosts: dict[str, dict[Direction, CiliumProgram]] = field(default_factory=dict)
    """Per node (host subject), its host-policy programs."""


def _label(doc: Located) -> str:
    data = doc.data if isinstance(doc.data, dict) else {}
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    ns = f"{meta.get('namespace')}/" if meta and meta.get("namespace") else ""
    return f"{data.get('kind', '?')} {ns}{(meta or {}).get('name', '?')}"


def read_cilium_side(
    docs: Iterable[Located],
    assumptions: Assumptions,
    default_namespace: str = "default",
    nodes: Mapping[str, Mapping[str, str]] | None = None,
) -> CiliumSide:
    """Read Cilium (and Kubernetes NetworkPolicy) documents into one program per direction.

    ``nodes``: the host subjects (node name to the labels Cilium sees on it); each gets its
    host-policy programs in ``hosts``. Without them, host policies are reported as not verified."""
    docs = list(docs)
    side = CiliumSide({"ingress": CiliumProgram("ingress", []), "egress": CiliumProgram("egress", [])})
    groups: list[CidrGroup] = []
    for doc in docs:
        if isinstance(doc.data, dict) and doc.data.get("kind") == CIDR_GROUP_KIND:
            try:
                groups.append(read_cidr_group(doc.data))
            except Invalid as exc:
                side.invalid.append(InvalidItem("cilium", exc.message, _label(doc), doc, exc.path))
    builder = _Builder(assumptions, groups)
    host_specs: list[HostSpec] | None = None if nodes is None else []
    for program in side.programs.values():
        program.always_allow = (
            IsKind(PEER, "host")
            if assumptions.cilium_local_host_allowed and program.direction == "ingress"
            else FALSE
        )
    read: dict[int, CiliumPolicyDoc | Invalid] = {}
    for doc in docs:
        data = doc.data if isinstance(doc.data, dict) else {}
        if data.get("kind") in CILIUM_KINDS:
            try:
                read[id(doc)] = read_policy(data, assumptions, default_namespace)
            except Invalid as exc:
                read[id(doc)] = exc
    builder.l7_entries = _l7_entries(p for p in read.values() if isinstance(p, CiliumPolicyDoc))
    for doc in docs:
        data = doc.data if isinstance(doc.data, dict) else {}
        kind = data.get("kind")
        try:
            if kind in CILIUM_KINDS:
                policy = read[id(doc)]
                if isinstance(policy, Invalid):
                    raise policy
                for direction, program in side.programs.items():
                    program.policies.extend(
                        builder.policy(policy, doc, direction, side.unsupported, host_specs)
                    )
            elif kind == "NetworkPolicy" and str(data.get("apiVersion", "")).startswith("networking.k8s.io/"):
                knp = read_knp(data, default_namespace)
                for direction, program in side.programs.items():
                    program.policies.append(builder.knp(knp, doc, direction))
            elif kind != CIDR_GROUP_KIND:
                side.unsupported.append(
                    UnsupportedItem(
                        "cilium", f"kind {kind!r} is not a Cilium policy kind; ignored", _label(doc), doc
                    )
                )
        except Invalid as exc:
            side.invalid.append(InvalidItem("cilium", exc.message, _label(doc), doc, exc.path))
    built: dict[tuple[int, Direction], CiliumPolicy] = {}
    for node, labels in (nodes or {}).items():
        side.hosts[node] = {
            d: host_program(builder, host_specs or [], node, labels, d, assumptions, built)
            for d in DIRECTIONS
        }
    return side


def _entries(port_rule: PortRule) -> list[PortEntry]:
    return [PortEntry(p.port, p.end_port, p.protocol) for p in port_rule.ports]


def _l7_entries(policies: Iterable[CiliumPolicyDoc]) -> dict[Direction, list[PortEntry]]:
    """Per direction, the ``toPorts`` entries that carry L7 rules in the pod policies (host
    policies take no HTTP rules)."""
    found: dict[Direction, list[PortEntry]] = {d: [] for d in DIRECTIONS}
    for doc in policies:
        for spec in doc.specs:
            if spec.node_selector is not None:
                continue
            for direction in DIRECTIONS:
                for rule in spec.lists[direction] or []:
                    for port_rule in rule.to_ports or []:
                        if port_rule.has_l7:
                            found[direction].extend(_entries(port_rule))
    return found


class _Builder:
    def __init__(self, assumptions: Assumptions, groups: list[CidrGroup]) -> None:
        self.assumptions = assumptions
        self.groups = groups
        self.l7_entries: dict[Direction, list[PortEntry]] = {d: [] for d in DIRECTIONS}
        self._selectors: dict[tuple[Selector, Entity, str | None], Expr] = {}
        """Selectors read so far: a selector repeated across rules and policies (as the output's
        per-node host policies repeat the peers of the global policies) is built once, and its
        formula is then one object, which later comparisons and the solver's term cache pay for once."""
        self._peers: dict[tuple[Selector, str | None], Expr] = {}
        """``peer_selector`` results, likewise."""

    def beside_l7(self, rule: PeerRule, direction: Direction) -> str | None:
        """Why a plain allow is outside the proof next to the L7 rules of the input
        (``cilium_l7.overlaps_unsafely``), or ``None``."""
        l7 = self.l7_entries[direction]
        for port_rule in rule.to_ports or []:
            if port_rule.has_l7:
                continue
            for entry in _entries(port_rule):
                if overlaps_unsafely(entry, l7):
                    return (
                        f"plain allow on port {entry.port}{'-' + str(entry.end_port) if entry.end_port else ''}"
                        f"/{entry.protocol} next to L7 rules on a port it may cover: some Cilium versions hand"
                        " such a filter to the proxy as an allow-all for every peer (semantics/cilium_l7.py)"
                    )
        return None

    # --- selectors ----------------------------------------------------------------------------

    def selector(self, selector: Selector, entity: Entity, drop_key: str | None = None) -> Expr:
        """A LabelSelector over an identity: matchLabels AND matchExpressions (docs/reference/semantics.md §2.2).
        ``NotIn``/``DoesNotExist`` also hold when the key is absent (Requirement.Matches). A selector
        with an invalid key or value matches nothing (``selector_validity``)."""
        key = (selector, entity, drop_key)
        found = self._selectors.get(key)
        if found is None:
            found = self._selectors[key] = self._selector(selector, entity, drop_key)
        return found

    def _selector(self, selector: Selector, entity: Entity, drop_key: str | None) -> Expr:
        if not _buildable(selector):
            return FALSE
        terms = [self._label(entity, k).eq(v) for k, v in selector.match_labels if _extended(k) != drop_key]
        terms.extend(self._requirement(entity, r) for r in selector.match_expressions)
        return and_(*terms)

    def _label(self, entity: Entity, key: str) -> LabelTerm:
        return cilium_label(entity, key, self.assumptions.cluster_name)

    def _requirement(self, entity: Entity, req: Requirement) -> Expr:
        label = self._label(entity, req.key)
        if req.operator == "Exists":
            return label.has()
        if req.operator == "DoesNotExist":
            return not_(label.has())
        found = or_(*(label.eq(v) for v in req.values))
        return found if req.operator == "In" else not_(found)

    def peer_selector(self, selector: Selector, namespace: str | None) -> Expr:
        """A ``fromEndpoints``/``toEndpoints`` selector after Cilium's injection (utils.go
        ``getEndpointSelector``; docs/reference/semantics-check.md claim 1, E13): untouched if it has a ``reserved:``
        key; else, without a pod-namespace key, CNP adds ``namespace == <policy ns>`` unless (1.16+)
        a namespace-label key is present, and CCNP adds ``namespace Exists``. 1.19 (or the option)
        also pins the local cluster unless the cluster key is named (docs/reference/semantics.md §2.1)."""
        key = (selector, namespace)
        found = self._peers.get(key)
        if found is None:
            found = self._peers[key] = self._peer_selector(selector, namespace)
        return found

    def _peer_selector(self, selector: Selector, namespace: str | None) -> Expr:
        keys = [_extended(k) for k in selector.keys]
        expr = self.selector(selector, PEER)
        if any(k.startswith("reserved:") for k in keys):
            return expr
        extra: list[Expr] = []
        if not any(k in (f"k8s:{CILIUM_NAMESPACE}", f"any:{CILIUM_NAMESPACE}") for k in keys):
            ns_label_keys = any(
                k.startswith((f"k8s:{CILIUM_NS_LABELS}", f"any:{CILIUM_NS_LABELS}")) for k in keys
            )
            if namespace is None:
                extra.append(self._label(PEER, f"k8s:{CILIUM_NAMESPACE}").has())
            elif not (ns_label_keys and self.assumptions.target.namespace_label_keys_scope_peer):
                extra.append(self._label(PEER, f"k8s:{CILIUM_NAMESPACE}").eq(namespace))
        if self.assumptions.local_cluster_filter and not any(k.endswith(f":{CILIUM_CLUSTER}") for k in keys):
            extra.append(self._label(PEER, f"k8s:{CILIUM_CLUSTER}").eq(self.assumptions.cluster_name))
        return and_(expr, *extra)

    # --- L3 -----------------------------------------------------------------------------------

    def _cidr_peer(self) -> Expr:
        """Who CIDR rules can match: never pods; nodes only with policy-cidr-match-mode=nodes
        (docs/reference/semantics-check.md claim 6)."""
        if self.assumptions.policy_cidr_match_nodes:
            return or_(IsKind(PEER, "world"), IsKind(PEER, "host"), IsKind(PEER, "remote-node"))
        return IsKind(PEER, "world")

    def _cidr(self, cidrs: Iterable[str], excepts: Iterable[str]) -> Expr:
        nets = [ipaddress.ip_network(c, strict=False) for c in cidrs]
        excluded = [ipaddress.ip_network(e, strict=False) for e in excepts]
        if self.assumptions.policy_cidr_match_nodes:
            _check_local_host(nets, excluded, self.assumptions)
        inside = or_(*(InNet(PEER, n) for n in nets))
        outside = or_(*(InNet(PEER, e) for e in excluded))
        return and_(self._cidr_peer(), inside, not_(outside))

    def _cidr_rule(self, rule: CidrRule) -> Expr:
        """``cidr`` with ``except``; ``cidrGroupRef``/``cidrGroupSelector`` pick CiliumCIDRGroups
        given in the same input (a group that is not there matches nothing); ``except`` applies to
        groups too (docs/reference/semantics-check.md claim 9)."""
        if rule.cidr is not None:
            return self._cidr([rule.cidr], rule.excepts)
        if rule.group_ref is not None:
            chosen = [g for g in self.groups if g.name == rule.group_ref]
        else:
            assert rule.group_selector is not None
            chosen = [g for g in self.groups if _matches_group(rule.group_selector, g.labels)]
        return self._cidr([c for g in chosen for c in g.cidrs], rule.excepts)

    def _entity(self, entity: str) -> Expr:
        """Entities (docs/reference/semantics-check.md claim 7; entity.go): ``cluster`` is every local-cluster identity
        plus host, remote-node and kube-apiserver; health/init/ingress/unmanaged identities are not
        in the flow world."""
        table: dict[str, Expr] = {
            "all": TRUE,
            "world": IsKind(PEER, "world"),
            "world-ipv4": and_(IsKind(PEER, "world"), not_(IsIPv6())),
            "world-ipv6": and_(IsKind(PEER, "world"), IsIPv6()),
            "host": IsKind(PEER, "host"),
            "remote-node": IsKind(PEER, "remote-node"),
            "kube-apiserver": IsApiserver(PEER),
            "cluster": or_(
                IsKind(PEER, "pod"), IsKind(PEER, "host"), IsKind(PEER, "remote-node"), IsApiserver(PEER)
            ),
        }
        return table.get(entity, FALSE)

    def match(self, rule: PeerRule, namespace: str | None, direction: Direction, deny: bool) -> Expr:
        """A rule: peer ∧ L4. Without any peer field the peer is a wildcard if an L4 part exists,
        and the rule matches nothing if neither exists (``- {}``; docs/reference/semantics-check.md claim 3)."""
        l3 = self.l3(rule, namespace)
        has_l4 = bool(rule.to_ports) or bool(rule.icmps)
        if l3 is None:
            return self.l4(rule, direction, deny) if has_l4 else FALSE
        return and_(l3, self.l4(rule, direction, deny))

    def l3(self, rule: PeerRule, namespace: str | None) -> Expr | None:
        """The peer part (``None``: no peer field at all). An empty list selects nothing (E1); the
        kinds present are ORed (Cilium refuses two non-empty kinds in one rule, E14)."""
        if rule.unmodelled:
            raise Unsupported(f"not modelled: {', '.join(rule.unmodelled)}")
        if rule.wildcard_endpoints:
            return TRUE
        parts: list[Expr] = []
        present = False
        if rule.endpoints is not None:
            present = True
            inject = namespace if rule.inject_namespace else None
            parts.extend(
                self.peer_selector(s, inject) if rule.inject_namespace else self.selector(s, PEER)
                for s in rule.endpoints
            )
        if rule.cidrs is not None:
            present = True
            parts.extend(self._cidr([c], ()) for c in rule.cidrs)
        if rule.cidr_set is not None:
            present = True
            parts.extend(self._cidr_rule(c) for c in rule.cidr_set)
        if rule.entities is not None:
            present = True
            parts.extend(self._entity(e) for e in rule.entities)
        return or_(*parts) if present else None

    # --- L4 -----------------------------------------------------------------------------------

    def l4(self, rule: PeerRule, direction: Direction, deny: bool) -> Expr:
        """``toPorts``: a port entry is (protocol ∈ ANY=TCP/UDP/SCTP, E12) ∧ port; ``"0"`` = all ports;
        ``endPort <= port`` = the single port (E5); a named port is the subject's own (ingress)
        or the cluster's one number for it (egress); an item
        without ``ports`` allows nothing (E4). ``icmps``: family and type; no code field. No L4 part:
        every protocol (docs/reference/semantics-check.md claim 8)."""
        if rule.to_ports:
            items: list[Expr] = []
            for port_rule in rule.to_ports:
                ports = [self._port(p.port, p.end_port, p.protocol, direction) for p in port_rule.ports]
                if port_rule.has_l7 and not deny:
                    items.append(and_(or_(*ports), self._http(port_rule.rules)))
                else:
                    items.extend(ports)
            return or_(*items)
        if rule.icmps:
            return or_(*(self._icmp(f.family, f.type) for fields in rule.icmps for f in fields))
        return TRUE

    @staticmethod
    def _http(rules: Any) -> Expr:
        """L7 HTTP rules: the flow's request must match one item (items ORed, fields ANDed); each
        field a regex Envoy matches against the whole ``:method`` / ``:path`` (cilium
        ``pkg/envoy/server.go`` getHTTPRule: SafeRegexMatch; Envoy RegexMatcher: "matched against
        the full string"). A request that matches none is refused (HTTP 403): not allowed. Other
        L7 kinds, host and header matches are outside the proof."""
        if not isinstance(rules, Mapping) or set(rules) != {"http"} or not isinstance(rules["http"], list):
            raise Unsupported("L7 rules other than http (toPorts[].rules) are outside the proof")
        if not rules["http"]:
            raise Unsupported("an empty L7 http rule list is outside the proof")
        items: list[Expr] = []
        for item in rules["http"]:
            if not isinstance(item, Mapping) or set(item) - {"method", "path"}:
                raise Unsupported("L7 http host and header matches are outside the proof")
            parts: list[Expr] = [HttpRequest()]
            for name in ("method", "path"):
                pattern = item.get(name)
                if not pattern:
                    continue
                try:
                    parse_regex(str(pattern))
                except ValueError as exc:
                    raise Unsupported(f"L7 http {name} regex {pattern!r}: {exc}") from exc
                parts.append(HttpTest("method" if name == "method" else "path", "regex", str(pattern)))
            items.append(and_(*parts))
        return or_(*items)

    def _port(self, port: str, end_port: int | None, protocol: str, direction: Direction) -> Expr:
        protos = or_(*(ProtoIs(p) for p in CILIUM_L4[protocol]))
        if not port.isdigit():
            if direction == "ingress":
                # Ingress: the selected pod's own ports (pkg/endpoint/policy.go GetNamedPort).
                return and_(protos, NamedPort(SUBJECT, port, "dst"))
            # Egress: one number for the whole cluster, towards every peer of the rule, or no
            # entry at all when pods disagree (ClusterNamedPort; cilium#30003, fixed per
            # destination identity only after 1.19 by cilium#44429, still one number per rule).
            return and_(protos, ClusterNamedPort(port, "dst"))
        number = int(port)
        if end_port is not None and end_port > number:
            return and_(protos, port_range("dst", max(number, 1), end_port))
        if number == 0:
            return protos
        return and_(protos, port_range("dst", number, number))

    def _icmp(self, family: str, number: int) -> Expr:
        proto = ProtoIs(ICMPV6 if family == "IPv6" else ICMP)
        if number == 0 and self.assumptions.target.icmp_type_zero_matches_every_type:
            # ICMP type 0 becomes "port 0", Cilium's wildcard: every type of the family is allowed
            # (open bug cilium/cilium#41304, "CCNP ICMP Rule with Type 0 Matches All ICMP Traffic").
            return proto
        return and_(proto, IcmpTypeIs(number))

    # --- policies -----------------------------------------------------------------------------

    def policy(
        self,
        doc: CiliumPolicyDoc,
        located: Located,
        direction: Direction,
        notes: list[UnsupportedItem],
        host_specs: list[HostSpec] | None = None,
    ) -> list[CiliumPolicy]:
        """The pod rule sets of a policy. Host rule sets (``nodeSelector``) go to ``host_specs`` when
        host subjects are modelled, else they are noted as not verified."""
        out = []
        title = f"{doc.kind} {doc.namespace + '/' if doc.namespace else ''}{doc.name}"
        for spec in doc.specs:
            if spec.node_selector is not None:
                if host_specs is not None:
                    if direction == "ingress":
                        host_specs.append((doc, located, spec))
                elif direction == "ingress":
                    notes.append(
                        UnsupportedItem(
                            "cilium",
                            HOST_NOT_VERIFIED,
                            title,
                            located,
                            spec.path,
                        )
                    )
                continue
            assert spec.endpoint_selector is not None
            ref = Ref("cilium", title, located, spec.path)
            drop = f"k8s:{CILIUM_NAMESPACE}" if doc.namespace is not None else None
            selects = self.selector(spec.endpoint_selector, SUBJECT, drop_key=drop)
            if doc.namespace is not None:
                # CNP subjects are always pinned to the policy's namespace (utils.go ParseToCiliumRule).
                selects = and_(selects, self._label(SUBJECT, f"k8s:{CILIUM_NAMESPACE}").eq(doc.namespace))
            out.append(
                self._rules(
                    spec, selects, ref, direction, doc.namespace, title, located, _emptied_by_refs(doc)
                )
            )
        return out

    def _rules(
        self,
        spec: RuleSpec,
        selects: Expr,
        ref: Ref,
        direction: Direction,
        namespace: str | None,
        title: str,
        located: Located,
        emptied: bool = False,
    ) -> CiliumPolicy:
        """``emptied``: the policy references a CiliumCIDRGroup on a release where that may make
        its rules without a CIDR set select nothing (``_emptied_by_refs``)."""
        emptied = emptied and self.assumptions.target.cidr_group_ref_breaks_other_rules
        allows_in = spec.lists[direction] or []
        denies_in = spec.lists[f"{direction}Deny"] or []
        # Default deny: a non-empty allow or deny list for the direction, unless enableDefaultDeny
        # says otherwise (docs/reference/semantics-check.md claim 4, E2; rule_validation.go Sanitize).
        default_deny = spec.enable_default_deny[direction]
        if default_deny is None:
            default_deny = bool(allows_in) or bool(denies_in)
        policy = CiliumPolicy(selects, [], [], default_deny, ref, namespace)
        for rules, target, deny in ((allows_in, policy.allows, False), (denies_in, policy.denies, True)):
            for rule in rules:
                rule_ref = Ref("cilium", f"{title} {_path_text(rule.path)}", located, rule.path)
                if emptied and rule.cidr_set is None:
                    policy.unsupported.append(
                        UnsupportedItem("cilium", EMPTIED_BY_REFS, title, located, rule.path)
                    )
                    continue
                try:
                    widened = None if deny else self.beside_l7(rule, direction)
                    if widened is not None:
                        raise Unsupported(widened)
                    match = self.match(rule, namespace, direction, deny)
                except Unsupported as exc:
                    policy.unsupported.append(
                        UnsupportedItem("cilium", exc.reason, title, located, rule.path)
                    )
                    continue
                target.append(CiliumRule(match, rule_ref))
        return policy

    def knp(self, knp: Knp, located: Located, direction: Direction) -> CiliumPolicy:
        from calico2cilium.semantics.cilium_knp import knp_to_spec

        spec = knp_to_spec(knp, self.assumptions)
        title = f"NetworkPolicy {knp.namespace}/{knp.name} (as Cilium translates it)"
        ref = Ref("cilium", title, located, ("spec",))
        selects = self.selector(spec.endpoint_selector or Selector(), SUBJECT)
        return self._rules(spec, selects, ref, direction, knp.namespace, title, located)


LOCAL_HOST_CIDR = (
    "with policy-cidr-match-mode=nodes the local host's identity (reserved:host) carries the CIDR"
    " labels of every address of the node (cilium pkg/ipcache/metadata.go updateReservedHostLabels,"
    " cilium/cilium#28259; pkg/node/manager.go nodeIdentityLabels), so a CIDR holding one of the"
    " node's addresses matches traffic to all of them from the node's pods; this CIDR covers only"
    " part of the node range, which addresses a node has is not known, so the rule is outside the proof"
)


def _check_local_host(nets: list[Network], excepts: list[Network], assumptions: Assumptions) -> None:
    """Under ``policy-cidr-match-mode=nodes`` a CIDR rule selects the local host's identity when
    any of the node's addresses is in it (``LOCAL_HOST_CIDR``; remote nodes get one identity per
    address, so ``InNet`` on the flow's address is exact for them). ``IsKind(host) ∧ InNet`` says
    the same only when the rule's CIDRs hold every node address (none excepted) or none:
    ``Unsupported`` otherwise. An unknown node range of a family is that whole family."""
    whole = {4: ipaddress.ip_network("0.0.0.0/0"), 6: ipaddress.ip_network("::/0")}
    covered, disjoint = True, True
    for family in assumptions.families:
        nodes = [n for n in assumptions.node_nets if n.version == family] or [whole[family]]
        chosen = [n for n in nets if n.version == family]
        for node in nodes:
            if any(node.overlaps(n) for n in chosen):
                disjoint = False
            held = any(node.subnet_of(n) for n in chosen)  # type: ignore[arg-type]
            if not held or any(node.overlaps(e) for e in excepts if e.version == family):
                covered = False
    if not (covered or disjoint):
        raise Unsupported(LOCAL_HOST_CIDR)


def _buildable(selector: Selector) -> bool:
    """Whether Cilium can build the selector's requirements (``selector_validity``)."""
    values = [v for _, v in selector.match_labels] + [v for r in selector.match_expressions for v in r.values]
    return all(valid_key(k) for k in selector.keys) and all(valid_value(v) for v in values)


def _extended(key: str) -> str:
    source, name = split_cilium_key(key)
    return f"{source}:{name}"


def _matches_group(selector: Selector, labels: dict[str, str]) -> bool:
    """A ``cidrGroupSelector`` over a CiliumCIDRGroup's labels (source ``cidrgroup``)."""

    def value(key: str) -> str | None:
        source, name = split_cilium_key(key)
        return labels.get(name) if source in ("any", "cidrgroup") else None

    return selector.matches(value)


def _path_text(path: tuple[str | int, ...]) -> str:
    text = ""
    for item in path:
        text += f"[{item}]" if isinstance(item, int) else (f".{item}" if text else item)
    return text


EMPTIED_BY_REFS = (
    "the policy references a CiliumCIDRGroup, and Cilium 1.16 releases before cilium/cilium#40139"
    " make every rule without a CIDR set select nothing (cilium/cilium#36393); which one applies"
    " depends on the patch release, so this rule is outside the proof"
)


def _emptied_by_refs(doc: CiliumPolicyDoc) -> bool:
    """Whether ``doc`` references a CiliumCIDRGroup anywhere: the 1.16 agent translated the
    references of the whole policy object at once (``translateCIDRGroupRefs`` over ``spec`` and
    ``specs``), and only when there was one (``resolveCIDRGroupRef`` returns early otherwise)."""
    return any(
        item.group_ref is not None
        for spec in doc.specs
        for rules in spec.lists.values()
        for rule in rules or ()
        for item in rule.cidr_set or ()
    )
