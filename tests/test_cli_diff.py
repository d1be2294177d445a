"""``calico2cilium diff`` on the fixtures: an unchanged pair is proven unchanged (exit 0); an edit
(rule removed, port changed, Deny added; in Calico and in Cilium) shows exactly the regions it
changes, each with an example flow that the test decides again on both sides; the formats, the
mixed sides (C2C412) and the C2C41x catalog examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from calico2cilium.diagnostics.catalog import CATALOG
from calico2cilium.diagnostics.catalog.reviewing import EXAMPLES, POD_CIDR
from calico2cilium.io.yamlstream import read_documents
from calico2cilium.semantics.calico import read_calico_side
from calico2cilium.semantics.cilium import read_cilium_side
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.diff import DiffResult, diff
from helpers import run_cli

FIXTURES = Path(__file__).parent.parent / "fixtures"
CLUSTER = ["--pod-cidr", "10.244.0.0/16", "--node-cidr", "10.0.0.0/24"]
ASSUMPTIONS = Assumptions(pod_cidrs=("10.244.0.0/16",), node_cidrs=("10.0.0.0/24",))
MULTI_TIER = (FIXTURES / "order-multi-tier" / "input.yaml").read_text()
MULTI_TIER_CILIUM = (FIXTURES / "order-multi-tier" / "expected.yaml").read_text()

GATEWAY_ALLOW = """\
    - action: Allow
      protocol: TCP
      source:
        selector: app == 'gateway'
      destination:
        ports: [8080]
"""
assert GATEWAY_ALLOW in MULTI_TIER and "ports: [9090]" in MULTI_TIER  # what the edits below change


def _docs(text: str, name: str) -> list[Any]:
    docs, problems = read_documents(text, name)
    assert not problems
    return list(docs)


def _diff(old: str, new: str) -> DiffResult:
    return diff(_docs(old, "old.yaml"), _docs(new, "new.yaml"), ASSUMPTIONS)


def _decide(text: str, flow: Any) -> bool:
    """The verdict of one side on ``flow``, computed here again from the side's own semantics."""
    docs = _docs(text, "side.yaml")
    calico = any(str(d.data.get("apiVersion", "")).startswith("projectcalico.org") for d in docs)
    side = read_calico_side(docs, ASSUMPTIONS) if calico else read_cilium_side(docs, ASSUMPTIONS)
    return side.programs[flow.direction].decide(flow).allowed


def _checked(result: DiffResult, old: str, new: str) -> None:
    """Every example flow is decided as the change says, by each side alone."""
    assert result.changes
    for change in result.changes:
        assert _decide(old, change.flow) == change.old.allowed
        assert _decide(new, change.flow) == change.new.allowed != change.old.allowed


def _pair(tmp_path: Path, old: str, new: str) -> list[str]:
    (tmp_path / "old.yaml").write_text(old)
    (tmp_path / "new.yaml").write_text(new)
    return [str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml")]


@pytest.mark.parametrize("case", ["order-multi-tier", "allow-before-deny", "host-default-allow-profile"])
@pytest.mark.parametrize("sides", [("input", "input"), ("expected", "expected"), ("input", "expected")])
def test_an_unchanged_pair_exits_0(case: str, sides: tuple[str, str]) -> None:
    old, new = (str(FIXTURES / case / f"{side}.yaml") for side in sides)
    code, out, _ = run_cli("diff", *CLUSTER, old, new)
    assert code == 0, out
    assert out.startswith("NO CHANGE")


def test_a_removed_rule_shows_its_region_only(tmp_path: Path) -> None:
    new = MULTI_TIER.replace(GATEWAY_ALLOW, "    - action: Log\n", 1)
    result = _diff(MULTI_TIER, new)
    assert result.status == "changed"
    [change] = result.changes
    flow = change.flow
    assert (change.direction, change.now, change.subject) == ("ingress", "denied", "pods in namespace shop")
    assert flow.protocol == 6 and flow.dst_port == 8080
    assert flow.subject.labels.get("app") == "frontend" and flow.peer.labels.get("app") == "gateway"
    assert change.old.ref.what.startswith("NetworkPolicy shop/frontend ingress[0]")
    assert change.new.ref.what.startswith("end of tier 'default'")
    _checked(result, MULTI_TIER, new)
    code, out, _ = run_cli("diff", *CLUSTER, *_pair(tmp_path, MULTI_TIER, new))
    assert code == 1 and "allowed -> denied: ingress from pods over TCP" in out
    assert "old: ALLOW by NetworkPolicy shop/frontend ingress[0] (Allow) (" in out


def test_a_changed_port_shows_the_port_now_denied_and_the_port_now_allowed() -> None:
    new = MULTI_TIER.replace("ports: [9090]", "ports: [9091]", 1)
    result = _diff(MULTI_TIER, new)
    # Only shop's pods change: other namespaces allow the rest through the profile anyway, and the
    # security tier leaves dev pods to the profile too.
    assert {c.subject for c in result.changes} == {"pods in namespace shop"}
    ports = {(c.now, c.flow.dst_port) for c in result.changes}
    assert ports == {("denied", 9090), ("allowed", 9091)}
    assert all(c.flow.peer.namespace == "monitoring" for c in result.changes)
    _checked(result, MULTI_TIER, new)


def test_an_added_deny_shows_what_it_denies() -> None:
    deny = GATEWAY_ALLOW.replace("action: Allow", "action: Deny").replace(
        "'gateway'", "'gateway' && canary == 'true'"
    )
    new = MULTI_TIER.replace(GATEWAY_ALLOW, deny + GATEWAY_ALLOW, 1)
    result = _diff(MULTI_TIER, new)
    [change] = result.changes
    assert change.now == "denied" and change.flow.peer.labels.get("canary") == "true"
    assert change.new.ref.what.startswith("NetworkPolicy shop/frontend ingress[0] (Deny)")
    _checked(result, MULTI_TIER, new)


def test_a_cilium_edit_is_decided_by_cilium_semantics(tmp_path: Path) -> None:
    assert "port: '8080'" in MULTI_TIER_CILIUM
    new = MULTI_TIER_CILIUM.replace("port: '8080'", "port: '8443'")
    result = _diff(MULTI_TIER_CILIUM, new)
    assert result.comparisons == ["cilium"]
    assert {(c.now, c.flow.dst_port) for c in result.changes} >= {("denied", 8080), ("allowed", 8443)}
    _checked(result, MULTI_TIER_CILIUM, new)
    # What did we change in Cilium after the migration, seen from the Calico source: the same.
    across = _diff(MULTI_TIER, new)
    assert across.comparisons == ["calico -> cilium"]
    assert {(c.now, c.flow.dst_port) for c in across.changes} == {
        (c.now, c.flow.dst_port) for c in result.changes
    }
    _checked(across, MULTI_TIER, new)


def test_a_side_mixing_both_engines_is_compared_engine_by_engine(tmp_path: Path) -> None:
    mixed = MULTI_TIER + "---\n" + MULTI_TIER_CILIUM
    assert _diff(mixed, mixed).status == "same"
    edited = MULTI_TIER + "---\n" + MULTI_TIER_CILIUM.replace("port: '8080'", "port: '8443'")
    result = _diff(mixed, edited)
    assert result.comparisons == ["calico", "cilium"]
    assert {c.comparison for c in result.changes} == {"cilium"}
    code, out, _ = run_cli("diff", *CLUSTER, "-o", "json", *_pair(tmp_path, mixed, edited))
    data = json.loads(out)
    assert code == 1 and data["exit_code"] == 1
    assert "C2C412" in {d["code"] for d in data["diagnostics"]}


def test_machine_formats(tmp_path: Path) -> None:
    paths = _pair(tmp_path, MULTI_TIER, MULTI_TIER.replace(GATEWAY_ALLOW, "", 1))
    code, out, err = run_cli("diff", *CLUSTER, "-o", "github", *paths)
    assert code == 1 and out.startswith("::warning file=") and "title=C2C410" in out
    assert "CHANGED" in err
    code, out, _ = run_cli("diff", *CLUSTER, "-o", "sarif", *paths)
    sarif = json.loads(out)
    assert code == 1 and [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["C2C410"]
    code, out, _ = run_cli("diff", *CLUSTER, "-o", "json", *paths)
    [change] = json.loads(out)["changes"]
    assert change["change"] == "allowed -> denied" and change["example"]["dst_port"] == 8080
    assert change["old"]["allowed"] and not change["new"]["allowed"]


def test_bad_input_and_usage_exit_2(tmp_path: Path) -> None:
    paths = _pair(tmp_path, MULTI_TIER, MULTI_TIER.replace("action: Allow", "action: Alow", 1))
    code, out, _ = run_cli("diff", *CLUSTER, *paths)
    assert code == 2 and "new.yaml:" in out and "Traceback" not in out
    assert run_cli("diff", paths[0])[0] == 2
    assert run_cli("diff", "-", "-")[0] == 2
    assert run_cli("diff", str(tmp_path / "missing.yaml"), paths[0])[0] == 2


def test_standard_input_and_extra_paths(tmp_path: Path) -> None:
    old, new = _pair(tmp_path, MULTI_TIER, MULTI_TIER.replace("ports: [9090]", "ports: [9091]", 1))
    code, out, _ = run_cli("diff", *CLUSTER, "-", new, stdin=MULTI_TIER)
    assert code == 1 and "9091" in out
    code, _, _ = run_cli("diff", *CLUSTER, "--old", old, "--new", old)
    assert code == 0


@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_catalog_example_pairs(code: str, tmp_path: Path) -> None:
    example = EXAMPLES[code]
    assert CATALOG[code].failing is None and "Shown (diff" in CATALOG[code].explanation
    base = ["diff", "--pod-cidr", POD_CIDR, "-o", "json"]
    (tmp_path / "old.yaml").write_text(example.old)
    for name, text in (("failing", example.failing), ("passing", example.passing)):
        (tmp_path / f"{name}.yaml").write_text(text)
        status, out, _ = run_cli(*base, str(tmp_path / "old.yaml"), str(tmp_path / f"{name}.yaml"))
        codes = {d["code"] for d in json.loads(out)["diagnostics"]}
        if name == "failing":
            assert code in codes and status == 1
        else:
            assert codes == set() and status == 0
