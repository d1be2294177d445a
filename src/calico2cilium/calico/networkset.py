"""NetworkSet (``projectcalico.org/v3`` and ``crd.projectcalico.org/v1``), namespaced.

A set of CIDRs whose labels rule selectors can match; never a policy target (docs/reference/semantics.md §1.6).
Fields: ``api/pkg/apis/projectcalico/v3/networkset.go``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from calico2cilium.calico.base import CalicoModel, Resource
from calico2cilium.calico.errors import INVALID_LABEL, Problems
from calico2cilium.calico.fields import Items
from calico2cilium.calico.metadata import ObjectMeta
from calico2cilium.calico.scalars import SetCidr

__all__ = ["NetworkSet", "NetworkSetMeta", "NetworkSetSpec", "NetworkSetV1", "SetMeta"]

NAMESPACE_LABEL = "projectcalico.org/namespace"


class SetMeta(ObjectMeta):
    """Metadata of v3 (Global)NetworkSets: the label ``projectcalico.org/namespace`` is reserved.

    [V] validateNetworkSet / validateGlobalNetworkSet: "projectcalico.org/namespace is not a valid
    label name" (Calico adds it itself when mapping sets to the data model).
    """

    @field_validator("labels")
    @classmethod
    def _reserved_label(cls, value: dict[str, str]) -> dict[str, str]:
        if NAMESPACE_LABEL in value:
            problems = Problems("labels")
            message = f"{NAMESPACE_LABEL} is not a valid label name on a network set"
            problems.add((NAMESPACE_LABEL,), INVALID_LABEL, message, NAMESPACE_LABEL)
            problems.raise_if_any()
        return value


NetworkSetMeta = SetMeta


class NetworkSetSpec(CalicoModel):
    """``nets``: CIDRs (a bare address means /32 or /128, see ``SetCidr``)."""

    nets: Items[SetCidr] = ()


class NetworkSet(Resource):
    """``projectcalico.org/v3`` NetworkSet."""

    api_version: Literal["projectcalico.org/v3"] = Field(alias="apiVersion")
    kind: Literal["NetworkSet"]
    metadata: SetMeta
    spec: NetworkSetSpec


class NetworkSetV1(Resource):
    """``crd.projectcalico.org/v1`` NetworkSet (storage form, same spec).

    The reserved-label rule is a v3 API rule, so it is not applied to the stored form.
    """

    api_version: Literal["crd.projectcalico.org/v1"] = Field(alias="apiVersion")
    kind: Literal["NetworkSet"]
    metadata: ObjectMeta
    spec: NetworkSetSpec
