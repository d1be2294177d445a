"""Registry of the input kinds: ``(apiVersion, kind)`` to the pydantic model that reads it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Final

from calico2cilium.calico.base import API_CRD_V1, API_V3

if TYPE_CHECKING:
    from pydantic import BaseModel

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


class _Models(Mapping[tuple[str, str], "type[BaseModel]"]):
    """``(apiVersion, kind) -> model``, importing a model's module only when it is asked for: building
    the pydantic models of every kind costs more than linting a file of one kind."""

    def __init__(self, where: dict[tuple[str, str], tuple[str, str]]) -> None:
        self._where = where
        self._loaded: dict[tuple[str, str], type[BaseModel]] = {}

    def __getitem__(self, key: tuple[str, str]) -> type[BaseModel]:
        model = self._loaded.get(key)
        if model is None:
            module, name = self._where[key]
            model = self._loaded[key] = getattr(import_module(f"calico2cilium.{module}"), name)
        return model

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


MODELS: Final[Mapping[tuple[str, str], type[BaseModel]]] = _Models(
    {
        (API_V3, "GlobalNetworkPolicy"): ("calico.globalnetworkpolicy", "GlobalNetworkPolicy"),
        (API_V3, "NetworkPolicy"): ("calico.networkpolicy", "NetworkPolicy"),
        (API_V3, "HostEndpoint"): ("calico.hostendpoint", "HostEndpoint"),
        (API_V3, "NetworkSet"): ("calico.networkset", "NetworkSet"),
        (API_V3, "GlobalNetworkSet"): ("calico.globalnetworkset", "GlobalNetworkSet"),
        (API_V3, "Tier"): ("calico.tier", "Tier"),
        (API_CRD_V1, "GlobalNetworkPolicy"): ("calico.globalnetworkpolicy", "GlobalNetworkPolicyV1"),
        (API_CRD_V1, "NetworkPolicy"): ("calico.networkpolicy", "NetworkPolicyV1"),
        (API_CRD_V1, "HostEndpoint"): ("calico.hostendpoint", "HostEndpointV1"),
        (API_CRD_V1, "NetworkSet"): ("calico.networkset", "NetworkSetV1"),
        (API_CRD_V1, "GlobalNetworkSet"): ("calico.globalnetworkset", "GlobalNetworkSetV1"),
        (API_CRD_V1, "Tier"): ("calico.tier", "TierV1"),
        (API_K8S_NETWORKING, "NetworkPolicy"): ("k8s.networkpolicy", "KubernetesNetworkPolicy"),
    }
)

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
        # tiers (docs/reference/semantics.md §1.2).
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
