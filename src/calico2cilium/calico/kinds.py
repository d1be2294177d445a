"""Registry of the input kinds: ``(apiVersion, kind)`` to the pydantic model that reads it."""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel

from calico2cilium.calico.base import API_CRD_V1, API_V3
from calico2cilium.calico.globalnetworkpolicy import GlobalNetworkPolicy, GlobalNetworkPolicyV1
from calico2cilium.calico.globalnetworkset import GlobalNetworkSet, GlobalNetworkSetV1
from calico2cilium.calico.hostendpoint import HostEndpoint, HostEndpointV1
from calico2cilium.calico.networkpolicy import NetworkPolicy, NetworkPolicyV1
from calico2cilium.calico.networkset import NetworkSet, NetworkSetV1
from calico2cilium.calico.tier import Tier, TierV1
from calico2cilium.k8s.networkpolicy import KubernetesNetworkPolicy

__all__ = [
    "API_CRD_V1",
    "API_K8S_NETWORKING",
    "API_V3",
    "CALICO_NOT_POLICY_KINDS",
    "KNOWN_UNSUPPORTED_KINDS",
    "MODELS",
    "model_for",
]

API_K8S_NETWORKING: Final = "networking.k8s.io/v1"

MODELS: Final[dict[tuple[str, str], type[BaseModel]]] = {
    (API_V3, "GlobalNetworkPolicy"): GlobalNetworkPolicy,
    (API_V3, "NetworkPolicy"): NetworkPolicy,
    (API_V3, "HostEndpoint"): HostEndpoint,
    (API_V3, "NetworkSet"): NetworkSet,
    (API_V3, "GlobalNetworkSet"): GlobalNetworkSet,
    (API_V3, "Tier"): Tier,
    (API_CRD_V1, "GlobalNetworkPolicy"): GlobalNetworkPolicyV1,
    (API_CRD_V1, "NetworkPolicy"): NetworkPolicyV1,
    (API_CRD_V1, "HostEndpoint"): HostEndpointV1,
    (API_CRD_V1, "NetworkSet"): NetworkSetV1,
    (API_CRD_V1, "GlobalNetworkSet"): GlobalNetworkSetV1,
    (API_CRD_V1, "Tier"): TierV1,
    (API_K8S_NETWORKING, "NetworkPolicy"): KubernetesNetworkPolicy,
}

CALICO_NOT_POLICY_KINDS: Final = frozenset(
    {
        "BGPConfiguration",
        "BGPFilter",
        "BGPPeer",
        "BlockAffinity",
        "CalicoNodeStatus",
        "ClusterInformation",
        "IPAMBlock",
        "IPAMConfiguration",
        "IPAMHandle",
        "IPReservation",
        "KubeControllersConfiguration",
        "Node",
    }
)
"""Calico kinds about routing, address management and status: no effect on policy verdicts (the
loader skips them with a note, ``calico.nonpolicy``)."""

KNOWN_UNSUPPORTED_KINDS: Final = frozenset(
    {
        # Staged policies are not enforced (the loader reports them as skipped).
        "StagedGlobalNetworkPolicy",
        "StagedNetworkPolicy",
        "StagedKubernetesNetworkPolicy",
        # Calico kinds that can change what traffic is allowed but have no conversion here.
        "Profile",
        "WorkloadEndpoint",
        "FelixConfiguration",
        "QoSPolicy",
        # Kubernetes cluster-scoped policies that Calico enforces in its kube-admin/kube-baseline
        # tiers (semantics.md §1.2).
        "AdminNetworkPolicy",
        "BaselineAdminNetworkPolicy",
        "ClusterNetworkPolicy",
        "IPPool",
        # Other Calico API kinds (networking, IPAM, BGP, status): not policy, not converted.
        *CALICO_NOT_POLICY_KINDS,
    }
)
"""Kinds we recognise but do not convert, so a loader can say "not supported" rather than "unknown"."""


def model_for(api_version: str, kind: str) -> type[BaseModel] | None:
    """The model for ``(apiVersion, kind)``, or None when the pair is not an input kind."""
    return MODELS.get((api_version, kind))
