"""GlobalNetworkPolicy (``projectcalico.org/v3`` and ``crd.projectcalico.org/v1``).

Fields: ``api/pkg/apis/projectcalico/v3/globalnetworkpolicy.go`` and the CRDs in shared/crds/calico.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from calico2cilium.calico.base import Selector, has_global_selector
from calico2cilium.calico.errors import INVALID_RULE, Problems
from calico2cilium.calico.fields import Flag
from calico2cilium.calico.metadata import ObjectMeta
from calico2cilium.calico.names import global_network_policy_name_problems
from calico2cilium.calico.policyspec import PolicyResource, PolicySpec

__all__ = [
    "GlobalNetworkPolicy",
    "GlobalNetworkPolicyMeta",
    "GlobalNetworkPolicySpec",
    "GlobalNetworkPolicyV1",
]


class GlobalNetworkPolicyMeta(ObjectMeta):
    """GNP names: a DNS label, optionally ``<tier>.`` prefixed ([V] globalNetworkPolicyNameRegex)."""

    @classmethod
    def name_problems(cls, value: str) -> list[str]:
        return global_network_policy_name_problems(value)


class GlobalNetworkPolicySpec(PolicySpec):
    """GNP spec: the common policy fields plus host-endpoint options and ``namespaceSelector``."""

    namespace_selector: Selector = Field(default=None, alias="namespaceSelector")
    do_not_track: Flag = Field(default=False, alias="doNotTrack")
    pre_dnat: Flag = Field(default=False, alias="preDNAT")
    apply_on_forward: Flag = Field(default=False, alias="applyOnForward")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = Problems("GlobalNetworkPolicySpec")
        self._common_problems(problems)
        if has_global_selector(self.namespace_selector):  # [CEL] on the spec
            message = "global() can only be used in an EntityRule namespaceSelector"
            problems.add(("namespaceSelector",), INVALID_RULE, message, self.namespace_selector)
        # [CEL] on GlobalNetworkPolicySpec (and [V] validateGlobalNetworkPolicySpec before v3.32).
        if self.pre_dnat and self.do_not_track:
            problems.add(("preDNAT",), INVALID_RULE, "preDNAT and doNotTrack cannot both be true", True)
        if self.pre_dnat and self.egress:
            problems.add(("egress",), INVALID_RULE, "preDNAT policy cannot have any egress rules", None)
        if self.pre_dnat:
            for index, kind in enumerate(self.types or ()):
                if kind == "Egress":
                    problems.add(
                        ("types", index), INVALID_RULE, "preDNAT policy cannot have 'Egress' type", kind
                    )
        if (self.pre_dnat or self.do_not_track) and not self.apply_on_forward:
            if "apply_on_forward" in self.model_fields_set:
                key = "applyOnForward"
            else:
                key = "preDNAT" if self.pre_dnat else "doNotTrack"
            message = "applyOnForward must be true if either preDNAT or doNotTrack is true"
            problems.add((key,), INVALID_RULE, message, self.apply_on_forward)
        # [V] validateGlobalNetworkPolicySpec: a service named at global scope needs a namespace.
        for direction, rules, side in (
            ("egress", self.egress, "destination"),
            ("ingress", self.ingress, "source"),
        ):
            for index, rule in enumerate(rules):
                services = getattr(rule, side).services
                if services is not None and not services.namespace:
                    loc = (direction, index, side, "services")
                    problems.add(
                        loc, INVALID_RULE, "services in a GlobalNetworkPolicy must specify a namespace", None
                    )
        problems.raise_if_any()
        return self


class GlobalNetworkPolicy(PolicyResource):
    """``projectcalico.org/v3`` GlobalNetworkPolicy (cluster-scoped)."""

    api_version: Literal["projectcalico.org/v3"] = Field(alias="apiVersion")
    kind: Literal["GlobalNetworkPolicy"]
    metadata: GlobalNetworkPolicyMeta
    spec: GlobalNetworkPolicySpec


class GlobalNetworkPolicyV1(PolicyResource):
    """``crd.projectcalico.org/v1`` GlobalNetworkPolicy: Calico's storage form, same spec.

    Names may carry the ``<tier>.`` prefix (see ``policy_name``); an absent ``types`` means
    Ingress and Egress to felix (see ``effective_types``).
    """

    api_version: Literal["crd.projectcalico.org/v1"] = Field(alias="apiVersion")
    kind: Literal["GlobalNetworkPolicy"]
    metadata: GlobalNetworkPolicyMeta
    spec: GlobalNetworkPolicySpec
