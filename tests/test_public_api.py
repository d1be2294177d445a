"""The library API: a conversion takes one ``Cluster`` with its Cilium target, or the keyword
shorthands for its parts, and says which cluster it was for."""

from __future__ import annotations

from calico2cilium import Cluster, cilium_target
from calico2cilium.convert import convert
from calico2cilium.verify.api import verify

POLICY = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: a, namespace: shop}
spec:
  selector: app == 'x'
  ingress: [{action: Allow}]
"""


def test_a_cluster_value_and_its_target() -> None:
    cluster = Cluster(
        pod_cidrs=("10.0.0.0/16",), endpoint_to_host_action="Accept", target=cilium_target("v1.17.3")
    )
    result = convert(text=POLICY, cluster=cluster)
    assert result.cluster.target.name == "1.17" and result.diagnostics == [] and len(result.documents) == 1
    shorthand = convert(
        text=POLICY, pod_cidrs=["10.0.0.0/16"], cilium_version="1.17", endpoint_to_host_action="Accept"
    )
    assert shorthand.documents == result.documents and shorthand.cluster == result.cluster


def test_verify_takes_the_same_cluster() -> None:
    cluster = Cluster(
        pod_cidrs=("10.0.0.0/16",), endpoint_to_host_action="Accept", target=cilium_target("1.16")
    )
    result = convert(text=POLICY, cluster=cluster)
    proof = verify(result.loaded, result.documents, result.cluster)
    assert proof.status == "equivalent" and proof.assumptions.cilium_version == (1, 16)
