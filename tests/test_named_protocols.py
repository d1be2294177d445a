"""An allow with no Cilium form keeps its flows of the protocols Cilium names (TCP/UDP/SCTP by
port, ICMP by type) and loses only the other IP protocols (``cilium/named_protocols.py``); the
verifier proves the output narrowed, every narrowed flow explained by the rule's C2C310.
Fixtures field-notprotocol-allow-named-part and field-notprotocol-allow-ipversion-icmp record two
whole outputs."""

from __future__ import annotations

from typing import Any

import pytest

from calico2cilium.cilium.failures import failure_diagnostic
from calico2cilium.cilium.named_protocols import PartlyNamed
from calico2cilium.cilium.rulekit import EmitFailure
from calico2cilium.semantics.world import Assumptions
from calico2cilium.sets import Inexpressible
from calico2cilium.sets.l4 import ICMP_PROTOCOLS, PORT_PROTOCOLS, L4Set
from calico2cilium.verify.api import verify
from helpers import convert, verify_explained

PODS, NODES = ("10.244.0.0/16",), ("10.0.0.0/24",)
NAMED = PORT_PROTOCOLS + ICMP_PROTOCOLS
POLICY = """apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: not-tcp, namespace: edge}
spec:
  order: 100
  selector: app == 'proxy'
  ingress:
    - action: Deny
      protocol: 47
    - action: Allow
      notProtocol: TCP
      source: {selector: app == 'x'}
"""


def _lost(*numbers: int) -> str:
    return PartlyNamed(Inexpressible("protocol"), L4Set.protocols(numbers)).lost_said


@pytest.mark.parametrize(
    ("lost", "said"),
    [
        (
            tuple(n for n in range(256) if n not in NAMED),
            "every IP protocol but TCP, UDP, SCTP, ICMP and ICMPv6",
        ),
        (
            tuple(n for n in range(256) if n not in (*NAMED, 47)),
            "every IP protocol but TCP, UDP, SCTP, ICMP, ICMPv6 and 47",
        ),
        ((47,), "IP protocol 47"),
        ((4, 47, 50), "IP protocols 4,47,50"),
    ],
)
def test_what_is_lost_is_said_precisely(lost: tuple[int, ...], said: str) -> None:
    assert _lost(*lost) == said


def _ingress(documents: list[dict[str, Any]]) -> list[Any]:
    return [rule for d in documents for s in d.get("specs") or [] for rule in s.get("ingress") or []]


def test_a_notprotocol_allow_keeps_what_cilium_names() -> None:
    result = convert(text=POLICY, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    (finding,) = [d for d in result.diagnostics if d.code == "C2C310"]
    assert finding.narrowing
    assert (
        "its flows of every IP protocol but TCP, UDP, SCTP, ICMP, ICMPv6 and 47 are left out"
        in finding.message
    )
    rules = _ingress(result.documents)
    assert {
        "toPorts": [{"ports": [{"port": "0", "protocol": "UDP"}, {"port": "0", "protocol": "SCTP"}]}]
    } in [{k: v for k, v in r.items() if k == "toPorts"} for r in rules]
    assert [{"fields": [{"type": 0}, {"family": "IPv6", "type": 0}]}] in [r.get("icmps") for r in rules]
    proof = verify_explained(result, Assumptions(pod_cidrs=PODS, node_cidrs=NODES))
    assert proof.status == "narrowed"
    assert proof.narrowed and not proof.unexplained
    assert all(c.flow.protocol not in NAMED for c in proof.narrowed)


def test_left_out_whole_when_the_named_part_has_no_form_either() -> None:
    # An earlier Deny of ICMP type 3 code 1: the named part holds ICMP type 3 but code 1, which
    # no Cilium rule says (no code field), and no wide form denies it with GRE: left out whole.
    text = POLICY.replace(
        "    - action: Allow\n",
        "    - action: Deny\n      protocol: ICMP\n      icmp: {type: 3, code: 1}\n    - action: Allow\n",
    )
    result = convert(text=text, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    (finding,) = [d for d in result.diagnostics if d.code == "C2C310"]
    assert "it is left out, so Cilium denies it" in finding.message
    assert _ingress(result.documents) == [{}]
    proof = verify_explained(result, Assumptions(pod_cidrs=PODS, node_cidrs=NODES))
    assert proof.status == "narrowed" and not proof.unexplained


def test_what_is_kept_is_exactly_the_named_part() -> None:
    # The output against the same policy with the Allow spelt out for the named protocols only:
    # equivalent, so Cilium allows every UDP, SCTP and ICMP flow the rule allows, and nothing more.
    named = POLICY.replace(
        "    - action: Allow\n      notProtocol: TCP\n      source: {selector: app == 'x'}\n",
        "".join(
            f"    - action: Allow\n      protocol: {p}\n      source: {{selector: app == 'x'}}\n"
            for p in ("UDP", "SCTP", "ICMP", "ICMPv6")
        ),
    )
    assert named != POLICY
    result = convert(text=POLICY, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    spelt = convert(text=named, name="named.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    assert spelt.loaded is not None
    proof = verify(spelt.loaded, result.documents, Assumptions(pod_cidrs=PODS, node_cidrs=NODES))
    assert proof.status == "equivalent"


def test_the_profile_part_says_what_it_keeps_too() -> None:
    lost = L4Set.protocols((47,))
    finding = failure_diagnostic(EmitFailure(None, None, PartlyNamed(Inexpressible("protocol"), lost)))
    assert finding.code == "C2C310" and finding.narrowing
    assert "namespace profiles" in finding.message
    assert (
        "Cilium allows its TCP, UDP, SCTP and ICMP flows, and its flows of IP protocol 47 are left out"
        in (finding.message)
    )
