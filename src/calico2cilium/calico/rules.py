"""A policy rule: ``Rule``, its ``source``/``destination`` (``EntityRule``) and its ``metadata``.

The cross-field checks of [V] validateRule/validateEntityRule and the [CEL] rules: ports need a
protocol that has ports, ICMP fields need an ICMP protocol, one IP family per rule, ``http`` only
on Allow rules, ``services`` alone in its side.

Sources cited as [V], [CEL], [NS], [PC], [K8S]: listed in the ``calico2cilium.calico`` docstring.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Final, Literal, Self

from pydantic import BeforeValidator, Field, field_validator, model_validator

from calico2cilium.calico.base import CalicoModel, Selector, has_global_selector
from calico2cilium.calico.errors import INVALID_RULE, Loc, Problems
from calico2cilium.calico.fields import IPVersion, Items, StrMap
from calico2cilium.calico.matches import HTTPMatch, ICMPFields, ServiceAccountMatch, ServiceMatch
from calico2cilium.calico.names import check_annotations
from calico2cilium.calico.scalars import Cidr, Port, Protocol


class EntityRule(CalicoModel):
    """A rule's ``source`` or ``destination``. All present criteria are ANDed."""

    nets: Items[Cidr] = ()
    not_nets: Items[Cidr] = Field(default=(), alias="notNets")
    selector: Selector = None
    not_selector: Selector = Field(default=None, alias="notSelector")
    namespace_selector: Selector = Field(default=None, alias="namespaceSelector")
    ports: Items[Port] = ()
    not_ports: Items[Port] = Field(default=(), alias="notPorts")
    service_accounts: ServiceAccountMatch | None = Field(default=None, alias="serviceAccounts")
    services: ServiceMatch | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = Problems("EntityRule")
        # [CEL] EntityRule / [V] validateEntityRule.
        if has_global_selector(self.selector):
            problems.add(
                ("selector",),
                INVALID_RULE,
                "global() can only be used in an EntityRule namespaceSelector",
                self.selector,
            )
        ns = self.namespace_selector
        if ns is not None and "global(" in ns and not re.fullmatch(r"\s*global\(\s*\)\s*", ns):
            # [V]: tokenised, the selector must be exactly the global() token.
            problems.add(
                ("namespaceSelector",), INVALID_RULE, "global() cannot be combined with other selectors", ns
            )
        if self.services is not None:
            if not self.services.name:
                problems.add(("services",), INVALID_RULE, "services must specify a service name", None)
            conflicts: list[tuple[str, Any, str]] = [
                ("namespaceSelector", self.namespace_selector or None, "NamespaceSelector"),
                ("selector", self.selector or None, "Selector/NotSelector"),
                ("notSelector", self.not_selector or None, "Selector/NotSelector"),
                ("serviceAccounts", self.service_accounts, "ServiceAccounts"),
                ("nets", self.nets or None, "Nets/NotNets"),
                ("notNets", self.not_nets or None, "Nets/NotNets"),
            ]
            for key, value, label in conflicts:
                if value is not None:
                    message = f"cannot specify {label} and Services on the same rule"
                    problems.add((key,), INVALID_RULE, message, None)
        problems.raise_if_any()
        return self


class RuleMetadata(CalicoModel):
    """``metadata`` of a rule: annotations only ([V] validateRuleMetadata)."""

    annotations: StrMap = Field(default_factory=dict)

    @field_validator("annotations")
    @classmethod
    def _annotations(cls, value: dict[str, str]) -> dict[str, str]:
        check_annotations(value)
        return value


Action = Literal["Allow", "Deny", "Log", "Pass"]
_Side = Annotated[EntityRule, BeforeValidator(lambda value: {} if value is None else value)]
"""``source: null`` is an empty side: Go decodes JSON null into the EntityRule struct (not a
pointer) as its zero value, and the API server prunes nulls; as ``ingress: null`` is no rules."""
_SIDES: Final = (("source", "source"), ("destination", "destination"))
_PORT_LISTS: Final = (("ports", "ports"), ("not_ports", "notPorts"))
_NET_LISTS: Final = (("nets", "nets"), ("not_nets", "notNets"))


class Rule(CalicoModel):
    """One ingress or egress rule. Cross-field checks follow [V] validateRule and the [CEL] rules."""

    action: Action
    ip_version: IPVersion | None = Field(default=None, alias="ipVersion")
    protocol: Protocol | None = None
    icmp: ICMPFields | None = None
    not_protocol: Protocol | None = Field(default=None, alias="notProtocol")
    not_icmp: ICMPFields | None = Field(default=None, alias="notICMP")
    source: _Side = Field(default_factory=EntityRule)
    destination: _Side = Field(default_factory=EntityRule)
    http: HTTPMatch | None = None
    metadata: RuleMetadata | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = Problems("Rule")
        self._check_ports(problems)
        self._check_icmp(problems)
        self._check_nets(problems)
        # [CEL] "HTTP match is only valid on Allow rules" / [V] ruleUsesAppLayerPolicy.
        if self.http is not None and self.action != "Allow":
            problems.add(("http",), INVALID_RULE, "HTTP match is only valid on Allow rules", None)
        # [CEL] "rules with HTTP match must have protocol TCP or unset" (TCP or 6).
        if self.http is not None and self.protocol is not None and self.protocol.number != 6:
            message = "rules with HTTP match must have protocol TCP or unset"
            problems.add(("protocol",), INVALID_RULE, message, self.protocol.value)
        # [CEL]/[V] "ports and notPorts cannot be specified with services" (destination only).
        if self.destination.services is not None:
            for attr, key in _PORT_LISTS:
                if getattr(self.destination, attr):
                    message = f"cannot specify {key} with a destination service selector"
                    problems.add(("destination", key), INVALID_RULE, message, None)
        problems.raise_if_any()
        return self

    def _check_ports(self, problems: Problems) -> None:
        # [V] validateRule: without a protocol only named ports are allowed (they match on any
        # protocol); with a protocol that has no ports (not TCP/UDP/SCTP or 6/17/132) no port is.
        for side, side_key in _SIDES:
            entity: EntityRule = getattr(self, side)
            for attr, key in _PORT_LISTS:
                ports: tuple[Port, ...] = getattr(entity, attr)
                if self.protocol is None:
                    numeric = [i for i, p in enumerate(ports) if not p.is_named]
                    if numeric:
                        message = (
                            "rules with numeric port or port range must set protocol to TCP, UDP or SCTP"
                        )
                        problems.add(
                            (side_key, key, numeric[0]), INVALID_RULE, message, str(ports[numeric[0]])
                        )
                elif ports and not self.protocol.supports_ports():
                    message = f"protocol {self.protocol} has no ports; ports need protocol TCP, UDP or SCTP"
                    problems.add((side_key, key), INVALID_RULE, message, None)

    def _check_icmp(self, problems: Problems) -> None:
        # [CEL] "ICMP fields require protocol to be ICMP or ICMPv6" (ICMP, ICMPv6, 1 or 58).
        if self.icmp is not None and (self.protocol is None or self.protocol.number not in (1, 58)):
            problems.add(("icmp",), INVALID_RULE, "ICMP fields require protocol to be ICMP or ICMPv6", None)
        # [CEL]/[V]: ICMP needs ipVersion 4 and ICMPv6 needs 6 when ipVersion is set (also notProtocol).
        if self.ip_version is None:
            return
        for proto in (self.protocol, self.not_protocol):
            if proto is None:
                continue
            if proto.number == 1 and self.ip_version != 4:
                problems.add(
                    ("ipVersion",), INVALID_RULE, "protocol ICMP requires ipVersion 4", self.ip_version
                )
            elif proto.number == 58 and self.ip_version != 6:
                problems.add(
                    ("ipVersion",), INVALID_RULE, "protocol ICMPv6 requires ipVersion 6", self.ip_version
                )

    def net_entries(self) -> Iterator[tuple[Loc, Cidr]]:
        """Every CIDR of ``nets``/``notNets`` on both sides, with its location in the rule."""
        for side, side_key in _SIDES:
            entity: EntityRule = getattr(self, side)
            for attr, key in _NET_LISTS:
                for index, cidr in enumerate(getattr(entity, attr)):
                    yield (side_key, key, index), cidr

    def _check_nets(self, problems: Problems) -> None:
        # [V] validateRule scanNets: every CIDR of the rule (both sides, nets and notNets) has one
        # IP family, which must agree with ipVersion; a catch-all /0 in notNets matches nothing.
        first_family: int | None = None
        for side, side_key in _SIDES:
            entity: EntityRule = getattr(self, side)
            for attr, key in _NET_LISTS:
                cidrs: tuple[Cidr, ...] = getattr(entity, attr)
                for index, cidr in enumerate(cidrs):
                    loc = (side_key, key, index)
                    if self.ip_version is not None and cidr.version != self.ip_version:
                        message = (
                            f"rule IP version {self.ip_version} doesn't match CIDR {cidr} (IPv{cidr.version})"
                        )
                        problems.add(loc, INVALID_RULE, message, cidr.text)
                    elif first_family is None:
                        first_family = cidr.version
                    elif cidr.version != first_family:
                        message = f"rule contains both IPv4 and IPv6 CIDRs ({cidr} is IPv{cidr.version})"
                        problems.add(loc, INVALID_RULE, message, cidr.text)
                    if attr == "not_nets" and cidr.network.prefixlen == 0:
                        # [V] only compares the text "0.0.0.0/0" (and ::/0 parsed); any /0 masks
                        # to the catch-all, so every /0 is refused here.
                        message = f"catch-all CIDR {cidr} in notNets matches no traffic"
                        problems.add(loc, INVALID_RULE, message, cidr.text)
