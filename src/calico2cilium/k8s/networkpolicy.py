"""Kubernetes ``networking.k8s.io/v1`` NetworkPolicy, with the API server's validation.

Sources: ``k8s.io/api/networking/v1/types.go`` (fields), ``pkg/apis/networking/validation``
(ValidateNetworkPolicy, ValidateNetworkPolicyPort/Peer, ValidateIPBlock) and
``pkg/apis/networking/v1/defaults.go`` (SetDefaults_NetworkPolicy, ..._NetworkPolicyPort), and
apimachinery's ValidateLabelSelector. Error types are the ones of ``calico2cilium.calico.errors``.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from calico2cilium.calico.base import CalicoModel, Resource
from calico2cilium.calico.errors import (
    INVALID_CIDR,
    INVALID_LABEL,
    INVALID_PORT,
    INVALID_PROTOCOL,
    INVALID_RULE,
    Problems,
    invalid,
)
from calico2cilium.calico.fields import ExactInt, Items, StrMap
from calico2cilium.calico.metadata import ObjectMeta
from calico2cilium.calico.names import (
    check_labels,
    label_value_problems,
    port_name_problems,
    qualified_name_problems,
)
from calico2cilium.calico.scalars import MAX_PORT, PrefixCidr, is_strict_subnet

__all__ = [
    "IPBlock",
    "KubernetesNetworkPolicy",
    "KubernetesNetworkPolicySpec",
    "LabelSelector",
    "LabelSelectorRequirement",
    "NetworkPolicyEgressRule",
    "NetworkPolicyIngressRule",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
]

KubernetesPolicyType = Literal["Ingress", "Egress"]


class LabelSelectorRequirement(CalicoModel):
    """``{key, operator, values}``; In/NotIn need values, Exists/DoesNotExist must have none."""

    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: Items[str] = ()

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        problems = qualified_name_problems(value)
        if problems:
            raise invalid(INVALID_LABEL, f"label key {value!r}: " + "; ".join(problems))
        return value

    @field_validator("values")
    @classmethod
    def _values(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        problems = Problems("values")
        for index, item in enumerate(value):
            for problem in label_value_problems(item):
                problems.add((index,), INVALID_LABEL, f"label value {item!r}: {problem}", item)
        problems.raise_if_any()
        return value

    @model_validator(mode="after")
    def _operator_values(self) -> Self:
        problems = Problems("LabelSelectorRequirement")
        if self.operator in ("In", "NotIn") and not self.values:
            message = f"values must be specified when operator is {self.operator!r}"
            problems.add(("values",), INVALID_RULE, message, None)
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            message = f"values may not be specified when operator is {self.operator!r}"
            problems.add(("values",), INVALID_RULE, message, None)
        problems.raise_if_any()
        return self


class LabelSelector(CalicoModel):
    """A Kubernetes label selector; ``{}`` selects everything. Terms are ANDed."""

    match_labels: StrMap = Field(default_factory=dict, alias="matchLabels")
    match_expressions: Items[LabelSelectorRequirement] = Field(default=(), alias="matchExpressions")

    @field_validator("match_labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        check_labels(value, title="matchLabels")
        return value

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions


class IPBlock(CalicoModel):
    """``ipBlock``: ``cidr`` minus each ``except`` (each a strict subset of ``cidr``)."""

    cidr: PrefixCidr
    except_: Items[PrefixCidr] = Field(default=(), alias="except")

    @model_validator(mode="after")
    def _strict_subsets(self) -> Self:
        # ValidateIPBlock: `!cidr.Contains(except.IP) || cidrMaskLen >= exceptMaskLen` is invalid.
        problems = Problems("IPBlock")
        for index, item in enumerate(self.except_):
            if not is_strict_subnet(item.network, self.cidr.network):
                message = f"except {item} must be a strict subset of cidr {self.cidr}"
                problems.add(("except", index), INVALID_CIDR, message, item.text)
        problems.raise_if_any()
        return self


class NetworkPolicyPeer(CalicoModel):
    """One ``from``/``to`` peer: ``ipBlock`` alone, or pod and/or namespace selectors."""

    pod_selector: LabelSelector | None = Field(default=None, alias="podSelector")
    namespace_selector: LabelSelector | None = Field(default=None, alias="namespaceSelector")
    ip_block: IPBlock | None = Field(default=None, alias="ipBlock")

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        # ValidateNetworkPolicyPeer.
        problems = Problems("NetworkPolicyPeer")
        given = [x for x in (self.pod_selector, self.namespace_selector, self.ip_block) if x is not None]
        if not given:
            problems.add(
                (), INVALID_RULE, "must specify a peer (podSelector, namespaceSelector or ipBlock)", None
            )
        elif self.ip_block is not None and len(given) > 1:
            problems.add(("ipBlock",), INVALID_RULE, "may not specify both ipBlock and another peer", None)
        problems.raise_if_any()
        return self


class NetworkPolicyPort(CalicoModel):
    """A port entry: ``protocol`` (default TCP), ``port`` (number or IANA name), ``endPort``."""

    protocol: str | None = None
    port: ExactInt | str | None = None
    end_port: ExactInt | None = Field(default=None, alias="endPort")

    @field_validator("protocol")
    @classmethod
    def _protocol(cls, value: str | None) -> str | None:
        if value is not None and value not in ("TCP", "UDP", "SCTP"):
            raise invalid(INVALID_PROTOCOL, f"unsupported protocol {value!r}: must be TCP, UDP or SCTP")
        return value

    @field_validator("port", mode="before")
    @classmethod
    def _port_type(cls, value: Any) -> Any:
        # IntOrString: a YAML integer or string; bools and floats are errors, never coerced.
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | str)):
            raise invalid(INVALID_PORT, f"a port must be a number or a name, not {value!r}")
        return value

    @field_validator("port")
    @classmethod
    def _port(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, int) and not 1 <= value <= MAX_PORT:
            raise invalid(INVALID_PORT, f"invalid port {value}: must be 1–{MAX_PORT}")
        if isinstance(value, str):
            # A string is always a port *name* (IANA_SVC_NAME); "80" as a string is invalid.
            problems = port_name_problems(value)
            if problems:
                raise invalid(INVALID_PORT, f"invalid port name {value!r}: " + "; ".join(problems))
        return value

    @model_validator(mode="after")
    def _end_port(self) -> Self:
        problems = Problems("NetworkPolicyPort")
        end = self.end_port
        if end is not None:
            if self.port is None:
                problems.add(("endPort",), INVALID_PORT, "endPort may not be specified when port is not", end)
            elif isinstance(self.port, str):
                problems.add(
                    ("endPort",), INVALID_PORT, "endPort may not be specified when port is a name", end
                )
            elif end < self.port:
                problems.add(("endPort",), INVALID_PORT, f"endPort {end} must be ≥ port {self.port}", end)
            elif end > MAX_PORT:
                problems.add(("endPort",), INVALID_PORT, f"invalid endPort {end}: must be 1–{MAX_PORT}", end)
        problems.raise_if_any()
        return self

    @property
    def effective_protocol(self) -> Literal["TCP", "UDP", "SCTP"]:
        """SetDefaults_NetworkPolicyPort: an absent protocol is TCP."""
        if self.protocol in ("UDP", "SCTP"):
            return "UDP" if self.protocol == "UDP" else "SCTP"
        return "TCP"


class NetworkPolicyIngressRule(CalicoModel):
    """Allow from any of ``from`` (absent or empty = all sources) on any of ``ports``."""

    from_: Items[NetworkPolicyPeer] = Field(default=(), alias="from")
    ports: Items[NetworkPolicyPort] = ()


class NetworkPolicyEgressRule(CalicoModel):
    """Allow to any of ``to`` (absent or empty = all destinations) on any of ``ports``."""

    to: Items[NetworkPolicyPeer] = ()
    ports: Items[NetworkPolicyPort] = ()


class KubernetesNetworkPolicySpec(CalicoModel):
    """NetworkPolicy spec. An absent ``podSelector`` is the empty selector (all pods)."""

    pod_selector: LabelSelector = Field(default_factory=LabelSelector, alias="podSelector")
    policy_types: Items[KubernetesPolicyType] | None = Field(default=None, alias="policyTypes")
    ingress: Items[NetworkPolicyIngressRule] = ()
    egress: Items[NetworkPolicyEgressRule] = ()

    @field_validator("policy_types")
    @classmethod
    def _at_most_two(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and len(value) > 2:
            raise invalid(INVALID_RULE, "may not specify more than two policyTypes")
        return value


class KubernetesNetworkPolicy(Resource):
    """``networking.k8s.io/v1`` NetworkPolicy, including the ``status`` kubectl may print."""

    api_version: Literal["networking.k8s.io/v1"] = Field(alias="apiVersion")
    kind: Literal["NetworkPolicy"]
    metadata: ObjectMeta
    spec: KubernetesNetworkPolicySpec = Field(default_factory=KubernetesNetworkPolicySpec)
    status: dict[str, Any] | None = None

    def effective_policy_types(self) -> tuple[KubernetesPolicyType, ...]:
        """SetDefaults_NetworkPolicy: without policyTypes, Ingress, plus Egress if ``len(egress) != 0``."""
        if self.spec.policy_types:
            return tuple(self.spec.policy_types)
        return ("Ingress", "Egress") if self.spec.egress else ("Ingress",)
