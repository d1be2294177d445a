"""HostEndpoint (``projectcalico.org/v3`` and ``crd.projectcalico.org/v1``), cluster-scoped.

Fields and rules: ``api/pkg/apis/projectcalico/v3/hostendpoint.go`` ([HEP]) with its CEL rules,
and [V] (``libcalico-go/lib/validator/v3/validator.go``) validateInterface, validateEndpointPort.
"""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from calico2cilium.calico.base import CalicoModel, Resource
from calico2cilium.calico.errors import (
    INVALID_NAME,
    INVALID_PORT,
    INVALID_PROTOCOL,
    INVALID_RULE,
    Problems,
    invalid,
)
from calico2cilium.calico.fields import ExactInt, Items
from calico2cilium.calico.metadata import ObjectMeta
from calico2cilium.calico.names import dns_subdomain_problems, port_name_problems
from calico2cilium.calico.scalars import MAX_PORT, IPAddress, Protocol

__all__ = ["EndpointPort", "HostEndpoint", "HostEndpointSpec", "HostEndpointV1"]

_INTERFACE_RE = re.compile(r"[a-zA-Z0-9_.-]{1,15}")  # [V] interfaceRegex


class EndpointPort(CalicoModel):
    """A named port of the host endpoint, usable by rules' named ports."""

    name: str
    protocol: Protocol
    port: ExactInt

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        # [HEP] `validate:"portName"`: Kubernetes IANA_SVC_NAME.
        problems = port_name_problems(value) if value else ["must not be empty"]
        if problems:
            raise invalid(INVALID_PORT, f"invalid port name {value!r}: " + "; ".join(problems))
        return value

    @field_validator("protocol")
    @classmethod
    def _protocol(cls, value: Protocol) -> Protocol:
        # [V] validateEndpointPort: the protocol must support ports (TCP, UDP, SCTP / 6, 17, 132).
        if not value.supports_ports():
            raise invalid(INVALID_PROTOCOL, f"endpoint port protocol {value} does not support ports")
        return value

    @field_validator("port")
    @classmethod
    def _port(cls, value: int) -> int:
        # [HEP] Minimum=1, Maximum=65535 (`validate:"gt=0"` on a uint16).
        if not 1 <= value <= MAX_PORT:
            raise invalid(INVALID_PORT, f"invalid port {value}: must be 1–{MAX_PORT}")
        return value


class HostEndpointSpec(CalicoModel):
    """HEP spec. ``node`` is required ([HEP] CEL "node must be specified")."""

    node: str
    interface_name: str | None = Field(default=None, alias="interfaceName")
    expected_ips: Items[IPAddress] = Field(default=(), alias="expectedIPs")
    profiles: Items[str] = ()
    ports: Items[EndpointPort] = ()

    @field_validator("node")
    @classmethod
    def _node(cls, value: str) -> str:
        # [HEP] `validate:"omitempty,name"` plus the CEL rule that it is not empty.
        problems = dns_subdomain_problems(value) if value else ["node must be specified"]
        if problems:
            raise invalid(INVALID_NAME, f"invalid node name {value!r}: " + "; ".join(problems))
        return value

    @field_validator("interface_name")
    @classmethod
    def _interface(cls, value: str | None) -> str | None:
        # [V] validateInterface: "*" or ^[a-zA-Z0-9_.-]{1,15}$ (empty means "use expectedIPs").
        if value and value != "*" and not _INTERFACE_RE.fullmatch(value):
            message = f"invalid interface name {value!r}: '*' or 1–15 characters of [a-zA-Z0-9_.-]"
            raise invalid(INVALID_NAME, message)
        return value

    @field_validator("profiles")
    @classmethod
    def _profiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # [HEP] `validate:"omitempty,dive,name"`.
        problems = Problems("profiles")
        for index, profile in enumerate(value):
            for problem in dns_subdomain_problems(profile) if profile else ["must not be empty"]:
                problems.add((index,), INVALID_NAME, f"invalid profile name {profile!r}: {problem}", profile)
        problems.raise_if_any()
        return value

    @model_validator(mode="after")
    def _interface_or_ips(self) -> Self:
        # [HEP] CEL "at least one of interfaceName or expectedIPs must be specified".
        if not self.interface_name and not self.expected_ips:
            problems = Problems("HostEndpointSpec")
            message = "at least one of interfaceName or expectedIPs must be specified"
            problems.add((), INVALID_RULE, message, None)
            problems.raise_if_any()
        return self

    @property
    def all_interfaces(self) -> bool:
        """``interfaceName: "*"``: governs all traffic of the host's default network namespace."""
        return self.interface_name == "*"


class HostEndpoint(Resource):
    """``projectcalico.org/v3`` HostEndpoint."""

    api_version: Literal["projectcalico.org/v3"] = Field(alias="apiVersion")
    kind: Literal["HostEndpoint"]
    metadata: ObjectMeta
    spec: HostEndpointSpec


class HostEndpointV1(Resource):
    """``crd.projectcalico.org/v1`` HostEndpoint (storage form, same spec)."""

    api_version: Literal["crd.projectcalico.org/v1"] = Field(alias="apiVersion")
    kind: Literal["HostEndpoint"]
    metadata: ObjectMeta
    spec: HostEndpointSpec
