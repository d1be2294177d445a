"""ICMP type sets holding type 0 (cilium/cilium#41304: Cilium matches type 0 as every type of its
family): an allow of such a set is written as every type of the family allowed and the missing
types denied, when Calico denies those (``compile/plan.py`` ``icmp_closed``, ``Grant.closed``);
else it stays left out (C2C310). Fixture trap-icmp-type0-wildcard is the first case, proven."""

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
    assert deny["icmps"] == [{"fields": [{"family": "IPv4", "type": 5}]}]
    proof = verify(result.loaded, result.documents, Assumptions(pod_cidrs=PODS, node_cidrs=NODES))
    assert proof.status == "equivalent"


def test_left_out_when_calico_allows_a_missing_type() -> None:
    # A later policy allows type 5 from everyone: denying it from the probe pods would take it
    # away, so the rule's part stays left out (C2C310) and nothing is denied.
    result = convert(text=RULE + LATER_ALLOW, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    assert [d for d in result.diagnostics if d.code == "C2C310"]
    assert _denies(result.documents) == []
