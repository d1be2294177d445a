"""An Allow narrowed by the end of an earlier tier keeps its wide form only where Calico denies
all of ``wide - cubes`` (compile/structure.py ``_narrowed``; the emitter allows ``wide`` and denies
the rest). review8 found an earlier tier's Allow inside that rest."""

from __future__ import annotations

import pytest

from calico2cilium.convert import convert
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify

EARLIER_TIER_ALLOW = """
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: t0}
spec: {order: 100, defaultAction: Deny}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: t0.p1}
spec:
  tier: t0
  order: 30
  selector: app == 'db'
  ingress:
    - {action: Pass, notProtocol: TCP}
    - {action: Allow, source: {selector: team == 'x', namespaceSelector: all()}}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: p3}
spec:
  order: 30
  selector: all()
  ingress:
    - {action: Allow}
"""


PROFILE_AFTER_A_TIER = """
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: t0}
spec: {order: 100, defaultAction: Deny}
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: t2}
spec: {order: 120, defaultAction: Pass}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: t2.p0}
spec:
  tier: t2
  order: 20
  selector: all()
  ingress:
    - {action: Pass}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: t0.p2}
spec:
  tier: t0
  order: 10
  selector: role == 'api'
  ingress:
    - {action: Allow, source: {notSelector: team == 'x'}}
    - {action: Pass, notProtocol: TCP}
"""


@pytest.mark.parametrize("text", [EARLIER_TIER_ALLOW, PROFILE_AFTER_A_TIER], ids=["allow", "profile-piece"])
def test_a_wide_form_never_denies_what_an_earlier_tier_allows(text: str) -> None:
    pods, nodes = ["10.244.0.0/16"], ["10.0.0.0/24"]
    result = convert(
        text=EARLIER_TIER_ALLOW, name="in.yaml", pod_cidrs=pods, node_cidrs=nodes, cilium_version="1.16"
    )
    narrowing = any(d.narrowing for d in result.diagnostics)
    assumptions = Assumptions(pod_cidrs=pods, node_cidrs=nodes, cilium_version=(1, 16))
    proof = verify(result.loaded, result.documents, assumptions, narrowing=narrowing)
    assert proof.status in (("narrowed", "equivalent") if narrowing else ("equivalent",)), proof.render_text()
