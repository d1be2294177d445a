"""HostEndpoints -> what each node's Cilium host policy must allow, per direction.

Calico (docs/reference/semantics.md §1.5, 1.2; docs/reference/semantics-check.md claim 13):

* A GlobalNetworkPolicy without ``namespaceSelector`` and ``serviceAccountSelector`` applies to
  every Calico endpoint its ``selector`` matches, host endpoints included
  (``globalnetworkpolicyprocessor.go``); a NetworkPolicy never does (its selector is ANDed with
  ``projectcalico.org/namespace == <ns>``, which a host endpoint lacks).
* The applicable policies are evaluated like a pod's: tiers in order, first match, end-of-tier
  drop, Pass (``felix/rules/endpoints.go``). After the tiers, or when no policy applies, the
  host endpoint's profiles decide; with none that allows, the packet is dropped. The profile
  ``projectcalico-default-allow`` allows everything (auto host endpoints carry it).
* Failsafe ports are allowed whatever the policy says. They come from FelixConfiguration; the
  defaults (``felix/config/config_params.go``) are assumed here and a warning says so.

A host endpoint's labels are all known, so its subject is concrete: each node with host
endpoints is compiled on its own, with the ordering engine (``compile/ordering.py``) over a
one-point subject space. Cilium (docs/reference/semantics.md §2.1): a host policy (CCNP ``nodeSelector``) puts the
selected node's host endpoint into default deny per direction; an unselected node is allowed. So a
node is selected in exactly the directions where Calico does not allow everything, and the allow
rules cover Calico's allowed region (failsafe ports included).

Nodes are selected by one label per node, ``calico2cilium.io/node=<node>``, which the user puts
on the Node (a diagnostic lists the ``kubectl label`` commands). The HostEndpoint's own labels
are Calico's, not the Node's, so selecting on them could pick nodes that had no host endpoint
(and put them into default deny); the Node's ``kubernetes.io/hostname`` label cannot be used at
all, because Cilium's identity-label filter drops ``kubernetes.io/`` keys from the host endpoint
(cilium ``pkg/endpoint/endpoint.go`` ``InitWithNodeLabels`` runs ``labelsfilter.Filter`` over the
Node's labels; ``pkg/labelsfilter/filter.go`` ``defaultLabelPrefixCfg`` ignores ``kubernetes.io``).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from calico2cilium import ir
from calico2cilium.compile.hostpeers import Cover, cover, labels_unknown
from calico2cilium.compile.lower import Lowered
from calico2cilium.compile.match import Ranges, families_of, l4, remote_flows, side
from calico2cilium.compile.ordering import Action, AfterTiers, PolicySpec, RuleSpec, compile_ordering
from calico2cilium.compile.plan import ACTIONS, tier_specs
from calico2cilium.diagnostics import Diagnostic
from calico2cilium.diagnostics.catalog import make
from calico2cilium.diagnostics.collector import Diagnostics
from calico2cilium.facts.felix import FAILSAFE_INBOUND, FAILSAFE_OUTBOUND
from calico2cilium.plan import NODE_LABEL, Grant, HostPlan, Plan
from calico2cilium.sets import Inexpressible, IPSet, L4Set, LabelCube, LabelSet, from_calico, parse_protocol
from calico2cilium.sets.peers import all_peers
from calico2cilium.sets.regions import Cube, Region, subtract_cubes

DEFAULT_ALLOW_PROFILE = "projectcalico-default-allow"
GLOBAL_KIND = "GlobalNetworkPolicy"

# FelixConfiguration defaults (felix/config/config_params.go; docs/reference/semantics-check.md claim 13), the same
# the verifier assumes, with Calico's rule protocol names.

_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
_SUBJECT = LabelCube.all()


class _Refused(Exception):
    """The node's host endpoints are not converted; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def label_value(node: str) -> str:
    """The node label value: the node name where it is a valid label value, else a digest."""
    if len(node) <= 63 and _LABEL_VALUE.fullmatch(node):
        return node
    return "h-" + hashlib.sha256(node.encode()).hexdigest()[:20]


def applies_to_hosts(policy: ir.Policy) -> bool:
    """Whether a policy can apply to host endpoints at all (module docstring)."""
    return (
        policy.kind == GLOBAL_KIND
        and policy.namespace_selector is None
        and policy.service_account_selector is None
    )


def compile_hosts(lowered: Lowered, cluster: Ranges, plan: Plan, notes: Diagnostics) -> tuple[HostPlan, ...]:
    """One ``HostPlan`` per node with host endpoints, or a refusal (C2C312) per endpoint."""
    hosts: list[HostPlan] = []
    notes.extend(_peer_warnings(lowered, cluster))
    cluster = host_ranges(cluster, lowered.host_endpoints)
    by_node: dict[str, list[ir.HostEndpoint]] = defaultdict(list)
    for hep in lowered.host_endpoints:
        by_node[hep.node].append(hep)
    compiled = {id(pp.policy) for pp in plan.policies}
    alike: dict[tuple[object, ...], HostPlan] = {}
    for node in sorted(by_node):
        heps = tuple(sorted(by_node[node], key=lambda h: h.name))
        key = _alike_key(heps)
        try:
            template = alike.get(key) if key is not None else None
            if template is not None:
                host = _like(template, node, heps)
            else:
                host = _compile_node(node, heps, lowered, cluster, compiled, notes)
                if key is not None:
                    alike[key] = host
        except _Refused as refusal:
            for hep in heps:
                notes.add(
                    make(
                        "C2C312",
                        f"HostEndpoint '{hep.name}' (node {node}) is not converted as written:"
                        f" {refusal.reason}. It fails closed: the node is kept in Cilium's host default"
                        " deny in both directions with only the failsafe ports allowed, so Cilium denies"
                        " the node's host traffic that Calico allowed",
                        hep.origin.source,
                        narrowing=True,
                    )
                )
            host = _closed_node(node, heps, cluster)
        hosts.append(host)
        notes.extend(_node_diagnostics(host, cluster))
    governed = [h for h in hosts if h.governed]
    if governed:
        first = governed[0].first
        notes.add(
            make(
                "C2C320",
                "the output holds Cilium host policies (nodeSelector) for the nodes of the HostEndpoints"
                " in the input; they take effect only with the host firewall enabled (Helm"
                " hostFirewall.enabled=true, on the devices that carry the nodes' traffic); without it"
                " Cilium allows all host traffic",
                first.origin.source,
                hint="helm upgrade cilium cilium/cilium --reuse-values --set hostFirewall.enabled=true",
            )
        )
    return tuple(hosts)


def host_ranges(cluster: Ranges, heps: Sequence[ir.HostEndpoint]) -> Ranges:
    """``cluster`` as the host subjects see it: the IP families in use are the pods' (``Ranges.of``)
    and also those of the node ranges and of the host endpoints' addresses. A node with an IPv6
    address has IPv6 host traffic even where the pods are IPv4 only, so a host rule for
    ``ipVersion: 6`` decides real flows there (review6 finding 1: an IPv6 Deny was dropped)."""
    families = set(cluster.families)
    if cluster.nodes is not None:
        families |= families_of(cluster.nodes)
    for hep in heps:
        families |= families_of(IPSet.from_cidrs(hep.expected_ips))
    if families == set(cluster.families):
        return cluster
    return replace(cluster, families=frozenset(families))


def _alike_key(heps: tuple[ir.HostEndpoint, ...]) -> tuple[object, ...] | None:
    """What a node's host plan depends on besides its name: its host endpoints' labels (which
    policies apply), profiles and declared ports, and whether they list addresses (named ports
    resolve only then). Their own addresses only ever make a rule refused (a rule that constrains
    the host's own side: ``host_rule_region``), and the host endpoints a rule's peer picks are
    read from all of them (``cover``). ``None`` when the node has several endpoints (compiled
    on its own)."""
    if len(heps) != 1:
        return None
    hep = heps[0]
    return (tuple(sorted(hep.labels)), hep.interface, hep.profiles, hep.ports, bool(hep.expected_ips))


def _like(template: HostPlan, node: str, heps: tuple[ir.HostEndpoint, ...]) -> HostPlan:
    """The host plan of a node alike ``template``'s (``_alike_key``): the same grants."""
    (hep,) = heps
    return HostPlan(
        node,
        (replace(hep, expected_ips=tuple(dict.fromkeys(hep.expected_ips))),),
        label_value(node),
        governed=set(template.governed),
        grants={k: {d: list(g) for d, g in v.items()} for k, v in template.grants.items()},
        policies=dict(template.policies),
        named_ports=list(template.named_ports),
        defaults={d: list(g) for d, g in template.defaults.items()},
    )


def _compile_node(
    node: str,
    heps: tuple[ir.HostEndpoint, ...],
    lowered: Lowered,
    cluster: Ranges,
    compiled: set[int],
    notes: Diagnostics,
) -> HostPlan:
    first = heps[0]
    for other in heps[1:]:
        if (other.labels, other.profiles, other.ports) != (first.labels, first.profiles, first.ports):
            raise _Refused(
                f"node {node} has several HostEndpoints ({', '.join(h.name for h in heps)}) with different"
                " labels, profiles or ports; Calico applies different policy per interface, and a Cilium"
                " host policy covers the whole node"
            )
    others = [p for p in first.profiles if p != DEFAULT_ALLOW_PROFILE]
    if others:
        raise _Refused(
            f"its profiles {', '.join(others)} are not in the input (Profile is not an input kind), so"
            " what they allow and which labels they add is unknown"
        )
    default_allow = DEFAULT_ALLOW_PROFILE in first.profiles
    labels = dict(first.labels)
    # Same labels, profiles and ports: the same policies apply on every interface; a rule
    # selector sees the union of their addresses.
    addresses = tuple(dict.fromkeys(ip for h in heps for ip in h.expected_ips))
    merged = (replace(first, expected_ips=addresses), *heps[1:])
    for origin, selector in lowered.refused_global:
        if selector.matches(labels):
            raise _Refused(f"{origin.resource}, which selects it, is not converted (see its diagnostic)")
    applicable = [p for p in lowered.policies if applies_to_hosts(p) and p.selector.matches(labels)]
    for policy in applicable:
        if id(policy) not in compiled:
            raise _Refused(
                f"{policy.origin.resource}, which selects it, is not converted (see its diagnostic)"
            )
    tiers = {**ir.BUILTIN_TIERS, **lowered.tiers}
    applicable.sort(key=lambda p: (tiers[p.tier].sort_key, p.sort_key))
    host = HostPlan(node, merged, label_value(node))
    for direction in ir.Direction:
        _compile_direction(
            host, direction, applicable, tiers, default_allow, cluster, notes, lowered.host_endpoints
        )
    return host


def _closed_node(node: str, heps: tuple[ir.HostEndpoint, ...], cluster: Ranges) -> HostPlan:
    """A node whose host endpoints cannot be converted, failing closed (issue 15 item 1): selected
    in both directions (Cilium's host default deny) with only the failsafe ports allowed, which
    Calico allows whatever its policy says (docs/reference/semantics.md §1.5). Everything else Calico allowed
    there is denied: narrowing only."""
    addresses = tuple(dict.fromkeys(ip for h in heps for ip in h.expected_ips))
    host = HostPlan(node, (replace(heps[0], expected_ips=addresses), *heps[1:]), label_value(node))
    for direction in ir.Direction:
        failsafe = tuple(Cube(_SUBJECT, p, failsafe_l4(direction, cluster)) for p in all_peers())
        host.governed.add(direction)
        host.defaults[direction] = [Grant(None, failsafe, failsafe)]
    return host


def _everything() -> list[Cube]:
    return [Cube(_SUBJECT, p, L4Set.all()) for p in all_peers()]


def _failsafe_origin(cluster: Ranges) -> str:
    """Whose failsafe ports the host policies allow: Felix's defaults, or the ones given (a flag,
    ``--cluster-config`` or a FelixConfiguration in the input, C2C231)."""
    defaults = {ir.Direction.INGRESS: FAILSAFE_INBOUND, ir.Direction.EGRESS: FAILSAFE_OUTBOUND}
    if all(cluster.failsafe[d] == defaults[d] for d in ir.Direction):
        return "none was given (a flag, --cluster-config or a FelixConfiguration in the input), so Felix's defaults"
    return "the ports given"


def failsafe_l4(direction: ir.Direction, cluster: Ranges) -> L4Set:
    out = L4Set.empty()
    for protocol, port in cluster.failsafe[direction]:
        out = out | from_calico(protocol=protocol.upper(), ports=(port,))
    return out


def _compile_direction(
    host: HostPlan,
    direction: ir.Direction,
    applicable: Sequence[ir.Policy],
    tiers: dict[str, ir.Tier],
    default_allow: bool,
    cluster: Ranges,
    notes: Diagnostics,
    heps: Sequence[ir.HostEndpoint],
) -> None:
    by_tier: dict[str, list[PolicySpec]] = defaultdict(list)
    for policy in applicable:
        rules = policy.rules(direction)
        if rules is None:
            continue
        specs = []
        for rule in rules:
            try:
                region = host_rule_region(rule, policy, direction, cluster, host.first, notes)
            except Inexpressible as err:
                raise _Refused(f"{rule.origin}: {err.detail or err.operator}") from None
            action = ACTIONS[rule.action]
            if direction is ir.Direction.INGRESS and _declared_names(rule, host.first):
                # The port on every address of the node (C2C326): an Allow would allow more, so it
                # is left out; a Pass would hand more to later tiers, so it denies instead.
                host.named_ports.append(rule)
                if action is Action.ALLOW:
                    continue
                action = Action.DENY
            specs.extend(_closed_on_hosts(action, rule, region, policy, direction, cluster, heps, host.first))
        by_tier[policy.tier].append(PolicySpec(LabelSet.all(), tuple(specs), policy))
    tier_order = tier_specs(by_tier, tiers)
    after = Action.ALLOW if default_allow else Action.DENY
    everything = _everything()
    failsafe = [Cube(_SUBJECT, p, failsafe_l4(direction, cluster)) for p in all_peers()]
    if tier_order:
        result = compile_ordering(tier_order, after_tiers=after)
        allowed = [*result.allow.cubes, *failsafe]
        decisions = result.decisions
    else:
        allowed = [*(everything if default_allow else []), *failsafe]
        decisions = ()
    denied = subtract_cubes(everything, allowed)
    if not denied:
        return  # Calico allows everything here: Cilium must not select the node in this direction
    host.governed.add(direction)
    defaults = host.defaults.setdefault(direction, [])
    defaults.append(Grant(None, tuple(failsafe), tuple(failsafe)))
    for tier in tier_order:
        for policy_spec in tier.policies:
            owner = policy_spec.provenance
            assert isinstance(owner, ir.Policy)
            for rule_spec in policy_spec.rules:
                if rule_spec.action is not Action.ALLOW:
                    continue
                wide = tuple(rule_spec.match.cubes)
                allow = tuple(subtract_cubes(wide, denied))
                if allow:
                    source_rule = rule_spec.provenance
                    assert isinstance(source_rule, ir.Rule)
                    key = owner.origin.resource
                    host.policies[key] = owner
                    grant = Grant(source_rule, allow, wide)
                    host.grants.setdefault(key, {}).setdefault(direction, []).append(grant)
    widened: set[object] = set()
    for decision in decisions:
        if decision.action is Action.ALLOW and isinstance(decision.provenance, AfterTiers):
            for cube in decision.region.cubes:
                if cube.peer in widened:
                    continue
                widened.add(cube.peer)
                wide_cube = Cube(_SUBJECT, cube.peer, L4Set.all())
                defaults.append(Grant(None, tuple(subtract_cubes([wide_cube], denied)), (wide_cube,)))


def _closed_on_hosts(
    action: Action,
    rule: ir.Rule,
    region: Region,
    policy: ir.Policy,
    direction: ir.Direction,
    cluster: Ranges,
    heps: Sequence[ir.HostEndpoint],
    subject: ir.HostEndpoint,
) -> list[RuleSpec]:
    """A host subject's rule, failing closed on the host endpoints its peer picks or leaves out,
    as ``plan._closed_on_hosts`` does for pods (``compile/hostpeers.py``)."""
    found = cover(rule, policy, direction, heps, cluster)
    if found is None or not found.peers:
        return [RuleSpec(action, region, rule)]
    resolved = resolve_named_ports(rule, subject) if direction is ir.Direction.INGRESS else rule
    flows = L4Set.empty() if resolved is None else l4(resolved)
    covered = Region.of([Cube(_SUBJECT, p, flows) for p in found.peers if not flows.is_empty])
    if action is Action.DENY and found.matched:
        return [RuleSpec(action, region | covered, rule)]
    if action is Action.PASS:
        return [RuleSpec(Action.DENY, covered, rule), RuleSpec(action, region, rule)]
    if action is Action.ALLOW and found.excluded:
        return [RuleSpec(action, region - covered, rule)]
    return [RuleSpec(action, region, rule)]


def _has_address_criteria(peer: ir.Peer) -> bool:
    return peer.has_label_criteria or bool(peer.nets or peer.not_nets) or peer.services is not None


def host_rule_region(
    rule: ir.Rule,
    policy: ir.Policy,
    direction: ir.Direction,
    cluster: Ranges,
    hep: ir.HostEndpoint,
    notes: Diagnostics,
) -> Region:
    """The flows of ``direction`` a rule matches for a host endpoint subject (one point)."""
    if rule.http is not None:
        raise Inexpressible("http", "HTTP (L7) matches are not converted by this version")
    local, remote = (
        (rule.destination, rule.source)
        if direction is ir.Direction.INGRESS
        else (rule.source, rule.destination)
    )
    if _has_address_criteria(local):
        # Calico matches the host's own side by address (the expectedIPs of the host endpoints a
        # selector picks, or nets); a Cilium host policy cannot constrain the node's own address.
        own = "destination" if direction is ir.Direction.INGRESS else "source"
        raise Inexpressible(
            "selector",
            f"the rule constrains the host endpoint's own side ({own} selector, nets or services),"
            " which Calico matches by address and a Cilium host policy cannot say",
        )
    if direction is ir.Direction.INGRESS:
        resolved = resolve_named_ports(rule, hep)
        if resolved is None:
            return Region.empty()
        rule = resolved
    there = side(remote, policy, rule, cluster, notes)
    flows = remote_flows(rule, there)
    if flows.is_empty:
        return Region.empty()
    return Region.of([Cube(_SUBJECT, p, flows) for p in there.peers()])


def _named(rule: ir.Rule) -> bool:
    m = rule.l4
    return any(isinstance(p, str) and not _is_numeric(p) for p in (*m.dst_ports, *m.not_dst_ports))


def _declared_names(rule: ir.Rule, hep: ir.HostEndpoint) -> set[str]:
    """The rule's named destination ports that the endpoint resolves to a number."""
    m = rule.l4
    if not _named(rule) or m.protocol is None or not hep.expected_ips:
        return set()
    protocol = parse_protocol(m.protocol)
    declared = {name for name, proto, _ in hep.ports if parse_protocol(proto) == protocol}
    return {p for p in (*m.dst_ports, *m.not_dst_ports) if isinstance(p, str) and p in declared}


def resolve_named_ports(rule: ir.Rule, hep: ir.HostEndpoint) -> ir.Rule | None:
    """Ingress to a host endpoint: a named destination port matches the (address, protocol, port)
    of the endpoints declaring it, i.e. the host endpoint's ``expectedIPs`` with its port of that
    name (Calico ``rule_scanner.go``; the verifier models the same). The name becomes the port
    number, which a host policy matches on every host address (a warning says so, C2C326); with
    no expectedIPs, or a name the endpoint does not declare for the rule's protocol, it matches
    nothing. ``None`` when the rule can match nothing."""
    m = rule.l4
    if not _named(rule):
        return rule
    if m.protocol is None:
        raise Inexpressible("ports", "named ports without a protocol on a host endpoint subject")
    protocol = parse_protocol(m.protocol)
    named = {
        name: port
        for name, proto, port in hep.ports
        if parse_protocol(proto) == protocol and hep.expected_ips
    }

    def resolve(ports: tuple[int | str, ...]) -> tuple[int | str, ...]:
        out: list[int | str] = []
        for p in ports:
            if isinstance(p, str) and not _is_numeric(p):
                if p in named:
                    out.append(named[p])
            else:
                out.append(p)
        return tuple(out)

    dst, not_dst = resolve(m.dst_ports), resolve(m.not_dst_ports)
    if m.dst_ports and not dst:
        return None
    l4_match = ir.L4Match(
        protocol=m.protocol,
        not_protocol=m.not_protocol,
        dst_ports=dst,
        not_dst_ports=not_dst,
        src_ports=m.src_ports,
        not_src_ports=m.not_src_ports,
        icmp=m.icmp,
        not_icmp=m.not_icmp,
    )
    return ir.Rule(
        rule.action, rule.source, rule.destination, l4_match, rule.ip_version, rule.http, rule.origin
    )


def _is_numeric(port: str) -> bool:
    return bool(re.fullmatch(r"\d+(:\d+)?", port))


# ---------------------------------------------------------------------- diagnostics


def _node_diagnostics(host: HostPlan, cluster: Ranges) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if not host.governed:
        return out  # Calico allows everything: no host policy is needed, none is emitted
    first = host.first
    names = ", ".join(h.name for h in host.endpoints)
    out.append(
        make(
            "C2C321",
            f"the host policies for HostEndpoint {names} select node {host.node} by the label"
            f" {NODE_LABEL}={host.label_value}, which the Node must carry: kubectl label node"
            f" {host.node} {NODE_LABEL}={host.label_value}",
            first.origin.source,
            hint=f"kubectl label node {host.node} {NODE_LABEL}={host.label_value}",
        )
    )
    ports = "; ".join(
        f"{d.value.lower()} " + (", ".join(f"{p.lower()}:{n}" for p, n in cluster.failsafe[d]) or "none")
        for d in ir.Direction
        if d in host.governed
    )
    out.append(
        make(
            "C2C322",
            f"HostEndpoint {names}: Calico allows its failsafe ports whatever the policy says; they"
            " come from FelixConfiguration (failsafeInboundHostPorts, failsafeOutboundHostPorts) or"
            f" calico-node's environment, and {_failsafe_origin(cluster)} are allowed explicitly: {ports}",
            first.origin.source,
            hint="if the cluster's failsafe ports differ, state them: --failsafe-inbound-host-ports,"
            " --failsafe-outbound-host-ports (or the same keys in --cluster-config)",
        )
    )
    whole = any(h.all_interfaces for h in host.endpoints)  # "*" governs every interface already
    for hep in host.endpoints:
        if not hep.all_interfaces and not whole:
            where = f"interface {hep.interface}" if hep.interface else "the interface holding its expectedIPs"
            out.append(
                make(
                    "C2C323",
                    f"HostEndpoint '{hep.name}' governs only {where} in Calico; a Cilium host policy"
                    f" governs all of node {host.node}'s host traffic (every host-firewall device, and"
                    " traffic between the host and its local pods), so the converted policy also applies"
                    " to traffic Calico left alone there",
                    hep.source("interfaceName"),
                    hint='use interfaceName: "*" in Calico if the whole host was meant',
                    # Calico leaves the node's other traffic alone (allowed); the host policy
                    # only allows what its rules allow there: Cilium denies more, never less.
                    narrowing=True,
                )
            )
    for rule in host.named_ports:
        if rule.action is ir.Action.ALLOW:
            effect = (
                "a Cilium host policy would match them on every address of the node and allow more, so"
                " the rule fails closed: it is left out, and Cilium denies what it allowed (where later"
                " rules do not allow it)"
            )
        elif rule.action is ir.Action.DENY:
            effect = "the Cilium host policy denies them on every address of the node: Cilium denies more"
        else:
            effect = (
                "a Cilium host policy would match them on every address of the node and pass more to"
                " later tiers, so the rule fails closed as a Deny of those ports on every address of the"
                " node: Cilium denies what later tiers may have allowed"
            )
        out.append(
            make(
                "C2C326",
                f"{rule.origin}: named destination ports on HostEndpoint {first.name} are its port"
                f" numbers; Calico matches them only on traffic to its expectedIPs"
                f" ({', '.join(first.expected_ips)}) of node {host.node}; {effect}",
                rule.origin.source,
                hint="list every address of the host in expectedIPs, or use port numbers",
                narrowing=True,
            )
        )
    # Cilium enforces host egress policy on the way from the host to its local pods (bpf/bpf_host.c
    # handle_ipv4: "We're on the egress path of cilium_host" -> ipv4_host_policy_egress;
    # cilium/cilium#13121), while Calico always allows host -> local workload traffic
    # (docs/reference/semantics-check.md 13). Named-interface endpoints are covered by C2C323.
    if ir.Direction.EGRESS in host.governed and any(h.all_interfaces for h in host.endpoints):
        out.append(
            make(
                "C2C324",
                f"Calico always allows traffic from node {host.node}'s host to its local pods; Cilium's"
                " host egress policy governs it too, and cannot say 'local pods', so that traffic is now"
                " allowed only where the converted egress rules allow pods (kubelet probes included)",
                first.source("interfaceName"),
                hint="allow egress to the pods the host must reach (e.g. a host rule toEndpoints) if the"
                " policy does not already",
            )
        )
    return out


def _peer_warnings(lowered: Lowered, cluster: Ranges) -> list[Diagnostic]:
    """Rule selectors that pick host endpoints, or notSelectors that leave them out: Calico
    matches by their ``expectedIPs``, and no Cilium peer names some addresses of one node
    (``NO_NODE_PEER``; docs/reference/semantics.md §3.4). The rule fails closed on the addresses
    (``compile/hostpeers.py``, applied where rules are compiled); this says what Cilium denies more."""
    heps = [h for h in lowered.host_endpoints if h.expected_ips]
    out: list[Diagnostic] = []
    if not heps:
        return out
    for policy in lowered.policies:
        for direction in ir.Direction:
            for rule in policy.rules(direction) or ():
                found = cover(rule, policy, direction, heps, cluster)
                if found is None or not found.peers:
                    continue  # no host endpoint at stake, or none of its addresses in the rule's nets
                if found.excluded:
                    out.append(_excluded_warning(rule, direction, found))
                if found.matched:
                    out.append(_matched_warning(rule, direction, found))
    return out


HEPS_NAMED = 8
"""A diagnostic names at most this many host endpoints and counts the rest: a broad selector picks
every node's (a message of 15 KB per rule at 1,000 nodes)."""


def _heps(heps: Sequence[ir.HostEndpoint]) -> str:
    named = ", ".join(f"{h.name} ({', '.join(h.expected_ips)})" for h in heps[:HEPS_NAMED])
    more = len(heps) - HEPS_NAMED
    return f"{named} and {more} more ({len(heps)} host endpoints)" if more > 0 else named


def _own(rule: ir.Rule, direction: ir.Direction) -> str:
    """Which flows of the rule a covering Deny takes: its ports, to or from its own pods."""
    where = "from" if direction is ir.Direction.EGRESS else "to"
    return f"on the rule's protocol and ports, {direction.value.lower()} {where} the rule's own endpoints"


def _at_stake(found: Cover, heps: Sequence[ir.HostEndpoint], by_selector: str, by_address: str) -> str:
    """Which host endpoints are at stake and why: picked by the side's selectors (``by_selector``
    followed by them), or reached by its addresses (``by_address`` with ``{}`` for them)."""
    picked = [h for h in heps if h not in found.by_address]
    reached = [h for h in heps if h in found.by_address]
    parts = [f"{by_selector} {_heps(picked)}"] if picked else []
    if unknown := [h for h in picked if labels_unknown(h)]:
        names = ", ".join(h.name for h in unknown)
        parts[0] += f" (or may: {names} list Profiles not in the input, whose labels they may carry, C2C312)"
    if reached:
        parts.append(by_address.format(_heps(reached)))
    return "; ".join(parts)


def _matched_warning(rule: ir.Rule, direction: ir.Direction, found: Cover) -> Diagnostic:
    side_name = "source" if direction is ir.Direction.INGRESS else "destination"
    cover_text = found.describe()
    if rule.action is ir.Action.ALLOW:
        effect = "the converted rule does not match them: Cilium allows less"
    elif rule.action is ir.Action.DENY:
        effect = (
            f"the converted rule fails closed by also denying {cover_text}, {_own(rule, direction)}:"
            " Cilium denies those addresses as Calico does, and also the other addresses of those"
            " kinds, which Calico leaves to later rules"
        )
    else:
        effect = (
            "Calico passes those addresses to later tiers, which may allow or deny them; the converted"
            f" Pass fails closed, preceded by a Deny of {cover_text}, {_own(rule, direction)}:"
            " Cilium denies them, and the other addresses of those kinds, where Calico's later rules"
            " or tiers may allow them"
        )
    what = _at_stake(
        found,
        found.matched,
        f"the {side_name} selector matches HostEndpoint",
        f"the {side_name}'s addresses (its nets, or the network sets it picks) hold HostEndpoint {{}},"
        " outside the node ranges: such an address may be a node's, which a Cilium CIDR rule never"
        " matches (remote-node identity)",
    )
    return make(
        "C2C325",
        f"{rule.origin}: {what}; Calico matches those addresses, and {effect}. {NO_NODE_PEER}",
        rule.origin.source,
        hint="if those expectedIPs are every address of their nodes and the wider reach is"
        " acceptable, add by hand a rule with toCIDR/fromCIDR for them and run Cilium with"
        " policyCIDRMatchMode: nodes",
        narrowing=True,
    )


NO_NODE_PEER = (
    "No Cilium peer says exactly 'these addresses of this node': toNodes/fromNodes (1.16+, with"
    " enable-node-selector-labels) get reserved:remote-node added, so they never match the pods'"
    " own node, and they match every address of a node (cilium pkg/k8s/apis/cilium.io/utils/utils.go"
    " parseToCiliumEgressCommonRule); a CIDR rule for the expectedIPs matches nodes only with"
    " policy-cidr-match-mode=nodes, and then the pods' own node by its host identity, which carries the"
    " CIDR labels of all its addresses (pkg/ipcache/metadata.go updateReservedHostLabels), so from"
    " the node's own pods it matches every address of the node"
)
"""Why a rule selector that picks host endpoints has no exact Cilium form (C2C325; docs/refusals.md)."""


def _excluded_warning(rule: ir.Rule, direction: ir.Direction, found: Cover) -> Diagnostic:
    side_name = "source" if direction is ir.Direction.INGRESS else "destination"
    cover_text = found.describe()
    if rule.action is ir.Action.ALLOW:
        effect = (
            f"the converted rule fails closed by leaving out {cover_text}: Cilium no longer allows those"
            " addresses by this rule, nor the other addresses of those kinds, which Calico allows"
        )
    elif rule.action is ir.Action.DENY:
        effect = "the converted rule matches every node (entities host / remote-node), so it also denies them"
    else:
        effect = (
            f"the converted Pass fails closed, preceded by a Deny of {cover_text}"
            f", {_own(rule, direction)}: Cilium denies those addresses, which Calico decides by the"
            " policy's later rules, and the others of those kinds, which Calico passes to later tiers"
        )
    what = _at_stake(
        found,
        found.excluded,
        f"the {side_name} notSelector picks HostEndpoint",
        f"the {side_name}'s addresses cover the node ranges, so the converted rule matches every node,"
        " but not HostEndpoint {}'s addresses outside those ranges, which may be a node's",
    )
    return make(
        "C2C327",
        f"{rule.origin}: {what}, so Calico's rule leaves those addresses out; Cilium names"
        f" node addresses only as whole entities, and {effect}",
        rule.origin.source,
        hint="add a rule before it for those addresses (nets with their expectedIPs) with the verdict Calico"
        " gives them, or give the nodes their own policy",
        narrowing=True,
    )
