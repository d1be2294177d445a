"""HostEndpoints -> host policies (compile/hosts.py, cilium/hostpolicies.py): which policies apply,
Calico's order for host endpoints, failsafe ports, profiles, refusals. The fixtures
(fixtures/host-*) hold the full outputs; these tests pin single facts."""

from __future__ import annotations

from typing import Any

from calico2cilium.compile.hosts import HEPS_NAMED, label_value
from calico2cilium.convert import ConvertResult
from calico2cilium.plan import NODE_LABEL
from helpers import convert

PODS, NODES = ("10.244.0.0/16",), ("10.0.0.0/24",)


def _hep(
    name: str = "h1", node: str = "n1", interface: str = '"*"', extra: str = "", labels: str = "role: w"
) -> str:
    return (
        f"apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: {name}\n"
        f"  labels: {{{labels}}}\nspec:\n  node: {node}\n  interfaceName: {interface}\n"
        f"  expectedIPs: [10.0.0.11]\n{extra}"
    )


def _gnp(name: str, spec: str) -> str:
    return f"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: {name}\nspec:\n{spec}"


def _run(*docs: str) -> ConvertResult:
    return convert(text="---\n".join(docs), name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)


def _host_specs(result: ConvertResult, name: str) -> list[dict[str, Any]]:
    docs = [d for d in result.documents if d["metadata"]["name"] == name]
    assert len(docs) == 1, [d["metadata"]["name"] for d in result.documents]
    return [s for s in docs[0]["specs"] if "nodeSelector" in s]


def _codes(result: ConvertResult) -> list[str]:
    return sorted(d.code for d in result.diagnostics)


def _ports(rules: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(p["protocol"], p["port"]) for r in rules for tp in r.get("toPorts", ()) for p in tp["ports"]}


def test_no_policy_is_default_deny_with_failsafe_ports_both_ways() -> None:
    result = _run(_hep())
    (spec,) = _host_specs(result, "calico2cilium-host-defaults")
    assert spec["nodeSelector"] == {"matchLabels": {NODE_LABEL: "n1"}}
    assert ("TCP", "22") in _ports(spec["ingress"]) and ("UDP", "68") in _ports(spec["ingress"])
    assert ("UDP", "53") in _ports(spec["egress"]) and ("TCP", "22") not in _ports(spec["egress"])
    assert _codes(result) == ["C2C320", "C2C321", "C2C322", "C2C324", "C2C343"]


def test_default_allow_profile_and_no_policy_needs_no_host_policy() -> None:
    result = _run(_hep(extra="  profiles: [projectcalico-default-allow]\n"))
    assert result.documents == [] and result.diagnostics == []


def test_pass_out_of_the_last_tier_ends_in_deny_without_the_default_allow_profile() -> None:
    result = _run(
        _hep(), _gnp("p", "  selector: role == 'w'\n  types: [Ingress]\n  ingress:\n    - action: Pass\n")
    )
    (spec,) = _host_specs(result, "calico2cilium-host-defaults")
    assert set(spec) == {"nodeSelector", "description", "ingress", "egress"}
    assert _ports(spec["ingress"]) >= {("TCP", "22")}
    assert not any(d["metadata"]["name"] == "p" and _host_specs(result, "p") for d in result.documents)


def test_pass_with_the_default_allow_profile_ends_in_allow() -> None:
    result = _run(
        _hep(extra="  profiles: [projectcalico-default-allow]\n"),
        _gnp("p", "  selector: role == 'w'\n  types: [Ingress]\n  ingress:\n    - action: Pass\n"),
    )
    # Calico allows everything both ways: no host policy at all.
    assert not any("nodeSelector" in s for d in result.documents for s in d["specs"])


def test_failsafe_ports_are_allowed_even_where_a_policy_denies() -> None:
    result = _run(_hep(), _gnp("deny-all", "  selector: all()\n  ingress:\n    - action: Deny\n"))
    (spec,) = _host_specs(result, "calico2cilium-host-defaults")
    assert ("TCP", "22") in _ports(spec["ingress"])
    assert "ingressDeny" not in spec
    assert _host_specs(result, "deny-all") == []


def test_an_earlier_tier_deny_narrows_a_later_allow() -> None:
    tier = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: security\nspec:\n  order: 100\n"
    deny = _gnp(
        "block",
        "  tier: security\n  selector: role == 'w'\n  types: [Ingress]\n  ingress:\n"
        "    - action: Deny\n      source:\n        nets: [198.51.100.0/24]\n    - action: Pass\n",
    )
    allow = _gnp(
        "web",
        "  selector: role == 'w'\n  types: [Ingress]\n  ingress:\n    - action: Allow\n      protocol: TCP\n"
        "      destination:\n        ports: [443]\n",
    )
    result = _run(_hep(), tier, deny, allow)
    (spec,) = _host_specs(result, "web")
    cidrs = [c for r in spec["ingress"] for c in r.get("fromCIDRSet", ())]
    assert {"cidr": "0.0.0.0/0", "except": ["198.51.100.0/24"]} in cidrs
    assert "egress" not in spec


def test_network_policies_and_namespace_scoped_gnps_never_apply_to_host_endpoints() -> None:
    np = (
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: np\n  namespace: a\n"
        "spec:\n  selector: all()\n  ingress:\n    - action: Deny\n"
    )
    gnp = _gnp("g", "  selector: all()\n  namespaceSelector: all()\n  ingress:\n    - action: Deny\n")
    result = _run(_hep(extra="  profiles: [projectcalico-default-allow]\n"), np, gnp)
    assert not any("nodeSelector" in s for d in result.documents for s in d["specs"])


def test_several_identical_host_endpoints_on_a_node_are_one_host_policy() -> None:
    result = _run(_hep("h1", interface="eth0"), _hep("h2", interface="eth1"))
    assert len(_host_specs(result, "calico2cilium-host-defaults")) == 1
    assert _codes(result).count("C2C323") == 2


def test_a_wildcard_endpoint_beside_a_named_one_needs_no_interface_warning() -> None:
    result = _run(_hep("h1", interface="eth0"), _hep("h2"))
    assert "C2C323" not in _codes(result)


def test_refusals_keep_the_node_in_host_default_deny() -> None:
    # Issue 15 item 1: a refused HostEndpoint fails closed: its node is still selected in both
    # directions (Cilium's host default deny), allowing only the failsafe ports.
    for docs in (
        (_hep(extra="  profiles: [custom]\n"),),
        (_hep("h1", labels="role: a"), _hep("h2", labels="role: b")),
        (
            _hep(),
            _gnp(
                "pre",
                "  selector: role == 'w'\n  preDNAT: true\n  applyOnForward: true\n  ingress:\n    - action: Deny\n",
            ),
        ),
    ):
        result = _run(*docs)
        assert "C2C312" in _codes(result)
        assert all(d.narrowing for d in result.diagnostics if d.code == "C2C312")
        [spec] = _host_specs(result, "calico2cilium-host-defaults")
        assert set(spec) == {"nodeSelector", "description", "ingress", "egress"}
        ports = {p["port"] for rule in spec["ingress"] for item in rule["toPorts"] for p in item["ports"]}
        assert "22" in ports  # the failsafe ports, which Calico allows whatever the policy says


def test_named_port_the_endpoint_does_not_declare_matches_nothing() -> None:
    rule = (
        "  selector: role == 'w'\n  types: [Ingress]\n  ingress:\n    - action: Allow\n      protocol: TCP\n"
        "      destination:\n        ports: [nope]\n"
    )
    result = _run(_hep(), _gnp("g", rule))
    assert _host_specs(result, "g") == []
    assert "C2C326" not in _codes(result)


def test_label_value_is_the_node_name_or_a_digest() -> None:
    assert label_value("ip-10-0-1-23.eu-west-1.compute.internal") == "ip-10-0-1-23.eu-west-1.compute.internal"
    long = "n" * 70
    digest = label_value(long)
    assert digest.startswith("h-") and len(digest) <= 63 and digest == label_value(long)


def test_a_selector_picking_many_host_endpoints_names_a_few_and_counts_the_rest() -> None:
    # A broad selector picks every node's host endpoint: the warning (C2C325) named them all, 15 KB
    # per rule on the 10,000-document mix; it names HEPS_NAMED and counts the rest.
    heps = [_hep(f"h{i}", f"n{i}").replace("10.0.0.11", f"10.0.0.{i + 1}") for i in range(20)]
    policy = _gnp(
        "p",
        "  selector: app == 'web'\n  ingress:\n  - {action: Deny, source: {selector: role == 'w'}}\n",
    )
    result = _run(*heps, policy)
    (found,) = [d for d in result.diagnostics if d.code == "C2C325"]
    assert found.message.count("(10.0.0.") == HEPS_NAMED
    assert f"and {20 - HEPS_NAMED} more (20 host endpoints)" in found.message
