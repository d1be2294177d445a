"""The base of every input model, the ``Selector`` field type, and selector discovery.

``CalicoModel``: frozen, unknown fields are errors; YAML keys are the aliases and Python names are
snake_case (``populate_by_name`` accepts both). ``Resource`` is a whole document; its
``selector_fields`` finds every field typed ``Selector``, with its YAML path, wherever the model
nests it. Also here: the [CEL] check of where ``global()`` may appear, and the two Calico API
versions a document may have.

Sources cited as [V], [CEL], [NS], [PC], [K8S]: listed in the ``calico2cilium.calico`` docstring.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Final, TypeAlias

from pydantic import BaseModel, ConfigDict

JsonPath: TypeAlias = tuple[str | int, ...]
API_V3: Final = "projectcalico.org/v3"
API_CRD_V1: Final = "crd.projectcalico.org/v1"


class CalicoModel(BaseModel):
    """Base of every input model: immutable, unknown fields are errors, aliases are YAML keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _SelectorMarker:
    """Marks a field whose value is a Calico selector expression (see ``selector_fields``)."""

    def __repr__(self) -> str:
        return "<selector>"


SELECTOR: Final = _SelectorMarker()

Selector = Annotated[str | None, SELECTOR]
"""A Calico selector expression, stored verbatim (parsed by ``calico2cilium.calico.selector``)."""


def has_global_selector(expression: str | None) -> bool:
    """[CEL] ``selector.contains('global(')`` (the Go check uses "global()"; this is the stricter one)."""
    return expression is not None and "global(" in expression


def _walk_selectors(model: BaseModel, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None:
            continue
        key = info.alias or name
        if isinstance(value, str):
            if any(isinstance(meta, _SelectorMarker) for meta in info.metadata):
                yield (*path, key), value
        elif isinstance(value, BaseModel):
            yield from _walk_selectors(value, (*path, key))
        elif isinstance(value, tuple):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _walk_selectors(item, (*path, key, index))


class Resource(CalicoModel):
    """A whole input document (apiVersion, kind, metadata, spec)."""

    status: dict[str, Any] | None = None
    """Ignored, as ``metadata.managedFields`` is: written by the API server and controllers, never
    policy. ``kubectl get -o yaml`` prints it (``status: {}`` on custom resources), and the Calico
    Tier CRD has a status subresource (/work/shared/crds: projectcalico.org_tiers.yaml)."""

    def selector_fields(self) -> Iterator[tuple[JsonPath, str]]:
        """Every selector expression present, with its JSON path in YAML key names.

        For example ``(("spec", "ingress", 0, "source", "selector"), "app == 'web'")``. Covers the
        policy ``selector``, ``namespaceSelector``, ``serviceAccountSelector`` and, in each rule's
        source/destination, ``selector``, ``notSelector``, ``namespaceSelector`` and
        ``serviceAccounts.selector``. Empty strings are yielded too (they mean ``all()``).
        """
        return _walk_selectors(self, ())
