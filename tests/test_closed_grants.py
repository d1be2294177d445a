"""Allows with no Cilium form of their own, written wider with a deny of what Calico denies
(``compile/plan.py`` ``closed_form``, ``Grant.closed``): ICMP type sets holding type 0
(cilium/cilium#41304: Cilium matches type 0 as every type of its family) and sets of protocols
Cilium cannot name; else left out (C2C310). Fixture trap-icmp-type0-wildcard is the first case."""

from __future__ import annotations

from typing import Any

from calico2cilium.convert import convert
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify

PODS, NODES = ("10.244.0.0/16",), ("10.0.0.0/24",)
RULE = """apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: no-redirects, namespace: shop}
spec:
  order: 100
  selector: app == 'web'
  ingress:
    - action: Allow
      protocol: ICMP
      notICMP: {type: 5}
      source: {selector: app == 'probe'}
"""
LATER_ALLOW = """---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: redirects, namespace: shop}
spec:
  order: 200
  selector: app == 'web'
  ingress:
    - action: Allow
      protocol: ICMP
      icmp: {type: 5}
"""


def _denies(documents: list[dict[str, Any]]) -> list[Any]:
    return [rule for d in documents for s in d.get("specs") or [] for rule in s.get("ingressDeny") or []]


def test_missing_types_that_calico_denies_are_denied() -> None:
    result = convert(text=RULE, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    assert not [d for d in result.diagnostics if d.code == "C2C310"]
    (deny,) = _denies(result.documents)
    assert deny["icmps"] == [{"fields": [{"type": 5}]}]  # family IPv4 is Cilium's default
    proof = verify(result.loaded, result.documents, Assumptions(pod_cidrs=PODS, node_cidrs=NODES))
    assert proof.status == "equivalent"


def test_what_calico_allows_of_the_widening_is_not_denied() -> None:
    # A later policy allows type 5 from everyone: the widened allow is written and nothing is
    # denied (Calico allows all that the widening adds).
    result = convert(text=RULE + LATER_ALLOW, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    assert not [d for d in result.diagnostics if d.code == "C2C310"]
    assert _denies(result.documents) == []
    proof = verify(result.loaded, result.documents, Assumptions(pod_cidrs=PODS, node_cidrs=NODES))
    assert proof.status == "equivalent"


def test_left_out_when_the_denied_part_has_no_form() -> None:
    # UDPLite alone: the widening is every protocol, and Calico denies the rest from the probe
    # pods, GRE and the like included, which no Cilium deny names either: left out (C2C310).
    text = RULE.replace("protocol: ICMP\n      notICMP: {type: 5}\n", "protocol: UDPLite\n")
    result = convert(text=text, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    assert [d for d in result.diagnostics if d.code == "C2C310"]
    assert _denies(result.documents) == []


def test_unnamed_protocols_become_every_protocol_less_what_calico_denies() -> None:
    # notProtocol TCP: every protocol but TCP, which no Cilium allow names (GRE, ESP, ... have no
    # form but "every protocol"); Calico denies TCP from the probe pods (end of tier), so the rule
    # is every protocol allowed and TCP denied.
    text = RULE.replace("protocol: ICMP\n      notICMP: {type: 5}\n", "notProtocol: TCP\n")
    result = convert(text=text, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    assert not [d for d in result.diagnostics if d.code == "C2C310"]
    (deny,) = _denies(result.documents)
    assert deny["toPorts"] == [{"ports": [{"port": "0", "protocol": "TCP"}]}]
    proof = verify(result.loaded, result.documents, Assumptions(pod_cidrs=PODS, node_cidrs=NODES))
    assert proof.status == "equivalent"
