"""Kubernetes NetworkPolicy as Cilium enforces it (cilium ``pkg/k8s/network_policy.go``,
``ParseNetworkPolicy``), expressed in the Cilium rule model read by ``cilium_read``.

Decision on docs/reference/semantics-check.md E11: we judge against what Cilium *enforces*. Cilium translates every
``ingress``/``egress`` rule whatever ``policyTypes`` says (each non-empty list also turning default
deny on), and adds an empty rule (default deny) for a listed type without rules. Calico honours
``policyTypes``. A policy whose types omit a direction that has rules therefore behaves differently
on the two dataplanes, and the verifier reports it: that is a real change of enforced traffic.
"""

from __future__ import annotations

from calico2cilium.semantics.cilium_read import (
    CidrRule,
    PeerRule,
    PortProtocol,
    PortRule,
    Requirement,
    RuleSpec,
    Selector,
)
from calico2cilium.semantics.knp import Knp, KnpPeer, KnpRule
from calico2cilium.semantics.views import CILIUM_NAMESPACE, CILIUM_NS_LABELS
from calico2cilium.semantics.world import Assumptions


def _prefixed(selector: Selector | None, prefix: str) -> Selector:
    if selector is None:
        return Selector()
    return Selector(
        tuple((f"{prefix}{k}", v) for k, v in selector.match_labels),
        tuple(Requirement(f"{prefix}{r.key}", r.operator, r.values) for r in selector.match_expressions),
    )


def _peer_selector(peer: KnpPeer, namespace: str) -> Selector:
    """``parseNetworkPolicyPeer``: namespace-selector keys become namespace-label keys (an empty
    namespace selector: the pod-namespace label exists), ANDed with the pod selector; a pod selector
    alone is pinned to the policy's namespace. All keys get the ``k8s:`` source."""
    pods = _prefixed(peer.pod_selector, "k8s:")
    if peer.namespace_selector is not None:
        nss = _prefixed(peer.namespace_selector, f"k8s:{CILIUM_NS_LABELS}")
        if not nss.match_labels and not nss.match_expressions:
            nss = Selector((), (Requirement(f"k8s:{CILIUM_NAMESPACE}", "Exists"),))
        return Selector(nss.match_labels + pods.match_labels, nss.match_expressions + pods.match_expressions)
    pinned = tuple((k, v) for k, v in pods.match_labels if k != f"k8s:{CILIUM_NAMESPACE}")
    return Selector((*pinned, (f"k8s:{CILIUM_NAMESPACE}", namespace)), pods.match_expressions)


def _ports(rule: KnpRule, assumptions: Assumptions) -> list[PortRule] | None:
    """``parsePorts``: protocol defaults to TCP, a missing port is "0" (all); ``endPort`` is honoured
    from Cilium 1.16 (earlier versions keep the single port)."""
    if not rule.ports:
        return None
    out = []
    for i, port in enumerate(rule.ports):
        end = port.end_port if assumptions.target.end_port else None
        text = port.port if port.port is not None else "0"
        out.append(
            PortRule((PortProtocol(text.lower(), end, port.protocol),), False, (*rule.path, "ports", i))
        )
    return out


def _direction_rules(rules: tuple[KnpRule, ...], namespace: str, assumptions: Assumptions) -> list[PeerRule]:
    out: list[PeerRule] = []
    for rule in rules:
        ports = _ports(rule, assumptions)
        if not rule.peers:
            out.append(PeerRule(rule.path, to_ports=ports, inject_namespace=False, wildcard_endpoints=True))
            continue
        for peer in rule.peers:
            item = PeerRule(peer.path, to_ports=ports, inject_namespace=False)
            if peer.cidr is not None:
                item.cidr_set = [CidrRule(cidr=peer.cidr, excepts=peer.excepts)]
            else:
                item.endpoints = [_peer_selector(peer, namespace)]
            out.append(item)
    return out


def knp_to_spec(knp: Knp, assumptions: Assumptions) -> RuleSpec:
    ingress = _direction_rules(knp.ingress, knp.namespace, assumptions)
    egress = _direction_rules(knp.egress, knp.namespace, assumptions)
    if not ingress and ("Ingress" in knp.policy_types or "Egress" not in knp.policy_types):
        ingress = [PeerRule(("spec",), inject_namespace=False)]
    if not egress and "Egress" in knp.policy_types:
        egress = [PeerRule(("spec",), inject_namespace=False)]
    subject = _prefixed(knp.pod_selector, "k8s:")
    subject = Selector(
        (
            *((k, v) for k, v in subject.match_labels if k != f"k8s:{CILIUM_NAMESPACE}"),
            (f"k8s:{CILIUM_NAMESPACE}", knp.namespace),
        ),
        subject.match_expressions,
    )
    return RuleSpec(
        ("spec",),
        subject,
        None,
        {"ingress": ingress, "ingressDeny": None, "egress": egress, "egressDeny": None},
        {"ingress": None, "egress": None},
        inject_namespace=False,
    )
