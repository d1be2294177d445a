"""A rule's *local* side (the destination of an ingress rule, the source of an egress rule) matches
the policy's own endpoint by address, like the peer side (issue 15, item 10).

Felix renders every rule selector as an IP-set match on the packet's address, whatever the rule's
direction (projectcalico/calico ``felix/rules/policy.go`` ``CalculateRuleMatch``: ``SrcIpSetIds`` ->
``SourceIPSet``, ``DstIpSetIds`` -> ``DestIPSet``), and an IP set holds the addresses of the
workload endpoints, host endpoints (``expectedIPs``) and network sets (``nets``) the selector
matches (``felix/labelindex/named_port_index.go``: ``SelectorAndNamedPortIndex`` registers
``WorkloadEndpointKey``, ``HostEndpointKey`` and ``NetworkSetKey`` and adds each one's CIDRs). So on
an ingress rule, ``destination: {selector: X}`` matches the subject pod when its own address is in
X's IP set: when it carries X's labels, *or* when a network set X picks holds its address.

With a positive selector, felix folds ``notSelector`` into it by labels, ``(N) && !(X)``, rather
than subtracting X's IP set (``felix/calc/rule_scanner.go`` ``combineMatchesIfPossible``; test
"positive selectors should be combined with negative ones" in ``rule_scanner_test.go``); only a
side with no positive selector (a GlobalNetworkPolicy side with only ``notSelector``) matches
"every address not in X's IP set".

Each case is checked three ways: the converter's output is proven EQUIVALENT by the verifier (or
refused with a diagnostic), and the verifier's reading of the Calico side gives the verdict
Calico's rendering gives on a concrete flow.
"""

from __future__ import annotations

import ipaddress

import pytest

from calico2cilium.convert import convert
from calico2cilium.diagnostics import Severity
from calico2cilium.io.yamlstream import read_documents
from calico2cilium.semantics.calico import read_calico_side
from calico2cilium.semantics.world import TCP, Assumptions, Endpoint, Flow
from calico2cilium.verify.api import verify
from helpers import verify_explained

PODS, NODES = ("10.244.0.0/16",), ("192.168.0.0/24",)
ASSUMPTIONS = Assumptions(pod_cidrs=PODS, node_cidrs=NODES)


def _doc(kind: str, name: str, spec: str, namespace: str | None = None, labels: str = "") -> str:
    meta = f"name: {name}" + (f", namespace: {namespace}" if namespace else "") + labels
    return f"apiVersion: projectcalico.org/v3\nkind: {kind}\nmetadata: {{{meta}}}\nspec:\n{spec}\n---\n"


GNS_10_8 = _doc("GlobalNetworkSet", "big", "  nets: [10.0.0.0/8]")

CASES = {
    # Calico denies all ingress to dev pods: their addresses are in the GlobalNetworkSet that
    # `namespaceSelector: global()` picks (the reproduction allowed everything).
    "deny-global-set-covers-pods": _doc(
        "NetworkPolicy",
        "p",
        "  selector: all()\n  ingress:\n  - {action: Deny, destination: {namespaceSelector: global()}}\n"
        "  - {action: Allow}",
        "dev",
    )
    + GNS_10_8,
    # The unlabelled set matches `!has(env)` and holds every pod address: every pod's egress is
    # allowed, those with `env` too (the reproduction denied them).
    "egress-source-selector-via-set": _doc(
        "GlobalNetworkPolicy", "p", "  egress:\n  - {action: Allow, source: {selector: '!has(env)'}}"
    )
    + _doc("GlobalNetworkSet", "pods", "  nets: [10.244.0.0/16]"),
    # A namespaced NetworkSet in the policy's namespace, labelled role=a, holds every pod address.
    "ingress-destination-selector-via-namespaced-set": _doc(
        "NetworkPolicy", "p", "  ingress:\n  - {action: Allow, destination: {selector: role == 'a'}}", "dev"
    )
    + _doc("NetworkSet", "pods", "  nets: [10.244.0.0/16]", "dev", ", labels: {role: a}"),
    # A positive selector with notSelector: the labels are combined, (N) && !(X): the set of
    # partners (labelled kind=partner, no blocked label) is matched whole, though a global set
    # labelled blocked=true holds half of it.
    "not-selector-combined-by-labels": _doc(
        "NetworkPolicy",
        "p",
        "  selector: app == 'checkout'\n  ingress:\n  - action: Allow\n    protocol: TCP\n"
        "    source: {selector: kind == 'partner', notSelector: blocked == 'true'}",
        "shop",
    )
    + _doc("NetworkSet", "partners", "  nets: [198.51.100.0/24]", "shop", ", labels: {kind: partner}")
    + _doc(
        "GlobalNetworkSet", "blocked", "  nets: [198.51.100.128/25]", labels=", labels: {blocked: 'true'}"
    ),
    # The local side's notSelector with a positive selector (the namespace clause of a
    # NetworkPolicy): a set labelled bad=yes holding the pods' addresses takes nothing away.
    "local-not-selector-combined-by-labels": _doc(
        "NetworkPolicy",
        "p",
        "  ingress:\n  - {action: Allow, destination: {notSelector: bad == 'yes'}}",
        "dev",
    )
    + _doc("GlobalNetworkSet", "bad", "  nets: [10.244.0.0/16]", labels=", labels: {bad: 'yes'}"),
    # A GlobalNetworkPolicy side with only notSelector: every address not in X's IP set, so the
    # set labelled bad=yes holding all pod addresses leaves the rule matching no pod.
    "local-unscoped-not-selector-takes-set-addresses": _doc(
        "GlobalNetworkPolicy",
        "p",
        "  ingress:\n  - {action: Deny, destination: {notSelector: bad == 'yes'}}\n  - {action: Allow}",
    )
    + _doc("GlobalNetworkSet", "bad", "  nets: [10.244.0.0/16]", labels=", labels: {bad: 'yes'}"),
    # A named port on the local side resolves to the ports the pods picked by the selector's
    # labels declare (named-port IP sets are filtered by the selector; network sets declare no
    # ports): the unlabelled set holding every pod address adds the numeric port 53 for app=a
    # pods, never their `http` (found by the random differential test: the output allowed it).
    "local-named-port-by-labels-only": _doc(
        "GlobalNetworkPolicy",
        "p",
        "  namespaceSelector: projectcalico.org/name == 'ns1'\n  ingress:\n"
        "  - {action: Allow, protocol: TCP, source: {nets: [192.0.2.0/24]}, destination: {ports: [80]}}\n"
        "  - action: Allow\n    protocol: TCP\n    source: {nets: [192.0.2.0/24]}\n"
        "    destination: {selector: \"!(app == 'a')\", ports: [http, 53]}",
    )
    + _doc("GlobalNetworkSet", "pods", "  nets: [10.244.0.0/16]"),
    # The same for a named port in notPorts of a Deny: an app=a pod, matched by address only,
    # keeps its `http` port denied with the rest (Calico takes out only declared ports of the
    # pods the selector picks by labels).
    "local-named-not-port-by-labels-only": _doc(
        "GlobalNetworkPolicy",
        "p",
        "  namespaceSelector: projectcalico.org/name == 'ns1'\n  ingress:\n"
        "  - action: Deny\n    protocol: TCP\n"
        "    destination: {selector: \"!(app == 'a')\", notPorts: [http]}\n"
        "  - {action: Allow, protocol: TCP}",
    )
    + _doc("GlobalNetworkSet", "pods", "  nets: [10.244.0.0/16]"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_conversion_is_proven(name: str) -> None:
    result = convert(text=CASES[name], name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    shadowed = ("C2C351", "C2C352")  # a rule that decides nothing (the Allow after a Deny of all)
    problems = [
        str(d)
        for d in result.diagnostics
        if d.severity in (Severity.ERROR, Severity.WARNING) and d.code not in shadowed
    ]
    assert problems == []
    proof = verify(result.loaded, result.documents, ASSUMPTIONS)
    assert proof.status == "equivalent", proof.render_text()


def test_a_set_covering_part_of_the_pod_range_on_the_local_side_is_refused() -> None:
    # 10.244.5.0/24 holds some pod addresses, not all: which pods the rule applies to depends on
    # their addresses, which Cilium cannot say. Refused with a diagnostic, never silently dropped.
    text = _doc(
        "NetworkPolicy",
        "p",
        "  ingress:\n  - {action: Allow, destination: {namespaceSelector: global(), selector: role == 'a'}}",
        "dev",
    ) + _doc("GlobalNetworkSet", "part", "  nets: [10.244.5.0/24]", labels=", labels: {role: a}")
    result = convert(text=text, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    codes = {d.code for d in result.diagnostics if d.severity in (Severity.ERROR, Severity.WARNING)}
    assert codes, "a partly covered pod range must be diagnosed"
    assert all(d.narrowing for d in result.diagnostics if d.code in codes)
    proof = verify_explained(result, ASSUMPTIONS)
    assert proof.status == "narrowed", proof.render_text()  # only ever denies more than Calico


def _calico_allows(text: str, subject: Endpoint, peer: Endpoint, direction: str = "ingress") -> bool:
    side = read_calico_side(read_documents(text, "c.yaml")[0], ASSUMPTIONS)
    program = side.programs[direction]  # type: ignore[index]
    flow = Flow(direction, subject, peer, TCP, 80, 1234, 0, 0, namespaces={})  # type: ignore[arg-type]
    return program.decide(flow).allowed


def _pod(ns: str, ip: str, **labels: str) -> Endpoint:
    return Endpoint("pod", ipaddress.ip_address(ip), namespace=ns, labels=labels, service_account="default")


def test_verifier_reads_the_local_side_by_address() -> None:
    world = Endpoint("world", ipaddress.ip_address("203.0.113.9"))
    deny = CASES["deny-global-set-covers-pods"]
    assert not _calico_allows(deny, _pod("dev", "10.244.1.1"), world)
    egress = CASES["egress-source-selector-via-set"]
    assert _calico_allows(egress, _pod("ns", "10.244.1.1", env="prod"), world, "egress")


def test_verifier_combines_not_selector_with_a_positive_selector_by_labels() -> None:
    text = CASES["not-selector-combined-by-labels"]
    checkout = _pod("shop", "10.244.1.1", app="checkout")
    blocked = Endpoint("world", ipaddress.ip_address("198.51.100.200"))  # in both sets
    assert _calico_allows(text, checkout, blocked)
    local = CASES["local-not-selector-combined-by-labels"]
    assert _calico_allows(local, _pod("dev", "10.244.1.1"), blocked)
    assert not _calico_allows(local, _pod("dev", "10.244.1.1", bad="yes"), blocked)
    unscoped = CASES["local-unscoped-not-selector-takes-set-addresses"]
    assert _calico_allows(unscoped, _pod("dev", "10.244.1.1"), blocked)
