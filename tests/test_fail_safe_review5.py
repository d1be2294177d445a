"""review5's fail-safe findings (repro inputs on branch review5, docs/review5/): each conversion
here fails closed, and the verifier is the judge: Cilium allows no flow that Calico denies."""

from __future__ import annotations

from pathlib import Path

import pytest

from calico2cilium.diagnostics import Severity
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify
from helpers import convert, run_cli

CLUSTER = ["--pod-cidr", "10.244.0.0/16", "--node-cidr", "192.168.0.0/24"]
ASSUMPTIONS = Assumptions(pod_cidrs=("10.244.0.0/16",), node_cidrs=("192.168.0.0/24",))

F1 = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: np, namespace: dev}
spec:
  selector: app == 'db'
  types: [Ingress, Egress]
  ingress:
  - action: Allow
    source: {selector: app == 'web'}
  egress:
  - action: Allow
    protocol: TCP
    destination: {ports: [http]}
"""
F1B = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: block-metrics}
spec:
  order: 10
  selector: all()
  types: [Egress]
  egress:
  - action: Deny
    protocol: TCP
    destination: {ports: [metrics]}
  - action: Pass
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-all-egress}
spec:
  order: 100
  selector: all()
  types: [Egress]
  egress: [{action: Allow}]
"""
F1C = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: p, namespace: dev}
spec:
  selector: all()
  types: [Ingress, Egress]
  ingress:
  - action: Deny
    protocol: TCP
    destination: {notPorts: [admin]}
  - action: Allow
  egress:
  - action: Allow
    protocol: TCP
    destination: {notPorts: [admin], selector: app == 'x'}
"""


def _narrowed_only(path: Path) -> list[str]:
    """Convert ``path``; assert the verifier finds no flow Cilium allows and Calico denies; the
    codes found."""
    result = convert([str(path)], pod_cidrs=ASSUMPTIONS.pod_cidrs, node_cidrs=ASSUMPTIONS.node_cidrs)
    proof = verify(result.loaded, result.documents, ASSUMPTIONS, max_counterexamples=None)
    widened = [c.describe() for c in proof.counterexamples if c.cilium.allowed]
    assert not widened, "\n".join(widened)
    return [d.code for d in result.diagnostics]


@pytest.mark.parametrize("text", [F1, F1B, F1C], ids=["f1", "f1b", "f1c"])
def test_an_egress_named_port_costs_its_rule_never_its_policy(text: str, tmp_path: Path) -> None:
    # Was: the whole policy was left out (C2C303 "is not converted"): its pods left default deny
    # and Cilium allowed all their traffic (review5 finding 1).
    path = tmp_path / "in.yaml"
    path.write_text(text)
    assert "C2C303" in _narrowed_only(path)
    result = convert([str(path)], pod_cidrs=ASSUMPTIONS.pod_cidrs, node_cidrs=ASSUMPTIONS.node_cidrs)
    names = {d["metadata"]["name"] for d in result.documents}
    assert {"np", "block-metrics", "p"} & names  # the policy stays, its pods in default deny
    refusal = next(d for d in result.diagnostics if d.code == "C2C303")
    assert refusal.narrowing and refusal.severity is Severity.WARNING


def test_a_refusal_that_fails_closed_is_a_warning_and_the_output_is_written(tmp_path: Path) -> None:
    # review5 finding 6: a provably narrowed conversion exits 1 with its output, no --allow-partial.
    path = tmp_path / "f1.yaml"
    path.write_text(F1)
    code, out, err = run_cli("convert", str(path), *CLUSTER, "--verify")
    assert code == 1, err
    assert "CiliumNetworkPolicy" in out and "warning C2C303" in err
    code, _, _ = run_cli("convert", str(path), *CLUSTER, "--fail-on", "narrowing")
    assert code == 1
    # A Deny refused and widened (f1b) is narrowing too.
    path.write_text(F1B)
    code, out, err = run_cli("convert", str(path), *CLUSTER, "--verify")
    assert code == 1 and "block-metrics" in out, err


def test_explain_says_when_a_refusal_is_a_warning() -> None:
    _, out, _ = run_cli("explain", "C2C303")
    assert "a warning where the output fails closed" in out.splitlines()[0]
    _, out, _ = run_cli("explain", "C2C325")
    # A rule whose selector picks host endpoints fails closed whatever its action (issue 15).
    assert "error" not in out.splitlines()[0]
    _, out, _ = run_cli("convert", "--help")
    assert "may allow more than Calico" in " ".join(out.split())


FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.mark.parametrize(
    ("case", "code", "severity"),
    [
        ("host-named-port", "C2C326", Severity.WARNING),  # an Allow on every node address: left out
        ("host-notselector-excludes-hep", "C2C327", Severity.WARNING),  # a Deny that denies more
        ("host-peer-selects-hep", "C2C325", Severity.WARNING),  # an Allow that allows less
        ("host-named-interface", "C2C323", Severity.WARNING),  # policy on traffic Calico left alone
        # Failing closed around host endpoint addresses (compile/hostpeers.py), never wider:
        ("hep-deny-peer-fails-closed", "C2C325", Severity.WARNING),  # a Deny that denies every node
        ("hep-pass-peer-fails-closed", "C2C325", Severity.WARNING),  # a Pass preceded by that Deny
        ("hep-notselector-allow-fails-closed", "C2C327", Severity.WARNING),  # an Allow without nodes
    ],
)
def test_host_findings_are_warnings_where_the_output_fails_closed(
    case: str, code: str, severity: Severity
) -> None:
    import yaml

    options = yaml.safe_load((FIXTURES / case / "case.yaml").read_text())["options"]
    result = convert(
        [str(FIXTURES / case / "input.yaml")],
        pod_cidrs=tuple(options["podCIDRs"]),
        node_cidrs=tuple(options["nodeCIDRs"]),
    )
    found = [d for d in result.diagnostics if d.code == code]
    assert found and all(d.severity is severity for d in found)
    assert all(d.narrowing is (severity is Severity.WARNING) for d in found)


F4 = """\
apiVersion: v1
kind: List
items:
- apiVersion: projectcalico.org/v3
  kind: NetworkPolicy
  metadata:
    name: p1
    namespace: dev
    managedFields: [{manager: kubectl, operation: Update}]
    resourceVersion: "123"
  spec:
    selector: app == 'a'
    types: [Ingress]
    ingress:
    - action: Allow
      source: {selector: app == 'b'}
  status: {}
"""


def test_a_kubectl_export_with_status_converts(tmp_path: Path) -> None:
    # Was: error C2C210 unknown field 'status', hint "did you mean 'status'?" (review5 finding 7).
    path = tmp_path / "export.yaml"
    path.write_text(F4)
    code, out, err = run_cli("convert", str(path), *CLUSTER)
    assert code == 0, err
    assert "CiliumNetworkPolicy" in out and "C2C210" not in err


def test_an_unknown_field_hint_never_suggests_the_field_itself(tmp_path: Path) -> None:
    # 'types' is a policy field, not a NetworkSet's: no "did you mean 'types'?".
    path = tmp_path / "set.yaml"
    path.write_text(
        "apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata: {name: s, namespace: dev}\n"
        "spec: {nets: [10.0.0.0/8], types: [Ingress]}\n"
    )
    _, out, err = run_cli("lint", str(path))
    assert "C2C210" in out + err and "did you mean 'types'" not in out + err


def test_a_namespace_flag_that_contradicts_the_document_warns(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(F1)
    _, out, err = run_cli("convert", str(path), *CLUSTER, "-n", "prod")
    assert "warning C2C365" in err and "kubectl apply -n prod refuses" in err
    assert "namespace: dev" in out  # the document's own namespace is kept
    _, _, err = run_cli("convert", str(path), *CLUSTER, "-n", "dev")
    assert "C2C365" not in err


def test_inputs_of_one_name_in_different_folders_get_distinct_source_files(tmp_path: Path) -> None:
    for folder, name in (("a", "np"), ("b", "np2")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "p.yaml").write_text(F1.replace("name: np,", f"name: {name},"))
    _, out, _ = run_cli("convert", str(tmp_path / "a" / "p.yaml"), str(tmp_path / "b" / "p.yaml"), *CLUSTER)
    assert "source-file: a/p.yaml\n" in out and "source-file: b/p.yaml\n" in out
    assert str(tmp_path) not in out
    _, out, _ = run_cli("convert", str(tmp_path / "a" / "p.yaml"), *CLUSTER)
    assert "source-file: p.yaml\n" in out  # one file given: its name, as before


def test_the_export_note_does_not_cite_a_service_account_selector(tmp_path: Path) -> None:
    path = tmp_path / "sa.yaml"
    path.write_text(
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: dev}\n"
        "spec:\n  selector: all()\n  ingress:\n  - action: Allow\n"
        "    source: {serviceAccounts: {selector: \"x == 'y'\"}}\n"
    )
    _, _, err = run_cli("convert", str(path), *CLUSTER)
    assert "C2C361" not in err


F2 = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: k, namespace: dev}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  egress:
  - to:
    - podSelector: {matchLabels: {app: web}}
    ports:
    - {protocol: TCP, port: 8000, endPort: 9000}
    - {protocol: SCTP, port: web}
  - ports:
    - {protocol: TCP, port: metrics}
"""


def test_a_knp_egress_named_port_leaves_the_copy_instead_of_passing_through(tmp_path: Path) -> None:
    # Was: passed through unchanged (C2C335, an error; under --allow-partial Cilium allowed the
    # cluster-wide number towards every peer: widening, review5 finding 2).
    path = tmp_path / "knp.yaml"
    path.write_text(F2)
    assert _narrowed_only(path).count("C2C335") == 2
    result = convert([str(path)], pod_cidrs=ASSUMPTIONS.pod_cidrs, node_cidrs=ASSUMPTIONS.node_cidrs)
    (copy,) = [d for d in result.documents if d["kind"] == "NetworkPolicy"]
    # The named entry left out of the first rule; the second rule, with no other entry, left out.
    assert copy["spec"]["egress"] == [
        {
            "to": [{"podSelector": {"matchLabels": {"app": "web"}}}],
            "ports": [{"protocol": "TCP", "port": 8000, "endPort": 9000}],
        }
    ]
    assert all(
        d.severity is Severity.WARNING and d.narrowing for d in result.diagnostics if d.code == "C2C335"
    )
    code, out, _ = run_cli("convert", str(path), *CLUSTER)
    assert code == 1 and "NetworkPolicy" in out


F3 = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: ext, labels: {zone: ext}}
spec: {nets: [203.0.113.0/24, 10.244.7.0/24]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: p, namespace: dev}
spec:
  selector: has(team)
  types: [Ingress, Egress]
  ingress:
  - action: Deny
    source: {selector: zone == 'ext'}
  - action: Allow
  egress:
  - action: Allow
    destination: {selector: "zone == 'ext'", namespaceSelector: global()}
  - action: Deny
    source: {selector: "zone == 'ext'"}
  - action: Allow
"""


def test_verify_narrowing_agrees_with_convert_verify(tmp_path: Path) -> None:
    # Was: convert --verify said NARROWED, verify on the same pair DIFFERENT (exit 4), and verify
    # had no --narrowing (review5 finding 5).
    calico, cilium, empty = tmp_path / "calico.yaml", tmp_path / "cilium.yaml", tmp_path / "empty.yaml"
    calico.write_text(F3)
    code, out, err = run_cli("convert", str(calico), *CLUSTER, "--verify")
    assert code == 1 and "NARROWED" in err, err
    cilium.write_text(out)
    sides = ("--calico", str(calico), "--cilium", str(cilium), *CLUSTER)
    assert run_cli("verify", *sides)[0] == 4  # every difference counts without the flag
    code, out, _ = run_cli("verify", *sides, "--narrowing")
    assert code == 1 and out.startswith("NARROWED") and "Denied by Cilium, allowed by Calico" in out
    assert run_cli("verify", *sides, "--narrowing", "--fail-on", "error")[0] == 0
    # A widening is still a difference: no Cilium policy at all allows what Calico denies.
    empty.write_text("apiVersion: v1\nkind: List\nitems: []\n")
    assert run_cli("verify", "--calico", str(calico), "--cilium", str(empty), *CLUSTER, "--narrowing")[0] == 4


F5 = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: g}
spec:
  selector: has(team)
  types: [Ingress]
  ingress:
  - action: Deny
    source: {serviceAccounts: {selector: "tier == 'untrusted'"}}
  - action: Allow
"""
HOSTNETS = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: nodes-part, labels: {kind: infra}}
spec: {nets: [192.168.0.0/25]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: p, namespace: dev}
spec:
  selector: all()
  types: [Egress]
  egress:
  - action: Deny
    destination: {selector: "kind == 'infra'", namespaceSelector: global()}
  - action: Allow
"""


@pytest.mark.parametrize("text", [F5, HOSTNETS], ids=["f5", "20-hostnets"])
def test_a_rule_shadowed_only_by_a_widened_refusal_is_narrowing(text: str, tmp_path: Path) -> None:
    # Was: C2C351 "decides nothing: all the traffic it matches is decided before it", a benign
    # warning, although Calico's own rules let it allow traffic (review5 finding 4).
    path = tmp_path / "in.yaml"
    path.write_text(text)
    assert "C2C351" in _narrowed_only(path)
    result = convert([str(path)], pod_cidrs=ASSUMPTIONS.pod_cidrs, node_cidrs=ASSUMPTIONS.node_cidrs)
    (shadow,) = [d for d in result.diagnostics if d.code == "C2C351"]
    assert shadow.narrowing and "was refused and converted as a wider Deny" in shadow.message
    assert "decides nothing" not in shadow.message
    code, _, _ = run_cli("convert", str(path), *CLUSTER, "--fail-on", "narrowing")
    assert code == 1


def test_a_rule_calico_itself_shadows_keeps_the_plain_c2c351(tmp_path: Path) -> None:
    path = tmp_path / "in.yaml"
    path.write_text(
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: dev}\n"
        "spec:\n  selector: all()\n  ingress:\n  - action: Allow\n  - action: Deny\n    protocol: TCP\n"
    )
    result = convert([str(path)], pod_cidrs=ASSUMPTIONS.pod_cidrs, node_cidrs=ASSUMPTIONS.node_cidrs)
    (shadow,) = [d for d in result.diagnostics if d.code == "C2C351"]
    assert not shadow.narrowing and "decides nothing" in shadow.message
