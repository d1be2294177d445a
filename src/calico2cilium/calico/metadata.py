"""``metadata`` of every input document: Kubernetes ObjectMeta with Calico's name checks.

Subclasses in the kind modules override ``ObjectMeta.name_problems`` with their kind's naming rule.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from calico2cilium.calico.base import CalicoModel
from calico2cilium.calico.errors import INVALID_NAME, invalid
from calico2cilium.calico.fields import ExactInt, Items, StrMap
from calico2cilium.calico.names import (
    check_annotations,
    check_labels,
    dns_label_problems,
    dns_subdomain_problems,
)

Timestamp = str  # the project's YAML loader keeps timestamps as strings (Kubernetes reads JSON)


class ObjectMeta(CalicoModel):
    """Kubernetes ObjectMeta as ``kubectl get -o yaml`` prints it; unknown keys are errors.

    ``name`` is required. Subclasses override ``name_problems`` with the naming rule of their
    kind; the default is the DNS-subdomain rule of [V] validateObjectMeta.
    """

    name: str
    generate_name: str | None = Field(default=None, alias="generateName")
    namespace: str | None = None
    self_link: str | None = Field(default=None, alias="selfLink")
    uid: str | None = None
    resource_version: str | None = Field(default=None, alias="resourceVersion")
    generation: ExactInt | None = None
    creation_timestamp: Timestamp | None = Field(default=None, alias="creationTimestamp")
    deletion_timestamp: Timestamp | None = Field(default=None, alias="deletionTimestamp")
    deletion_grace_period_seconds: ExactInt | None = Field(default=None, alias="deletionGracePeriodSeconds")
    labels: StrMap = Field(default_factory=dict)
    annotations: StrMap = Field(default_factory=dict)
    owner_references: Items[dict[str, Any]] = Field(default=(), alias="ownerReferences")
    finalizers: Items[str] = ()
    managed_fields: Items[dict[str, Any]] = Field(default=(), alias="managedFields")
    cluster_name: str | None = Field(default=None, alias="clusterName")  # printed by kubectl < 1.25

    @field_validator("creation_timestamp", "deletion_timestamp", mode="before")
    @classmethod
    def _timestamp(cls, value: Any) -> Any:
        # yaml.safe_load turns timestamps into datetime objects; keep the RFC 3339 text.
        isoformat = getattr(value, "isoformat", None)
        if isoformat is not None and not isinstance(value, str):
            return str(isoformat()).replace("+00:00", "Z")
        return value

    @classmethod
    def name_problems(cls, value: str) -> list[str]:
        """The naming rule of the kind; overridden by the policy and tier metadata classes."""
        return dns_subdomain_problems(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        problems = cls.name_problems(value) if value else ["must not be empty"]
        if problems:
            raise invalid(INVALID_NAME, f"invalid name {value!r}: " + "; ".join(problems))
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        # Namespaces are DNS labels (Kubernetes ValidateObjectMeta / ValidateNamespaceName); an
        # empty string means "not set", as in Kubernetes.
        if value:
            problems = dns_label_problems(value)
            if problems:
                raise invalid(INVALID_NAME, f"invalid namespace {value!r}: " + "; ".join(problems))
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        check_labels(value)
        return value

    @field_validator("annotations")
    @classmethod
    def _annotations(cls, value: dict[str, str]) -> dict[str, str]:
        check_annotations(value)
        return value


Metadata = ObjectMeta
