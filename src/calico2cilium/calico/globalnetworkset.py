"""GlobalNetworkSet (``projectcalico.org/v3`` and ``crd.projectcalico.org/v1``), cluster-scoped.

Fields: ``api/pkg/apis/projectcalico/v3/globalnetworkset.go``. Same spec as NetworkSet.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from calico2cilium.calico.base import Resource
from calico2cilium.calico.metadata import ObjectMeta
from calico2cilium.calico.networkset import NetworkSetSpec, SetMeta

__all__ = ["GlobalNetworkSet", "GlobalNetworkSetSpec", "GlobalNetworkSetV1"]

GlobalNetworkSetSpec = NetworkSetSpec


class GlobalNetworkSet(Resource):
    """``projectcalico.org/v3`` GlobalNetworkSet."""

    api_version: Literal["projectcalico.org/v3"] = Field(alias="apiVersion")
    kind: Literal["GlobalNetworkSet"]
    metadata: SetMeta
    spec: GlobalNetworkSetSpec


class GlobalNetworkSetV1(Resource):
    """``crd.projectcalico.org/v1`` GlobalNetworkSet (storage form, same spec)."""

    api_version: Literal["crd.projectcalico.org/v1"] = Field(alias="apiVersion")
    kind: Literal["GlobalNetworkSet"]
    metadata: ObjectMeta
    spec: GlobalNetworkSetSpec
