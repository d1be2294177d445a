"""Converter against verifier on generated host configurations (seeded): a wildcard HostEndpoint,
with or without the default-allow profile, and GlobalNetworkPolicies in one or two tiers with
Allow/Deny/Pass rules on nets, selectors, protocols and ports, in both directions.

The verifier (semantics/hosts.py) shares no code with the compiler (compile/hosts.py). Every
conversion without a diagnosed change must be proven equivalent. The one change the converter
always makes on governed host egress, host -> own pods (C2C324), is taken out of the comparison
with ``calico_host_to_own_pods_allowed=False``, so that it cannot hide another difference; with
the assumption on, that flow must be the difference found. Its ingress twin, own pods -> host
(C2C343: Calico never applies the host endpoint's ingress policy to them), likewise with
``calico_hep_polices_own_pods=True``."""

from __future__ import annotations

import random
from typing import Any

import pytest
import yaml

from calico2cilium.convert import convert
from calico2cilium.semantics.world import Assumptions, node_labels
from calico2cilium.verify.api import verify
from helpers import verify_explained

pytestmark = pytest.mark.slow  # not in make quick (tests/conftest.py)

PODS, NODES = ("10.244.0.0/16",), ("10.0.0.0/24",)
LABELS = node_labels({"n1": {"calico2cilium.io/node": "n1"}})
PEERS: list[dict[str, Any]] = [
    {"nets": ["198.51.100.0/24"]},
    {"nets": ["10.0.0.0/24"]},
    {"nets": ["10.244.0.0/16"]},
    {"notNets": ["203.0.113.0/24"]},
    {"selector": "app == 'x'"},
    # Peers that pick (or leave out) host endpoints: the rule fails closed around their addresses
    # (compile/hostpeers.py), the second endpoint's being outside the node range.
    {"selector": "has(team)"},
    {"notSelector": "has(team)"},
]
CHANGED = {"C2C303", "C2C310", "C2C312", "C2C325", "C2C326", "C2C327"}
"""Codes that say the conversion changed something other than host -> own pods."""


def _rule(r: random.Random, peer_side: str) -> dict[str, Any]:
    out: dict[str, Any] = {"action": r.choice(["Allow", "Allow", "Deny", "Pass"])}
    if r.random() < 0.6:
        out["protocol"] = r.choice(["TCP", "UDP", "ICMP"])
        if out["protocol"] != "ICMP" and r.random() < 0.7:
            out["destination"] = {"ports": r.sample([22, 53, 443, 9091, "8000:8100", 6443], r.randint(1, 2))}
    if r.random() < 0.5:
        out[peer_side] = {**out.get(peer_side, {}), **r.choice(PEERS)}
    return out


def _case(seed: int, subject: str = "role == 'w' && !has(projectcalico.org/namespace)") -> str:
    r = random.Random(seed)
    spec: dict[str, Any] = {"node": "n1", "interfaceName": "*", "expectedIPs": ["10.0.0.11"]}
    if r.random() < 0.4:
        spec["profiles"] = ["projectcalico-default-allow"]
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": "HostEndpoint",
            "metadata": {"name": "h1", "labels": {"role": "w"}},
            "spec": spec,
        },
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": "HostEndpoint",
            "metadata": {"name": "h2", "labels": {"team": "ops"}},
            "spec": {
                "node": "n2",
                "interfaceName": "*",
                "expectedIPs": ["10.0.0.12", "192.0.2.7"],
                "profiles": ["projectcalico-default-allow"],
            },
        },
    ]
    tiers = ["default"]
    if r.random() < 0.4:
        action = r.choice(["Deny", "Pass"])
        docs.append(
            {
                "apiVersion": "projectcalico.org/v3",
                "kind": "Tier",
                "metadata": {"name": "sec"},
                "spec": {"order": 100, "defaultAction": action},
            }
        )
        tiers.append("sec")
    for i in range(r.randint(1, 3)):
        types = r.choice([["Ingress"], ["Egress"], ["Ingress", "Egress"]])
        policy: dict[str, Any] = {
            "selector": subject,
            "order": 10 * (i + 1),
            "types": types,
        }
        tier = r.choice(tiers)
        if tier != "default":
            policy["tier"] = tier
        if "Ingress" in types:
            policy["ingress"] = [_rule(r, "source") for _ in range(r.randint(0, 3))]
        if "Egress" in types:
            policy["egress"] = [_rule(r, "destination") for _ in range(r.randint(0, 3))]
        docs.append(
            {
                "apiVersion": "projectcalico.org/v3",
                "kind": "GlobalNetworkPolicy",
                "metadata": {"name": f"p{i}"},
                "spec": policy,
            }
        )
    return yaml.safe_dump_all(docs, sort_keys=False)


@pytest.mark.parametrize("seed", range(60))
def test_host_conversion_is_proven_unless_a_diagnostic_says_what_changed(seed: int) -> None:
    text = _case(seed)
    result = convert(text=text, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    codes = {d.code for d in result.diagnostics}
    assumptions = Assumptions(
        pod_cidrs=PODS,
        node_cidrs=NODES,
        node_labels=LABELS,
        calico_host_to_own_pods_allowed=False,
        calico_hep_polices_own_pods=True,
    )
    proof = verify(result.loaded, result.documents, assumptions)
    if not codes & CHANGED:
        assert proof.status == "equivalent", text + proof.render_text()
    elif all(d.narrowing for d in result.diagnostics if d.code in CHANGED):
        # Every change fails closed (issue 15): Cilium never allows what Calico denies.
        closed = verify_explained(result, assumptions)
        assert closed.status in ("equivalent", "narrowed"), text + closed.render_text()
    if not codes & {"C2C324", "C2C343"}:
        return
    # With Calico's host <-> own pods rules on, those are the differences wherever C2C324 (egress)
    # or C2C343 (ingress) is reported (unless the converted rules happen to allow every pod anyway).
    real = verify(
        result.loaded,
        result.documents,
        Assumptions(pod_cidrs=PODS, node_cidrs=NODES, node_labels=LABELS),
        max_examples=5,
    )
    for example in real.counterexamples:
        if example.flow.subject.kind != "host" or codes & CHANGED:
            continue
        code = "C2C324" if example.flow.direction == "egress" else "C2C343"
        assert code in codes, example.describe()
        assert example.flow.peer.kind == "pod" and example.calico.allowed, example.describe()
        assert example.flow.peer.node == example.flow.subject.name, example.describe()


@pytest.mark.parametrize("seed", range(30))
def test_pod_rules_whose_peers_pick_host_endpoints_fail_closed(seed: int) -> None:
    # The same rules on pod subjects (compile/plan.py): a peer picking, or a notSelector leaving
    # out, host endpoints h1 and h2 makes Cilium deny more, never allow more (issue 15).
    text = _case(seed, subject="app == 'db'").replace(
        "  selector: app == 'db'\n", "  selector: app == 'db'\n  namespaceSelector: all()\n"
    )
    result = convert(text=text, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    if any(d.code in CHANGED and not d.narrowing for d in result.diagnostics):
        return
    proof = verify(
        result.loaded,
        result.documents,
        Assumptions(pod_cidrs=PODS, node_cidrs=NODES, node_labels=LABELS),
        narrowing=True,
    )
    assert proof.status in ("equivalent", "narrowed"), text + proof.render_text()
