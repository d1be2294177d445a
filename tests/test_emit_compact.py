"""The emitter's compactions (issue 13, "Small"): each one happens, and its output is still proven
equivalent to the Calico input by the verifier.

* ``rulekit.merge_rules``: rules of one peer become one rule (ports unioned); rules of one peer
  field and the same ports become one rule (peers listed together).
* ``selectors.widened``: the compiler's disjoint pieces of a selector written as the input's
  overlapping terms again (``app == 'a' || role == 'b'``, not ``app != 'a' && role == 'b'``).
* ``policies.specs_of``: subjects with the same rules share one spec where their union is a cube.
* ``cover.cover``: a rule's pieces written as fewer, looser, overlapping cubes (docs/output-size.md).
"""

from __future__ import annotations

from typing import Any

import yaml

from calico2cilium.cilium.rulekit import merge_rules
from calico2cilium.cilium.selectors import widened
from calico2cilium.convert import ConvertResult
from calico2cilium.semantics.world import Assumptions
from calico2cilium.sets import KeyConstraint, LabelCube, LabelSet
from calico2cilium.verify.conversion import check_conversion
from helpers import convert

CLUSTER = {"pod_cidrs": ("10.244.0.0/16",), "node_cidrs": ("10.0.0.0/24",)}


def _ports(*numbers: str) -> dict[str, Any]:
    return {"toPorts": [{"ports": [{"port": n, "protocol": "TCP"} for n in numbers]}]}


PEER_A = {"toEndpoints": [{"matchLabels": {"app": "a"}}]}
PEER_B = {"toEndpoints": [{"matchLabels": {"app": "b"}}]}


def test_rules_of_one_peer_become_one_rule_with_the_ports_unioned() -> None:
    merged = merge_rules([{**PEER_A, **_ports("80")}, {**PEER_A, **_ports("443", "80")}])
    assert merged == [
        {
            **PEER_A,
            "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}, {"port": "443", "protocol": "TCP"}]}],
        }
    ]


def test_a_rule_without_ports_covers_the_other_rules_of_its_peer() -> None:
    assert merge_rules([{**PEER_A, **_ports("80")}, dict(PEER_A)]) == [PEER_A]


def test_rules_with_the_same_ports_list_their_peers_together() -> None:
    merged = merge_rules([{**PEER_A, **_ports("80")}, {**PEER_B, **_ports("80")}])
    assert merged == [
        {"toEndpoints": [{"matchLabels": {"app": "a"}}, {"matchLabels": {"app": "b"}}], **_ports("80")}
    ]


def test_peer_kinds_icmps_l7_and_the_empty_rule_are_never_mixed() -> None:
    cidr = {"toCIDRSet": [{"cidr": "1.2.3.4/32"}], **_ports("80")}
    icmp = {**PEER_A, "icmps": [{"fields": [{"family": "IPv4", "type": 8}]}]}
    http = {**PEER_A, "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{}]}}]}
    rules = [{**PEER_A, **_ports("80")}, cidr, icmp, http, {}]
    merged = merge_rules(rules)
    assert sorted(map(str, merged)) == sorted(map(str, rules))


def _same(a: Any, b: Any) -> bool:
    return LabelSet.of(a).issubset(LabelSet.of(b)) and LabelSet.of(b).issubset(LabelSet.of(a))


def _cube(**constraints: KeyConstraint) -> LabelCube:
    return LabelCube.of(constraints)


def test_widened_writes_the_overlapping_terms_of_the_input() -> None:
    # app == 'a' || role == 'b', as the compiler's disjoint pieces
    pieces = [_cube(app=KeyConstraint.eq("a")), _cube(app=KeyConstraint.ne("a"), role=KeyConstraint.eq("b"))]
    out = widened(pieces)
    assert set(out) == {_cube(app=KeyConstraint.eq("a")), _cube(role=KeyConstraint.eq("b"))}
    assert _same(out, pieces)


def test_widened_never_grows_the_union() -> None:
    pieces = [_cube(app=KeyConstraint.eq("a"), tier=KeyConstraint.eq("x")), _cube(role=KeyConstraint.eq("b"))]
    out = widened(pieces)
    assert _same(out, pieces)
    assert set(out) == set(pieces)  # nothing to loosen


POLICY = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  selector: app == 'api'
  types: [Ingress, Egress]
  ingress:
  - action: Allow
    protocol: TCP
    source: {selector: "app == 'client' || role in {'a', 'b'}"}
    destination: {ports: [80]}
  - action: Allow
    protocol: TCP
    source: {selector: app == 'client'}
    destination: {ports: [443]}
  egress:
  - action: Allow
    protocol: TCP
    destination: {selector: app == 'db', ports: [5432]}
  - action: Allow
    protocol: UDP
    destination: {selector: app == 'db', ports: [5432]}
"""


def _converted(text: str) -> tuple[ConvertResult, list[dict[str, Any]]]:
    result = convert(text=text, name="in.yaml", **CLUSTER)
    proof = check_conversion(result, Assumptions(**CLUSTER))  # type: ignore[arg-type]
    assert proof.status == "equivalent", proof.render_text()
    return result, result.documents


def test_a_compacted_policy_is_proven_equivalent_and_written_as_the_input() -> None:
    _, documents = _converted(POLICY)
    (cnp,) = [d for d in documents if d["kind"] == "CiliumNetworkPolicy"]
    text = yaml.safe_dump(cnp)
    assert "NotIn" not in text  # role in {a, b} without "app != client"
    (spec,) = cnp["specs"]
    # One egress rule for the db: TCP and UDP 5432 in one toPorts.
    assert len(spec["egress"]) == 1
    ports = spec["egress"][0]["toPorts"][0]["ports"]
    assert {(p["port"], p["protocol"]) for p in ports} == {("5432", "TCP"), ("5432", "UDP")}
    # The client's two ports in one rule.
    clients = [r for r in spec["ingress"] if r["fromEndpoints"] == [{"matchLabels": {"app": "client"}}]]
    assert len(clients) <= 1


SPLIT = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: first}
spec:
  order: 1
  selector: app == 'x'
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    source: {selector: role == 'a'}
    destination: {ports: [80]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: second}
spec:
  order: 2
  selector: has(app)
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    source: {selector: role == 'b'}
    destination: {ports: [443, 8443, 9443]}
  - action: Deny
    source: {selector: role == 'a'}
"""


def test_a_rule_every_piece_of_a_split_subject_has_is_written_once() -> None:
    # "first" allows role a on port 80 for app x: "second"'s Deny is narrowed there, so its
    # subject is split in two; its Allow is the same for both pieces and is written once.
    _, documents = _converted(SPLIT)
    (second,) = [d for d in documents if d["metadata"]["name"] == "second"]
    holding = [s for s in second["specs"] if any(r.get("fromEndpoints") for r in s.get("ingress", ()))]
    allows = [r for s in holding for r in s["ingress"] if "8443" in str(r)]
    assert len(allows) == 1, second["specs"]
    assert "second ingress[0] Allow" in holding[0]["description"]


def test_a_cube_other_specs_put_into_default_deny_gets_no_empty_rule() -> None:
    # "second"'s Deny specs select pods its Allow spec (has(app)) already puts into default deny.
    _, documents = _converted(SPLIT)
    (second,) = [d for d in documents if d["metadata"]["name"] == "second"]
    assert all(s.get("ingress") != [{}] for s in second["specs"]), second["specs"]


def test_nodes_with_the_same_defaults_share_one_spec() -> None:
    from pathlib import Path

    from calico2cilium.plan import HOST_DEFAULTS, NODE_LABEL

    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "host-alike-nodes-one-spec" / "input.yaml"
    result = convert([str(fixture)], **CLUSTER)
    (defaults,) = [d for d in result.documents if d["metadata"]["name"] == HOST_DEFAULTS]
    (spec,) = defaults["specs"]  # proven with the fixture (tests/test_fixtures.py)
    assert spec["nodeSelector"] == {
        "matchExpressions": [{"key": NODE_LABEL, "operator": "In", "values": ["node1", "node2", "node3"]}]
    }
    assert "3 nodes (node1, node2, node3)" in spec["description"]


NARROWED_DENY = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: dns}
spec:
  order: 1
  selector: k8s-app == 'kube-dns'
  types: [Ingress]
  ingress:
  - {action: Allow, protocol: TCP, destination: {ports: [53]}}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: metrics}
spec:
  order: 2
  selector: role == 'db'
  types: [Ingress]
  ingress:
  - {action: Allow, protocol: TCP, source: {selector: tier == 'ops'}, destination: {ports: [9100]}}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: deny-blue}
spec:
  order: 3
  selector: color == 'red'
  types: [Ingress]
  ingress:
  - {action: Deny, protocol: TCP, source: {selector: color == 'blue'}}
  - {action: Allow}
"""


def test_a_deny_narrowed_by_earlier_allows_is_written_as_few_overlapping_specs() -> None:
    # The earlier Allows cut the Deny's region by subject (kube-dns, db), peer (tier ops) and port
    # (53, 9100): the compiler's disjoint pieces, one spec each, become a deny of every port but
    # 53 and 9100 for all red pods and the ports the Allows did not take for the pods they missed
    # (cover.py). Proven equivalent.
    _, documents = _converted(NARROWED_DENY)
    (deny,) = [d for d in documents if d["metadata"]["name"] == "deny-blue"]
    denying = [s for s in deny["specs"] if "ingressDeny" in s]
    assert len(denying) <= 3, denying
    assert all("deny-blue ingress[0] Deny" in s["description"] for s in denying)
    assert any(s["endpointSelector"].get("matchLabels") == {"color": "red"} for s in denying), denying
