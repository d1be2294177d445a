"""ICMP in Cilium rules (cilium/ports.py): with every supported Cilium, type 0 matches every type
of its family (cilium/cilium#41304, ``CiliumTarget.icmp_type_zero_matches_every_type``), so an
allow of every type is written as type 0 alone, and a deny never is (a Cilium that fixed the bug
would deny only type 0 there: less than meant)."""

from __future__ import annotations

import pytest

from calico2cilium.cilium.ports import (
    ICMP_EVERY_TYPE_NOTE,
    allows_icmp_type_zero,
    icmp_family,
    icmp_field,
    icmp_listing,
    l4_parts,
    with_icmp_notes,
)
from calico2cilium.facts.target import DEFAULT_TARGET
from calico2cilium.sets import Inexpressible, L4Set
from calico2cilium.sets.l4 import ICMP, ICMPV6


def _types(parts: list[dict[str, object]]) -> list[tuple[str, int]]:
    return [(icmp_family(f), f["type"]) for p in parts for item in p.get("icmps", ()) for f in item["fields"]]


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


def test_ipv4_fields_leave_the_family_to_its_default() -> None:
    # Cilium reads an empty family as IPv4: the CRD's default, and ICMPField.PortProtocol
    # (pkg/policy/api/icmp.go) takes every family but IPv6 as ICMPv4. The verifier reads it so too.
    assert icmp_field("IPv4", 8) == {"type": 8}
    assert icmp_field("IPv6", 128) == {"family": "IPv6", "type": 128}
    assert icmp_family({"type": 8}) == "IPv4"
    assert icmp_family({"family": "IPv6", "type": 8}) == "IPv6"


def _rule(*fields: tuple[str, int]) -> dict[str, object]:
    return {"icmps": [{"fields": [icmp_field(fam, t) for fam, t in fields]}]}


def test_long_type_lists_are_summed_up_as_ranges_or_their_complement() -> None:
    all_v4 = [("IPv4", t) for t in range(256)]
    assert icmp_listing([_rule(*all_v4)]) == ["every ICMPv4 type"]
    assert icmp_listing([_rule(*all_v4[1:])]) == ["every ICMPv4 type but 0"]
    assert icmp_listing([_rule(*all_v4[3:6], *all_v4[9:20])]) == ["ICMPv4 types 3-5, 9-19"]
    both = [*all_v4, *(("IPv6", t) for t in range(256) if t != 128)]
    assert icmp_listing([_rule(*both)]) == ["every ICMPv4 type and every ICMPv6 type but 128"]
    # Short lists are read as they are; the same list twice is said once.
    assert icmp_listing([_rule(("IPv4", 8))]) == []
    assert icmp_listing([_rule(*all_v4), _rule(*all_v4)]) == ["every ICMPv4 type"]


def test_a_spec_description_says_what_its_long_type_lists_hold() -> None:
    sections = {"ingress": [_rule(("IPv4", 0))], "egressDeny": [_rule(*(("IPv4", t) for t in range(256)))]}
    described = with_icmp_notes("p ingress[0] Allow", sections)
    assert described == (
        f"p ingress[0] Allow ({ICMP_EVERY_TYPE_NOTE}) (icmps list every ICMPv4 type, one type per field)"
    )
    # The type-0 note is said of allows (a deny lists every type, never writes type 0 for them).
    assert with_icmp_notes("p", {"ingressDeny": [_rule(("IPv4", 0))]}) == "p"
