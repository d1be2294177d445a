"""NetworkPolicy (``projectcalico.org/v3`` and ``crd.projectcalico.org/v1``), namespaced.

Fields: ``api/pkg/apis/projectcalico/v3/networkpolicy.go`` and the CRDs in shared/crds/calico.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from calico2cilium.calico.errors import Problems
from calico2cilium.calico.metadata import ObjectMeta
from calico2cilium.calico.names import network_policy_name_problems
from calico2cilium.calico.policyspec import PolicyResource, PolicySpec

__all__ = ["NetworkPolicy", "NetworkPolicyMeta", "NetworkPolicySpec", "NetworkPolicyV1"]


class NetworkPolicyMeta(ObjectMeta):
    """Calico NetworkPolicy names ([V] networkPolicyNameRegex): a DNS label, optionally with one
    ``<tier>.`` prefix, or ``knp.default.``/``ossg.default.`` followed by a DNS subdomain."""

    @classmethod
    def name_problems(cls, value: str) -> list[str]:
        return network_policy_name_problems(value)


class NetworkPolicySpec(PolicySpec):
    """Calico NetworkPolicy spec: the common policy fields (selects only its own namespace)."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = Problems("NetworkPolicySpec")
        self._common_problems(problems)
        problems.raise_if_any()
        return self


class NetworkPolicy(PolicyResource):
    """``projectcalico.org/v3`` NetworkPolicy. ``metadata.namespace`` may be omitted (kubectl's
    current namespace applies)."""

    api_version: Literal["projectcalico.org/v3"] = Field(alias="apiVersion")
    kind: Literal["NetworkPolicy"]
    metadata: NetworkPolicyMeta
    spec: NetworkPolicySpec


class NetworkPolicyV1(PolicyResource):
    """``crd.projectcalico.org/v1`` NetworkPolicy: Calico's storage form, same spec."""

    api_version: Literal["crd.projectcalico.org/v1"] = Field(alias="apiVersion")
    kind: Literal["NetworkPolicy"]
    metadata: NetworkPolicyMeta
    spec: NetworkPolicySpec
