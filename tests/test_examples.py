"""The bundled examples that ``make demo`` runs: the whole-cluster example converts and is proven
equivalent; the narrowed one is proven narrowed; the broken one fails lint."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import run_cli as run

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "examples" / "cluster"
HOST_WARNINGS = {"C2C320", "C2C321", "C2C322", "C2C324"}
SHADOWED = {"C2C352"}
NODE_NETS = {"C2C389"}
"""Allow rules whose nets cover the node range: exact only if nodes have no other address."""
"""The example's security tier ends each policy in a Pass: security.deny-metadata-api passes every
pod's egress, so the egress rules of the policies after it in that tier decide nothing in Calico
(C2C352 says so; the example is kept as the docs wrote it)."""


def test_cluster_example_converts_and_is_proven_equivalent(tmp_path: Path) -> None:
    out = tmp_path / "cilium"
    code, _, err = run(
        "convert",
        "-R",
        str(CLUSTER / "calico"),
        "--cluster-config",
        str(CLUSTER / "cluster.yaml"),
        "--verify",
        "--output-dir",
        str(out),
    )
    # Exit 1: the host policies always carry their warnings (host firewall, node labels, failsafe
    # ports, host -> own pods); nothing else may warn, and the verifier must prove it all.
    assert code == 1, err
    assert "EQUIVALENT" in err and " 0 errors," in err, err
    warned = set(re.findall(r" warning (C2C\d+) ", err))
    assert warned and warned <= HOST_WARNINGS | SHADOWED | NODE_NETS, err
    assert (out / "cnp-shop-api.yaml").is_file()
    assert (out / "ccg-calico-ns-shop-payment-gateway.yaml").is_file()
    host_policy = (out / "ccnp-security.protect-nodes.yaml").read_text()
    assert "nodeSelector" in host_policy and "endpointSelector" not in host_policy


def test_cluster_example_is_at_least_40_documents() -> None:
    code, _, err = run("lint", "-R", str(CLUSTER / "calico"))
    assert code == 0, err
    resources = int(err.split(" resources,")[0].rsplit(" ", 1)[1])
    assert resources >= 40, err


def test_broken_example_fails_lint() -> None:
    code, out, _ = run("lint", str(ROOT / "examples" / "broken"))
    assert code == 2 and "error" in out


def test_narrowed_example_is_proven_narrowed_with_its_warning() -> None:
    # make demo's narrowed conversion: the refused rule (a 'contains' selector without an
    # inventory) is left out with C2C303, its policy keeps the pods in default deny, and the
    # verifier proves Cilium allows nothing Calico denies: exit 1, output written.
    code, out, err = run(
        "convert",
        str(ROOT / "examples" / "narrowed"),
        "--pod-cidr",
        "10.244.0.0/16",
        "--node-cidr",
        "10.0.0.0/24",
        "--endpoint-to-host-action",
        "Accept",
        "--verify",
    )
    assert code == 1, err
    assert re.search(r"billing\.yaml:\d+:\d+: warning C2C303 ", err), err
    assert "NARROWED" in err and "kind: CiliumNetworkPolicy" in out
