"""Nets covering the node ranges become the entities host/remote-node, which Cilium gives every
address of a node (issue 15, item 4): the conversion states that it assumes every node address is
inside the ranges (C2C388, once per run), and warns at Allow rules that may widen (C2C389).

Before this change these conversions were silent (exit 0, no word at the rules relying on it)."""

from __future__ import annotations

from calico2cilium.convert import convert
from calico2cilium.diagnostics import Diagnostic

PODS = ("10.244.0.0/16",)
NODES = ("192.168.0.0/24",)


def _policy(rules: str, name: str = "db") -> str:
    return (
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
        f"metadata: {{name: {name}, namespace: prod}}\n"
        f"spec:\n  selector: app == 'db'\n  ingress:\n{rules}"
    )


def _rule(action: str, nets: str) -> str:
    return f"    - action: {action}\n      source:\n        nets: [{nets}]\n"


def _run(text: str, pods: tuple[str, ...] = PODS, nodes: tuple[str, ...] = NODES) -> list[Diagnostic]:
    result = convert(text=text, pod_cidrs=pods, node_cidrs=nodes, endpoint_to_host_action="Accept")
    return result.diagnostics


def _codes(diagnostics: list[Diagnostic]) -> list[str]:
    return sorted(d.code for d in diagnostics)


def test_allow_covering_the_node_range_warns_and_states_the_assumption() -> None:
    found = _run(_policy(_rule("Allow", "192.168.0.0/16")))
    assert _codes(found) == ["C2C388", "C2C389"]
    warning = next(d for d in found if d.code == "C2C389")
    assert "NetworkPolicy prod/db ingress.0" in warning.message
    assert "192.168.0.0/16" in warning.message and "192.168.0.0/24" in warning.message
    assert warning.source is not None and warning.source.line == 7


def test_pass_covering_the_node_range_warns_too() -> None:
    # What the Pass matches is decided by the next tier, not by this tier's later Deny.
    tiers = (
        "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: sec}\nspec: {order: 10}\n---\n"
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: sec.p}\n"
        "spec:\n  tier: sec\n  selector: app == 'db'\n  ingress:\n"
        + _rule("Pass", "192.168.0.0/16")
        + "    - action: Deny\n---\n"
    )
    found = _run(tiers + _policy("    - action: Allow\n"))
    warning = [d for d in found if d.code == "C2C389"]
    assert len(warning) == 1 and "passes to the next tier" in warning[0].message


def test_deny_covering_the_node_range_only_states_the_assumption() -> None:
    # A Deny matching more node addresses in Cilium denies more: said once, not warned.
    found = _run(_policy(_rule("Deny", "192.168.0.0/24") + "    - action: Allow\n"))
    assert _codes(found) == ["C2C388"]
    assert "prod/db ingress.0" in found[0].message and "a Deny denies more" in found[0].message


def test_nets_holding_every_address_of_the_family_assume_nothing() -> None:
    # 0.0.0.0/0 in an IPv4 cluster matches every node address in Calico too.
    assert _run(_policy(_rule("Allow", "0.0.0.0/0"))) == []


def test_nets_outside_the_node_range_are_not_about_nodes() -> None:
    assert _run(_policy(_rule("Allow", "203.0.113.0/24"))) == []


def test_unknown_node_range_is_c2c307s_business() -> None:
    found = _run(_policy(_rule("Allow", "192.168.0.0/16")), nodes=())
    assert "C2C307" in _codes(found) and not {"C2C388", "C2C389"} & set(_codes(found))


def test_a_network_set_covering_the_node_range_warns_too() -> None:
    text = (
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\n"
        "metadata: {name: nodes, labels: {role: nodes}}\nspec:\n  nets: [192.168.0.0/24]\n---\n"
        + _policy(
            "    - action: Allow\n      source:\n        selector: role == 'nodes'\n"
            "        namespaceSelector: global()\n"
        )
    )
    assert _codes(_run(text)) == ["C2C388", "C2C389"]


def test_the_assumption_is_one_line_naming_the_first_rules() -> None:
    text = "---\n".join(_policy(_rule("Deny", "192.168.0.0/24"), name=f"p{i}") for i in range(5))
    found = [d for d in _run(text) if d.code == "C2C388"]
    assert len(found) == 1
    assert "5 rule(s)" in found[0].message and "and 2 more" in found[0].message
