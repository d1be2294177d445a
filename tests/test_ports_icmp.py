"""ICMP in Cilium rules (cilium/ports.py): with every supported Cilium, type 0 matches every type
of its family (cilium/cilium#41304, ``CiliumTarget.icmp_type_zero_matches_every_type``), so an
allow of every type is written as type 0 alone, and a deny never is (a Cilium that fixed the bug
would deny only type 0 there: less than meant)."""

from __future__ import annotations

import pytest

from calico2cilium.cilium.ports import ICMP_EVERY_TYPE_NOTE, allows_icmp_type_zero, l4_parts
from calico2cilium.facts.target import DEFAULT_TARGET
from calico2cilium.sets import Inexpressible, L4Set
from calico2cilium.sets.l4 import ICMP, ICMPV6


def _types(parts: list[dict[str, object]]) -> list[tuple[str, int]]:
    return [(f["family"], f["type"]) for p in parts for item in p.get("icmps", ()) for f in item["fields"]]


def test_every_type_allowed_is_type_zero() -> None:
    every = L4Set.protocols([ICMP, ICMPV6])
    assert _types(l4_parts(every, DEFAULT_TARGET, allow=True)) == [("IPv4", 0), ("IPv6", 0)]


def test_every_type_denied_is_listed() -> None:
    every = L4Set.protocols([ICMP])
    assert _types(l4_parts(every, DEFAULT_TARGET)) == [("IPv4", t) for t in range(256)]


def test_a_type_set_holding_zero_but_not_every_type_has_no_form() -> None:
    with pytest.raises(Inexpressible):
        l4_parts(L4Set.icmp_type(0, protocols=[ICMP]), DEFAULT_TARGET, allow=True)


def test_other_types_are_written_as_they_are() -> None:
    assert _types(l4_parts(L4Set.icmp_type(8, protocols=[ICMP]), DEFAULT_TARGET, allow=True)) == [("IPv4", 8)]


def test_outputs_say_what_type_zero_means() -> None:
    from calico2cilium.convert import convert

    text = """
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: ping, namespace: shop}
spec:
  selector: app == 'web'
  ingress:
    - action: Allow
      protocol: ICMP
"""
    result = convert(text=text, name="in.yaml")
    (spec,) = result.documents[0]["specs"]
    assert allows_icmp_type_zero(spec["ingress"])
    assert ICMP_EVERY_TYPE_NOTE in spec["description"]
