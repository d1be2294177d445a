"""Rule peers that pick HostEndpoints: what the converted rule must also match to fail closed.

In Calico a rule selector matches the ``expectedIPs`` of the host endpoints it picks
(docs/reference/semantics.md §1.4); a GlobalNetworkPolicy side that is only ``notSelector: X``
leaves out the addresses of X's host endpoints. No Cilium peer says "these addresses of this node"
(``NO_NODE_PEER``), so the converted rule matches pods and network sets only (a positive selector)
or every node as the ``host``/``remote-node`` entities (an unscoped notSelector). Where that would
let Cilium allow what Calico denies, the rule fails closed (issue 15) with a peer that covers
those addresses (``cover``):

* a HostEndpoint's address may be a Cilium node's (every address a node announces gets the
  ``host``/``remote-node`` identity, which only those whole entities name, whether or not it is
  inside the node ranges given: review6 finding 2) or, for a host outside the cluster, a world
  address, named by its CIDR; both are covered (outside the pod ranges). With the pod ranges
  unknown, the addresses are taken to hold no pod address (a host's address), as nets are
  (C2C307); inside known pod ranges every pod is covered.
* a **Deny** whose selector picks host endpoints also denies the cover (C2C325);
* a **Pass** whose selector picks them, or whose notSelector leaves them out, is preceded by a
  Deny of the cover: Calico hands those addresses to later tiers, which may allow them;
* an **Allow** whose notSelector leaves them out loses the cover (C2C327).

A rule side's *addresses* (its nets, the nets of the network sets its selector picks) reach host
endpoints too (``by_address``; review7). A HostEndpoint address outside the node ranges may be a
node's, which Cilium matches by identity only: a side converted to CIDRs alone misses it where
Calico matches it by address (at stake as ``matched``: a Deny of ``nets: [192.0.2.0/24]`` did not
deny node n1's 192.0.2.7, and ``convert --verify`` called it equivalent), and a side converted to
the ``host``/``remote-node`` entities (its nets cover the node ranges) matches it where Calico's
nets leave it out (at stake as ``excluded``: an Allow of the node range allowed it). Addresses in
the known node or pod ranges are left to the node-range assumption (C2C388) and C2C303.

Each costs only the rule's own flows (same own side, same ports): Cilium denies more, never less.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from calico2cilium import ir
from calico2cilium.calico.selector import All, negate, replace_all, replace_global
from calico2cilium.compile.match import Ranges, family_of, l4, side
from calico2cilium.diagnostics.collector import Diagnostics
from calico2cilium.sets import Inexpressible, IPSet, LabelCube
from calico2cilium.sets.peers import ALL_HOSTS, HostPeer, NetPeer, PeerCube, PodPeer
from calico2cilium.sets.regions import Region


@dataclass(frozen=True)
class Cover:
    """How one rule fails closed on the host endpoints its peer side picks or leaves out."""

    matched: tuple[ir.HostEndpoint, ...]
    """Host endpoints the peer selector picks: Calico matches their addresses, the rule does not."""
    excluded: tuple[ir.HostEndpoint, ...]
    """Host endpoints an unscoped notSelector leaves out: the rule matches them, Calico does not."""
    peers: tuple[PeerCube, ...]
    """The Cilium peers covering the addresses at stake (``matched``'s, else ``excluded``'s)."""
    pods_assumed: bool = False
    """The pod ranges are unknown, and the addresses were taken to be no pod's (C2C307's reading)."""
    by_address: tuple[ir.HostEndpoint, ...] = ()
    """Those of ``matched`` and ``excluded`` at stake by address (the side's nets or network sets),
    not by the side's selectors picking them."""

    @property
    def heps(self) -> tuple[ir.HostEndpoint, ...]:
        return self.matched or self.excluded

    def describe(self) -> str:
        """What the covering peers are, for a diagnostic."""
        parts = []
        for peer in self.peers:
            if isinstance(peer, HostPeer):
                parts.append("every node address (entities host and remote-node)")
            elif isinstance(peer, NetPeer):
                parts.append(f"the CIDRs {peer.ips}")
            else:
                parts.append("every pod")
        text = " and ".join(parts) if parts else "nothing"
        if self.pods_assumed:
            text += " (with the pod ranges unknown, taking those addresses to be no pod's: give --pod-cidr)"
        return text


KNOWN_PROFILES = frozenset({"projectcalico-default-allow"})
"""Profiles that add no label to the endpoints using them (Calico's built-in default-allow)."""


def labels_unknown(hep: ir.HostEndpoint) -> bool:
    """Whether the host endpoint may carry labels the input does not show: a Profile adds its
    ``labelsToApply`` to every endpoint and host endpoint that lists it, "in addition to the
    endpoint's own labels" (docs.tigera.io, Profile resource), and Profiles are not an input kind
    (C2C312). A rule selector may then pick it (or a notSelector leave it out) whatever its own
    labels say, so the rule fails closed on its addresses either way."""
    return any(profile not in KNOWN_PROFILES for profile in hep.profiles)


def peer_matches_host(peer: ir.Peer, policy: ir.Policy, hep: ir.HostEndpoint) -> bool:
    """Whether a rule side's label criteria pick (or, with labels from a Profile not in the input,
    may pick) the host endpoint (docs/reference/semantics.md §1.1, 1.4)."""
    if not peer.has_label_criteria or peer.service_account_names or peer.service_account_selector is not None:
        return False  # no label criteria, or service accounts (a host endpoint has none)
    if peer.namespace_selector is not None:
        # all() means "has a namespace", global() "has none"; a host endpoint has none.
        if not replace_global(replace_all(peer.namespace_selector, negate(All())), All()).matches({}):
            return False
    elif policy.scope is ir.Scope.NAMESPACED:
        return False  # limited to the policy's namespace
    if labels_unknown(hep):
        return True
    labels = dict(hep.labels)
    if peer.selector is not None and not peer.selector.matches(labels):
        return False
    return not (peer.not_selector is not None and peer.not_selector.matches(labels))


def not_selector_excludes_host(peer: ir.Peer, policy: ir.Policy, hep: ir.HostEndpoint) -> bool:
    """Whether a GlobalNetworkPolicy rule side that is only ``notSelector: X`` (every address but
    X's, docs/reference/semantics.md §1.4 consequence 3) leaves out the host endpoint's addresses because X picks
    it, while the converted rule, which names nodes only as whole ``host``/``remote-node``
    entities, keeps them."""
    return (
        _unscoped(peer, policy)
        and peer.not_selector is not None
        and (labels_unknown(hep) or peer.not_selector.matches(dict(hep.labels)))
    )


def _unscoped(peer: ir.Peer, policy: ir.Policy) -> bool:
    """Whether the side is only ``notSelector: X`` in a GlobalNetworkPolicy: every address but X's,
    which the converted side matches as every node and every world address (``match.side``)."""
    if peer.not_selector is None or policy.scope is not ir.Scope.GLOBAL:
        return False
    if peer.selector is not None or peer.namespace_selector is not None:
        return False  # a positive term: the side matches endpoints only, never a node's address
    return not (peer.service_account_names or peer.service_account_selector is not None)


def remote_peer(rule: ir.Rule, direction: ir.Direction) -> ir.Peer:
    return rule.source if direction is ir.Direction.INGRESS else rule.destination


def cover(
    rule: ir.Rule,
    policy: ir.Policy,
    direction: ir.Direction,
    heps: Sequence[ir.HostEndpoint],
    cluster: Ranges,
) -> Cover | None:
    """The host endpoints at stake for ``rule`` and the peers covering their addresses, or ``None``."""
    remote = remote_peer(rule, direction)
    with_ips = [h for h in heps if h.expected_ips]
    # An unscoped notSelector side matches the addresses of the host endpoints X does not pick
    # as the converted side does (every node, every world address): only X's are at stake.
    unscoped = _unscoped(remote, policy)
    matched = tuple(h for h in with_ips if not unscoped and peer_matches_host(remote, policy, h))
    excluded = tuple(h for h in with_ips if not_selector_excludes_host(remote, policy, h))
    picked = {id(h) for h in (*matched, *excluded)}
    by_address, reached, stake = _by_address(
        rule, policy, remote, [h for h in with_ips if id(h) not in picked], cluster
    )
    if not matched and not excluded and not by_address:
        return None
    ips = _addresses(tuple(ip for h in matched or excluded for ip in h.expected_ips))
    if remote.nets:
        ips = ips & IPSet.from_cidrs(remote.nets)  # Calico ANDs the side's nets in
    if remote.not_nets:
        ips = ips - IPSet.from_cidrs(remote.not_nets)
    ips = (ips | stake) & cluster.family_space() & family_of(rule.ip_version)
    if reached:
        excluded = (*excluded, *by_address)
    else:
        matched = (*matched, *by_address)
    peers = tuple(_covering(ips, cluster))
    return Cover(
        matched, excluded, peers, pods_assumed=cluster.pods is None and bool(peers), by_address=by_address
    )


def _by_address(
    rule: ir.Rule,
    policy: ir.Policy,
    remote: ir.Peer,
    heps: Sequence[ir.HostEndpoint],
    cluster: Ranges,
) -> tuple[tuple[ir.HostEndpoint, ...], bool, IPSet]:
    """The host endpoints the side reaches otherwise by address than the converted side does
    (module docstring), whether the converted side matches every node (so they are at stake as
    left out, else as matched), and their addresses at stake."""
    if not heps or remote.services is not None:
        return (), False, IPSet.empty()
    outside = [(hep, ips) for hep in heps if not (ips := _outside(hep, rule.ip_version, cluster)).is_empty]
    if not outside:
        return (), False, IPSet.empty()  # every address in the known ranges: the usual case
    try:
        converted = side(remote, policy, rule, cluster, Diagnostics())
    except Inexpressible:
        return (), False, IPSet.empty()  # refused: the rule fails closed as a whole
    nodes = bool(converted.hosts)
    found: list[ir.HostEndpoint] = []
    stake = IPSet.empty()
    for hep, ips in outside:
        # Matched as every node but not by Calico's addresses, or by Calico's but only as a CIDR.
        differs = ips - converted.world if nodes else ips & converted.world
        if not differs.is_empty:
            found.append(hep)
            stake = stake | differs
    return tuple(found), nodes, stake


def _outside(hep: ir.HostEndpoint, ip_version: int | None, cluster: Ranges) -> IPSet:
    """The host endpoint's addresses outside the pod and node ranges, in the rule's families
    (remembered per cluster: every rule asks about every host endpoint)."""
    key = (hep.expected_ips, ip_version)
    found = cluster.hep_outside.get(key)
    if found is None:
        known = IPSet.empty()
        for kind in (cluster.pods, cluster.nodes):
            if kind is not None:
                known = known | kind
        space = cluster.family_space() & family_of(ip_version)
        found = cluster.hep_outside[key] = (_addresses(hep.expected_ips) - known) & space
    return found


@lru_cache(maxsize=4096)
def _addresses(expected_ips: tuple[str, ...]) -> IPSet:
    """Host endpoints' addresses as a set, read once: every rule asks (``cover``, ``_by_address``)."""
    return IPSet.from_cidrs(expected_ips)


def _covering(ips: IPSet, cluster: Ranges) -> list[PeerCube]:
    """Cilium peers whose addresses hold ``ips`` (module docstring)."""
    out: list[PeerCube] = []
    if ips.is_empty:
        return out
    if cluster.pods is not None and not (ips & cluster.pods).is_empty:
        out.append(PodPeer(LabelCube.all()))
    out.append(HostPeer(ALL_HOSTS))  # a node's address, in or out of the node ranges
    world = ips
    for kind in (cluster.pods, cluster.nodes):
        if kind is not None:
            world = world - kind
    if not world.is_empty:
        out.append(NetPeer(world))
    return out


def cover_region(
    rule: ir.Rule, policy: ir.Policy, direction: ir.Direction, cluster: Ranges, found: Cover
) -> Region:
    """The rule's flows (its own side, its L4 part) with the covering peers (pod subjects)."""
    local = rule.destination if direction is ir.Direction.INGRESS else rule.source
    flows = l4(rule)
    if flows.is_empty or not found.peers:
        return Region.empty()
    here = side(local, policy, rule, cluster, Diagnostics(), remote=False)
    return Region.product(here.pods, found.peers, flows)
