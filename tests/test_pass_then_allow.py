"""An Allow after a Pass of its tier loses what the Pass sends on only where a later tier selects
the subject (compile/structure.py ``Walk.sent_on``; design note "Allows"): what no later tier
selects goes to the namespace profile, which allows a pod everything, so the Allow may keep it.
Where a later tier does select the subject, that tier may drop the passed flows at its end, and
the Allow must lose them: the cases below fail if it does not (checked once against a version
that never subtracts the Pass). The verifier is the judge."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import event, given, seed, settings
from hypothesis import strategies as st

from calico2cilium.convert import convert
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify
from calico_strategies import CILIUM_VERSIONS, CLUSTERS, NAMESPACES, Scenario, calico_specs
from test_convert_differential import check_scenario

PODS, NODES = ["10.244.0.0/16"], ["10.0.0.0/24"]

PLATFORM_TIER = """
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: platform}
spec: {order: 100}
---
"""

LATER_TIER_DROPS = (
    PLATFORM_TIER
    + """apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: platform.web}
spec:
  tier: platform
  order: 10
  selector: app == 'web'
  ingress:
    - {action: Pass, protocol: TCP}
    - {action: Allow}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: dns-only, namespace: shop}
spec:
  selector: app == 'web'
  ingress:
    - {action: Allow, protocol: UDP, destination: {ports: [53]}}
"""
)
"""TCP to a web pod of shop is passed on to the default tier, which selects the pod and drops it
at its end: the Allow must not allow it there (elsewhere the profile allows it)."""

NO_LATER_TIER = """
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: hand-on}
spec:
  order: 10
  selector: has(app)
  types: [Egress]
  egress:
    - action: Pass
      protocol: ICMP
      destination: {selector: role == 'probe'}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  order: 20
  selector: app == 'web'
  types: [Egress]
  egress:
    - action: Allow
      protocol: ICMP
      icmp: {type: 3}
    - action: Allow
      protocol: TCP
      destination: {ports: [443]}
"""
"""A default-tier Pass of ICMP to probes: no tier after default, so the profile allows what it
sends on, and the later ICMP Allow stays as written (it lost the probes: a peer fragment)."""

WIDE_FORM_WITH_A_LATER_TIER = (
    PLATFORM_TIER
    + """apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: platform.p1, namespace: ns1}
spec:
  tier: platform
  types: [Egress]
  egress:
    - {action: Pass, protocol: ICMP, icmp: {type: 3}}
    - {action: Allow, destination: {serviceAccounts: {names: [sa1]}}}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: later}
spec:
  selector: all()
  types: [Egress]
  egress:
    - {action: Allow, protocol: TCP}
"""
)
"""fixtures/structure-pass-before-icmp-widened-allow with a later tier selecting the pods: the
Allow loses the ICMP type 3 the Pass sends on (the default tier drops it at its end), so its
ICMP part holds type 0 and needs the wide form, which must not deny what the Pass sent on."""


def _proven(text: str) -> Any:
    result = convert(text=text, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    proof = verify(result.loaded, result.documents, Assumptions(pod_cidrs=PODS, node_cidrs=NODES))
    assert proof.status == "equivalent", proof.render_text()
    return result


def _descriptions(result: Any) -> list[str]:
    return [s.get("description", "") for d in result.documents for s in d.get("specs", [])]


def test_a_pass_a_later_tier_decides_still_narrows_the_allow() -> None:
    result = _proven(LATER_TIER_DROPS)
    assert any(
        t.startswith("platform.web ingress[1] Allow (narrowed by earlier rules platform.web ingress[0] Pass")
        for t in _descriptions(result)
    ), _descriptions(result)


def test_an_allow_after_a_pass_to_the_profile_stays_as_written() -> None:
    result = _proven(NO_LATER_TIER)
    descriptions = _descriptions(result)
    assert any(t.startswith("web egress[0] Allow") for t in descriptions), descriptions
    assert not any("narrowed" in t for t in descriptions), descriptions


def test_the_wide_form_keeps_what_the_pass_sends_on_to_a_later_tier() -> None:
    descriptions = _descriptions(_proven(WIDE_FORM_WITH_A_LATER_TIER))
    assert any(
        "platform.p1 egress[1] Allow (narrowed by earlier rules platform.p1 egress[0] Pass" in t
        for t in descriptions
    )


@st.composite
def _small_rule(draw: st.DrawFn, action: str, side: str) -> dict[str, Any]:
    """A rule over a few criteria that overlap often (the differential test's ``rules`` draws
    nets, ICMP, service accounts ...: rarely the overlap a Pass, an Allow and a later tier need)."""
    rule: dict[str, Any] = {"action": action}
    protocol = draw(st.sampled_from([None, "TCP", "TCP", "UDP"]))
    if protocol is not None:
        rule["protocol"] = protocol
        if draw(st.booleans()):
            rule["destination"] = {"ports": [draw(st.sampled_from([53, 80, 443]))]}
    if draw(st.booleans()):
        rule.setdefault(side, {})["selector"] = draw(
            st.sampled_from(["app == 'a'", "role == 'b'", "has(app)"])
        )
    return rule


@st.composite
def pass_then_allow(draw: st.DrawFn) -> Scenario:
    """A policy whose rules start with a Pass then an Allow, in tier ``t1`` or ``default``; a
    policy of the tier after it (``default``, or ``t9`` after default) that selects the same pods
    or not, with at most one rule; and 0-2 policies of the differential test's kind anywhere."""
    pods, nodes = draw(st.sampled_from(CLUSTERS))
    tier = draw(st.sampled_from(["t1", "default"]))
    later = "default" if tier == "t1" else "t9"
    docs: list[dict[str, Any]] = []
    for name, order in (("t1", 100), ("t9", 2_000_000)):
        spec: dict[str, Any] = {"order": order}
        action = draw(st.sampled_from([None, "Deny", "Pass"]))
        if action is not None:
            spec["defaultAction"] = action
        tier_doc = {"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": name}}
        docs.append({**tier_doc, "spec": spec})

    def policy(name: str, place: str, spec: dict[str, Any], global_: bool, namespace: str) -> None:
        metadata = {"name": name if place == "default" else f"{place}.{name}"}
        if place != "default":
            spec["tier"] = place
        if not global_:
            metadata["namespace"] = namespace
        kind = "GlobalNetworkPolicy" if global_ else "NetworkPolicy"
        docs.append({"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": metadata, "spec": spec})

    side = draw(st.sampled_from(["source", "destination"]))
    direction = "ingress" if side == "source" else "egress"
    types = [direction.capitalize()]
    global_, namespace = draw(st.booleans()), draw(st.sampled_from(NAMESPACES))
    selector = draw(st.sampled_from(["all()", "app == 'a'", "has(role)"]))
    passing = draw(_small_rule("Pass", side))
    extra = draw(st.lists(_small_rule(draw(st.sampled_from(["Allow", "Deny"])), side), max_size=1))
    allowing = draw(_small_rule("Allow", side))
    rules_ = [passing, *extra, allowing] if draw(st.booleans()) else [passing, allowing, *extra]
    policy(
        "p0", tier, {"order": 10, "selector": selector, "types": types, direction: rules_}, global_, namespace
    )
    if draw(st.integers(0, 3)):  # the same pods, or others
        other = selector if draw(st.booleans()) else draw(st.sampled_from(["all()", "role == 'b'"]))
        later_rules = draw(st.lists(_small_rule("Allow", side), max_size=1))
        later_spec = {"selector": other, "types": types, direction: later_rules}
        policy("p1", later, later_spec, global_ and draw(st.booleans()), namespace)
    for i in range(draw(st.integers(0, 2))):
        place = draw(st.sampled_from([tier, later, "t1"]))
        global_ = draw(st.booleans())
        spec = draw(calico_specs(global_, None, draw(st.sampled_from([None, 5, 20]))))
        policy(f"q{i}", place, spec, global_, draw(st.sampled_from(NAMESPACES)))
    return Scenario(docs, pods, nodes, draw(st.sampled_from(CILIUM_VERSIONS)))


EXAMPLES = int(os.environ.get("C2C_DIFFTEST_EXAMPLES", "40"))
SEED = int(os.environ.get("C2C_DIFFTEST_SEED", "1"))


@seed(SEED + 13)
@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(pass_then_allow())
def test_random_allows_after_a_pass_are_proven(scenario: Scenario) -> None:
    event(check_scenario(scenario))
