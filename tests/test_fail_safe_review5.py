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
    assert "an error where the output would allow more" in out.splitlines()[0]
    _, out, _ = run_cli("convert", "--help")
    assert "may allow more than Calico" in " ".join(out.split())


FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.mark.parametrize(
    ("case", "code", "severity"),
    [
        ("host-named-port", "C2C326", Severity.ERROR),  # an Allow on every node address: wider
        ("host-notselector-excludes-hep", "C2C327", Severity.WARNING),  # a Deny that denies more
        ("host-peer-selects-hep", "C2C325", Severity.WARNING),  # an Allow that allows less
        ("host-named-interface", "C2C323", Severity.WARNING),  # policy on traffic Calico left alone
    ],
)
def test_host_findings_are_errors_only_where_the_output_allows_more(
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
