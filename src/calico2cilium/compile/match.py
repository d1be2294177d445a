"""What one IR rule matches, as an exact region of flows (``sets/regions.py``) for its direction.

A Calico rule ANDs everything it says (docs/reference/semantics.md §1.4). The compiler's peer space has three
disjoint kinds: pods (by labels), hosts (the ``host``/``remote-node`` entities) and addresses
outside the cluster (CIDRs). Calico's ``nets`` match any endpoint by IP, pods and nodes included
(docs/reference/semantics.md §3.6 trap 2), so a net is split across the kinds using the cluster's address ranges
(``Ranges``): a kind whose addresses all lie inside (or all outside) the net is matched wholly
(or not at all); a kind only partly inside has no exact Cilium form and raises ``Inexpressible``.
When the ranges are unknown, the net is taken to hold no pod or node address and a warning says
so (C2C307).

Peers picked by labels (``selector``, ``namespaceSelector``, ``serviceAccounts``) are pods, plus
the nets of the network sets they pick. Host endpoints they pick (by ``expectedIPs``) have no
per-node Cilium peer form; ``compile/hosts.py`` warns where a selector picks one (C2C325).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from calico2cilium import ir
from calico2cilium.calico.selector import All, Eq, Selector, conjoin, negate, replace_all, replace_global
from calico2cilium.compile import labelspace as ls
from calico2cilium.compile.node_ranges import note_nodes_by_nets
from calico2cilium.compile.services import ServiceBackends, ServiceRefused, resolve_known
from calico2cilium.diagnostics import Diagnostic
from calico2cilium.diagnostics.catalog import make
from calico2cilium.diagnostics.collector import Diagnostics
from calico2cilium.facts.cluster import Cluster, Services
from calico2cilium.facts.felix import FAILSAFE_INBOUND, FAILSAFE_OUTBOUND, FailsafePorts
from calico2cilium.sets import (
    HostKind,
    HostPeer,
    Inexpressible,
    IPSet,
    L4Set,
    LabelCube,
    LabelSet,
    NetPeer,
    PeerCube,
    PodPeer,
    from_calico,
    parse_ports,
)
from calico2cilium.sets.regions import Cube, Region

ALL_HOSTS = frozenset(HostKind)


@dataclass
class Ranges:
    """The compiler's view of the cluster (``facts.cluster.Cluster``): its address ranges as
    ``IPSet`` (``None``: unknown), the IP families in use, the network sets and Services."""

    pods: IPSet | None = None
    nodes: IPSet | None = None
    families: frozenset[int] = frozenset((4, 6))
    network_sets: tuple[ir.NetworkSet, ...] = ()
    services: Services | None = None
    """The Kubernetes Services known (an inventory's); ``None``: none given."""
    failsafe: Mapping[ir.Direction, FailsafePorts] = field(
        default_factory=lambda: {
            ir.Direction.INGRESS: FAILSAFE_INBOUND,
            ir.Direction.EGRESS: FAILSAFE_OUTBOUND,
        }
    )
    """Felix failsafe ports, allowed to and from every host endpoint (``compile/hosts.py``)."""
    set_ips: dict[tuple[object, ...], IPSet] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """``_network_set_ips`` by (side, policy scope, namespace): equal sides of many rules are
    matched against the network sets once (each side against every set is quadratic)."""
    hep_outside: dict[tuple[object, ...], IPSet] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Per host endpoint addresses and IP version, its addresses outside the pod and node ranges
    (``compile/hostpeers.py``)."""
    _groups: dict[str | None, dict[frozenset[tuple[str, str]], list[tuple[int, ir.NetworkSet]]]] | None = (
        field(default=None, init=False, repr=False, compare=False)
    )

    def set_groups(
        self,
    ) -> dict[str | None, dict[frozenset[tuple[str, str]], list[tuple[int, ir.NetworkSet]]]]:
        """The network sets (with their place in ``network_sets``) by namespace (``None``: global)
        and then by their own labels."""
        if self._groups is None:
            self._groups = {}
            for index, network_set in enumerate(self.network_sets):
                by_labels = self._groups.setdefault(network_set.namespace, {})
                by_labels.setdefault(frozenset(network_set.labels), []).append((index, network_set))
        return self._groups

    @staticmethod
    def of(cluster: Cluster, network_sets: tuple[ir.NetworkSet, ...] = ()) -> Ranges:
        pods = IPSet.from_cidrs(cluster.pod_cidrs) if cluster.pod_cidrs else None
        nodes = IPSet.from_cidrs(cluster.node_cidrs) if cluster.node_cidrs else None
        families = frozenset(families_of(pods)) if pods is not None else frozenset((4, 6))
        failsafe = {
            ir.Direction.INGRESS: cluster.failsafe_inbound,
            ir.Direction.EGRESS: cluster.failsafe_outbound,
        }
        return Ranges(pods, nodes, families, network_sets, services=cluster.services, failsafe=failsafe)

    def family_space(self) -> IPSet:
        everything = IPSet.all()
        return IPSet(
            everything.v4 if 4 in self.families else IPSet.empty().v4,
            everything.v6 if 6 in self.families else IPSet.empty().v6,
        )


def families_of(ips: IPSet) -> set[int]:
    """The IP versions (4, 6) ``ips`` holds addresses of."""
    return {v for v, part in ((4, ips.v4), (6, ips.v6)) if not part.is_empty}


def family_of(version: int | None) -> IPSet:
    everything = IPSet.all()
    if version == 4:
        return IPSet(everything.v4, IPSet.empty().v6)
    if version == 6:
        return IPSet(IPSet.empty().v4, everything.v6)
    return everything


def _coverage(
    ips: IPSet, kind: IPSet | None, cluster: Ranges, what: str, origin: ir.Origin, notes: Diagnostics
) -> bool:
    """Whether every address of ``kind`` is in ``ips`` (True) or none is (False); an unknown range
    is taken to hold none of ``ips`` and ``notes`` says so (C2C307)."""
    space = cluster.family_space()
    if kind is None:
        if (space - ips).is_empty:
            return True
        if not (ips & space).is_empty:
            notes.once(_assumed(origin, what))
        return False
    inside = kind & ips
    if inside.is_empty:
        return False
    if (kind - ips).is_empty:
        return True
    raise Inexpressible(
        "nets",
        f"the addresses {ips} cover only part of the {what} range {kind}; Cilium matches {what}s by"
        " identity, not by address, so this cannot be said exactly",
    )


def _coverage_maybe(ips: IPSet, cluster: Ranges) -> bool:
    """Whether ``ips`` may hold a pod or node address."""
    return any(kind is None or not (kind & ips).is_empty for kind in (cluster.pods, cluster.nodes))


def _assumed(origin: ir.Origin, what: str) -> Diagnostic:
    option = "--pod-cidr" if what == "pod" else "--node-cidr"
    return make(
        "C2C307",
        f"{origin}: the rule's nets may hold {what} addresses, which Calico matches and Cilium CIDR"
        f" rules never do; converted assuming they hold none",
        origin.source,
        hint=f"give the cluster's ranges with {option} so that the conversion is exact",
    )


def _snapshot(origin: ir.Origin, backends: ServiceBackends) -> Diagnostic:
    """C2C333 at each ``services`` match converted from the inventory's Service object."""
    return make(
        "C2C333",
        f"{origin}: the services match (Service {backends.namespace}/{backends.name}) is"
        f" converted as {backends.describe()}, from the inventory's Service object: a"
        " snapshot. Calico follows the Service's EndpointSlices, so a later change of its"
        " selector or ports is followed by Calico and not by the converted rule",
        origin.source,
        hint="convert again whenever the Service's selector or ports change",
    )


@dataclass(frozen=True)
class Side:
    """A rule side's constraint: on pods (labels), hosts, and outside addresses."""

    pods: LabelSet
    hosts: frozenset[HostKind]
    world: IPSet
    ports: L4Set | None = None
    """The flows the side allows, when it restricts them (a destination ``services`` match)."""

    def peers(self) -> list[PeerCube]:
        out: list[PeerCube] = [PodPeer(c) for c in self.pods.cubes]
        if self.hosts:
            out.append(HostPeer(self.hosts))
        if not self.world.is_empty:
            out.append(NetPeer(self.world))
        return out


_FAMILY_PROTOCOLS = {4: ("ICMP", 1), 6: ("ICMPv6", 58)}


def _family_of_protocol(rule: ir.Rule) -> bool:
    """Whether the rule's protocol already says its ``ipVersion``: ICMP travels on IPv4 only and
    ICMPv6 on IPv6 only (Calico's validator pairs them, validateRule), and Cilium writes them as
    ``icmps`` of that family, so the family restriction costs nothing."""
    return rule.ip_version is not None and rule.l4.protocol in _FAMILY_PROTOCOLS[rule.ip_version]


def side(
    peer: ir.Peer,
    policy: ir.Policy,
    rule: ir.Rule,
    cluster: Ranges,
    notes: Diagnostics,
    *,
    remote: bool = True,
    by_address: bool = True,
) -> Side:
    """The endpoints one rule side (``source`` or ``destination``) matches; ``remote`` for the
    peer side (the other side is the policy's own endpoint). What was assumed goes to ``notes``.
    Without ``by_address``, pods match a selector by their own labels only, not also by an address
    inside the nets of a network set it picks: how a named port of the side matches them."""
    ips: IPSet | None = None
    if peer.nets or peer.not_nets:
        ips = (IPSet.from_cidrs(peer.nets) if peer.nets else IPSet.all()) - IPSet.from_cidrs(peer.not_nets)
    family = family_of(rule.ip_version)
    if remote and rule.ip_version is not None and rule.ip_version not in cluster.families:
        return Side(LabelSet.empty(), frozenset(), IPSet.empty())  # no flow of that family exists
    # Pods and nodes of the other family exist, and Cilium's endpoint and entity peers cannot
    # say "IPv4 only"; a CIDR peer can (its CIDRs carry the family).
    other_family = (
        rule.ip_version is not None
        and not cluster.families <= {rule.ip_version}
        and not _family_of_protocol(rule)
    )
    may_hold_endpoints = peer.has_label_criteria or ips is None or _coverage_maybe(ips & family, cluster)
    if remote and other_family and may_hold_endpoints:
        raise Inexpressible(
            "ipVersion",
            f"ipVersion {rule.ip_version} restricts pods and nodes to one IP family, which Cilium"
            " endpoint and entity peers cannot express (give --pod-cidr of one family if the"
            " cluster is single-stack)",
        )
    if peer.services is not None:
        return _service_side(peer, policy, rule, cluster, notes)
    if ips is not None:
        ips = ips & family
    if peer.has_label_criteria:
        pods = _labelled_pods(peer, policy)
        if ips is not None and not _coverage(ips, cluster.pods, cluster, "pod", rule.origin, notes):
            pods = LabelSet.empty()
        unscoped = _unscoped_not_selector(peer, policy)
        excluded = IPSet.empty()
        if unscoped:
            # A GNP rule side with only notSelector X matches every address outside X's IP set,
            # the world and nodes included (docs/reference/semantics.md §1.4 consequence 3; policy_common.go, doc
            # of Selector; updateprocessors/rules.go getEndpointSelector adds no positive
            # selector): X's pods (above) and the nets of every network set X picks, in any
            # namespace, are taken away.
            excluded = _not_selector_ips(peer, cluster) & family
            if not excluded.is_empty and _coverage(
                excluded, cluster.pods, cluster, "pod", rule.origin, notes
            ):
                pods = LabelSet.empty()
            set_ips = IPSet.all() & family
        else:
            # Network sets the selector picks add their nets: any endpoint with such an address
            # matches, pods and nodes included (docs/reference/semantics.md §1.6). With a positive selector N,
            # felix folds notSelector X into it by labels, (N) && !(X), so a set is picked or not
            # by its own labels and X's addresses are not taken away (felix/calc/rule_scanner.go
            # combineMatchesIfPossible; _network_set_ips applies both selectors to the set).
            set_ips = _network_set_ips(peer, policy, cluster) & family
        set_ips = set_ips - excluded
        if ips is not None:
            set_ips = set_ips & ips
        if (
            by_address
            and not set_ips.is_empty
            and _coverage(set_ips, cluster.pods, cluster, "pod", rule.origin, notes)
        ):
            # Every pod address is in the side's IP set: every pod matches by address, whatever
            # its labels (but X's own pods, where X's addresses were taken away).
            pods = _all_but(peer) if unscoped else LabelSet.all()
        if not remote:
            # The local side: the policy's own pod matches by its address exactly as a peer does
            # (felix/rules/policy.go CalculateRuleMatch renders DstIpSetIds as a destination
            # IP-set match on an ingress rule too), so the sets above count; hosts do not apply.
            return Side(pods, frozenset(), IPSet.empty())
        if set_ips.is_empty:
            return Side(pods, frozenset(), IPSet.empty())
        return Side(pods, _node_hosts(set_ips, family, cluster, rule, notes), set_ips)
    if ips is None:
        return Side(LabelSet.all(), ALL_HOSTS, IPSet.all() & family)
    pods = (
        LabelSet.all()
        if _coverage(ips, cluster.pods, cluster, "pod", rule.origin, notes)
        else LabelSet.empty()
    )
    return Side(pods, _node_hosts(ips, family, cluster, rule, notes), ips)


def _node_hosts(
    ips: IPSet, family: IPSet, cluster: Ranges, rule: ir.Rule, notes: Diagnostics
) -> frozenset[HostKind]:
    """The nodes a side's addresses match: all of them when ``ips`` covers the node ranges (what
    that assumes of node addresses is said by ``node_ranges``), else none."""
    matched = _coverage(ips, cluster.nodes, cluster, "node", rule.origin, notes)
    note_nodes_by_nets(ips, matched, cluster.nodes, cluster.family_space() & family, rule, notes)
    return ALL_HOSTS if matched else frozenset()


API_SERVER_SERVICE = ("default", "kubernetes")
API_SERVER_REASON = (
    "Service default/kubernetes stands for the API server's addresses and port (its Endpoints,"
    " written by the API server; no pod selector). Cilium's nearest form, toEntities"
    " [kube-apiserver] with toPorts, is not the same set of flows: on a node that runs the API"
    " server the label goes to the node's whole host identity, so every address of that node"
    " matches, not only the endpoint's (cilium/cilium#28259, which also reports the label"
    " flapping on nodes with IPv6 addresses); the entity's addresses come from the same Endpoints"
    " but through the agent's ipcache, which has lost them in some releases (cilium/cilium#24502);"
    " and CIDR rules do not match in-cluster API servers at all (cilium/cilium#20550, #33525)"
)
API_SERVER_HINT = (
    "write the Cilium rule by hand if its wider reach is acceptable: egress toEntities:"
    " [kube-apiserver] with toPorts on the API server's port (the Service's targetPort, 6443 by"
    " default); with a managed control plane outside the cluster the entity covers exactly the"
    " endpoint addresses"
)


def _service_side(
    peer: ir.Peer, policy: ir.Policy, rule: ir.Rule, cluster: Ranges, notes: Diagnostics
) -> Side:
    """A ``services`` match, resolved against the known Service objects (``compile/services.py``;
    the verifier reads them with its own code): the Service's selected pods, and in a destination only their
    (protocol, target port) pairs. CEL allows nothing else in such a side but ``notPorts``/``ports``
    in a source (source ports, refused by ``l4``), so the side is exactly that."""
    assert peer.services is not None
    name, namespace = peer.services
    namespace = namespace or policy.namespace or ""  # a GNP must name it (validated)
    destination = peer is rule.destination  # the IR rule's own Peer objects (rule_region, hosts)
    try:
        backends = resolve_known(
            cluster.services, name, namespace, destination=destination, families=cluster.families
        )
    except ServiceRefused as err:
        if (namespace, name) == API_SERVER_SERVICE:
            raise Inexpressible("services", API_SERVER_REASON, code="C2C371", hint=API_SERVER_HINT) from err
        raise Inexpressible("services", err.reason, code=err.code, hint=err.hint) from err
    if backends.only_family is not None and backends.only_family not in cluster.families:
        notes.once(_snapshot(rule.origin, backends))
        return Side(LabelSet.empty(), frozenset(), IPSet.empty())  # no endpoint of that family
    if backends.only_family is not None:
        raise Inexpressible(
            "services",
            f"Service {namespace}/{name} is single-stack (IPv{backends.only_family}) while the cluster's"
            " pods have IPv4 and IPv6 addresses: its endpoints are the pods' IPv"
            f"{backends.only_family} addresses only, and Cilium endpoint peers cannot say one IP family",
            code="C2C332",
            hint="give --pod-cidr (a single-stack cluster's pods have one family)"
            if cluster.pods is None
            else "make the Service dual-stack (ipFamilyPolicy: PreferDualStack), or write the rule with nets",
        )
    if backends.named_ports:
        names = ", ".join(sorted({n for _, n in backends.named_ports}))
        raise Inexpressible(
            "services",
            f"Service {namespace}/{name} has named target ports ({names}): each endpoint pod"
            " resolves them to its own container port, and Cilium resolves an egress named port to"
            " one number for the whole cluster",
            code="C2C332",
            hint="give the Service numeric targetPorts",
        )
    selector = conjoin(Eq(key, value) for key, value in backends.selector)
    pods = ls.pod_labels(selector) & ls.in_namespace(namespace)
    ports: L4Set | None = None
    if destination:
        ports = L4Set.empty()
        for protocol, port in backends.ports:
            ports = ports | from_calico(protocol=protocol, ports=[port])
    notes.once(_snapshot(rule.origin, backends))
    return Side(pods, frozenset(), IPSet.empty(), ports)


def _set_labels(network_set: ir.NetworkSet) -> dict[str, str]:
    labels = dict(network_set.labels)
    if network_set.namespace is not None:
        labels[ls.CALICO_NAMESPACE] = network_set.namespace
    return labels


def _unknown_keys(selector: Selector, known: set[str]) -> set[str]:
    return {k for k in selector.labels() if k not in known}


def _set_in_namespace_scope(peer: ir.Peer, policy: ir.Policy, network_set: ir.NetworkSet) -> bool:
    """Whether the rule's namespace scope takes in the set (docs/reference/semantics.md §1.6)."""
    if peer.namespace_selector is None:
        if policy.scope is ir.Scope.NAMESPACED:
            return network_set.namespace == policy.namespace
        return True
    selector = peer.namespace_selector
    if network_set.namespace is None:
        # In a rule's namespaceSelector, all() means "has a namespace" (docs/reference/semantics.md §1.4) and
        # global() means "has none"; a global set has no namespace and no namespace labels.
        return replace_global(replace_all(selector, negate(All())), All()).matches({})
    known = {ls.CALICO_NAMESPACE_NAME: network_set.namespace, ls.NAMESPACE_NAME_LABEL: network_set.namespace}
    selector = replace_global(selector, negate(All()))
    unknown = _unknown_keys(selector, set(known))
    if unknown:
        raise Inexpressible(
            "namespaceSelector",
            f"whether the namespaceSelector picks NetworkSet {network_set.namespace}/{network_set.name}"
            f" depends on namespace labels ({', '.join(sorted(unknown))}) that are not in the input",
        )
    return selector.matches(known)


def _network_set_ips(peer: ir.Peer, policy: ir.Policy, cluster: Ranges) -> IPSet:
    """The union of the nets of the network sets a labelled rule side picks (remembered)."""
    key = (peer, policy.scope, policy.namespace)
    found = cluster.set_ips.get(key)
    if found is None:
        found = cluster.set_ips[key] = _picked_set_ips(peer, policy, cluster)
    return found


def _picked_set_ips(peer: ir.Peer, policy: ir.Policy, cluster: Ranges) -> IPSet:
    if peer.service_account_names or peer.service_account_selector is not None:
        return IPSet.empty()  # network sets have no service account
    out = IPSet.empty()
    selector = peer.selector
    # A selector that reads no namespace label rules a whole group of sets with the same own
    # labels in or out at once (the per-set test below would say the same for each).
    own = selector is not None and not any(
        key == ls.CALICO_NAMESPACE or key.startswith(ls.CALICO_NS_LABEL) for key in selector.labels()
    )
    groups = cluster.set_groups()
    if peer.namespace_selector is None and policy.scope is ir.Scope.NAMESPACED:
        # Only the sets of the policy's own namespace are in scope (``_set_in_namespace_scope``).
        groups = {policy.namespace: groups.get(policy.namespace, {})}
    picked: list[tuple[int, ir.NetworkSet]] = []
    for by_labels in groups.values():
        for own_labels, sets in by_labels.items():
            if not own or (selector is not None and selector.matches(dict(own_labels))):
                picked.extend(sets)
    in_scope: dict[str | None, bool] = {}
    for _, network_set in sorted(picked, key=lambda item: item[0]):  # the sets' order (messages)
        labels = _set_labels(network_set)
        # The set's own labels first: a set the selectors rule out is irrelevant whatever its
        # namespace's labels are, so the namespace scope (which may need them) is not asked.
        if _selectors_rule_out(peer, network_set, labels):
            continue
        namespace = network_set.namespace
        if namespace not in in_scope:  # the scope depends on the set's namespace only
            in_scope[namespace] = _set_in_namespace_scope(peer, policy, network_set)
        if not in_scope[namespace]:
            continue
        for selector in (peer.selector, peer.not_selector):
            if selector is not None:
                _check_inherited(selector, network_set)
        if peer.selector is not None and not peer.selector.matches(labels):
            continue
        if peer.not_selector is not None and peer.not_selector.matches(labels):
            continue
        out = out | IPSet.from_cidrs(network_set.nets)
    return out


def _selectors_rule_out(peer: ir.Peer, network_set: ir.NetworkSet, labels: dict[str, str]) -> bool:
    """Whether the side's selector or notSelector excludes the set by its own labels alone.

    Only selectors that read none of the namespace's inherited labels (``pcns.*``, absent from
    the input for a namespaced set) decide here; the others are left to ``_check_inherited``.
    """

    def decided(selector: Selector) -> bool:
        return network_set.namespace is None or not any(
            key.startswith(ls.CALICO_NS_LABEL) for key in selector.labels()
        )

    if peer.selector is not None and decided(peer.selector) and not peer.selector.matches(labels):
        return True
    return peer.not_selector is not None and decided(peer.not_selector) and peer.not_selector.matches(labels)


def _unscoped_not_selector(peer: ir.Peer, policy: ir.Policy) -> bool:
    """Whether the side's only label criterion is a notSelector with nothing positive around it:
    in a GNP no namespace clause is added (updateprocessors/rules.go getEndpointSelector), so
    the side is "every address but X's", not "endpoints but X" (docs/reference/semantics.md §1.4)."""
    return (
        peer.not_selector is not None
        and peer.selector is None
        and peer.namespace_selector is None
        and not peer.service_account_names
        and peer.service_account_selector is None
        and policy.scope is ir.Scope.GLOBAL
    )


def _all_but(peer: ir.Peer) -> LabelSet:
    """Every pod, less the notSelector's (an unscoped notSelector side whose addresses hold every
    pod address but those of X's own pods)."""
    if peer.not_selector is None:
        return LabelSet.all()
    return LabelSet.all() - ls.pod_labels(peer.not_selector)


def _not_selector_ips(peer: ir.Peer, cluster: Ranges) -> IPSet:
    """The nets of every network set the notSelector picks, global or in any namespace: Calico
    leaves notSelector unscoped (docs/reference/semantics.md §1.4), and a set's addresses are the IPs it stands
    for (1.6). Host endpoints are not compiled by this version (C2C312), so no expectedIPs."""
    out = IPSet.empty()
    if peer.not_selector is None:
        return out
    for network_set in cluster.network_sets:
        _check_inherited(peer.not_selector, network_set)
        if peer.not_selector.matches(_set_labels(network_set)):
            out = out | IPSet.from_cidrs(network_set.nets)
    return out


def _check_inherited(selector: Selector, network_set: ir.NetworkSet) -> None:
    """A namespaced set inherits its namespace's labels (``pcns.*``), which the input lacks."""
    if network_set.namespace is None:
        return
    inherited = {k for k in selector.labels() if k.startswith(ls.CALICO_NS_LABEL)}
    if inherited:
        raise Inexpressible(
            "selector",
            f"whether the selector picks NetworkSet {network_set.namespace}/{network_set.name}"
            " depends on its namespace's labels, which are not in the input",
        )


def _labelled_pods(peer: ir.Peer, policy: ir.Policy) -> LabelSet:
    pods = ls.pod_labels(peer.selector) if peer.selector is not None else LabelSet.all()
    if peer.not_selector is not None:
        pods = pods - ls.pod_labels(peer.not_selector)
    if peer.namespace_selector is not None:
        pods = pods & ls.namespace_labels(peer.namespace_selector)
    elif policy.scope is ir.Scope.NAMESPACED and policy.namespace is not None:
        pods = pods & ls.in_namespace(policy.namespace)
    if peer.service_account_names:
        pods = pods & ls.service_accounts(peer.service_account_names)
    names = ls.service_account_name_test(peer.service_account_selector)
    if names is not None:
        pods = pods & ls.service_accounts(names)
    elif not ls.is_all(peer.service_account_selector):
        raise Inexpressible(
            "serviceAccounts.selector",
            "service-account labels are not visible to Cilium selectors; list the names instead, or"
            " give --inventory with the cluster's ServiceAccounts to expand it to names",
        )
    return pods


def policy_subject(policy: ir.Policy) -> LabelSet:
    """The pods a policy applies to (host endpoints it applies to: ``compile/hosts.py``)."""
    subject = ls.pod_labels(policy.selector)
    if policy.scope is ir.Scope.NAMESPACED and policy.namespace is not None:
        subject = subject & ls.in_namespace(policy.namespace)
    if policy.namespace_selector is not None:
        subject = subject & ls.namespace_labels(policy.namespace_selector)
    names = ls.service_account_name_test(policy.service_account_selector)
    if names is not None:
        subject = subject & ls.service_accounts(names)
    elif not ls.is_all(policy.service_account_selector):
        raise Inexpressible(
            "serviceAccountSelector",
            "service-account labels are not visible to Cilium selectors; give --inventory with the"
            " cluster's ServiceAccounts to expand it to names",
        )
    if names is None and policy.service_account_selector is not None and policy.scope is ir.Scope.GLOBAL:
        # Calico rewrites every all() of such a GNP to has(projectcalico.org/serviceaccount)
        # (globalnetworkpolicyprocessor.go; docs/reference/semantics.md §1.1), a label only short names get. With
        # names (all short), the subject already has that label: nothing to add.
        subject = subject & ls.with_service_account_label()
    return subject


def l4(rule: ir.Rule) -> L4Set:
    m = rule.l4

    def icmp(v: tuple[int | None, int | None] | None) -> dict[str, int | None] | None:
        return None if v is None else {"type": v[0], "code": v[1]}

    return from_calico(
        protocol=m.protocol,
        not_protocol=m.not_protocol,
        ports=m.dst_ports,
        not_ports=m.not_dst_ports,
        icmp=icmp(m.icmp),
        not_icmp=icmp(m.not_icmp),
        source_ports=m.src_ports,
        source_not_ports=m.not_src_ports,
    )


def remote_flows(rule: ir.Rule, there: Side) -> L4Set:
    """The rule's L4 part, restricted by what its peer side allows (the endpoint ports of a
    destination ``services`` match)."""
    flows = l4(rule)
    return flows if there.ports is None else flows & there.ports


def rule_region(
    rule: ir.Rule, policy: ir.Policy, direction: ir.Direction, cluster: Ranges, notes: Diagnostics
) -> Region:
    """The flows of ``direction`` this rule matches, with the subject restricted only by the rule's
    own local side (the policy's subject is applied by the ordering engine). An ``http`` match is
    not part of the region: it filters requests inside it, which ``plan.py`` handles."""
    local, remote = (
        (rule.destination, rule.source)
        if direction is ir.Direction.INGRESS
        else (rule.source, rule.destination)
    )
    here = side(local, policy, rule, cluster, notes, remote=False)
    # The local endpoint is a pod: only the pod part of the local side constrains it.
    subjects = here.pods
    there = side(remote, policy, rule, cluster, notes)
    flows = remote_flows(rule, there)
    parts = [(subjects, flows)]
    if direction is ir.Direction.INGRESS and not _unscoped_not_selector(local, policy):
        parts = _named_ports_by_labels(rule, policy, cluster, subjects, flows, there)
    cubes: list[Cube] = []
    for pods, part in parts:
        for s in pods.cubes:
            for p in there.peers():
                if not part.is_empty:
                    cubes.append(Cube(s, p, part))
    return Region.of(cubes)


def _named_ports_by_labels(
    rule: ir.Rule, policy: ir.Policy, cluster: Ranges, subjects: LabelSet, flows: L4Set, there: Side
) -> list[tuple[LabelSet, L4Set]]:
    """An ingress rule's own pods and flows where its destination names ports: a named port (in
    ``ports`` or ``notPorts``) resolves to the (address, port) pairs of the endpoints the side's
    positive selector picks by their labels (felix/calc/rule_scanner.go: named-port IP sets are
    built from the endpoints' declared ports, filtered by the selector; network sets declare
    none), so a pod matched only by an address inside a picked network set's nets matches the
    numeric ports alone (docs/reference/semantics.md §1.4). Before, such a pod was allowed its
    named port too: the verifier found the flow (Calico denies it, the output allowed it)."""
    m = rule.l4
    if not any(_is_named(p) for p in (*m.dst_ports, *m.not_dst_ports)):
        return [(subjects, flows)]
    own = side(rule.destination, policy, rule, cluster, Diagnostics(), remote=False, by_address=False).pods
    by_address = subjects - own
    if by_address.is_empty:
        return [(subjects, flows)]
    parts = [(own, flows)]
    numeric = tuple(p for p in m.dst_ports if not _is_named(p))
    if numeric or not m.dst_ports:
        # ``ports`` named only: nothing left for the pods matched by address.
        plain = replace(
            m, dst_ports=numeric, not_dst_ports=tuple(p for p in m.not_dst_ports if not _is_named(p))
        )
        parts.append((by_address, remote_flows(replace(rule, l4=plain), there)))
    return parts


def _is_named(port: int | str) -> bool:
    """A named port of a Calico ``ports`` list (not ``80``, ``"80"`` or ``"8000:8080"``)."""
    return bool(parse_ports([port])[1])


__all__ = ["LabelCube", "Ranges", "family_of", "l4", "policy_subject", "remote_flows", "rule_region", "side"]
