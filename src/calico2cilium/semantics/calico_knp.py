"""Kubernetes NetworkPolicy as Calico enforces it (calico ``libcalico-go/lib/backend/k8s/conversion/
conversion.go``, ``K8sNetworkPolicyToCalico``; docs/reference/semantics.md §1.2, docs/reference/semantics-check.md claim 11).

A namespaced policy ``knp.default.<name>`` at order 1000 in the default tier; its selector and every
pod-selector peer get ``projectcalico.org/orchestrator == 'k8s'``; an empty namespace selector is
``all()``; ``ipBlock`` becomes ``nets``/``notNets`` with no selector (so it matches pod IPs too);
ports default to TCP, ``endPort`` makes a range; all rules Allow; ``policyTypes`` is honoured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from calico2cilium.calico.selector import All, Eq, Has, In, Selector, conjoin, negate
from calico2cilium.semantics.calico_rules import Part
from calico2cilium.semantics.cilium_read import Selector as LabelSelector
from calico2cilium.semantics.knp import Knp, KnpPeer, KnpRule
from calico2cilium.semantics.program import Located

if TYPE_CHECKING:
    from calico2cilium.semantics.calico import PolicyInput

ORCHESTRATOR = Eq("projectcalico.org/orchestrator", "k8s")


def _selector(selector: LabelSelector | None, *, pods: bool) -> Selector:
    """``k8sSelectorToCalico``: matchLabels ``==``, In/NotIn/Exists/DoesNotExist."""
    terms: list[Selector] = [ORCHESTRATOR] if pods else []
    if selector is None:
        return conjoin(terms)
    if not pods and not selector.match_labels and not selector.match_expressions:
        return All()
    terms.extend(Eq(k, v) for k, v in sorted(selector.match_labels))
    for req in selector.match_expressions:
        if req.operator == "In":
            terms.append(In(req.key, frozenset(req.values)))
        elif req.operator == "NotIn":
            terms.append(negate(In(req.key, frozenset(req.values))))
        elif req.operator == "Exists":
            terms.append(Has(req.key))
        else:
            terms.append(negate(Has(req.key)))
    return conjoin(terms)


def _peer(peer: KnpPeer | None) -> dict[str, Any]:
    if peer is None:
        return {}
    if peer.cidr is not None:
        return {"nets": [peer.cidr], "notNets": list(peer.excepts)}
    out: dict[str, Any] = {"selector": _selector(peer.pod_selector, pods=True)}
    if peer.namespace_selector is not None:
        out["namespaceSelector"] = _selector(peer.namespace_selector, pods=False)
    return out


def _rules(rules: tuple[KnpRule, ...], ingress: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rule in rules:
        peers: list[KnpPeer | None] = list(rule.peers) if rule.peers else [None]
        ports = list(rule.ports) if rule.ports else [None]
        for port in ports:
            protocol = None if port is None else port.protocol
            numbers: list[Any] = []
            if port is not None and port.port is not None:
                numbers = [f"{port.port}:{port.end_port}" if port.end_port is not None else port.port]
            for peer in peers:
                entity = _peer(peer)
                other: dict[str, Any] = {"ports": numbers} if numbers else {}
                if not ingress:
                    entity, other = {**entity, **other}, {}
                item: dict[str, Any] = {
                    "action": "Allow",
                    "source": entity if ingress else {},
                    "destination": other if ingress else entity,
                }
                if protocol is not None:
                    item["protocol"] = protocol
                item["_path"] = rule.path
                out.append(item)
    return out


def knp_to_calico(knp: Knp, doc: Located, order: float) -> PolicyInput:
    from calico2cilium.semantics.calico import PolicyInput

    return PolicyInput(
        kind="KubernetesNetworkPolicy",
        name=f"knp.default.{knp.name}",
        namespace=knp.namespace,
        tier="default",
        order=order,
        subject=(
            Part(_selector(knp.pod_selector, pods=True)),
            Part(Eq("projectcalico.org/namespace", knp.namespace)),
        ),
        types=knp.policy_types,
        ingress=_rules(knp.ingress, True),
        egress=_rules(knp.egress, False),
        doc=doc,
    )
