"""``calico2cilium convert`` as a user meets it: stdout stream, JSON, --output-dir, exit codes,
--verify, stdin, and the promise that an input file is never overwritten."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from helpers import run_cli as run

POLICY = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: db
  namespace: prod
spec:
  selector: app == 'db'
  ingress:
    - action: Deny
      protocol: TCP
      source:
        selector: app == 'web'
      destination:
        ports: [22]
    - action: Allow
      protocol: TCP
      source:
        selector: app == 'web'
"""
CLUSTER = ["--pod-cidr", "10.244.0.0/16", "--node-cidr", "10.0.0.0/24"]


def test_convert_prints_a_yaml_stream_and_a_summary(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(POLICY)
    code, out, err = run("convert", str(tmp_path / "p.yaml"), *CLUSTER)
    assert code == 0, err
    docs = list(yaml.safe_load_all(out))
    assert [d["kind"] for d in docs] == ["CiliumNetworkPolicy"]
    cnp = docs[0]
    # Issue 15: the managed-by label on every output; the source file relative to the input
    # given, without line:col (was the absolute path as given, with ':1:1').
    assert cnp["metadata"] == {
        "name": "db",
        "namespace": "prod",
        "labels": {"app.kubernetes.io/managed-by": "calico2cilium"},
        "annotations": {
            "calico2cilium.io/calico-order": "tier default, order none",
            "calico2cilium.io/source": "NetworkPolicy prod/db",
            "calico2cilium.io/source-file": "p.yaml",
        },
    }
    # Deny TCP/22 then Allow TCP from web: the Deny stays a deny rule of the policy (deny wins in
    # Cilium), the Allow is every TCP port from web, each as written.
    spec = cnp["specs"][0]
    assert spec["ingressDeny"][0]["toPorts"][0]["ports"] == [{"port": "22", "protocol": "TCP"}]
    assert spec["ingress"][0]["toPorts"][0]["ports"] == [{"port": "0", "protocol": "TCP"}]
    assert spec["description"] == "db ingress[0] Deny; db ingress[1] Allow"
    assert "1 files, 1 resources in, 1 Cilium resources out (Cilium 1.18), 0 errors, 0 warnings" in err


def test_convert_reads_stdin_and_writes_json(tmp_path: Path) -> None:
    code, out, err = run("convert", "-o", "json", *CLUSTER, stdin=POLICY)
    assert code == 0, err
    data = json.loads(out)
    assert data["kind"] == "List" and data["items"][0]["kind"] == "CiliumNetworkPolicy"


def test_convert_is_deterministic(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(POLICY)
    first = run("convert", str(tmp_path / "p.yaml"), *CLUSTER)
    second = run("convert", str(tmp_path / "p.yaml"), *CLUSTER)
    assert first == second


def test_convert_verify_proves_the_output(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(POLICY)
    code, _, err = run("convert", str(tmp_path / "p.yaml"), *CLUSTER, "--verify")
    assert code == 0
    assert "EQUIVALENT" in err


def test_convert_warns_without_cluster_ranges_and_verify_finds_the_difference(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        POLICY.replace("selector: app == 'web'\n      destination:", "nets: [10.0.0.0/8]\n      destination:")
    )
    code, out, err = run("convert", str(tmp_path / "p.yaml"), "--verify")
    # The Deny's nets miss the pods in 10.0.0.0/8 in Cilium, so Cilium allows what Calico denies:
    # a widening, which no warning explains (review5 finding 3: C2C307 used to, exit 1 and written).
    assert code == 4 and out == ""
    assert "C2C307" in err and "DIFFERENT" in err


def test_convert_refusal_that_fails_closed_is_a_warning_with_position(tmp_path: Path) -> None:
    # Was exit 2 with nothing written: a refusal whose output fails closed (the Deny widened, the
    # policy kept) is a warning, exit 1, output written (review5 finding 6).
    bad = POLICY.replace("app == 'web'", "app starts with 'web'", 1)
    (tmp_path / "p.yaml").write_text(bad)
    code, out, err = run("convert", str(tmp_path / "p.yaml"), *CLUSTER)
    assert code == 1
    assert f"{tmp_path / 'p.yaml'}:9:7: warning C2C303" in err  # the rule (ingress[0])
    assert "CiliumNetworkPolicy" in out


def test_convert_keeps_going_after_a_bad_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: [unclosed\n")
    (tmp_path / "b.yaml").write_text(POLICY)
    code, out, err = run("convert", str(tmp_path), *CLUSTER)
    assert code == 2
    assert "C2C105" in err or "error C2C1" in err
    # Issue 15: nothing is written on an error (the rest would be applied as if complete) ...
    assert out == "" and "nothing was written to standard output" in err
    # ... unless asked, and the exit status still says the run failed.
    code, out, err = run("convert", str(tmp_path), *CLUSTER, "--allow-partial")
    assert code == 2
    assert [d["kind"] for d in yaml.safe_load_all(out)] == ["CiliumNetworkPolicy"]


def test_output_dir_writes_one_file_per_resource(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(POLICY)
    out_dir = tmp_path / "out"
    code, out, err = run("convert", str(tmp_path / "p.yaml"), *CLUSTER, "--output-dir", str(out_dir))
    assert code == 0, err
    assert out == ""
    assert sorted(p.name for p in out_dir.iterdir()) == ["cnp-prod-db.yaml"]
    assert yaml.safe_load((out_dir / "cnp-prod-db.yaml").read_text())["kind"] == "CiliumNetworkPolicy"


def test_output_dir_never_overwrites_an_input(tmp_path: Path) -> None:
    # The input is named like the output would be; writing into its directory must be refused.
    target = tmp_path / "cnp-prod-db.yaml"
    target.write_text(POLICY)
    code, _, err = run("convert", str(target), *CLUSTER, "--output-dir", str(tmp_path))
    assert code == 2
    assert "refusing to overwrite the input file" in err
    assert target.read_text() == POLICY


@pytest.mark.parametrize("command", ["convert", "report"])
def test_the_report_never_overwrites_an_input(tmp_path: Path, command: str) -> None:
    # review7: 'convert p.md --report p.md' replaced the input file with the report (exit 2 for the
    # .md input, but the file was gone); a directory input's files are inputs too.
    target = tmp_path / "policies.md"
    target.write_text(POLICY)
    option = "--report" if command == "convert" else "--output"
    for given in (str(target), str(tmp_path)):
        code, out, err = run(command, given, *CLUSTER, option, str(target))
        assert code == 2 and "refusing to overwrite it" in err and out == "", err
        assert target.read_text() == POLICY


def test_output_dir_refuses_unsafe_names(tmp_path: Path) -> None:
    from calico2cilium.io.write import UnsafeOutput, file_name

    try:
        file_name(
            {"kind": "CiliumNetworkPolicy", "metadata": {"name": "../../etc", "namespace": "x"}}, "yaml"
        )
    except UnsafeOutput as err:
        assert "not a Kubernetes name" in str(err)
    else:  # pragma: no cover - the assertion is the point
        raise AssertionError("an unsafe name was accepted")


def test_help_explains_the_command() -> None:
    code, out, _ = run("convert", "--help")
    assert code == 0
    for words in ("--output-dir", "--verify", "--pod-cidr", "first match", "Exit status"):
        assert words in out


def test_cluster_config_inside_an_input_directory_is_not_read_as_a_manifest(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(POLICY)
    (tmp_path / "cluster.yaml").write_text("podCIDRs: [10.244.0.0/16]\nnodeCIDRs: [10.0.0.0/24]\n")
    code, out, err = run("convert", str(tmp_path), "--cluster-config", str(tmp_path / "cluster.yaml"))
    assert code == 0, err
    assert [d["kind"] for d in yaml.safe_load_all(out)] == ["CiliumNetworkPolicy"]


# --- --inventory: string tests expanded against a label inventory (issue 3) -------------------

INVENTORY = """\
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Namespace, metadata: {name: prod}}
  - apiVersion: v1
    kind: Pod
    metadata: {name: db-0, namespace: prod, labels: {app: db}}
    spec: {nodeName: n1}
    status: {podIP: 10.244.0.10}
  - apiVersion: v1
    kind: Pod
    metadata: {name: web-0, namespace: prod, labels: {app: web-frontend}}
    spec: {nodeName: n1}
    status: {podIP: 10.244.0.11}
  - {apiVersion: v1, kind: Node, metadata: {name: n1}, status: {addresses: [{type: InternalIP, address: 10.0.0.1}]}}
"""
STARTS_WITH = POLICY.replace("app == 'web'", "app starts with 'web'")


def _inventory_case(tmp_path: Path, inventory: str = INVENTORY) -> tuple[str, str]:
    (tmp_path / "p.yaml").write_text(STARTS_WITH)
    (tmp_path / "inv.yaml").write_text(inventory)
    return str(tmp_path / "p.yaml"), str(tmp_path / "inv.yaml")


def test_help_documents_inventory() -> None:
    code, out, _ = run("convert", "--help")
    assert code == 0
    assert "--inventory" in out and "starts with" in out and "snapshot" in out


def test_inventory_expands_string_tests_with_a_positioned_warning(tmp_path: Path) -> None:
    policy, inventory = _inventory_case(tmp_path)
    code, out, err = run("convert", policy, *CLUSTER, "--inventory", inventory)
    assert code == 1, err  # converted, with warnings
    for line in (12, 18):  # both rule selectors
        assert f"{policy}:{line}:19: warning C2C316" in err
    assert '`app starts with "web"` became `app in {"web-frontend"}`' in err and "snapshot" in err
    peers = [rule["fromEndpoints"][0] for rule in yaml.safe_load(out)["specs"][0]["ingress"]]
    assert all(peer["matchLabels"]["app"] == "web-frontend" for peer in peers)


def test_without_inventory_the_refusal_names_the_option(tmp_path: Path) -> None:
    policy, _ = _inventory_case(tmp_path)
    code, _, err = run("convert", policy, *CLUSTER)
    assert code == 1  # the refusal fails closed: a warning (review5 finding 6)
    assert "warning C2C303" in err and "--inventory" in err


def test_a_missing_inventory_file_is_an_error(tmp_path: Path) -> None:
    policy, _ = _inventory_case(tmp_path)
    missing = str(tmp_path / "nope.yaml")
    code, _, err = run("convert", policy, *CLUSTER, "--inventory", missing)
    assert code == 2
    assert f"{missing}:1:1: error C2C101" in err and "no such file" in err
    assert "warning C2C303" in err  # not expanded: the refusal (failing closed) stays


def test_a_bad_inventory_is_a_positioned_error_and_is_not_used(tmp_path: Path) -> None:
    bad = INVENTORY.replace("labels: {app: web-frontend}", "labels: [app]")
    policy, inventory = _inventory_case(tmp_path, bad)
    code, _, err = run("convert", policy, *CLUSTER, "--inventory", inventory)
    assert code == 2
    assert f"{inventory}:12:54: error C2C317" in err and "metadata.labels is not a mapping" in err
    assert "warning C2C303" in err and "C2C316" not in err


def test_a_policy_file_given_as_inventory_is_an_error(tmp_path: Path) -> None:
    policy, _ = _inventory_case(tmp_path)
    code, _, err = run("convert", policy, *CLUSTER, "--inventory", policy)
    assert code == 2
    assert f"{policy}:2:7: error C2C317" in err and "'NetworkPolicy' is not part of an inventory" in err


def test_an_inventory_with_broken_yaml_is_a_positioned_error(tmp_path: Path) -> None:
    policy, inventory = _inventory_case(tmp_path, "items: [unclosed\n")
    code, _, err = run("convert", policy, *CLUSTER, "--inventory", inventory)
    assert code == 2
    assert f"{inventory}:2:1: error C2C1" in err


def test_an_empty_inventory_is_an_error(tmp_path: Path) -> None:
    policy, inventory = _inventory_case(tmp_path, "apiVersion: v1\nkind: List\nitems: []\n")
    code, _, err = run("convert", policy, *CLUSTER, "--inventory", inventory)
    assert code == 2
    assert "error C2C317" in err and "holds no pods and no namespaces" in err


def test_inventory_inside_an_input_directory_is_not_read_as_a_manifest(tmp_path: Path) -> None:
    _, inventory = _inventory_case(tmp_path)
    code, out, err = run("convert", str(tmp_path), *CLUSTER, "--inventory", inventory)
    assert code == 1, err
    assert [d["kind"] for d in yaml.safe_load_all(out)] == ["CiliumNetworkPolicy"]


def test_verify_with_inventory_proves_the_expansion_and_checks_the_snapshot(tmp_path: Path) -> None:
    policy, inventory = _inventory_case(tmp_path)
    code, _, err = run("convert", policy, *CLUSTER, "--inventory", inventory, "--verify")
    assert code == 1  # the C2C316 warnings
    assert "EQUIVALENT ON THE INVENTORY" in err and "2 string-test selector field(s)" in err
    assert "Inventory (concrete engine, original Calico input): No difference on" in err


def test_a_string_test_in_a_namespace_selector_is_refused_in_the_users_words(tmp_path: Path) -> None:
    """At the namespaceSelector (not the document start), quoting the selector as written rather
    than the Cilium key it maps to (review 3, findings 16 and 17)."""
    policy = tmp_path / "gnp.yaml"
    policy.write_text(
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: nsx}\n"
        "spec:\n  selector: all()\n  namespaceSelector: name ends with 'x'\n"
        "  ingress:\n    - action: Allow\n"
    )
    code, _, err = run("convert", str(policy))
    line = next(x for x in err.splitlines() if "C2C303" in x)
    assert code == 1 and line.startswith(f"{policy}:6:22: warning C2C303")  # fails closed
    assert 'spec.namespaceSelector: name ends with "x"' in line and "io.cilium" not in line


@pytest.mark.parametrize("factor", ["nan", "inf", "1e308", "0", "-1"])
def test_a_work_budget_that_is_no_usable_factor_is_a_usage_error(tmp_path: Path, factor: str) -> None:
    # review7: nan, inf and 1e308 passed the range check and were internal errors (exit 3:
    # OverflowError when a limit was scaled, ValueError from sets/budget.scaled).
    (tmp_path / "p.yaml").write_text(POLICY)
    code, out, err = run("convert", str(tmp_path / "p.yaml"), *CLUSTER, "--work-budget", factor)
    assert code == 2, err
    assert "--work-budget" in err and "internal error" not in err and out == ""


@pytest.mark.parametrize("command", ["convert", "verify"])
@pytest.mark.parametrize("namespace", ["BAD_NS", "", "a..b", "x" * 64])
def test_a_namespace_option_that_is_no_namespace_name_is_a_usage_error(
    tmp_path: Path, command: str, namespace: str
) -> None:
    # review7: -n BAD_NS went into the output unchecked (exit 0; the API server rejects it), -n ''
    # became 'default' silently, and 64 characters were an internal error (C2C399).
    path = tmp_path / "p.yaml"
    path.write_text(POLICY.replace("  namespace: prod\n", ""))
    files = [str(path)] if command == "convert" else ["--calico", str(path), "--cilium", str(path)]
    code, out, err = run(command, *files, *CLUSTER, "-n", namespace)
    assert code == 2 and "is not a namespace name" in err and out == "", err
