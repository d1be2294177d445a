"""Felix ``DefaultEndpointToHostAction`` (Drop | Return | Accept): what Calico does with a pod's
traffic to its own node after the pod's egress policy (projectcalico/calico
felix/rules/static.go ``filterWorkloadToHostChain``; docs/research/endpoint-to-host-research.md).

The assumption lives in ``Assumptions.calico_endpoint_to_host_action``; the Calico semantics apply
it to pod -> own node flows, the converter adds one policy for Drop, and the command line reads it
from ``--endpoint-to-host-action`` or ``defaultEndpointToHostAction`` in ``--cluster-config``.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import yaml

from calico2cilium.cli.cluster_options import ClusterOptions, assumptions_from
from calico2cilium.compile.endpoint_to_host import DROP_POLICY_NAME
from calico2cilium.convert import convert
from calico2cilium.facts.cluster import Cluster
from calico2cilium.facts.felix import endpoint_to_host_action as endpoint_to_host
from calico2cilium.semantics.world import DEFAULT_ENDPOINT_TO_HOST_ACTION, Assumptions, Endpoint
from calico2cilium.verify.api import verify
from helpers import run_cli as run
from helpers import verify_explained
from test_semantics_calico import np, verdict

HOST = Endpoint("host", ipaddress.ip_address("192.168.0.1"))
REMOTE_NODE = Endpoint("remote-node", ipaddress.ip_address("192.168.0.2"))
ALLOW_ALL_EGRESS = np(
    "all-out", "  selector: app == 'web'\n  types: [Egress]\n  egress:\n    - action: Allow\n"
)
CIDRS = {"pod_cidrs": ("10.0.0.0/16",), "node_cidrs": ("192.168.0.0/24",)}


def _assume(action: str) -> Assumptions:
    return Assumptions(calico_endpoint_to_host_action=action, **CIDRS)  # type: ignore[arg-type]


def test_default_is_accept_as_the_installers_set_it() -> None:
    # calico.yaml / Helm chart and the Tigera operator set FELIX_DEFAULTENDPOINTTOHOSTACTION=ACCEPT.
    assert DEFAULT_ENDPOINT_TO_HOST_ACTION == "Accept" == Assumptions().calico_endpoint_to_host_action


@pytest.mark.parametrize("action", ["Accept", "Return"])
def test_accept_and_return_leave_the_egress_policy_to_decide(action: str) -> None:
    assert verdict(ALLOW_ALL_EGRESS, HOST, "egress", assumptions=_assume(action)) == (
        True,
        "NetworkPolicy app/all-out egress[0] (Allow)",
    )
    deny = np("deny-out", "  selector: app == 'web'\n  types: [Egress]\n  egress:\n    - action: Deny\n")
    assert verdict(deny, HOST, "egress", assumptions=_assume(action))[0] is False


def test_drop_denies_own_node_after_an_allowing_policy_and_without_policy() -> None:
    drop = _assume("Drop")
    allowed, why = verdict(ALLOW_ALL_EGRESS, HOST, "egress", assumptions=drop)
    assert not allowed and "defaultEndpointToHostAction Drop" in why
    # A pod no policy selects: the profile allows, then the drop (still the own node only).
    other = Endpoint("pod", ipaddress.ip_address("10.0.0.9"), namespace="app", labels={"app": "db"})
    assert verdict(ALLOW_ALL_EGRESS, HOST, "egress", subject=other, assumptions=drop)[0] is False
    # Another node, a pod and the world are not the workload-to-host path.
    assert verdict(ALLOW_ALL_EGRESS, REMOTE_NODE, "egress", assumptions=drop)[0] is True
    # Ingress from the own node stays always allowed (host -> local workload).
    assert verdict(ALLOW_ALL_EGRESS, HOST, "ingress", assumptions=drop)[0] is True


def _calico(tmp_path: Path) -> str:
    path = tmp_path / "calico.yaml"
    path.write_text(ALLOW_ALL_EGRESS.replace("namespace: app", "namespace: shop"))
    return str(path)


@pytest.mark.parametrize("action", ["Accept", "Drop", "Return"])
def test_each_conversion_is_proven_only_under_its_own_action(tmp_path: Path, action: str) -> None:
    result = convert([_calico(tmp_path)], endpoint_to_host_action=action, **CIDRS)  # type: ignore[arg-type]
    names = [d["metadata"]["name"] for d in result.documents]
    assert (DROP_POLICY_NAME in names) == (action == "Drop")
    codes = {d.code for d in result.diagnostics}
    assert codes == {"Return": {"C2C342"}, "Drop": {"C2C344"}}.get(action, set())
    for other in ("Accept", "Drop", "Return"):
        status = verify(result.loaded, result.documents, _assume(other)).status
        # Return is Accept for Calico's own rules: the Accept and Return outputs are the same.
        same = (other == "Drop") == (action == "Drop")
        assert status == ("equivalent" if same else "different"), (action, other)


def test_drop_before_cilium_116_is_refused_and_fails_closed(tmp_path: Path) -> None:
    """C2C341 stays an error, but the documents of the run still allow nothing Calico denies:
    the drop policy without enableDefaultDeny (every pod in egress default deny) stands in."""
    result = convert([_calico(tmp_path)], endpoint_to_host_action="Drop", cilium_version="1.15", **CIDRS)  # type: ignore[arg-type]
    assert [d.code for d in result.diagnostics] == ["C2C341"]
    assert "fails closed" in result.diagnostics[0].message
    (drop,) = [d for d in result.documents if d["metadata"]["name"] == DROP_POLICY_NAME]
    assert "enableDefaultDeny" not in drop["spec"]
    assumptions = Assumptions(calico_endpoint_to_host_action="Drop", cilium_version=(1, 15), **CIDRS)  # type: ignore[arg-type]
    assert verify_explained(result, assumptions).status == "narrowed"


def test_drop_before_cilium_116_unquarantined_writes_no_stand_in(tmp_path: Path) -> None:
    """Asked not to fail closed (``quarantine=False``), nothing stands in and the message says
    what the output allows: the verifier shows the difference."""
    result = convert(  # type: ignore[arg-type]
        [_calico(tmp_path)], endpoint_to_host_action="Drop", cilium_version="1.15", quarantine=False, **CIDRS
    )
    assert [d.code for d in result.diagnostics] == ["C2C341"]
    assert "allows pod to own node traffic" in result.diagnostics[0].message
    assert DROP_POLICY_NAME not in [d["metadata"]["name"] for d in result.documents]
    assumptions = Assumptions(calico_endpoint_to_host_action="Drop", cilium_version=(1, 15), **CIDRS)  # type: ignore[arg-type]
    assert verify(result.loaded, result.documents, assumptions).status == "different"


@pytest.mark.parametrize(("text", "action"), [("DROP", "Drop"), ("return", "Return"), (" Accept ", "Accept")])
def test_felix_spellings_are_read(text: str, action: str) -> None:
    assert endpoint_to_host(text) == action
    assert endpoint_to_host("Reject") is None


def test_cluster_config_key_and_flag(tmp_path: Path) -> None:
    config = tmp_path / "cluster.yaml"
    config.write_text(yaml.safe_dump({"podCIDRs": ["10.0.0.0/16"], "defaultEndpointToHostAction": "DROP"}))
    assert (
        assumptions_from(ClusterOptions(cluster_config=str(config))).calico_endpoint_to_host_action == "Drop"
    )
    flag = ClusterOptions(cluster_config=str(config), endpoint_to_host_action="accept")
    assert assumptions_from(flag).calico_endpoint_to_host_action == "Accept"
    assert assumptions_from(ClusterOptions()).calico_endpoint_to_host_action == "Accept"


def test_bad_config_value_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "cluster.yaml"
    config.write_text("defaultEndpointToHostAction: Reject\n")
    code, _, err = run("convert", _calico(tmp_path), "--cluster-config", str(config))
    assert code == 2 and "defaultEndpointToHostAction" in err, err


def test_cli_says_when_the_action_was_assumed(tmp_path: Path) -> None:
    calico = _calico(tmp_path)
    code, out, err = run("convert", calico, "--pod-cidr", "10.0.0.0/16", "--node-cidr", "192.168.0.0/24")
    assert code == 0 and "C2C340" in err and DROP_POLICY_NAME not in out, err
    code, out, err = run(
        "convert", calico, "--pod-cidr", "10.0.0.0/16", "--node-cidr", "192.168.0.0/24",
        "--endpoint-to-host-action", "Drop", "--verify",
    )  # fmt: skip
    assert code == 0 and "C2C340" not in err and DROP_POLICY_NAME in out, err
    assert "EQUIVALENT" in err and "defaultEndpointToHostAction Drop" in err, err


def test_the_library_says_when_the_action_was_assumed(tmp_path: Path) -> None:
    # The CLI used to add C2C340 itself, so convert() callers never saw it (issue 10, item 3).
    calico = _calico(tmp_path)
    assumed = convert([calico], **CIDRS)  # type: ignore[arg-type]
    assert [d.code for d in assumed.diagnostics] == ["C2C340"]
    stated = convert([calico], endpoint_to_host_action="Accept", **CIDRS)  # type: ignore[arg-type]
    assert [d.code for d in stated.diagnostics] == []
    via_cluster = convert([calico], cluster=Cluster(endpoint_to_host_action="Accept", **CIDRS))  # type: ignore[arg-type]
    assert via_cluster.documents == stated.documents and via_cluster.diagnostics == []


def test_verify_cli_takes_the_action(tmp_path: Path) -> None:
    calico = _calico(tmp_path)
    cilium = tmp_path / "cilium.yaml"
    code, out, _ = run("convert", calico, "--pod-cidr", "10.0.0.0/16", "--node-cidr", "192.168.0.0/24")
    cilium.write_text(out)
    base = ["verify", "--calico", calico, "--cilium", str(cilium), "--pod-cidr", "10.0.0.0/16"]
    base += ["--node-cidr", "192.168.0.0/24"]
    assert run(*base)[0] == 0
    code, out, err = run(*base, "--endpoint-to-host-action", "Drop")
    assert code == 4 and "defaultEndpointToHostAction Drop" in out + err


def test_drop_policy_selects_pods_only() -> None:
    result = convert(text="", endpoint_to_host_action="Drop")
    (policy,) = result.documents
    assert policy["kind"] == "CiliumClusterwideNetworkPolicy"
    selector = policy["spec"]["endpointSelector"]
    assert selector == {
        "matchExpressions": [{"key": "k8s:io.kubernetes.pod.namespace", "operator": "Exists"}]
    }
    assert policy["spec"]["enableDefaultDeny"] == {"egress": False}
    assert policy["spec"]["egressDeny"] == [{"toEntities": ["host"]}]
