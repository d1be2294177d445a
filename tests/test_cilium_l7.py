"""Plain allows next to L7 rules (review 2, bug 2; docs/research/l7-wildcard-research.md).

Cilium 1.15-1.18 lets every request of a plain allow's peers through on an L7 port whatever the
peer kind (the proxy ORs the port's rules with the wildcard-port rule of L3-only and port-0
allows): the verifier proves such outputs equivalent and catches outputs that lose the plain allow.
A plain allow written as a range or a named port over an L7 port is its own L4 filter, which some
versions hand to the proxy as a peer-less allow-all: the verifier keeps it outside the proof, and
the converter never writes it (it splits the range, or refuses the http rule next to a named port).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from calico2cilium.cilium.ports import split_around
from calico2cilium.convert import convert
from calico2cilium.semantics.cilium_l7 import PortEntry, overlaps_unsafely
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify_texts

CLUSTER = Assumptions(pod_cidrs=("10.244.0.0/16",), node_cidrs=("10.0.0.0/24",))
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REVIEW_INPUT = FIXTURES / "http-then-nets-allow" / "input.yaml"  # review 2, bug 2's input

L7_80 = [PortEntry("80", None, "TCP")]


@pytest.mark.parametrize(
    ("entry", "unsafe"),
    [
        (PortEntry("0", None, "TCP"), False),  # wildcard-port rule keeps the identities
        (PortEntry("0", None, "ANY"), False),
        (PortEntry("80", None, "TCP"), False),  # joins the L7 rule's own filter
        (PortEntry("81", None, "TCP"), False),  # another port
        (PortEntry("1", 1000, "TCP"), True),  # a filter of its own over 80
        (PortEntry("1", 1000, "ANY"), True),
        (PortEntry("1", 1000, "UDP"), False),  # never sent to the HTTP proxy
        (PortEntry("81", 1000, "TCP"), False),
        (PortEntry("1", 79, "TCP"), False),
        (PortEntry("metrics", None, "TCP"), True),  # its number is unknown
        (PortEntry("80", 80, "TCP"), False),  # endPort equal to port: the single port
    ],
)
def test_which_plain_entries_may_widen_an_l7_port(entry: PortEntry, unsafe: bool) -> None:
    assert overlaps_unsafely(entry, L7_80) is unsafe


def test_a_single_port_plain_entry_is_unsafe_next_to_an_l7_range_or_name() -> None:
    assert overlaps_unsafely(PortEntry("80", None, "TCP"), [PortEntry("1", 100, "TCP")])
    assert overlaps_unsafely(PortEntry("80", None, "TCP"), [PortEntry("http", None, "TCP")])
    assert not overlaps_unsafely(PortEntry("1", 100, "TCP"), [PortEntry("1", 100, "TCP")])  # same filter


def test_split_around_isolates_the_l7_ports_and_covers_the_range() -> None:
    assert split_around(1, 1000, [80, 443, 2000]) == [(1, 79), (80, 80), (81, 442), (443, 443), (444, 1000)]
    assert split_around(80, 80, [80]) == [(80, 80)]
    assert split_around(1, 10, []) == [(1, 10)]
    assert split_around(1, 0, [1]) == []
    parts = split_around(5, 500, [5, 6, 500, 77])
    covered = [p for lo, hi in parts for p in range(lo, hi + 1)]
    assert covered == list(range(5, 501))


CALICO = REVIEW_INPUT.read_text()

CILIUM_OLD = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: prod}
specs:
- endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromCIDRSet: [{cidr: 203.0.113.0/24}]
    toPorts: [{ports: [{port: "%s", protocol: TCP}]}]
  - fromEntities: [all]
    toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules: {http: [{method: GET}]}
"""


def test_the_review_output_with_a_port0_cidr_allow_is_proven_equivalent() -> None:
    # What 1c5c96f emitted for the review's input: exact (the CIDR's wildcard-port rule in Envoy).
    result = verify_texts(CALICO, CILIUM_OLD % "0", CLUSTER, max_examples=1)
    assert result.status == "equivalent", result.render_text()


def test_losing_the_cidr_allow_on_the_l7_port_is_caught() -> None:
    # If the CIDR allow did not lift the L7 filter (the review's reading of old Cilium), Cilium
    # would refuse a POST from 203.0.113.5 on 80. An output that really has that meaning (the
    # CIDR allowed on every port but 80) is shown different, with a flow on port 80 that differs.
    narrowed = CILIUM_OLD.replace(
        '[{ports: [{port: "%s", protocol: TCP}]}]',
        '[{ports: [{port: "1", endPort: 79, protocol: TCP}, {port: "81", endPort: 65535, protocol: TCP}]}]',
    )
    result = verify_texts(CALICO, narrowed, CLUSTER, max_examples=1)
    assert result.status == "different"
    example = result.counterexamples[0].describe()
    assert "203.0.113." in example and "dport 80" in example, example


def test_a_range_plain_allow_over_the_l7_port_is_outside_the_proof() -> None:
    calico = CALICO.replace(
        "nets: [203.0.113.0/24]", "nets: [203.0.113.0/24]\n      destination:\n        ports: ['1:1000']"
    )
    ranged = CILIUM_OLD.replace('port: "%s", protocol: TCP', 'port: "1", endPort: 1000, protocol: TCP')
    result = verify_texts(calico, ranged, CLUSTER, max_examples=1)
    assert result.status != "equivalent"
    assert any("next to L7 rules" in str(item) for item in result.unsupported), result.render_text()
    # The same meaning written around port 80 (what the converter emits) is proven.
    split = CILIUM_OLD.replace(
        'port: "%s", protocol: TCP',
        'port: "1", endPort: 79, protocol: TCP}, {port: "80", protocol: TCP}, {port: "81", endPort: 1000, protocol: TCP',
    )
    assert verify_texts(calico, split, CLUSTER, max_examples=1).status == "equivalent"


def _entries(rule: dict[str, object]) -> tuple[list[PortEntry], list[PortEntry]]:
    plain: list[PortEntry] = []
    l7: list[PortEntry] = []
    for port_rule in rule.get("toPorts") or []:  # type: ignore[attr-defined]
        target = l7 if port_rule.get("rules") else plain
        for p in port_rule.get("ports") or []:
            target.append(PortEntry(str(p["port"]), p.get("endPort"), p.get("protocol", "ANY")))
    return plain, l7


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir() if p.name.startswith("http")))
def test_no_converted_fixture_writes_a_plain_entry_that_may_widen_an_l7_port(name: str) -> None:
    docs = list(yaml.safe_load_all((FIXTURES / name / "expected.yaml").read_text()))
    for section in ("ingress", "egress"):
        plain: list[PortEntry] = []
        l7: list[PortEntry] = []
        for doc in docs:
            for spec in doc.get("specs") or [doc.get("spec") or {}]:
                for rule in spec.get(section) or []:
                    found_plain, found_l7 = _entries(rule)
                    plain += found_plain
                    l7 += found_l7
        assert not [e for e in plain if overlaps_unsafely(e, l7)], name


def test_the_converter_splits_a_range_and_refuses_http_next_to_a_named_port() -> None:
    ranged = convert([str(FIXTURES / "http-then-nets-range-allow" / "input.yaml")], cilium_version="1.18")
    text = yaml.safe_dump(ranged.documents)
    assert "endPort: 1000" in text and "endPort: 79" in text
    named = convert([str(FIXTURES / "http-beside-named-port-refused" / "input.yaml")], cilium_version="1.18")
    assert [d.code for d in named.diagnostics if d.code == "C2C315"] == ["C2C315"]
    assert "rules" not in yaml.safe_dump(named.documents)
