"""Tier (``projectcalico.org/v3`` and ``crd.projectcalico.org/v1``), cluster-scoped.

Fields and CEL rules: ``api/pkg/apis/projectcalico/v3/tier.go`` and the tier CRDs in
shared/crds/calico ([TIER]); name rule: [V] validateTier.
"""

from __future__ import annotations

from typing import Any, Final, Literal, Self

from pydantic import Field, model_validator

from calico2cilium.calico.base import CalicoModel, Resource
from calico2cilium.calico.errors import INVALID_ORDER, INVALID_RULE, Problems
from calico2cilium.calico.fields import Order
from calico2cilium.calico.metadata import ObjectMeta
from calico2cilium.calico.names import dns_label_problems

__all__ = ["BUILTIN_TIERS", "Tier", "TierMeta", "TierSpec", "TierV1"]

TierAction = Literal["Pass", "Deny"]

BUILTIN_TIERS: Final[dict[str, tuple[float, TierAction]]] = {
    # [TIER] CEL: name -> (required order, required defaultAction).
    "kube-admin": (1_000.0, "Pass"),
    "default": (1_000_000.0, "Deny"),
    "kube-baseline": (10_000_000.0, "Pass"),
}


class TierMeta(ObjectMeta):
    """Tier names are DNS labels, ≤ 63 characters, no dots ([V] tierNameRegex)."""

    @classmethod
    def name_problems(cls, value: str) -> list[str]:
        return dns_label_problems(value)


class TierSpec(CalicoModel):
    """``order`` (absent = after all ordered tiers) and ``defaultAction`` (CRD default ``Deny``)."""

    order: Order = None
    default_action: TierAction | None = Field(default=None, alias="defaultAction")

    @property
    def effective_default_action(self) -> TierAction:
        return self.default_action or "Deny"


class _TierResource(Resource):
    api_version: str = Field(alias="apiVersion")
    kind: Literal["Tier"]
    metadata: TierMeta
    spec: TierSpec
    status: dict[str, Any] | None = None  # written by Calico ("Ready" condition), informational

    @model_validator(mode="after")
    def _builtin(self) -> Self:
        builtin = BUILTIN_TIERS.get(self.metadata.name)
        if builtin is None:
            return self
        order, action = builtin
        problems = Problems("Tier")
        if self.spec.order != order:
            message = f"the {self.metadata.name!r} tier's order must be {order:g}"
            problems.add(("spec", "order"), INVALID_ORDER, message, self.spec.order)
        if self.spec.effective_default_action != action:
            loc: tuple[str, ...] = ("spec", "defaultAction")
            message = f"the {self.metadata.name!r} tier must have default action {action!r}"
            problems.add(loc, INVALID_RULE, message, self.spec.default_action)
        problems.raise_if_any()
        return self


class Tier(_TierResource):
    """``projectcalico.org/v3`` Tier."""

    api_version: Literal["projectcalico.org/v3"] = Field(alias="apiVersion")


class TierV1(_TierResource):
    """``crd.projectcalico.org/v1`` Tier (storage form, same spec and rules)."""

    api_version: Literal["crd.projectcalico.org/v1"] = Field(alias="apiVersion")
