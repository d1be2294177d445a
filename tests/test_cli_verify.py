"""``calico2cilium verify`` as a user meets it: exit statuses, counterexamples, positions, JSON,
cluster assumptions (flags and --cluster-config), inputs on the "wrong" side, and the C2C4xx catalog
examples (which ``lint`` cannot run, being about a pair of inputs)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from calico2cilium.diagnostics.catalog import CATALOG
from calico2cilium.diagnostics.catalog.verifying import EXAMPLES, POD_CIDR
from helpers import run_cli

# Calico (the catalog's example pair): in namespace prod, pods app=db accept TCP 80 from pods
# app=web of prod, nothing else (the policy selects them for ingress, so the end of the tier denies
# the rest); egress untouched.
CALICO = EXAMPLES["C2C401"].calico
# Cilium: the same. A CNP's fromEndpoints are implicitly in the policy's namespace, and a policy
# with ingress rules turns on default deny for ingress only.
CILIUM = EXAMPLES["C2C401"].passing
assert "app == 'web'" in CALICO and 'port: "80"' in CILIUM  # what the tests below edit

# Calico egress to an external network; Cilium's CIDR rule matches only addresses outside the
# cluster, so the two agree only once pod and node addresses are known to lie elsewhere.
CALICO_EGRESS = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: out
  namespace: prod
spec:
  selector: app == 'web'
  types: [Egress]
  egress:
    - action: Allow
      protocol: TCP
      destination:
        nets: [198.51.100.0/24]
        ports: [443]
"""

CILIUM_EGRESS = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: out
  namespace: prod
spec:
  endpointSelector:
    matchLabels:
      app: web
  egress:
    - toCIDR: [198.51.100.0/24]
      toPorts:
        - ports:
            - port: "443"
              protocol: TCP
"""

KNP = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api
  namespace: prod
spec:
  podSelector:
    matchLabels:
      app: api
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app: web
      ports:
        - protocol: TCP
          port: 8080
"""

POSITION = re.compile(r"\S+\.yaml:\d+:\d+")


def run(*args: str) -> tuple[int, str, str]:
    return run_cli("verify", *args)


def pair(tmp_path: Path, calico: str, cilium: str) -> list[str]:
    (tmp_path / "calico.yaml").write_text(calico)
    (tmp_path / "cilium.yaml").write_text(cilium)
    return ["--calico", str(tmp_path / "calico.yaml"), "--cilium", str(tmp_path / "cilium.yaml")]


def test_equivalent_pair_exits_0(tmp_path: Path) -> None:
    code, out, _ = run(*pair(tmp_path, CALICO, CILIUM), "--pod-cidr", "10.0.0.0/16")
    assert code == 0, out
    assert out.startswith("EQUIVALENT")
    assert "pod CIDRs ['10.0.0.0/16']" in out


def test_broken_pair_exits_4_with_a_counterexample(tmp_path: Path) -> None:
    code, out, _ = run(*pair(tmp_path, CALICO, CILIUM.replace('"80"', '"8080"')), "--pod-cidr", "10.0.0.0/16")
    assert code == 4, out
    assert out.startswith("DIFFERENT")
    assert "Counterexamples (" in out
    # The flow, each side's verdict, and the rules responsible with their positions. Two
    # counterexamples are correct (port 80: Calico allows, Cilium denies; port 8080: the reverse),
    # and which one the solver finds first depends on its state, so either must be reported right.
    calico_allows = re.search(
        r"calico: ALLOW by NetworkPolicy prod/db ingress\[0\].*calico\.yaml:\d+:\d+", out
    )
    cilium_allows = re.search(r"cilium: ALLOW by .*CiliumNetworkPolicy prod/db.*cilium\.yaml:\d+:\d+", out)
    assert calico_allows or cilium_allows, out
    if calico_allows:
        assert re.search(r"cilium: DENY by .*CiliumNetworkPolicy prod/db.*cilium\.yaml:\d+:\d+", out)
        assert "TCP dport 80" in out
    if cilium_allows:
        assert "calico: DENY by " in out  # the end of tier default, which prod/db's subjects reach
        assert "TCP dport 8080" in out


def test_missing_rule_is_caught_the_other_way(tmp_path: Path) -> None:
    allows_all = CILIUM.replace("  ingress:\n", "  ingress:\n    - {}\n", 1)
    code, out, _ = run(*pair(tmp_path, CALICO, allows_all.replace("- {}", "- fromEntities: [all]")))
    assert code == 4 and "calico: DENY" in out and "cilium: ALLOW" in out


def test_invalid_calico_input_exits_2_with_position(tmp_path: Path) -> None:
    broken = CALICO.replace("app == 'web'", "app == 'web")
    code, out, _ = run(*pair(tmp_path, broken, CILIUM))
    assert code == 2, out
    assert out.startswith("INVALID INPUT")
    assert re.search(r"calico\.yaml:13:\d+: error C2C211 ", out), out


def test_invalid_cilium_yaml_exits_2_with_position(tmp_path: Path) -> None:
    code, out, _ = run(*pair(tmp_path, CALICO, CILIUM + "  egress: [unclosed\n"))
    assert code == 2, out
    assert re.search(r"cilium\.yaml:\d+:\d+: error C2C1\d\d ", out), out


def test_rejected_cilium_policy_exits_2_with_position(tmp_path: Path) -> None:
    code, out, _ = run(*pair(tmp_path, CALICO, CILIUM.replace('"80"', '"99999"')))
    assert code == 2, out
    assert re.search(r"cilium\.yaml:16:\d+: error C2C403 \[cilium\] CiliumNetworkPolicy prod/db", out), out


def test_json_format_parses(tmp_path: Path) -> None:
    code, out, _ = run(*pair(tmp_path, CALICO, CILIUM.replace('"80"', '"81"')), "--format", "json")
    assert code == 4
    data = json.loads(out)
    assert data["status"] == "different" and data["exit_code"] == 4
    example = data["counterexamples"][0]
    assert example["direction"] == "ingress"
    assert example["calico"]["by"]["source"].endswith(POSITION.search(example["calico"]["by"]["source"])[0])  # type: ignore[index]
    assert {d["code"] for d in data["diagnostics"]} == {"C2C401"}
    assert all(d["file"] and d["line"] for d in data["diagnostics"])


def test_json_format_equivalent(tmp_path: Path) -> None:
    code, out, _ = run(*pair(tmp_path, CALICO, CILIUM), "-o", "json", "--pod-cidr", "10.0.0.0/16")
    data = json.loads(out)
    assert code == 0 and data["equivalent"] is True and data["diagnostics"] == []
    assert data["assumptions"]["pod_cidrs"] == ["10.0.0.0/16"]


@pytest.mark.parametrize(
    "args",
    [
        ["--cilium", "x.yaml"],  # no --calico
        ["--calico", "x.yaml"],  # no --cilium
        ["--calico", "x", "--cilium", "y", "--pod-cidr", "10.0.0.0/33"],
        ["--calico", "x", "--cilium", "y", "--cilium-version", "1.9"],
        ["--calico", "x", "--cilium", "y", "--format", "yaml"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert "Usage:" in err and "Traceback" not in err


def test_missing_files_exit_2(tmp_path: Path) -> None:
    code, out, _ = run("--calico", str(tmp_path / "none.yaml"), "--cilium", str(tmp_path / "none2.yaml"))
    assert code == 2 and "C2C101" in out


def test_unknown_pod_cidr_means_any_address_may_be_a_pod(tmp_path: Path) -> None:
    args = pair(tmp_path, CALICO_EGRESS, CILIUM_EGRESS)
    code, out, _ = run(*args)
    assert code == 4 and "DIFFERENT" in out  # 198.51.100.x might be a pod: Calico matches it, Cilium not
    code, out, _ = run(*args, "--pod-cidr", "10.0.0.0/16", "--node-cidr", "192.168.0.0/24")
    assert code == 0, out


def test_cluster_config_file(tmp_path: Path) -> None:
    args = pair(tmp_path, CALICO_EGRESS, CILIUM_EGRESS)
    config = tmp_path / "cluster.yaml"
    config.write_text("podCIDRs: [10.0.0.0/16]\nnodeCIDRs: [192.168.0.0/24]\nciliumVersion: '1.17'\n")
    code, out, _ = run(*args, "--cluster-config", str(config), "-o", "json")
    data = json.loads(out)
    assert code == 0 and data["assumptions"]["cilium_version"] == "1.17"
    assert data["assumptions"]["node_cidrs"] == ["192.168.0.0/24"]
    # a flag replaces the file's value: a pod CIDR covering the external network breaks the proof
    code, out, _ = run(*args, "--cluster-config", str(config), "--pod-cidr", "198.51.0.0/16")
    assert code == 4, out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("podCIDR: [10.0.0.0/16]\n", "unknown key 'podCIDR'"),
        ("podCIDRs: [10.0.0.0/99]\n", "is not an IPv4 or IPv6 CIDR"),
        ("podCIDRs: {a: 1}\n", "expected a list"),
        ("- 10.0.0.0/16\n", "expected a mapping"),
        ("podCIDRs: [unclosed\n", "cluster.yaml:2:1: invalid YAML"),
        ("ciliumVersion: '2.0'\n", "is not one of"),
        # Read as manifests are (review 3): these were an internal error (exit 3) or silently
        # kept only the last value.
        ("podCIDRs: [" + "9" * 5000 + "]\n", "!!int cannot hold '99999"),
        ("ciliumVersion: " + "9" * 5000 + "\n", "(5000 characters)"),
        ("podCIDRs: [10.0.0.0/16]\npodCIDRs: [10.1.0.0/16]\n", "duplicate key 'podCIDRs'"),
        ("podCIDRs: [10.0.0.0/16]\n---\nnodeCIDRs: [10.1.0.0/16]\n", "(one YAML document)"),
        ("podCIDRs: [a\x11]\n", "cluster.yaml:1:13: invalid YAML: character U+0011"),
        ("podCIDRs: [167772160]\n", "is not an IPv4 or IPv6 CIDR"),
        ("a: &a [*a]\n", "alias"),
        # str(True) would be "True": label values must be written as the strings they are
        ("nodeLabels: {n1: {edge: true}}\n", "quoted string values"),
    ],
)
def test_bad_cluster_config_is_a_usage_error(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "cluster.yaml"
    config.write_text(text)
    code, _, err = run(*pair(tmp_path, CALICO, CILIUM), "--cluster-config", str(config))
    assert code == 2 and message in err and "Traceback" not in err


def test_kubernetes_network_policies_take_part_on_both_sides(tmp_path: Path) -> None:
    args = pair(tmp_path, CALICO + "---\n" + KNP, CILIUM + "---\n" + KNP)
    assert run(*args, "--pod-cidr", "10.0.0.0/16")[0] == 0
    # given to Calico only, the Kubernetes policy isolates app=api there but not in Cilium
    code, out, _ = run(*pair(tmp_path, CALICO + "---\n" + KNP, CILIUM), "--pod-cidr", "10.0.0.0/16")
    assert code == 4 and "KubernetesNetworkPolicy prod/knp.default.api" in out


def test_cilium_policy_among_calico_inputs_takes_part_on_the_cilium_side(tmp_path: Path) -> None:
    existing = CILIUM.replace("name: db", "name: existing")
    (tmp_path / "calico").mkdir()
    (tmp_path / "calico" / "policy.yaml").write_text(CALICO)
    (tmp_path / "calico" / "existing.yaml").write_text(existing)
    (tmp_path / "cilium.yaml").write_text(CILIUM)
    args = ["--calico", str(tmp_path / "calico"), "--cilium", str(tmp_path / "cilium.yaml")]
    code, out, _ = run(*args, "--pod-cidr", "10.0.0.0/16")
    assert code == 0, out  # the existing policy allows the same flows: still equivalent
    assert re.search(r"existing\.yaml:1:1: info C2C405 CiliumNetworkPolicy prod/existing", out)
    # given on both sides it counts once
    code, out, _ = run(*args, "--cilium", str(tmp_path / "calico" / "existing.yaml"))
    assert code in (0, 1) and "C2C406" not in out


def test_inventory_runs_the_concrete_engine(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        """\
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Namespace, metadata: {name: prod}}
  - apiVersion: v1
    kind: Pod
    metadata: {name: db-0, namespace: prod, labels: {app: db}}
    spec: {nodeName: n1, containers: [{name: c}]}
    status: {podIP: 10.0.0.10}
  - apiVersion: v1
    kind: Pod
    metadata: {name: web-0, namespace: prod, labels: {app: web}}
    spec: {nodeName: n1, containers: [{name: c}]}
    status: {podIP: 10.0.0.11}
"""
    )
    good = [*pair(tmp_path, CALICO, CILIUM), "--pod-cidr", "10.0.0.0/16", "--inventory", str(inventory)]
    code, out, _ = run(*good)
    assert code == 0 and "Inventory (concrete engine): No difference on" in out
    bad = pair(tmp_path, CALICO, CILIUM.replace('"80"', '"81"'))
    code, out, _ = run(*bad, "--inventory", str(inventory), "-o", "json")
    data = json.loads(out)
    assert code == 4 and not data["inventory"]["equivalent"]
    assert any("web-0" in d["flow"] or "10.0.0.11" in d["flow"] for d in data["inventory"]["differences"])


VERIFY_CODES = sorted(code for code in CATALOG if code.startswith("C2C4"))


def test_every_verify_code_is_documented_with_examples() -> None:
    assert VERIFY_CODES and set(EXAMPLES) <= set(VERIFY_CODES)
    for code in VERIFY_CODES:
        doc = CATALOG[code]
        assert doc.failing is None  # not a lint example: see EXAMPLES
        if code in EXAMPLES:
            assert "Fails (verify" in doc.explanation and "Passes with" in doc.explanation


@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_catalog_example_pairs(code: str, tmp_path: Path) -> None:
    example = EXAMPLES[code]
    (tmp_path / "calico.yaml").write_text(example.calico)
    (tmp_path / "failing.yaml").write_text(example.failing)
    (tmp_path / "passing.yaml").write_text(example.passing)
    base = ["--pod-cidr", POD_CIDR, "--calico", str(tmp_path / "calico.yaml"), "-o", "json"]
    code_failing, out, _ = run(*base, "--cilium", str(tmp_path / "failing.yaml"))
    assert code in {d["code"] for d in json.loads(out)["diagnostics"]}
    assert code_failing != 0
    code_passing, out, _ = run(*base, "--cilium", str(tmp_path / "passing.yaml"))
    assert code_passing == 0 and json.loads(out)["diagnostics"] == []


def test_unknown_cilium_field_is_an_error_not_an_ignored_rule(tmp_path: Path) -> None:
    typo = CILIUM + "  egres:\n    - toEntities: [world]\n"
    code, out, _ = run(*pair(tmp_path, CALICO, typo))
    assert code == 2, out
    assert re.search(r"cilium\.yaml:18:3: error C2C403 .*unknown field 'egres'; did you mean 'egress'", out)


def test_cilium_api_version_not_served_is_an_error(tmp_path: Path) -> None:
    code, out, _ = run(*pair(tmp_path, CALICO, CILIUM.replace("cilium.io/v2", "cilium.io/v1")))
    assert code == 2 and "does not serve cilium.io/v1 CiliumNetworkPolicy" in out


def test_standard_input_for_both_sides_is_a_usage_error() -> None:
    # Standard input is read once; the Cilium side used to be silently empty ("no documents in
    # input" for <stdin>, with the Calico side's policies compared against nothing). Review 3.
    code, out, err = run_cli("verify", "--calico", "-", "--cilium", "-", stdin=CALICO)
    assert code == 2
    assert "not to both" in err and "C2C105" not in out + err
    code, _, err = run("--calico", "-", "--cilium", "/nonexistent.yaml")
    assert code == 2 and "not to both" not in err
