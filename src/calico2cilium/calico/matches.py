"""The leaf match clauses of a rule: ``icmp``/``notICMP``, ``http``, ``serviceAccounts``, ``services``.

Each validates itself ([PC] tags, [V] and [CEL] rules); how they combine with the rest of a rule
is checked in ``calico2cilium.calico.rules``.

Sources cited as [V], [CEL], [NS], [PC], [K8S]: listed in the ``calico2cilium.calico`` docstring.
"""

from __future__ import annotations

from typing import Self

from pydantic import ValidationInfo, field_validator, model_validator

from calico2cilium.calico.base import CalicoModel, Selector
from calico2cilium.calico.errors import INVALID_ICMP, INVALID_NAME, INVALID_RULE, Problems, invalid
from calico2cilium.calico.fields import ExactInt, Items
from calico2cilium.calico.names import dns_subdomain_problems


def _icmp_type(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= 254:
        raise invalid(INVALID_ICMP, f"ICMP type {value} is out of range 0–254")
    return value


def _icmp_code(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= 255:
        raise invalid(INVALID_ICMP, f"ICMP code {value} is out of range 0–255")
    return value


class ICMPFields(CalicoModel):
    """``icmp``/``notICMP``: [PC] type 0–254, code 0–255; [CEL]/[V] code requires type."""

    type: ExactInt | None = None
    code: ExactInt | None = None

    @field_validator("type")
    @classmethod
    def _type(cls, value: int | None) -> int | None:
        return _icmp_type(value)

    @field_validator("code")
    @classmethod
    def _code(cls, value: int | None) -> int | None:
        return _icmp_code(value)

    @model_validator(mode="after")
    def _code_needs_type(self) -> Self:
        if self.code is not None and self.type is None:
            problems = Problems("ICMPFields")
            problems.add(("code",), INVALID_ICMP, "ICMP code specified without an ICMP type", self.code)
            problems.raise_if_any()
        return self


class HTTPPath(CalicoModel):
    """One HTTP path match: exactly one of ``exact`` or ``prefix`` ([V] validateHTTPPaths)."""

    exact: str | None = None
    prefix: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        problems = Problems("HTTPPath")
        if self.exact and self.prefix:
            problems.add((), INVALID_RULE, "invalid path match: both 'exact' and 'prefix' are set", None)
        elif not self.exact and not self.prefix:
            problems.add((), INVALID_RULE, "invalid path match: either 'exact' or 'prefix' must be set", None)
        else:
            key, path = ("exact", self.exact) if self.exact else ("prefix", self.prefix)
            assert path is not None
            # [V] "Checks from https://tools.ietf.org/html/rfc3986#page-22"
            if not path.startswith("/") or any(c in path for c in "? #"):
                message = f"invalid path {path!r}: must start with '/' and not contain '?', '#' or spaces"
                problems.add((key,), INVALID_RULE, message, path)
        problems.raise_if_any()
        return self


class HTTPMatch(CalicoModel):
    """``http``: methods ORed, paths ORed, the two ANDed. [V] validateHTTPMethods: no duplicates."""

    methods: Items[str] = ()
    paths: Items[HTTPPath] = ()

    @field_validator("methods")
    @classmethod
    def _unique_methods(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        problems = Problems("HTTPMatch")
        seen: set[str] = set()
        for index, method in enumerate(value):
            if method in seen:
                problems.add((index,), INVALID_RULE, f"duplicate HTTP method {method!r}", method)
            seen.add(method)
        problems.raise_if_any()
        return value


class ServiceAccountMatch(CalicoModel):
    """``serviceAccounts``: names ORed, ANDed with the selector (prefixed ``pcsa.`` by Calico)."""

    names: Items[str] = ()
    selector: Selector = None


class ServiceMatch(CalicoModel):
    """``services``: a Kubernetes Service by name and namespace ([PC] tags ``omitempty,name``)."""

    name: str | None = None
    namespace: str | None = None

    @field_validator("name", "namespace")
    @classmethod
    def _names(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value:
            problems = dns_subdomain_problems(value)
            if problems:
                raise invalid(
                    INVALID_NAME, f"invalid service {info.field_name} {value!r}: " + "; ".join(problems)
                )
        return value
