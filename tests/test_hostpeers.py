"""compile/hostpeers.py: which Cilium peers cover the HostEndpoint addresses a rule's peer picks
(or leaves out), by the cluster's ranges. The fixtures hep-* prove the conversions with the verifier."""

from __future__ import annotations

import pytest

from calico2cilium import ir
from calico2cilium.calico.selector import parse as parse_selector
from calico2cilium.compile.hostpeers import cover
from calico2cilium.compile.match import Ranges
from calico2cilium.semantics.world import Assumptions
from calico2cilium.sets import IPSet, LabelCube
from calico2cilium.sets.peers import ALL_HOSTS, HostPeer, NetPeer, PodPeer
from calico2cilium.verify.api import verify


def _policy(scope: ir.Scope = ir.Scope.GLOBAL) -> ir.Policy:
    namespace = "ns" if scope is ir.Scope.NAMESPACED else None
    return ir.Policy("GlobalNetworkPolicy", "g", scope, namespace, "default", 0.0, parse_selector("all()"))


POLICY = _policy()


def _hep(*ips: str, labels: dict[str, str] | None = None) -> ir.HostEndpoint:
    labels = {"team": "infra"} if labels is None else labels
    return ir.HostEndpoint("h", "n1", "*", tuple(labels.items()), ips, (), ())


def _deny(peer: ir.Peer) -> ir.Rule:
    return ir.Rule(ir.Action.DENY, peer, ir.Peer(), ir.L4Match())


TEAM = ir.Peer(selector=parse_selector("has(team)"))
RANGES = Ranges(IPSet.from_cidrs(["10.244.0.0/16"]), IPSet.from_cidrs(["10.0.0.0/24"]), frozenset({4}))


def test_an_address_inside_the_node_range_is_every_node_and_one_outside_its_cidr() -> None:
    found = cover(_deny(TEAM), POLICY, ir.Direction.INGRESS, [_hep("10.0.0.5", "192.168.1.1")], RANGES)
    assert found is not None and found.matched and not found.excluded
    assert found.peers == (HostPeer(ALL_HOSTS), NetPeer(IPSet.from_cidrs(["192.168.1.1/32"])))


def test_unknown_node_ranges_cover_both_the_nodes_and_the_cidr() -> None:
    # A HostEndpoint may be a node (a host/remote-node identity) or a host outside the cluster.
    ranges = Ranges(IPSet.from_cidrs(["10.244.0.0/16"]), None, frozenset({4}))
    found = cover(_deny(TEAM), POLICY, ir.Direction.INGRESS, [_hep("10.0.0.5")], ranges)
    assert found is not None
    assert found.peers == (HostPeer(ALL_HOSTS), NetPeer(IPSet.from_cidrs(["10.0.0.5/32"])))
    assert not found.pods_assumed


def test_an_address_in_the_pod_range_covers_every_pod_and_unknown_pods_are_an_assumption() -> None:
    found = cover(_deny(TEAM), POLICY, ir.Direction.INGRESS, [_hep("10.244.1.1")], RANGES)
    assert found is not None and found.peers == (PodPeer(LabelCube.all()), HostPeer(ALL_HOSTS))
    unknown = Ranges(None, IPSet.from_cidrs(["10.0.0.0/24"]), frozenset({4}))
    found = cover(_deny(TEAM), POLICY, ir.Direction.INGRESS, [_hep("10.244.1.1")], unknown)
    assert found is not None and found.pods_assumed and "--pod-cidr" in found.describe()


def test_the_sides_nets_and_the_rules_family_limit_the_addresses() -> None:
    peer = ir.Peer(selector=parse_selector("has(team)"), nets=("192.168.0.0/16",))
    found = cover(_deny(peer), POLICY, ir.Direction.INGRESS, [_hep("10.0.0.5", "192.168.1.1")], RANGES)
    assert found is not None and found.peers == (
        HostPeer(ALL_HOSTS),
        NetPeer(IPSet.from_cidrs(["192.168.1.1/32"])),
    )
    six = ir.Rule(ir.Action.DENY, TEAM, ir.Peer(), ir.L4Match(), ip_version=6)
    found = cover(six, POLICY, ir.Direction.INGRESS, [_hep("10.0.0.5")], RANGES)
    assert found is not None and found.peers == ()


def test_unlabelled_or_addressless_endpoints_and_namespaced_policies_are_not_at_stake() -> None:
    assert cover(_deny(TEAM), POLICY, ir.Direction.INGRESS, [_hep("10.0.0.5", labels={})], RANGES) is None
    assert cover(_deny(TEAM), POLICY, ir.Direction.INGRESS, [_hep()], RANGES) is None
    namespaced = _policy(ir.Scope.NAMESPACED)
    assert cover(_deny(TEAM), namespaced, ir.Direction.INGRESS, [_hep("10.0.0.5")], RANGES) is None


def test_a_not_selector_that_picks_the_endpoint_leaves_it_out() -> None:
    peer = ir.Peer(not_selector=parse_selector("has(team)"))
    # In egress the source is the rule's own side: no peer at stake there.
    assert cover(_deny(peer), POLICY, ir.Direction.EGRESS, [_hep("10.0.0.5")], RANGES) is None
    found = cover(
        ir.Rule(ir.Action.ALLOW, ir.Peer(), peer, ir.L4Match()),
        POLICY,
        ir.Direction.EGRESS,
        [_hep("10.0.0.5")],
        RANGES,
    )
    assert found is not None and found.excluded and not found.matched
    assert found.peers == (HostPeer(ALL_HOSTS),)


def _nets(action: ir.Action, nets: tuple[str, ...] = (), not_nets: tuple[str, ...] = ()) -> ir.Rule:
    return ir.Rule(action, ir.Peer(nets=nets, not_nets=not_nets), ir.Peer(), ir.L4Match())


def test_nets_holding_a_host_address_outside_the_node_range_are_at_stake_as_matched() -> None:
    # review7: a Deny of 192.0.2.0/24 was converted to fromCIDR only, which Cilium never matches
    # for a node's address (remote-node identity), and convert --verify called it equivalent.
    hep = _hep("10.0.0.5", "192.0.2.7", labels={})
    found = cover(_nets(ir.Action.DENY, ("192.0.2.0/24",)), POLICY, ir.Direction.INGRESS, [hep], RANGES)
    assert found is not None and found.matched == (hep,) and found.by_address == (hep,)
    assert found.peers == (HostPeer(ALL_HOSTS), NetPeer(IPSet.from_cidrs(["192.0.2.7/32"])))


def test_nets_covering_the_node_range_but_not_a_host_address_leave_it_out() -> None:
    # The Allow of the node range becomes the entities host/remote-node: every address of the node,
    # 192.0.2.7 too, which Calico's nets leave out (so do notNets holding it).
    hep = _hep("10.0.0.5", "192.0.2.7", labels={})
    for nets, not_nets in ((("10.0.0.0/24",), ()), ((), ("192.0.2.0/24",))):
        rule = _nets(ir.Action.ALLOW, nets, not_nets)
        found = cover(rule, POLICY, ir.Direction.INGRESS, [hep], RANGES)
        assert found is not None and found.excluded == (hep,) and not found.matched
        assert found.peers == (HostPeer(ALL_HOSTS), NetPeer(IPSet.from_cidrs(["192.0.2.7/32"])))


def test_nets_that_decide_a_host_address_as_the_converted_rule_does_are_not_at_stake() -> None:
    hep = _hep("10.0.0.5", "192.0.2.7", labels={})
    for nets, not_nets in ((("0.0.0.0/0",), ()), (("198.51.100.0/24",), ()), ((), ("203.0.113.0/24",))):
        rule = _nets(ir.Action.DENY, nets, not_nets)
        assert cover(rule, POLICY, ir.Direction.INGRESS, [hep], RANGES) is None, (nets, not_nets)
    # Addresses inside the node or pod ranges are the node-range assumption's (C2C388), not at stake.
    inside = _hep("10.0.0.5", "10.244.3.3", labels={})
    assert (
        cover(_nets(ir.Action.ALLOW, ("10.0.0.0/24",)), POLICY, ir.Direction.INGRESS, [inside], RANGES)
        is None
    )


PROFILE_HEP = """\
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: h1, labels: {role: w}}
spec: {node: n1, interfaceName: "*", expectedIPs: [10.0.0.11], profiles: [custom]}
---
"""
"""A host endpoint listing a Profile the input does not hold (Profile is not an input kind)."""
DB = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: db}
spec:
  selector: app == 'db'
  types: [Ingress]
  ingress:
"""
DENY_DMZ = DB + "  - {action: Deny, source: {selector: zone == 'dmz'}}\n  - {action: Allow}\n"
ALLOW_NOT_DMZ = DB + "  - {action: Allow, source: {notSelector: zone == 'dmz'}}\n"


@pytest.mark.parametrize("policy", [DENY_DMZ, ALLOW_NOT_DMZ])
def test_a_host_endpoint_with_a_profile_not_in_the_input_may_carry_any_label(policy: str) -> None:
    # review12: a Profile adds its labelsToApply to the host endpoints listing it "in addition to
    # the endpoint's own labels" (docs.tigera.io, Profile resource), so h1 may carry zone=dmz: then
    # Calico denies its address (or leaves it out of the Allow's notSelector). The rule read h1's own
    # labels only, so Cilium allowed node n1 to reach the db pods, under a C2C312 saying the host
    # endpoint fails closed and a NOT PROVEN verdict ("profile not modelled"). Checked against the
    # Calico input in which h1 carries that label: never wider.
    from calico2cilium.convert import convert

    cluster = {"pod_cidrs": ("10.244.0.0/16",), "node_cidrs": ("10.0.0.0/24",)}
    result = convert(text=PROFILE_HEP + policy, name="in.yaml", **cluster)
    labelled = PROFILE_HEP.replace("{role: w}", "{role: w, zone: dmz}").replace(", profiles: [custom]", "")
    world = convert(text=labelled + policy, name="in.yaml", **cluster)
    assumptions = Assumptions(pod_cidrs=cluster["pod_cidrs"], node_cidrs=cluster["node_cidrs"])
    proof = verify(world.loaded, result.documents, assumptions, narrowing=True)
    assert proof.status in ("narrowed", "equivalent"), proof.render_text()
    codes = {d.code for d in result.diagnostics}
    assert codes & {"C2C325", "C2C327"} and "C2C312" in codes
